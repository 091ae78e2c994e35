#include "driver/inputs.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "report/table.h"
#include "rundir/log.h"

namespace zerolm {

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, sep);)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::vector<std::string> csv_encodings(const Csv& csv, const std::string& path) {
  const int enc = csv.column("arch_encoding");
  std::vector<std::string> out;
  if (enc >= 0) {
    for (const auto& row : csv.rows) out.push_back(row[std::size_t(enc)]);
    return out;
  }
  const int n_layer = csv.column("n_layer"), d_model = csv.column("d_model"),
            d_embed = csv.column("d_embed"), div_val = csv.column("div_val"),
            n_head = csv.column("n_head"), d_inner = csv.column("d_inner");
  if (n_layer < 0 || d_model < 0 || d_embed < 0 || div_val < 0 || n_head < 0 || d_inner < 0)
    throw InputError(
        path +
        ": expected a column named arch_encoding, or the GPT-2 columns n_layer, d_model, d_embed, "
        "div_val, n_head, d_inner");
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    const auto& row = csv.rows[r];
    const std::string where = path + ":" + std::to_string(csv.lines[r]) + ": ";
    // n_layer says how many layers the per-layer lists describe: a disagreement is an error, not
    // a model cut to the shorter list.
    const std::string& layers_text = row[std::size_t(n_layer)];
    char* end = nullptr;
    errno = 0;
    const long layers = std::strtol(layers_text.c_str(), &end, 10);
    if (layers_text.empty() || *end != '\0' || errno == ERANGE || layers < 1 || layers > 100000)
      throw InputError(where + "n_layer " + quoted_input(layers_text, 40) +
                       ": expected a number of layers >= 1");
    // d_embed -1 means "as d_model" in LTS's configs.
    const std::string embed =
        row[std::size_t(d_embed)] == "-1" ? row[std::size_t(d_model)] : row[std::size_t(d_embed)];
    std::string e =
        "GPT2-d" + row[std::size_t(d_model)] + "-e" + embed + "-v" + row[std::size_t(div_val)];
    const auto heads = split_list(row[std::size_t(n_head)], ';'),
               inner = split_list(row[std::size_t(d_inner)], ';');
    if (heads.size() != std::size_t(layers) || inner.size() != std::size_t(layers))
      throw InputError(where + "n_layer " + layers_text + " but n_head lists " +
                       std::to_string(heads.size()) + " and d_inner " +
                       std::to_string(inner.size()) +
                       " values; expected one per layer, separated by ';'");
    for (std::size_t l = 0; l < heads.size(); ++l) e += "|h" + heads[l] + "-ff" + inner[l];
    out.push_back(e);
  }
  return out;
}

std::vector<ArchSource> read_arch_file(const std::string& path) {
  // Read once: a pipe or /dev/stdin cannot be opened again to read it from the start.
  std::string text = read_text(path);
  const std::string name = input_name(path);
  // A UTF-8 byte-order mark (saved by spreadsheet programs and some editors) is not text.
  const std::string bom = "\xEF\xBB\xBF";
  if (text.rfind(bom, 0) == 0) text.erase(0, bom.size());
  const std::string first = text.substr(0, text.find('\n'));
  std::vector<ArchSource> out;
  if (first.find("arch_encoding") != std::string::npos ||
      (first.find("n_layer") != std::string::npos && first.find("d_inner") != std::string::npos)) {
    const Csv csv = parse_csv(text, name);
    const std::vector<std::string> enc = csv_encodings(csv, name);
    for (std::size_t i = 0; i < csv.rows.size(); ++i)
      out.push_back({enc[i], name + ":" + std::to_string(csv.lines[i])});
    if (out.empty()) throw InputError(name + ": a CSV header and no rows: no architectures found");
    return out;
  }
  std::istringstream in(text);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    const auto e = line.find_last_not_of(" \t\r");
    out.push_back({line.substr(b, e - b + 1), name + ":" + std::to_string(n)});
  }
  if (out.empty()) throw InputError(name + ": no architecture encodings found");
  return out;
}

const Space& infer_space(const std::string& given, const std::vector<std::string>& encodings) {
  if (!given.empty()) return find_space(given);
  const std::string first = encodings.empty() ? std::string() : encodings.front();
  const Family& family = family_of_encoding(first);
  const Space& fallback = find_space(family.default_space());
  std::vector<Arch> archs;
  archs.reserve(encodings.size());
  for (const std::string& e : encodings) {
    try {
      archs.push_back(parse_encoding(e));
    } catch (const InputError&) {
      // Malformed in every space: reported when the chosen space parses it.
    }
  }
  auto fitting = [&](const Space& s) {
    std::size_t n = 0;
    for (const Arch& a : archs) {
      try {
        s.validate(a, "");
        ++n;
      } catch (const InputError&) {
      }
    }
    return n;
  };
  // The default space when it expresses them all (the usual case, one pass); else the family's
  // space that expresses the most (the default on ties), so that, say, FlexiBERT models with
  // per-layer widths land in flexibert-original.
  std::size_t best_n = fitting(fallback);
  if (best_n == archs.size()) return fallback;
  const Space* best = &fallback;
  for (const std::string& name : space_names()) {
    const Space& s = find_space(name);
    if (s.spec().family != &family || &s == &fallback) continue;
    const std::size_t n = fitting(s);
    if (n > best_n) {
      best = &s;
      best_n = n;
    }
  }
  if (best != &fallback)
    log::info("space " + best->name() + ": it expresses " + std::to_string(best_n) + " of the " +
              std::to_string(encodings.size()) + " architectures given (--space to choose)");
  return *best;
}

std::vector<Arch> parse_archs(const Space& space, const std::vector<ArchSource>& sources) {
  std::vector<Arch> archs;
  archs.reserve(sources.size());
  for (const ArchSource& s : sources) {
    try {
      archs.push_back(space.parse(s.text));
    } catch (const InputError& e) {
      throw InputError(s.origin + ": " + e.what());
    }
  }
  return archs;
}

}  // namespace zerolm
