#include "spaces/arch.h"

#include <cctype>
#include <limits>

namespace zerolm {

bool Layer::same_block(const Layer& o) const {
  return op == o.op && kernel == o.kernel && heads == o.heads && ff_dim == o.ff_dim &&
         num_ff == o.num_ff && kv_heads == o.kv_heads;
}

std::string op_name(OpKind op, int kernel) {
  switch (op) {
    case OpKind::SDP:
      return "SA-SDP";
    case OpKind::WMA:
      return "SA-WMA";
    case OpKind::DFT:
      return "LT-DFT";
    case OpKind::DCT:
      return "LT-DCT";
    case OpKind::DSC:
      return "DSC-" + std::to_string(kernel);
  }
  return "?";
}

std::string encode(const Arch& arch) {
  std::string out;
  if (arch.layers.empty()) return out;
  if (arch.family == Family::Llama) {
    out = "LLAMA-d" + std::to_string(arch.layers.front().hidden);
    for (const Layer& l : arch.layers)
      out += "|h" + std::to_string(l.heads) + "-kv" + std::to_string(l.kv_heads) + "-ff" +
             std::to_string(l.ff_dim);
    return out;
  }
  if (arch.family == Family::Gpt2 || arch.family == Family::Gpt) {
    out = arch.family == Family::Gpt
              ? "GPT-d" + std::to_string(arch.layers.front().hidden)
              : "GPT2-d" + std::to_string(arch.layers.front().hidden) + "-e" +
                    std::to_string(arch.embed) + "-v" + std::to_string(arch.div_val);
    for (const Layer& l : arch.layers)
      out += "|h" + std::to_string(l.heads) + "-ff" + std::to_string(l.ff_dim);
    return out;
  }
  out = "H" + std::to_string(arch.layers.front().hidden);
  int prev_hidden = arch.layers.front().hidden;
  for (const Layer& l : arch.layers) {
    out += '|';
    if (l.hidden != prev_hidden) out += "H" + std::to_string(l.hidden) + ":";
    prev_hidden = l.hidden;
    out += op_name(l.op, l.kernel) + "-h" + std::to_string(l.heads) + "-ff" +
           std::to_string(l.ff_dim) + "x" + std::to_string(l.num_ff);
  }
  return out;
}

namespace {

// A cursor over one encoding that reports errors with the whole input and the position.
class Parser {
 public:
  explicit Parser(std::string_view text) : text_(text) {}

  [[noreturn]] void fail(const std::string& where, const std::string& expected) const {
    throw InputError(quoted_input(text_) + ": " + where + " (character " +
                     std::to_string(pos_ + 1) + "): expected " + expected);
  }
  bool eat(std::string_view lit) {
    if (text_.substr(pos_, lit.size()) != lit) return false;
    pos_ += lit.size();
    return true;
  }
  void expect(std::string_view lit, const std::string& where) {
    if (!eat(lit)) fail(where, "'" + std::string(lit) + "'");
  }
  int number(const std::string& where, const std::string& what) {
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
  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return done() ? '\0' : text_[pos_]; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

namespace {

// The decoder encodings: "GPT2-d..-e..-v..|h..-ff..", "GPT-d..|h..-ff.." and
// "LLAMA-d..|h..-kv..-ff..".
Arch parse_decoder(std::string_view text) {
  Parser p(text);
  Arch arch;
  arch.family = text.substr(0, 4) == "GPT2"  ? Family::Gpt2
                : text.substr(0, 3) == "GPT" ? Family::Gpt
                                             : Family::Llama;
  const bool llama = arch.family == Family::Llama;
  const std::string head = arch.family == Family::Gpt2 ? "GPT2-d" : llama ? "LLAMA-d" : "GPT-d";
  p.expect(head, "start");
  const int d = p.number("start", "d_model after '" + head + "'");
  if (arch.family == Family::Gpt2) {
    p.expect("-e", "start");
    arch.embed = p.number("start", "d_embed after '-e'");
    p.expect("-v", "start");
    arch.div_val = p.number("start", "div_val after '-v'");
  }
  while (!p.done()) {
    const std::string where = "layer " + std::to_string(arch.layers.size() + 1);
    p.expect("|h", where);
    Layer l;
    l.hidden = d;
    l.heads = p.number(where, "number of heads after '|h'");
    if (llama) {
      p.expect("-kv", where);
      l.kv_heads = p.number(where, "number of key/value heads after '-kv'");
    }
    p.expect("-ff", where);
    l.ff_dim = p.number(where, "inner width after '-ff'");
    arch.layers.push_back(l);
  }
  if (arch.layers.empty())
    p.fail("end", llama ? "at least one layer '|h<heads>-kv<kv heads>-ff<width>'"
                        : "at least one layer '|h<heads>-ff<inner>'");
  return arch;
}

}  // namespace

Arch parse_encoding(std::string_view text) {
  if (text.substr(0, 3) == "GPT" || text.substr(0, 5) == "LLAMA") return parse_decoder(text);
  Parser p(text);
  Arch arch;
  p.expect("H", "start");
  int hidden = p.number("start", "hidden size after 'H'");
  while (!p.done()) {
    const std::string where = "layer " + std::to_string(arch.layers.size() + 1);
    p.expect("|", where);
    Layer l;
    if (p.peek() == 'H') {
      p.eat("H");
      hidden = p.number(where, "hidden size after 'H'");
      p.expect(":", where);
    }
    l.hidden = hidden;
    if (p.eat("SA-SDP")) {
      l.op = OpKind::SDP;
    } else if (p.eat("SA-WMA")) {
      l.op = OpKind::WMA;
    } else if (p.eat("LT-DFT")) {
      l.op = OpKind::DFT;
    } else if (p.eat("LT-DCT")) {
      l.op = OpKind::DCT;
    } else if (p.eat("DSC-")) {
      l.op = OpKind::DSC;
      l.kernel = p.number(where, "convolution kernel size after 'DSC-'");
    } else {
      p.fail(where, "an operation SA-SDP, SA-WMA, LT-DFT, LT-DCT or DSC-<kernel>");
    }
    p.expect("-h", where);
    l.heads = p.number(where, "number of heads after '-h'");
    p.expect("-ff", where);
    l.ff_dim = p.number(where, "feed-forward width after '-ff'");
    p.expect("x", where);
    l.num_ff = p.number(where, "number of feed-forward layers after 'x'");
    arch.layers.push_back(l);
  }
  if (arch.layers.empty()) p.fail("end", "at least one layer '|<op>-h<heads>-ff<width>x<n>'");
  return arch;
}

}  // namespace zerolm
