#include "train/bpe.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <filesystem>
#include <limits>
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
    // Longest first, so that one special token that begins another does not cut it.
    std::sort(specials_.begin(), specials_.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
    for (const auto& sp : specials_) starts_special_[std::uint8_t(sp.first[0])] = true;
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
    for (std::size_t r = 0; r < merges.size(); ++r) {
      const auto& [a, b] = merges[r];
      const auto ia = vocab.find(a), ib = vocab.find(b), iab = vocab.find(a + b);
      if (ia == vocab.end() || ib == vocab.end() || iab == vocab.end())
        throw InputError(
            merges_where + ": merge " + std::to_string(r + 1) + " \"" + a + " " + b +
            "\": " + (ia == vocab.end() || ib == vocab.end() ? "a part" : "its result") +
            " is not in the vocabulary");
      // The first (lowest-ranked) of duplicate merges wins, as in the reference implementations.
      merges_.emplace(key(std::int32_t(ia->second), std::int32_t(ib->second)),
                      Merge{std::int32_t(r), std::int32_t(iab->second)});
    }
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
    // The text between special tokens is encoded as text; each special token is its id.
    std::size_t from = 0;
    for (std::size_t at = 0; at < raw.size() && !specials_.empty();) {
      // Only where a special token could begin (a few bytes such as '<'): text speed is kept.
      if (!starts_special_[std::uint8_t(raw[at])]) {
        ++at;
        continue;
      }
      const auto hit = std::find_if(specials_.begin(), specials_.end(), [&](const auto& sp) {
        return raw.compare(at, sp.first.size(), sp.first) == 0;
      });
      if (hit == specials_.end()) {
        ++at;
        continue;
      }
      encode_text(raw.substr(from, at - from), out);
      out.push_back(hit->second);
      at += hit->first.size();
      from = at;
    }
    encode_text(raw.substr(from), out);
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
  std::vector<std::pair<std::string, std::int64_t>> specials_;
  bool starts_special_[256] = {};
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

std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& path) {
  const nlohmann::json j = parse_json(path);
  const nlohmann::json model = j.value("model", nlohmann::json());
  if (model.value("type", "") != "BPE")
    throw InputError(path + ": model type \"" + model.value("type", "") +
                     "\": expected BPE (a tokenizer.model is read for SentencePiece models)");
  const nlohmann::json pre = j.value("pre_tokenizer", nlohmann::json());
  const nlohmann::json* byte_level = find_type(pre, "ByteLevel");
  if (!byte_level)
    throw InputError(path +
                     ": a BPE without a ByteLevel pre-tokenizer (SentencePiece-style, as "
                     "LLaMA-2's): not read here; the folder's tokenizer.model is");
  std::string pattern = kGpt2Pattern;
  if (const nlohmann::json* split = find_type(pre, "Split")) {
    const nlohmann::json p = split->value("pattern", nlohmann::json());
    if (!p.is_object() || !p.contains("Regex") || !p["Regex"].is_string())
      throw InputError(path + ": a Split pre-tokenizer without a Regex pattern");
    pattern = p["Regex"].get<std::string>();
  } else if (!byte_level->value("use_regex", true)) {
    throw InputError(path + ": a ByteLevel pre-tokenizer without a pattern (use_regex false)");
  }
  auto vocab = read_vocab(model.value("vocab", nlohmann::json()), path + ": model.vocab");
  // Added tokens (end of text, chat markers, ...) hold ids of their own beyond the merges'
  // tokens and are matched whole in the text.
  std::vector<std::pair<std::string, std::int64_t>> specials;
  for (const auto& t : j.value("added_tokens", nlohmann::json::array()))
    if (t.contains("content") && t["content"].is_string() &&
        !t["content"].get<std::string>().empty() && t.contains("id") &&
        t["id"].is_number_integer()) {
      vocab.emplace(t["content"].get<std::string>(), t["id"].get<std::int64_t>());
      specials.emplace_back(t["content"].get<std::string>(), t["id"].get<std::int64_t>());
    }
  std::vector<std::pair<std::string, std::string>> merges;
  const nlohmann::json m = model.value("merges", nlohmann::json::array());
  for (std::size_t i = 0; i < m.size(); ++i) {
    const std::string where = path + ": model.merges[" + std::to_string(i) + "]";
    if (m[i].is_string())
      merges.push_back(split_merge(m[i].get<std::string>(), where));
    else if (m[i].is_array() && m[i].size() == 2 && m[i][0].is_string() && m[i][1].is_string())
      merges.emplace_back(m[i][0].get<std::string>(), m[i][1].get<std::string>());
    else
      throw InputError(where + ": expected \"a b\" or [\"a\", \"b\"]");
  }
  if (merges.empty()) throw InputError(path + ": model.merges: no merges");
  return std::make_unique<ByteLevelBpe>(vocab, merges, pattern,
                                        byte_level->value("add_prefix_space", false), path,
                                        path + ": model.merges", specials);
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
