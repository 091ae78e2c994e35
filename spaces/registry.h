// One generic registry for everything chosen by name on the command line (spaces, families,
// proxies, strategies, capacity statistics): an explicit list, a duplicate check when it is built,
// lookup, help text, and the "expected one of" message for an unknown name.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "spaces/errors.h"

namespace zerolm {

template <class T>
class Registry {
 public:
  // `what` names the kind of entry in messages: "unknown <what> "x": expected one of ...".
  explicit Registry(std::string what = "name") : what_(std::move(what)) {}
  Registry(std::string what, std::vector<T> entries) : what_(std::move(what)) {
    for (T& e : entries) add(std::move(e));
  }

  // Throws std::logic_error on a duplicate name: a programming error, caught by every test run.
  void add(T entry) {
    if (lookup(name_of(entry)))
      throw std::logic_error("duplicate " + what_ + " name in registry: " + name_of(entry));
    entries_.push_back(std::move(entry));
  }
  const T* lookup(std::string_view name) const {
    for (const T& e : entries_)
      if (name_of(e) == name) return &e;
    return nullptr;
  }
  // Throws InputError naming the input and listing every name.
  const T& find(std::string_view name) const {
    if (const T* e = lookup(name)) return *e;
    throw InputError("unknown " + what_ + " " + quoted_input(name) + ": expected one of " +
                     joined_names());
  }
  std::vector<std::string> names() const {
    std::vector<std::string> n;
    for (const T& e : entries_) n.push_back(name_of(e));
    return n;
  }
  // "a, b, c": for help texts and messages.
  std::string joined_names() const {
    std::string s;
    for (const T& e : entries_) s += (s.empty() ? "" : ", ") + name_of(e);
    return s;
  }
  const std::vector<T>& entries() const { return entries_; }

 private:
  // An entry is named by its `name` member, its name() method, or (for pointers) the pointee's.
  static std::string name_of(const T& e) {
    if constexpr (std::is_pointer_v<T>)
      return e->name();
    else if constexpr (std::is_member_function_pointer_v<decltype(&T::name)>)
      return e.name();
    else
      return e.name;
  }

  std::string what_;
  std::vector<T> entries_;
};

}  // namespace zerolm
