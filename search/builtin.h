// Factories of the built-in strategies; registry.cpp lists them by name.
#pragma once

#include "search/strategy.h"

namespace zerolm {

std::unique_ptr<Strategy> make_random(const SearchSettings& s);
std::unique_ptr<Strategy> make_evolution(const SearchSettings& s);
std::unique_ptr<Strategy> make_nsga2(const SearchSettings& s);
std::unique_ptr<Strategy> make_lts(const SearchSettings& s);

}  // namespace zerolm
