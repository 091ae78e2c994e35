// A cursor over one encoding that reports errors with the whole input and the position; the
// families' grammars (spaces/families/) are written with it.
#pragma once

#include <string>
#include <string_view>

#include "spaces/arch.h"

namespace zerolm {

class EncodingParser {
 public:
  explicit EncodingParser(std::string_view text) : text_(text) {}

  [[noreturn]] void fail(const std::string& where, const std::string& expected) const;
  bool eat(std::string_view lit);
  void expect(std::string_view lit, const std::string& where);
  // A positive decimal number that fits in an int.
  int number(const std::string& where, const std::string& what);
  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace zerolm
