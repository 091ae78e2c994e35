// Tabular input and output: a small CSV reader, writers for table/csv/json/markdown, and
// all-or-nothing file writes.
#pragma once

#include <string>
#include <vector>

namespace zerolm {

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> lines;                     // source line of each row, for error messages
  int column(const std::string& name) const;  // -1 when absent
};

// RFC 4180 subset (quoted fields, no embedded newlines). Throws InputError naming the file.
Csv read_csv(const std::string& path);
std::vector<std::string> split_csv_line(const std::string& line);
std::string csv_escape(const std::string& field);

enum class Format { Table, Csv, Json, Markdown };
Format parse_format(const std::string& name);  // throws InputError

// A table of strings; numbers are formatted by the caller.
struct TextTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::string render(Format f) const;  // json: an array of objects (numeric fields as numbers)
};

std::string format_number(double v);

// Writes via a temporary file in the same folder and a rename, so readers never see a
// half-written file. "-" writes to stdout.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace zerolm
