// The explicit list of search strategies. Adding one: write its factory, add one line here.
#include "spaces/registry.h"
#include "search/builtin.h"

namespace zerolm {

namespace {

struct StrategyEntry {
  std::string name;
  StrategyFactory make;
};

const Registry<StrategyEntry>& registry() {
  static const Registry<StrategyEntry> list("strategy", {
                                                            {"random", make_random},
                                                            {"evolution", make_evolution},
                                                            {"nsga2", make_nsga2},
                                                            {"lts", make_lts},
                                                        });
  return list;
}

}  // namespace

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = registry().names();
  return names;
}

std::unique_ptr<Strategy> make_strategy(std::string_view name, const SearchSettings& settings) {
  return registry().find(name).make(settings);
}

}  // namespace zerolm
