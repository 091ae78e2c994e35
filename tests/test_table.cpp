#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "driver/table.h"
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
}

TEST(Table, AtomicWriteReplacesWholeFileAndLeavesNoTemporary) {
  const std::string path = ::testing::TempDir() + "zerolm_atomic.txt";
  write_file_atomic(path, "first\n");
  write_file_atomic(path, "second\n");
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  EXPECT_EQ(s.str(), "second\n");
  std::remove(path.c_str());
  EXPECT_THROW(write_file_atomic("/nonexistent-dir/x.csv", "x"), InputError);
}

}  // namespace
}  // namespace zerolm
