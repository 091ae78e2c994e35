#include "driver/table.h"

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

namespace zerolm {

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

Format parse_format(const std::string& name) {
  if (name == "table") return Format::Table;
  if (name == "csv") return Format::Csv;
  if (name == "json") return Format::Json;
  if (name == "markdown" || name == "md") return Format::Markdown;
  throw InputError("unknown format " + quoted_input(name) +
                   ": expected table, csv, json or markdown");
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

namespace {

bool as_number(const std::string& s, double& v) {
  if (s.empty()) return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end && *end == '\0' && std::isfinite(v);
}

}  // namespace

std::string TextTable::render(Format f) const {
  std::ostringstream o;
  switch (f) {
    case Format::Csv:
      for (std::size_t i = 0; i < columns.size(); ++i)
        o << (i ? "," : "") << csv_escape(columns[i]);
      o << "\n";
      for (const auto& r : rows) {
        for (std::size_t i = 0; i < r.size(); ++i) o << (i ? "," : "") << csv_escape(r[i]);
        o << "\n";
      }
      break;
    case Format::Json: {
      nlohmann::json arr = nlohmann::json::array();
      for (const auto& r : rows) {
        nlohmann::json obj = nlohmann::json::object();
        for (std::size_t i = 0; i < r.size() && i < columns.size(); ++i) {
          double v;
          if (as_number(r[i], v))
            obj[columns[i]] = v;
          else
            obj[columns[i]] = r[i];
        }
        arr.push_back(obj);
      }
      o << arr.dump(2) << "\n";
      break;
    }
    case Format::Markdown:
      o << "|";
      for (const auto& c : columns) o << " " << c << " |";
      o << "\n|";
      for (std::size_t i = 0; i < columns.size(); ++i) o << " --- |";
      o << "\n";
      for (const auto& r : rows) {
        o << "|";
        for (const auto& c : r) {
          // Encodings separate layers with '|', which would end the cell.
          std::string cell;
          for (char ch : c) cell += ch == '|' ? std::string("\\|") : std::string(1, ch);
          o << " " << cell << " |";
        }
        o << "\n";
      }
      break;
    case Format::Table: {
      std::vector<std::size_t> w(columns.size());
      for (std::size_t i = 0; i < columns.size(); ++i) w[i] = columns[i].size();
      for (const auto& r : rows)
        for (std::size_t i = 0; i < r.size() && i < w.size(); ++i)
          w[i] = std::max(w[i], r[i].size());
      auto line = [&](const std::vector<std::string>& r) {
        for (std::size_t i = 0; i < r.size() && i < w.size(); ++i) {
          // Text left-aligned (first column), numbers right-aligned.
          if (i == 0)
            o << r[i] << std::string(w[i] - r[i].size(), ' ');
          else
            o << "  " << std::string(w[i] - r[i].size(), ' ') << r[i];
        }
        o << "\n";
      };
      line(columns);
      for (const auto& r : rows) line(r);
      break;
    }
  }
  return o.str();
}

namespace {

// A POSIX file descriptor closed on every path out.
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int release() { return std::exchange(fd, -1); }
};

// False with errno set when a write fails (a short write is retried).
bool write_all(int fd, const std::string& content) {
  const char* p = content.data();
  std::size_t left = content.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    left -= std::size_t(n);
  }
  return true;
}

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& content) {
  if (path == "-") {
    std::cout << content << std::flush;
    if (!std::cout) throw IoError("standard output: write failed");
    return;
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  Fd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (out.fd < 0) throw io_error(path, "cannot write");
  // Data on the disk before the rename makes it visible: otherwise a crash can leave the new
  // name pointing at an empty file (ext4, xfs with delayed allocation).
  if (!write_all(out.fd, content) || ::fsync(out.fd) != 0 || ::close(out.release()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    errno = err;
    throw io_error(path, "write failed");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    errno = err;
    throw io_error(path, "cannot rename the temporary file into place");
  }
  // The rename itself is durable once the folder is synced; best effort (not every file system
  // can sync a directory).
  Fd dir(::open(folder_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd >= 0) (void)::fsync(dir.fd);
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
