// The explicit list of search strategies. Adding one: write its factory, add one line here.
#include <set>
#include <utility>

#include "search/builtin.h"

namespace zerolm {

namespace {

const std::vector<std::pair<std::string, StrategyFactory>>& registry() {
  static const auto list = [] {
    std::vector<std::pair<std::string, StrategyFactory>> l = {
        {"random", make_random},
        {"evolution", make_evolution},
    };
    std::set<std::string> seen;
    for (const auto& e : l)
      if (!seen.insert(e.first).second)
        throw std::logic_error("duplicate strategy name: " + e.first);
    return l;
  }();
  return list;
}

}  // namespace

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& e : registry()) n.push_back(e.first);
    return n;
  }();
  return names;
}

std::unique_ptr<Strategy> make_strategy(std::string_view name, const SearchSettings& settings) {
  for (const auto& e : registry())
    if (e.first == name) return e.second(settings);
  std::string known;
  for (const auto& n : strategy_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError("unknown strategy \"" + std::string(name) + "\": expected one of " + known);
}

}  // namespace zerolm
