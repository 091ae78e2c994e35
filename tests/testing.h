// Helpers shared by the tests: the benchmark csv from shared/, a temporary folder per test, and
// the check of a one-line InputError.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "report/table.h"
#include "spaces/errors.h"

namespace zerolm::testing {

inline std::string shared_path(const std::string& rel) {
  return std::string(ZEROLM_SHARED_DIR) + "/" + rel;
}

inline const Csv& flexibert_csv() {
  static const Csv csv = read_csv(shared_path("benchmarks/flexibert_glue.csv"));
  return csv;
}

inline std::vector<double> column_values(const Csv& csv, const std::string& name) {
  const int c = csv.column(name);
  std::vector<double> v;
  for (const auto& r : csv.rows) v.push_back(std::stod(r.at(c)));
  return v;
}

// A fresh folder for the running test (named after it and the process), removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = ::testing::TempDir() + "zerolm_" + info->test_suite_name() + "_" + info->name() + "_" +
            std::to_string(::getpid());
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string operator/(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// `f` throws InputError whose message holds every one of `parts`, on one line.
inline void expect_input_error(const std::function<void()>& f,
                               const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no InputError; expected one with " << parts.front();
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    for (const std::string& p : parts)
      EXPECT_NE(m.find(p), std::string::npos) << m << "\n  lacks: " << p;
  }
}

}  // namespace zerolm::testing
