#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "report/table.h"
#include "spaces/arch.h"

namespace zerolm {
namespace {

TEST(Table, CsvSplitHandlesQuotes) {
  EXPECT_EQ(split_csv_line("a,\"b,c\",\"d\"\"e\",,f"),
            (std::vector<std::string>{"a", "b,c", "d\"e", "", "f"}));
  EXPECT_EQ(csv_escape("x,y"), "\"x,y\"");
}

TEST(Table, RendersCsvAndJson) {
  TextTable t{{"encoding", "zerolm"}, {{"H128|SA-SDP-h2-ff512x1", "1.5"}}};
  EXPECT_EQ(t.render(Format::Csv), "encoding,zerolm\nH128|SA-SDP-h2-ff512x1,1.5\n");
  EXPECT_NE(t.render(Format::Json).find("\"zerolm\": 1.5"), std::string::npos);
  EXPECT_NE(t.render(Format::Markdown).find("| encoding | zerolm |"), std::string::npos);
  // An encoding's '|' is escaped in markdown, or the row would have a cell per layer.
  EXPECT_NE(t.render(Format::Markdown).find("| H128\\|SA-SDP-h2-ff512x1 | 1.5 |"),
            std::string::npos);
}

TEST(Table, AtomicWriteReplacesWholeFileAndLeavesNoTemporary) {
  namespace fs = std::filesystem;
  const std::string dir = ::testing::TempDir() + "zerolm_atomic_" + std::to_string(::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto entries = [&] {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
    return names;
  };
  const std::string path = dir + "/out.txt";
  write_file_atomic(path, "first\n");
  write_file_atomic(path, "second\n");
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), "second\n");
  EXPECT_EQ(entries(), std::set<std::string>{"out.txt"});  // no temporary beside it
  // A failed rename (the target is a non-empty directory) removes its temporary too.
  fs::create_directories(dir + "/taken/x");
  EXPECT_THROW(write_file_atomic(dir + "/taken", "x"), IoError);
  EXPECT_EQ(entries(), (std::set<std::string>{"out.txt", "taken"}));
  EXPECT_THROW(write_file_atomic("/nonexistent-dir/x.csv", "x"), IoError);
  fs::remove_all(dir);
}

TEST(Table, CsvByteOrderMarkIsNotPartOfTheHeader) {
  const std::string path = ::testing::TempDir() + "zerolm_bom_" + std::to_string(::getpid());
  std::ofstream(path) << "\xEF\xBB\xBF"
                      << "arch_encoding,x\nH128|SA-SDP-h2-ff512x1,1\n";
  const Csv csv = read_csv(path);
  std::remove(path.c_str());
  EXPECT_EQ(csv.column("arch_encoding"), 0);
  ASSERT_EQ(csv.rows.size(), 1u);
}

}  // namespace
// Parameter counts are written with every digit: 11-digit counts (LLaMA-2-13B has 13,015,864,320
// parameters) are not rounded to 10 significant digits; other numbers keep %.10g.
TEST(FormatNumber, WholeNumbersInFullOthersToTenDigits) {
  EXPECT_EQ(format_number(13015864321.0), "13015864321");
  EXPECT_EQ(format_number(7241732096.0), "7241732096");
  EXPECT_EQ(format_number(9007199254740991.0), "9007199254740991");
  EXPECT_EQ(format_number(1e20), "1e+20");
  EXPECT_EQ(format_number(0.12345678901234), "0.123456789");
  EXPECT_EQ(format_number(-2.0), "-2");
  EXPECT_EQ(format_number(std::nan("")), "nan");
}

}  // namespace zerolm
