// The text files a run reads and writes: a small CSV reader (evaluations.csv, benchmark tables,
// architecture lists), whole-file reads that accept pipes, and append-only files whose every write
// is checked. All-or-nothing writes are spaces/files.h's write_file_atomic.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "spaces/files.h"

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
// A number as CSV cells and tables show it: whole numbers below 2^53 in full (every digit of a
// parameter count), others %.10g; "nan" for NaN.
std::string format_number(double v);

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
