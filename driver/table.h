// Tabular input and output: a small CSV reader, writers for table/csv/json/markdown, and
// all-or-nothing file writes.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace zerolm {

struct Csv {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> lines;                     // source line of each row, for error messages
  int column(const std::string& name) const;  // -1 when absent
};

// The whole content of an input file, read exactly once, so that a pipe, /dev/stdin or a process
// substitution <(...) reads as a file does; "-" is standard input. Throws InputError naming the
// path when it cannot be opened, IoError when reading fails.
std::string read_text(const std::string& path);
// How an input path is named in messages: "standard input" for "-", else the path.
std::string input_name(const std::string& path);

// RFC 4180 subset (quoted fields, no embedded newlines); a UTF-8 byte-order mark before the
// header is skipped. Throws InputError naming the file (`name` for parse_csv).
Csv read_csv(const std::string& path);  // read_text, then parse_csv
Csv parse_csv(const std::string& text, const std::string& name);
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

// Writes via a temporary file in the same folder, flushed to the disk (fsync) before a rename, so
// readers never see a half-written file, even after a power cut. "-" writes to stdout. Throws
// IoError naming the path (the temporary is removed).
void write_file_atomic(const std::string& path, const std::string& content);

// A file opened for appending whose every write is checked: a full disk or a lost file system
// throws IoError naming the path instead of losing records silently. Closed by the destructor.
class AppendFile {
 public:
  AppendFile() = default;
  explicit AppendFile(const std::string& path);  // throws IoError
  ~AppendFile();
  AppendFile(AppendFile&& o) noexcept;
  AppendFile& operator=(AppendFile&& o) noexcept;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  bool is_open() const { return f_ != nullptr; }
  const std::string& path() const { return path_; }
  void write(const std::string& text);  // buffered; throws IoError
  void flush();                         // to the kernel; throws IoError
  void close();                         // flushes; throws IoError

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
};

}  // namespace zerolm
