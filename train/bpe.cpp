#include "train/bpe.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <queue>
#include <tuple>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "spaces/errors.h"
#include "train/corpus.h"

namespace zerolm {

namespace {

// GPT-2's pre-tokenizer: contractions, letters, numbers and other symbols each with an optional
// leading space, then whitespace (a run before a non-space keeps its last space for the next
// piece).
const char* const kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// UTF-8 of one code point.
std::string utf8(std::uint32_t c) {
  std::string s;
  if (c < 0x80) {
    s += char(c);
  } else if (c < 0x800) {
    s += char(0xC0 | (c >> 6));
    s += char(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    s += char(0xE0 | (c >> 12));
    s += char(0x80 | ((c >> 6) & 0x3F));
    s += char(0x80 | (c & 0x3F));
  } else {
    s += char(0xF0 | (c >> 18));
    s += char(0x80 | ((c >> 12) & 0x3F));
    s += char(0x80 | ((c >> 6) & 0x3F));
    s += char(0x80 | (c & 0x3F));
  }
  return s;
}

// GPT-2's printable stand-in for each byte: bytes 33-126, 161-172 and 174-255 are themselves, the
// other 68 become code points 256, 257, ... in byte order (a space is U+0120, "Ġ").
std::vector<std::string> byte_symbols() {
  std::vector<std::string> out(256);
  std::uint32_t next = 256;
  for (std::uint32_t b = 0; b < 256; ++b) {
    const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
    out[b] = utf8(printable ? b : next++);
  }
  return out;
}

struct Pcre2Code {
  pcre2_code* code = nullptr;
  ~Pcre2Code() { pcre2_code_free(code); }
};

// A merge "a b" as ids: its parts, its rank (its place in the list) and the token it makes.
struct MergeIds {
  std::int64_t left, right, rank, result;
};
// InputError naming `where` for a merge whose parts or result are not in the vocabulary.
std::vector<MergeIds> merge_ids(const std::unordered_map<std::string, std::int64_t>& vocab,
                                const std::vector<std::pair<std::string, std::string>>& merges,
                                const std::string& where) {
  std::vector<MergeIds> out;
  out.reserve(merges.size());
  for (std::size_t r = 0; r < merges.size(); ++r) {
    const auto& [a, b] = merges[r];
    const auto ia = vocab.find(a), ib = vocab.find(b), iab = vocab.find(a + b);
    if (ia == vocab.end() || ib == vocab.end() || iab == vocab.end())
      throw InputError(where + ": merge " + std::to_string(r + 1) + " \"" + a + " " + b +
                       "\": " + (ia == vocab.end() || ib == vocab.end() ? "a part" : "its result") +
                       " is not in the vocabulary");
    out.push_back({ia->second, ib->second, std::int64_t(r), iab->second});
  }
  return out;
}

// Tokens matched whole in the raw text before anything else (GPT-2's <|endoftext|>, a
// tokenizer.json's added tokens), each one id, as Hugging Face's tokenizers match them; the text
// between them is encoded as text.
class SpecialTokens {
 public:
  explicit SpecialTokens(std::vector<std::pair<std::string, std::int64_t>> tokens)
      : tokens_(std::move(tokens)) {
    // Longest first, so that one special token that begins another does not cut it.
    std::sort(tokens_.begin(), tokens_.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    for (const auto& t : tokens_) starts_[std::uint8_t(t.first[0])] = true;
  }

  // text(segment, index of the segment) for the text between special tokens (empty ones too),
  // out.push_back(id) for each special token, in order.
  template <typename Text>
  void split(const std::string& raw, std::vector<std::int64_t>& out, const Text& text) const {
    std::size_t from = 0;
    int segment = 0;
    for (std::size_t at = 0; at < raw.size() && !tokens_.empty();) {
      // Only where a special token could begin (a few bytes such as '<'): text speed is kept.
      if (!starts_[std::uint8_t(raw[at])]) {
        ++at;
        continue;
      }
      const auto hit = std::find_if(tokens_.begin(), tokens_.end(), [&](const auto& t) {
        return raw.compare(at, t.first.size(), t.first) == 0;
      });
      if (hit == tokens_.end()) {
        ++at;
        continue;
      }
      text(raw.substr(from, at - from), segment++);
      out.push_back(hit->second);
      at += hit->first.size();
      from = at;
    }
    text(raw.substr(from), segment);
  }

 private:
  std::vector<std::pair<std::string, std::int64_t>> tokens_;
  bool starts_[256] = {};
};

class ByteLevelBpe final : public Tokenizer {
 public:
  // `vocab`: token -> id; `merges`: "a b" pairs in rank order; `pattern`: the pre-tokenizer.
  // `specials`: tokens matched in the raw text before anything else (GPT-2's <|endoftext|>, a
  // tokenizer.json's added tokens), each one id, as Hugging Face's tokenizers match them.
  ByteLevelBpe(const std::unordered_map<std::string, std::int64_t>& vocab,
               const std::vector<std::pair<std::string, std::string>>& merges,
               const std::string& pattern, bool prefix_space, const std::string& where,
               const std::string& merges_where,
               std::vector<std::pair<std::string, std::int64_t>> specials)
      : prefix_space_(prefix_space), specials_(std::move(specials)) {
    std::int64_t top = -1;
    for (const auto& [token, id] : vocab) top = std::max(top, id);
    vocab_.size = top + 1;
    vocab_.regular = vocab_.size;
    vocab_.mask = -1;  // causal training only: nothing is masked
    const std::vector<std::string> symbols = byte_symbols();
    for (int b = 0; b < 256; ++b) {
      const auto it = vocab.find(symbols[std::size_t(b)]);
      if (it == vocab.end())
        throw InputError(where + ": the vocabulary has no token for byte " + std::to_string(b) +
                         " (\"" + symbols[std::size_t(b)] + "\"): not a byte-level BPE");
      byte_id_[std::size_t(b)] = std::int32_t(it->second);
    }
    // The first (lowest-ranked) of duplicate merges wins, as in the reference implementations.
    for (const MergeIds& m : merge_ids(vocab, merges, merges_where))
      merges_.emplace(key(std::int32_t(m.left), std::int32_t(m.right)),
                      Merge{std::int32_t(m.rank), std::int32_t(m.result)});
    int error = 0;
    PCRE2_SIZE offset = 0;
    regex_.code =
        pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.c_str()), pattern.size(),
                      PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &error, &offset, nullptr);
    if (!regex_.code) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(error, msg, sizeof msg);
      throw InputError(where + ": pre-tokenizer pattern, character " + std::to_string(offset) +
                       ": " + reinterpret_cast<const char*>(msg));
    }
    // JIT where the platform has it (several times faster); the interpreter otherwise.
    jit_ = pcre2_jit_compile(regex_.code, PCRE2_JIT_COMPLETE) == 0;
  }

  std::string name() const override { return "bpe-" + std::to_string(vocab_.size); }
  Vocabulary vocabulary() const override { return vocab_; }

  std::vector<std::int64_t> encode(const std::string& raw) const override {
    std::vector<std::int64_t> out;
    out.reserve(raw.size() / 3);
    specials_.split(raw, out, [&](const std::string& text, int) { encode_text(text, out); });
    return out;
  }

 private:
  void encode_text(const std::string& raw, std::vector<std::int64_t>& out) const {
    if (raw.empty()) return;
    const std::string text = prefix_space_ && raw[0] != ' ' ? " " + raw : raw;
    // Most pieces of a text repeat: each is merged once per call.
    std::unordered_map<std::string, std::vector<std::int32_t>> cache;
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(regex_.code, nullptr);
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    std::size_t at = 0;
    const auto piece = [&](std::size_t from, std::size_t to) {
      if (to <= from) return;
      std::string word = text.substr(from, to - from);
      auto it = cache.find(word);
      if (it == cache.end()) it = cache.emplace(std::move(word), merge(text, from, to)).first;
      for (std::int32_t id : it->second) out.push_back(id);
    };
    while (at < text.size()) {
      const int rc = jit_ ? pcre2_jit_match(regex_.code, subject, text.size(), at, 0, md, nullptr)
                          : pcre2_match(regex_.code, subject, text.size(), at, 0, md, nullptr);
      if (rc < 0) {
        piece(at, text.size());  // bytes no alternative matches (invalid UTF-8): still bytes
        break;
      }
      const PCRE2_SIZE* v = pcre2_get_ovector_pointer(md);
      piece(at, v[0]);     // skipped invalid bytes, as their own piece
      if (v[1] == v[0]) {  // an empty match (a pattern of the file's own): one byte on
        piece(v[0], v[0] + 1);
        at = v[0] + 1;
        continue;
      }
      piece(v[0], v[1]);
      at = v[1];
    }
    pcre2_match_data_free(md);
  }

  struct Merge {
    std::int32_t rank, result;
  };
  static std::uint64_t key(std::int32_t a, std::int32_t b) {
    return (std::uint64_t(std::uint32_t(a)) << 32) | std::uint32_t(b);
  }

  // The ids of bytes [from, to) of `text`: the lowest-ranked adjacent pair merged everywhere it
  // occurs, again and again, until no pair has a merge (GPT-2's algorithm).
  std::vector<std::int32_t> merge(const std::string& text, std::size_t from, std::size_t to) const {
    std::vector<std::int32_t> s;
    s.reserve(to - from);
    for (std::size_t i = from; i < to; ++i) s.push_back(byte_id_[std::uint8_t(text[i])]);
    while (s.size() > 1) {
      std::int32_t best = std::numeric_limits<std::int32_t>::max(), result = -1;
      std::uint64_t best_key = 0;
      for (std::size_t i = 0; i + 1 < s.size(); ++i) {
        const auto it = merges_.find(key(s[i], s[i + 1]));
        if (it != merges_.end() && it->second.rank < best) {
          best = it->second.rank;
          result = it->second.result;
          best_key = it->first;
        }
      }
      if (result < 0) break;
      std::vector<std::int32_t> next;
      next.reserve(s.size());
      for (std::size_t i = 0; i < s.size(); ++i) {
        if (i + 1 < s.size() && key(s[i], s[i + 1]) == best_key) {
          next.push_back(result);
          ++i;
        } else {
          next.push_back(s[i]);
        }
      }
      s.swap(next);
    }
    return s;
  }

  Vocabulary vocab_;
  bool prefix_space_ = false;
  std::int32_t byte_id_[256] = {};
  std::unordered_map<std::uint64_t, Merge> merges_;
  Pcre2Code regex_;
  bool jit_ = false;
  SpecialTokens specials_;
};

// A SentencePiece-style BPE as a tokenizer.json holds it (LLaMA-2's fast tokenizer): spaces become
// the meta symbol "▁", one is put before the text, and the merges run over characters (code
// points) rather than bytes; a character outside the vocabulary becomes the tokens of its UTF-8
// bytes ("<0x41>") where the model has byte fallback, else the unknown token (consecutive ones
// fused). As Hugging Face's tokenizers compute it: the normalized text is one word (LLaMA-2: no
// pre-tokenizer), or split before each "▁" (a Metaspace pre-tokenizer with split true).
class MetaspaceBpe final : public Tokenizer {
 public:
  struct Options {
    std::string meta = "\xE2\x96\x81";  // "▁"
    enum Prepend { Always, First, Never } prepend = Always;
    bool split = false;
    bool byte_fallback = false;
    bool fuse_unk = false;
    std::int64_t unk = -1;
  };

  MetaspaceBpe(const std::unordered_map<std::string, std::int64_t>& vocab,
               const std::vector<std::pair<std::string, std::string>>& merges, Options options,
               std::vector<std::pair<std::string, std::int64_t>> specials,
               const std::string& merges_where)
      : vocab_map_(vocab), o_(std::move(options)), specials_(std::move(specials)) {
    std::int64_t top = -1;
    for (const auto& [token, id] : vocab) top = std::max(top, id);
    vocab_.size = top + 1;
    vocab_.regular = vocab_.size;
    vocab_.mask = -1;
    for (int b = 0; b < 256; ++b) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      const auto it = vocab.find(name);
      byte_id_[b] = it == vocab.end() ? -1 : it->second;
    }
    for (const MergeIds& m : merge_ids(vocab, merges, merges_where))
      merges_.emplace(key(m.left, m.right), Merge{m.rank, m.result});
  }

  std::string name() const override { return "bpe-" + std::to_string(vocab_.size); }
  Vocabulary vocabulary() const override { return vocab_; }

  std::vector<std::int64_t> encode(const std::string& raw) const override {
    std::vector<std::int64_t> out;
    specials_.split(raw, out, [&](const std::string& text, int segment) {
      if (text.empty()) return;
      std::string n;
      n.reserve(text.size() + 8);
      if (o_.prepend == Options::Always || (o_.prepend == Options::First && segment == 0))
        n += o_.meta;
      for (char c : text)
        if (c == ' ')
          n += o_.meta;
        else
          n += c;
      if (!o_.split) {
        merge(n, 0, n.size(), out);
        return;
      }
      // Words begin at each meta symbol (the symbol stays with the word after it).
      std::size_t from = 0;
      for (std::size_t at = 1; at <= n.size(); ++at)
        if (at == n.size() || n.compare(at, o_.meta.size(), o_.meta) == 0) {
          if (at > from) merge(n, from, at, out);
          from = at;
        }
    });
    return out;
  }

 private:
  struct Merge {
    std::int64_t rank, result;
  };
  static std::uint64_t key(std::int64_t a, std::int64_t b) {
    return (std::uint64_t(std::uint32_t(a)) << 32) | std::uint32_t(b);
  }

  // The ids of text[from, to): characters (or their bytes, or unk), then the lowest-ranked
  // adjacent pair merged first (the leftmost of equals), again and again, with a heap over a
  // linked list so that a whole text as one word costs O(n log n).
  void merge(const std::string& text, std::size_t from, std::size_t to,
             std::vector<std::int64_t>& out) const {
    std::vector<std::int64_t> sym;
    for (std::size_t i = from; i < to;) {
      const auto lead = std::uint8_t(text[i]);
      std::size_t len = lead < 0x80    ? 1
                        : lead >= 0xF0 ? 4
                        : lead >= 0xE0 ? 3
                        : lead >= 0xC0 ? 2
                                       : 1;
      len = std::min(len, to - i);
      const auto it = vocab_map_.find(text.substr(i, len));
      if (it != vocab_map_.end()) {
        sym.push_back(it->second);
      } else if (o_.byte_fallback &&
                 std::all_of(text.begin() + std::ptrdiff_t(i),
                             text.begin() + std::ptrdiff_t(i + len),
                             [&](char c) { return byte_id_[std::uint8_t(c)] >= 0; })) {
        for (std::size_t k = i; k < i + len; ++k) sym.push_back(byte_id_[std::uint8_t(text[k])]);
      } else if (!(o_.fuse_unk && !sym.empty() && sym.back() == o_.unk)) {
        if (o_.unk < 0)
          throw InputError("tokenizer: " + quoted_input(text.substr(i, len)) +
                           " is not in the vocabulary and the model has no unknown token");
        sym.push_back(o_.unk);
      }
      i += len;
    }
    const std::size_t n = sym.size();
    std::vector<std::int64_t> next(n), prev(n);
    std::vector<bool> alive(n, true);
    for (std::size_t i = 0; i < n; ++i) {
      next[i] = std::int64_t(i) + 1;
      prev[i] = std::int64_t(i) - 1;
    }
    using Entry = std::tuple<std::int64_t, std::int64_t, std::int64_t, std::int64_t>;
    // (rank, left position, left id, right id): the ids say whether the pair is still there.
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
    const auto push = [&](std::int64_t l) {
      if (l < 0 || next[std::size_t(l)] >= std::int64_t(n)) return;
      const std::int64_t r = next[std::size_t(l)];
      const auto it = merges_.find(key(sym[std::size_t(l)], sym[std::size_t(r)]));
      if (it != merges_.end())
        heap.emplace(it->second.rank, l, sym[std::size_t(l)], sym[std::size_t(r)]);
    };
    for (std::size_t i = 0; i + 1 < n; ++i) push(std::int64_t(i));
    while (!heap.empty()) {
      const auto [rank, l, a, b] = heap.top();
      heap.pop();
      const std::int64_t r = next[std::size_t(l)];
      if (!alive[std::size_t(l)] || r >= std::int64_t(n) || sym[std::size_t(l)] != a ||
          sym[std::size_t(r)] != b)
        continue;
      sym[std::size_t(l)] = merges_.at(key(a, b)).result;
      alive[std::size_t(r)] = false;
      next[std::size_t(l)] = next[std::size_t(r)];
      if (next[std::size_t(l)] < std::int64_t(n)) prev[std::size_t(next[std::size_t(l)])] = l;
      (void)rank;
      push(prev[std::size_t(l)]);
      push(l);
    }
    for (std::size_t i = 0; i < n; ++i)
      if (alive[i]) out.push_back(sym[i]);
  }

  std::unordered_map<std::string, std::int64_t> vocab_map_;
  Options o_;
  Vocabulary vocab_;
  std::int64_t byte_id_[256] = {};
  std::unordered_map<std::uint64_t, Merge> merges_;
  SpecialTokens specials_;
};

nlohmann::json parse_json(const std::string& path) {
  const std::string text = Corpus::read_text(path);
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": not JSON (" + std::string(e.what()) + ")");
  }
}

std::unordered_map<std::string, std::int64_t> read_vocab(const nlohmann::json& v,
                                                         const std::string& where) {
  if (!v.is_object() || v.empty())
    throw InputError(where + ": expected an object of tokens and their ids");
  std::unordered_map<std::string, std::int64_t> out;
  for (const auto& [token, id] : v.items()) {
    if (!id.is_number_integer() || id.get<std::int64_t>() < 0)
      throw InputError(where + ": token \"" + token + "\": its id is not an integer >= 0");
    out.emplace(token, id.get<std::int64_t>());
  }
  return out;
}

// "a b" (GPT-2's merges.txt and older tokenizer.json) into its two parts.
std::pair<std::string, std::string> split_merge(const std::string& line, const std::string& where) {
  const auto space = line.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 == line.size() ||
      line.find(' ', space + 1) != std::string::npos)
    throw InputError(where + ": \"" + line + "\": expected two symbols separated by one space");
  return {line.substr(0, space), line.substr(space + 1)};
}

// A ByteLevel step of a tokenizer.json's pre-tokenizer (itself, or inside a Sequence).
const nlohmann::json* find_type(const nlohmann::json& node, const std::string& type) {
  if (!node.is_object()) return nullptr;
  if (node.value("type", "") == type) return &node;
  if (node.contains("pretokenizers") && node["pretokenizers"].is_array())
    for (const auto& p : node["pretokenizers"])
      if (const nlohmann::json* f = find_type(p, type)) return f;
  return nullptr;
}

// Whether a tokenizer.json is a byte-level BPE (read here) rather than SentencePiece-style.
bool byte_level_json(const std::string& path) {
  const nlohmann::json j = parse_json(path);
  return find_type(j.value("pre_tokenizer", nlohmann::json()), "ByteLevel") != nullptr;
}

void refuse_larger_vocabulary(const Tokenizer& t, std::int64_t vocab, const std::string& where) {
  if (vocab > 0 && t.vocabulary().size > vocab)
    throw InputError(where + ": the tokenizer has ids up to " +
                     std::to_string(t.vocabulary().size - 1) + ", but the model's vocabulary is " +
                     std::to_string(vocab) + " tokens");
}

}  // namespace

std::unique_ptr<Tokenizer> load_gpt2_bpe(const std::string& vocab_json,
                                         const std::string& merges_txt) {
  const auto vocab = read_vocab(parse_json(vocab_json), vocab_json);
  const std::string text = Corpus::read_text(merges_txt);
  std::vector<std::pair<std::string, std::string>> merges;
  std::size_t start = 0;
  for (int n = 1; start < text.size(); ++n) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (n == 1 && line.rfind("#version", 0) == 0)) continue;
    merges.push_back(split_merge(line, merges_txt + ":" + std::to_string(n)));
  }
  if (merges.empty()) throw InputError(merges_txt + ": no merges");
  // GPT-2's end-of-text token is special in its tokenizer: matched whole in the text.
  std::vector<std::pair<std::string, std::int64_t>> specials;
  if (const auto eot = vocab.find("<|endoftext|>"); eot != vocab.end()) specials.push_back(*eot);
  return std::make_unique<ByteLevelBpe>(vocab, merges, kGpt2Pattern, false, vocab_json, merges_txt,
                                        specials);
}

namespace {

// The vocabulary (with the added tokens), the added tokens themselves and the merges of a
// tokenizer.json's BPE model.
struct BpeModel {
  std::unordered_map<std::string, std::int64_t> vocab;
  std::vector<std::pair<std::string, std::int64_t>> added;
  std::vector<std::pair<std::string, std::string>> merges;
};

BpeModel read_bpe_model(const nlohmann::json& j, const std::string& path) {
  const nlohmann::json model = j.value("model", nlohmann::json());
  BpeModel b;
  b.vocab = read_vocab(model.value("vocab", nlohmann::json()), path + ": model.vocab");
  // Added tokens (end of text, chat markers, ...) hold ids of their own beyond the merges'
  // tokens and are matched whole in the text.
  for (const auto& t : j.value("added_tokens", nlohmann::json::array()))
    if (t.contains("content") && t["content"].is_string() &&
        !t["content"].get<std::string>().empty() && t.contains("id") &&
        t["id"].is_number_integer()) {
      b.vocab.emplace(t["content"].get<std::string>(), t["id"].get<std::int64_t>());
      b.added.emplace_back(t["content"].get<std::string>(), t["id"].get<std::int64_t>());
    }
  const nlohmann::json m = model.value("merges", nlohmann::json::array());
  for (std::size_t i = 0; i < m.size(); ++i) {
    const std::string where = path + ": model.merges[" + std::to_string(i) + "]";
    if (m[i].is_string())
      b.merges.push_back(split_merge(m[i].get<std::string>(), where));
    else if (m[i].is_array() && m[i].size() == 2 && m[i][0].is_string() && m[i][1].is_string())
      b.merges.emplace_back(m[i][0].get<std::string>(), m[i][1].get<std::string>());
    else
      throw InputError(where + ": expected \"a b\" or [\"a\", \"b\"]");
  }
  if (b.merges.empty()) throw InputError(path + ": model.merges: no merges");
  return b;
}

// A SentencePiece-style BPE (no ByteLevel step): spaces as a meta symbol, from either LLaMA-2's
// normalizer (Prepend "▁" and Replace " " -> "▁", no pre-tokenizer) or a Metaspace pre-tokenizer
// (no normalizer). Anything else is refused in one line.
std::unique_ptr<Tokenizer> load_metaspace_json(const nlohmann::json& j, const std::string& path) {
  const nlohmann::json norm = j.value("normalizer", nlohmann::json());
  const nlohmann::json pre = j.value("pre_tokenizer", nlohmann::json());
  MetaspaceBpe::Options o;
  const auto refuse = [&](const std::string& what) {
    throw InputError(path + ": " + what +
                     ": not read here (expected a ByteLevel pre-tokenizer, LLaMA-2's Prepend and "
                     "Replace normalizer, or a Metaspace pre-tokenizer)");
  };
  if (!pre.is_null()) {
    if (pre.value("type", "") != "Metaspace") refuse("pre-tokenizer " + pre.value("type", "?"));
    if (!norm.is_null()) refuse("a normalizer beside a Metaspace pre-tokenizer");
    o.meta = pre.value("replacement", o.meta);
    const std::string scheme = pre.contains("prepend_scheme") && pre["prepend_scheme"].is_string()
                                   ? pre["prepend_scheme"].get<std::string>()
                                   : (pre.value("add_prefix_space", true) ? "always" : "never");
    if (scheme == "always")
      o.prepend = MetaspaceBpe::Options::Always;
    else if (scheme == "first")
      o.prepend = MetaspaceBpe::Options::First;
    else if (scheme == "never")
      o.prepend = MetaspaceBpe::Options::Never;
    else
      refuse("Metaspace prepend_scheme \"" + scheme + "\"");
    o.split = pre.value("split", true);
  } else {
    // LLaMA-2's: Sequence [Prepend "▁", Replace " " -> "▁"] (either may stand alone).
    std::vector<nlohmann::json> steps;
    if (norm.is_null()) refuse("a BPE with neither a pre-tokenizer nor a normalizer");
    if (norm.value("type", "") == "Sequence")
      for (const auto& n : norm.value("normalizers", nlohmann::json::array())) steps.push_back(n);
    else
      steps.push_back(norm);
    o.prepend = MetaspaceBpe::Options::Never;
    bool replaces = false;
    for (const auto& n : steps) {
      const std::string type = n.value("type", "");
      if (type == "Prepend") {
        o.prepend = MetaspaceBpe::Options::Always;
        o.meta = n.value("prepend", o.meta);
      } else if (type == "Replace" && n.contains("pattern") && n["pattern"].is_object() &&
                 n["pattern"].value("String", "") == " " && n.contains("content") &&
                 n["content"].is_string()) {
        replaces = true;
        o.meta = n["content"].get<std::string>();
      } else {
        refuse("normalizer " + (type.empty() ? std::string("?") : type));
      }
    }
    if (!replaces) refuse("a normalizer that keeps spaces");
  }
  if (o.meta.empty()) refuse("an empty meta symbol");
  const nlohmann::json model = j.value("model", nlohmann::json());
  o.byte_fallback = model.value("byte_fallback", false);
  o.fuse_unk = model.value("fuse_unk", false);
  BpeModel b = read_bpe_model(j, path);
  if (model.contains("unk_token") && model["unk_token"].is_string()) {
    const auto it = b.vocab.find(model["unk_token"].get<std::string>());
    if (it == b.vocab.end())
      throw InputError(path + ": model.unk_token \"" + model["unk_token"].get<std::string>() +
                       "\" is not in the vocabulary");
    o.unk = it->second;
  }
  return std::make_unique<MetaspaceBpe>(b.vocab, b.merges, o, b.added, path + ": model.merges");
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& path) {
  const nlohmann::json j = parse_json(path);
  const nlohmann::json model = j.value("model", nlohmann::json());
  if (model.value("type", "") != "BPE")
    throw InputError(path + ": model type \"" + model.value("type", "") +
                     "\": expected BPE (a tokenizer.model is read for SentencePiece models)");
  const nlohmann::json pre = j.value("pre_tokenizer", nlohmann::json());
  const nlohmann::json* byte_level = find_type(pre, "ByteLevel");
  if (!byte_level) return load_metaspace_json(j, path);
  std::string pattern = kGpt2Pattern;
  if (const nlohmann::json* split = find_type(pre, "Split")) {
    const nlohmann::json p = split->value("pattern", nlohmann::json());
    if (!p.is_object() || !p.contains("Regex") || !p["Regex"].is_string())
      throw InputError(path + ": a Split pre-tokenizer without a Regex pattern");
    pattern = p["Regex"].get<std::string>();
  } else if (!byte_level->value("use_regex", true)) {
    throw InputError(path + ": a ByteLevel pre-tokenizer without a pattern (use_regex false)");
  }
  const BpeModel b = read_bpe_model(j, path);
  return std::make_unique<ByteLevelBpe>(b.vocab, b.merges, pattern,
                                        byte_level->value("add_prefix_space", false), path,
                                        path + ": model.merges", b.added);
}

std::unique_ptr<Tokenizer> checkpoint_tokenizer(const std::string& dir, std::int64_t vocab) {
  namespace fs = std::filesystem;
  std::unique_ptr<Tokenizer> t;
  std::string where;
  if (fs::exists(dir + "/tokenizer.json") &&
      !(fs::exists(dir + "/tokenizer.model") && !byte_level_json(dir + "/tokenizer.json"))) {
    where = dir + "/tokenizer.json";
    t = load_tokenizer_json(where);
  } else if (fs::exists(dir + "/vocab.json") || fs::exists(dir + "/merges.txt")) {
    if (!fs::exists(dir + "/merges.txt")) throw InputError(dir + ": vocab.json without merges.txt");
    if (!fs::exists(dir + "/vocab.json")) throw InputError(dir + ": merges.txt without vocab.json");
    where = dir + "/vocab.json";
    t = load_gpt2_bpe(where, dir + "/merges.txt");
  } else if (fs::exists(dir + "/tokenizer.model")) {
    // LLaMA-2-style folders hold both: the SentencePiece model is read exactly by SentencePiece.
    where = dir + "/tokenizer.model";
    t = load_sentencepiece(Corpus::read_text(where), where);
  } else {
    return nullptr;
  }
  refuse_larger_vocabulary(*t, vocab, where);
  return t;
}

}  // namespace zerolm
