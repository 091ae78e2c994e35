#include "rundir/csv.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "spaces/errors.h"
#include "spaces/files.h"

namespace zerolm {

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  char buf[64];
  // Whole numbers (parameter counts above all) in full, every digit exact: %.10g would round an
  // 11-digit count (13,015,864,321 -> 1.301586432e+10).
  if (v == std::floor(v) && std::fabs(v) < 9007199254740992.0)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

int Csv::column(const std::string& name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return int(i);
  return -1;
}

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(field);
      field.clear();
    } else if (c != '\r') {
      field += c;
    }
  }
  out.push_back(field);
  return out;
}

std::string csv_escape(const std::string& f) {
  if (f.find_first_of(",\"\n") == std::string::npos) return f;
  std::string q = "\"";
  for (char c : f) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::string input_name(const std::string& path) {
  return path == "-" ? "standard input" : path;
}

std::string read_text(const std::string& path) {
  const bool stdin_ = path == "-";
  const int fd = stdin_ ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
  std::string text;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      if (!stdin_) ::close(fd);
      errno = err;
      throw io_error(input_name(path), "read failed");
    }
    if (n == 0) break;
    text.append(buf, std::size_t(n));
  }
  if (!stdin_) ::close(fd);
  return text;
}

Csv read_csv(const std::string& path) {
  return parse_csv(read_text(path), input_name(path));
}

Csv parse_csv(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  Csv csv;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    // Spreadsheet programs save UTF-8 with a byte-order mark, which is not part of the header.
    if (n == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);
    if (line.empty() || line == "\r") continue;
    auto fields = split_csv_line(line);
    if (csv.header.empty()) {
      csv.header = fields;
      continue;
    }
    if (fields.size() != csv.header.size())
      throw InputError(name + ":" + std::to_string(n) + ": expected " +
                       std::to_string(csv.header.size()) + " fields as in the header, found " +
                       std::to_string(fields.size()));
    csv.rows.push_back(std::move(fields));
    csv.lines.push_back(n);
  }
  if (csv.header.empty()) throw InputError(name + ": empty file, expected a CSV header line");
  return csv;
}

AppendFile::AppendFile(const std::string& path) : path_(path) {
  f_ = std::fopen(path.c_str(), "a");
  if (!f_) throw io_error(path, "cannot open for appending");
}

AppendFile::~AppendFile() {
  if (f_) std::fclose(f_);
}

AppendFile::AppendFile(AppendFile&& o) noexcept
    : path_(std::move(o.path_)), f_(std::exchange(o.f_, nullptr)) {}

AppendFile& AppendFile::operator=(AppendFile&& o) noexcept {
  if (this != &o) {
    if (f_) std::fclose(f_);
    path_ = std::move(o.path_);
    f_ = std::exchange(o.f_, nullptr);
  }
  return *this;
}

void AppendFile::write(const std::string& text) {
  if (!f_) throw IoError(path_ + ": write to a closed file");
  if (std::fwrite(text.data(), 1, text.size(), f_) != text.size())
    throw io_error(path_, "write failed");
}

void AppendFile::flush() {
  if (f_ && std::fflush(f_) != 0) throw io_error(path_, "write failed");
}

void AppendFile::close() {
  if (!f_) return;
  std::FILE* f = std::exchange(f_, nullptr);
  const bool flushed = std::fflush(f) == 0;
  const int err = errno;
  const bool closed = std::fclose(f) == 0;
  if (!flushed) errno = err;
  if (!flushed || !closed) throw io_error(path_, "write failed");
}

}  // namespace zerolm
