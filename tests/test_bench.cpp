// `zerolm bench`'s LibTorch-free parts: the progress lines.
#include <gtest/gtest.h>

#include "driver/progress.h"

namespace zerolm {
namespace {

TEST(Progress, QuietWhileShortThenAtMostOneLinePerInterval) {
  double now = 0;
  std::vector<std::string> lines;
  {
    ProgressReporter p(
        "bootstrap", 10, "rows", 2, 5, [&](const std::string& l) { lines.push_back(l); },
        [&] { return now; });
    now = 0.5, p.step("proxy a");
    now = 1.9, p.step("proxy b");
    EXPECT_TRUE(lines.empty());
    now = 2.6, p.step("proxy c");
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], "bootstrap 3/10 rows, proxy c (3 s)");
    now = 7.0, p.step("proxy d");  // 4.4 s after the last line
    EXPECT_EQ(lines.size(), 1u);
    now = 7.7, p.step("proxy e");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(lines[1], "bootstrap 5/10 rows, proxy e (8 s)");
    now = 9.0, p.update(10);
  }
  ASSERT_EQ(lines.size(), 3u);  // the last line, from the destructor
  EXPECT_EQ(lines[2], "bootstrap 10/10 rows, done (9 s)");

  lines.clear();
  {
    ProgressReporter quick(
        "splits", 3, "splits", 2, 5, [&](const std::string& l) { lines.push_back(l); },
        [&] { return now; });
    for (int i = 0; i < 3; ++i) quick.step();
    quick.finish();
  }
  EXPECT_TRUE(lines.empty()) << lines.front();
}

}  // namespace
}  // namespace zerolm
