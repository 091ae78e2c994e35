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

struct Csv;

// The non-empty items of `s` between separators: "a,,b" -> {"a", "b"}.
std::vector<std::string> split_list(const std::string& s, char sep = ',');

// The architecture encoding of every row of a benchmark CSV: its `arch_encoding` column, or, for
// LiteTransformerSearch's GPT-2 benchmark, the encoding built from the columns n_layer, d_model,
// d_embed, div_val, n_head and d_inner. Throws InputError naming `path` when neither is there.
std::vector<std::string> csv_encodings(const Csv& csv, const std::string& path);

// A CSV with an `arch_encoding` column (or LTS's GPT-2 columns), or a text file with one encoding
// per line ('#' starts a comment). Throws InputError naming the file and line.
std::vector<ArchSource> read_arch_file(const std::string& path);

// The space named `given`; when empty, a space of the first encoding's family: its default space
// (GPT2- -> gpt2-lts, GPT- -> gpt-large, LLAMA- -> llama, flexibert-bench for encoders and for no
// encodings) when that expresses every encoding, else the family's space that expresses the most
// of them (the default on ties; logged).
const Space& infer_space(const std::string& given, const std::vector<std::string>& encodings);

// Parses and validates each source in `space`; errors are prefixed with the source's origin.
std::vector<Arch> parse_archs(const Space& space, const std::vector<ArchSource>& sources);

}  // namespace zerolm
