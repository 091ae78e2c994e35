#include "spaces/arch.h"

#include <cctype>
#include <limits>

#include "spaces/encoding_parser.h"
#include "spaces/family.h"

namespace zerolm {

bool Layer::same_block(const Layer& o) const {
  return op == o.op && kernel == o.kernel && heads == o.heads && ff_dim == o.ff_dim &&
         num_ff == o.num_ff && kv_heads == o.kv_heads;
}

std::string encode(const Arch& arch) {
  if (arch.layers.empty()) return std::string();
  if (!arch.family) throw std::logic_error("encode: architecture without a family");
  return arch.family->encode(arch);
}

Arch parse_encoding(std::string_view text) {
  return family_of_encoding(text).parse(text);
}

void EncodingParser::fail(const std::string& where, const std::string& expected) const {
  throw InputError(quoted_input(text_) + ": " + where + " (character " + std::to_string(pos_ + 1) +
                   "): expected " + expected);
}

bool EncodingParser::eat(std::string_view lit) {
  if (text_.substr(pos_, lit.size()) != lit) return false;
  pos_ += lit.size();
  return true;
}

void EncodingParser::expect(std::string_view lit, const std::string& where) {
  if (!eat(lit)) fail(where, "'" + std::string(lit) + "'");
}

int EncodingParser::number(const std::string& where, const std::string& what) {
  std::size_t start = pos_;
  long long v = 0;
  while (pos_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[pos_]))) {
    v = v * 10 + (text_[pos_] - '0');
    if (v > std::numeric_limits<int>::max()) fail(where, what + " that fits in an int");
    ++pos_;
  }
  if (pos_ == start || v <= 0) {
    pos_ = start;
    fail(where, "a positive " + what);
  }
  return static_cast<int>(v);
}

}  // namespace zerolm
