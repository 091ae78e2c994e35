// Objectives, budgets and the front of a run as the driver computes them (no MPI, no LibTorch).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "driver/options.h"
#include "report/front_report.h"
#include "rundir/objectives.h"
#include "spaces/errors.h"

namespace zerolm {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Objectives, ProxiesMaximisedCostsMinimisedByDefault) {
  EXPECT_TRUE(parse_objective("zerolm").maximize);
  EXPECT_TRUE(parse_objective("params-nonemb").maximize);
  EXPECT_FALSE(parse_objective("params").maximize);
  EXPECT_FALSE(parse_objective("flops").maximize);
  EXPECT_FALSE(parse_objective("latency").maximize);
  EXPECT_FALSE(parse_objective("memory").maximize);
  EXPECT_TRUE(parse_objective("params:max").maximize);
  EXPECT_FALSE(parse_objective("zerolm:min").maximize);
  EXPECT_EQ(parse_objective("latency").text(), "latency:min");
}

TEST(Objectives, BadObjectivesNameTheInput) {
  EXPECT_NE(error_of([] { parse_objective("speed"); }).find("unknown objective \"speed\""),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_objective("zerolm:up"); }).find("unknown sense \"up\""),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_objectives({"zerolm", "params", "zerolm:min"});
            }).find("zerolm is already an objective"),
            std::string::npos);
}

TEST(Constraints, UnitsAndOperators) {
  EXPECT_DOUBLE_EQ(parse_constraint("latency<=12ms").value, 12);
  EXPECT_DOUBLE_EQ(parse_constraint("latency<=1.5s").value, 1500);
  EXPECT_DOUBLE_EQ(parse_constraint("latency<=250us").value, 0.25);
  EXPECT_DOUBLE_EQ(parse_constraint("memory<=2GiB").value, 2.0 * 1024 * 1024 * 1024);
  EXPECT_DOUBLE_EQ(parse_constraint("memory<=512MB").value, 512e6);
  EXPECT_DOUBLE_EQ(parse_constraint("params<=125M").value, 125e6);
  EXPECT_DOUBLE_EQ(parse_constraint("params<=1.5B").value, 1.5e9);
  EXPECT_DOUBLE_EQ(parse_constraint("params >= 1000").value, 1000);
  EXPECT_DOUBLE_EQ(parse_constraint("flops<2G").value, 2e9);
  const Constraint c = parse_constraint("latency<12ms");
  EXPECT_TRUE(c.allows(11.9));
  EXPECT_FALSE(c.allows(12));
  EXPECT_TRUE(parse_constraint("latency<=12ms").allows(12));
  EXPECT_FALSE(parse_constraint("params>5").allows(5));
  EXPECT_TRUE(parse_constraint("params>=5").allows(5));
  // Canonical text parses back to the same budget.
  for (const char* s : {"latency<=12ms", "memory<=2GiB", "params<=125M", "flops>1G"}) {
    const Constraint a = parse_constraint(s), b = parse_constraint(a.text());
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.op, b.op);
    EXPECT_DOUBLE_EQ(a.value, b.value);
  }
  EXPECT_EQ(parse_constraint("latency<=12ms").violation(14.2), "latency 14.2 ms > budget 12 ms");
}

TEST(Constraints, MalformedBudgetsSayWhatWasExpected) {
  EXPECT_NE(error_of([] {
              parse_constraint("latency<=fast");
            }).find("\"fast\" is not a number with a unit"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_constraint("latency<=12"); }).find("latency needs a unit"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_constraint("latency<=12h"); }).find("unknown unit \"h\""),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_constraint("memory<=2"); }).find("memory needs a unit"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_constraint("params<=5X"); }).find("unknown suffix \"X\""),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_constraint("zerolm<=5"); }).find("unknown budget \"zerolm\""),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_constraint("params=5"); }).find("expected NAME<=VALUE"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_constraint("latency<=0ms"); }).find("admits nothing"),
            std::string::npos);
}

TEST(Front, SpreadKeepsBothEndsAndIsEven) {
  EXPECT_EQ(spread(10, 4), (std::vector<std::size_t>{0, 3, 6, 9}));
  EXPECT_EQ(spread(3, 10), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(spread(7, 1), (std::vector<std::size_t>{0}));
  EXPECT_EQ(spread(5, 2), (std::vector<std::size_t>{0, 4}));
  EXPECT_TRUE(spread(0, 3).empty());
}

Record rec(std::uint64_t index, double score, std::int64_t params, double latency,
           Status status = Status::Ok) {
  Record r;
  r.index = index;
  r.encoding = "arch" + std::to_string(index);
  r.score = score;
  r.params = params;
  r.values = {latency};
  r.status = status;
  return r;
}

TEST(Front, NonDominatedFeasibleRecordsSortedAlongTheFirstCost) {
  SearchConfig c;
  c.proxy = "zerolm";
  c.objectives = {"zerolm:max", "latency:min"};
  ASSERT_EQ(c.value_names(), (std::vector<std::string>{"latency"}));
  const std::vector<Record> records = {
      rec(0, 1.0, 10, 5.0),                      // front
      rec(1, 3.0, 30, 9.0),                      // front
      rec(2, 2.0, 20, 9.5),                      // dominated by 1
      rec(3, 2.5, 25, 7.0),                      // front
      rec(4, 9.0, 90, 1.0, Status::OverBudget),  // never on the front
      rec(5, 9.0, 90, 1.0, Status::Failed),
  };
  const Front f = compute_front(c, records);
  ASSERT_EQ(f.rows.size(), 3u);
  EXPECT_EQ(f.rows[0].index, 0u);  // sorted along latency
  EXPECT_EQ(f.rows[1].index, 3u);
  EXPECT_EQ(f.rows[2].index, 1u);
  EXPECT_DOUBLE_EQ(f.values[1][1], 7.0);
  // In minimisation orientation (zerolm negated) the box runs from the ideal (-3, 5) to the
  // reference (-1, 9.5): 2 x 4.5 = 9. Point 0 (-1, 5) sits on the reference's zerolm: nothing.
  // Point 3 (-2.5, 7): 1.5 x 2.5 = 3.75. Point 1 (-3, 9): 2 x 0.5 = 1, of which 1.5 x 0.5 is
  // point 3's already: 0.25 more. 4 of 9.
  EXPECT_NEAR(f.hypervolume, 4.0 / 9.0, 1e-12);
  EXPECT_DOUBLE_EQ(f.ideal[0], 3.0);
  EXPECT_DOUBLE_EQ(f.reference[1], 9.5);
  // A budget on top: only what meets it.
  const Front g = compute_front(c, records, {parse_constraint("latency<=8ms")});
  ASSERT_EQ(g.rows.size(), 2u);
  EXPECT_EQ(g.rows[1].index, 3u);
  EXPECT_DOUBLE_EQ(g.reference[1], 8.0);  // an upper budget is the reference
  const std::string csv = front_csv(c, f);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "rank,index,encoding,zerolm,latency_ms,params,device");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);
}

// --min-params/--max-params take the units of --constraint 'params<=...'.
TEST(Options, ParameterCountsTakeTheBudgetsUnits) {
  CLI::Validator count = param_count();
  for (const auto& [given, want] :
       std::vector<std::pair<std::string, std::string>>{{"120M", "120000000"},
                                                        {"1.5B", "1500000000"},
                                                        {"350K", "350000"},
                                                        {"2G", "2000000000"},
                                                        {"123456", "123456"},
                                                        {"0", "0"}}) {
    std::string s = given;
    EXPECT_EQ(count(s), "") << given;
    EXPECT_EQ(s, want) << given;
  }
  for (const std::string bad : {"12x", "-5M", "1.5", "M", ""}) {
    std::string s = bad;
    EXPECT_NE(count(s).find("expected"), std::string::npos) << bad;
  }
}

// Rows tied in every objective arrive in the order workers finish, which depends on the rank
// count: the front lists them by evaluation index, whatever that order.
TEST(Front, RowsTiedInEveryObjectiveInIndexOrderWhateverTheArrivalOrder) {
  SearchConfig c;
  c.proxy = "zerolm";
  c.objectives = {"zerolm:max", "latency:min"};
  std::vector<Record> records = {rec(7, 2.0, 20, 5.0), rec(3, 2.0, 20, 5.0), rec(5, 1.0, 10, 3.0),
                                 rec(9, 2.0, 20, 5.0), rec(1, 1.0, 10, 3.0)};
  std::vector<std::uint64_t> first;
  for (int shuffle = 0; shuffle < 5; ++shuffle) {
    std::rotate(records.begin(), records.begin() + 1, records.end());
    const Front f = compute_front(c, records);
    std::vector<std::uint64_t> order;
    for (const Record& r : f.rows) order.push_back(r.index);
    EXPECT_EQ(order, (std::vector<std::uint64_t>{1, 5, 3, 7, 9})) << "rotation " << shuffle;
    EXPECT_EQ(front_csv(c, f), front_csv(c, compute_front(c, records)));
  }
}

}  // namespace
}  // namespace zerolm
