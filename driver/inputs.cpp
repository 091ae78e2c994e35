#include "driver/inputs.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include "driver/table.h"

namespace zerolm {

std::vector<ArchSource> read_arch_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
  std::string first;
  std::getline(in, first);
  std::vector<ArchSource> out;
  if (first.find("arch_encoding") != std::string::npos) {
    const Csv csv = read_csv(path);
    const int col = csv.column("arch_encoding");
    if (col < 0) throw InputError(path + ": expected a column named arch_encoding in the header");
    for (std::size_t i = 0; i < csv.rows.size(); ++i)
      out.push_back({csv.rows[i][col], path + ":" + std::to_string(csv.lines[i])});
    return out;
  }
  in.clear();
  in.seekg(0);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    const auto hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    const auto b = line.find_first_not_of(" \t\r");
    if (b == std::string::npos) continue;
    const auto e = line.find_last_not_of(" \t\r");
    out.push_back({line.substr(b, e - b + 1), path + ":" + std::to_string(n)});
  }
  if (out.empty()) throw InputError(path + ": no architecture encodings found");
  return out;
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
