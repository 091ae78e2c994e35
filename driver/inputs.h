// Reading architectures from command-line arguments, text files and benchmark CSVs.
#pragma once

#include <string>
#include <vector>

#include "spaces/space.h"

namespace zerolm {

struct ArchSource {
  std::string text;
  std::string origin;  // "argument 2", "archs.txt:14"
};

// A CSV with an `arch_encoding` column, or a text file with one encoding per line ('#' starts
// a comment). Throws InputError naming the file and line.
std::vector<ArchSource> read_arch_file(const std::string& path);

// Parses and validates each source in `space`; errors are prefixed with the source's origin.
std::vector<Arch> parse_archs(const Space& space, const std::vector<ArchSource>& sources);

}  // namespace zerolm
