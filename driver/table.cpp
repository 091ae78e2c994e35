#include "driver/table.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "spaces/arch.h"

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

Csv read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path + ": cannot open for reading (" + std::strerror(errno) + ")");
  Csv csv;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line == "\r") continue;
    auto fields = split_csv_line(line);
    if (csv.header.empty()) {
      csv.header = fields;
      continue;
    }
    if (fields.size() != csv.header.size())
      throw InputError(path + ":" + std::to_string(n) + ": expected " +
                       std::to_string(csv.header.size()) + " fields as in the header, found " +
                       std::to_string(fields.size()));
    csv.rows.push_back(std::move(fields));
    csv.lines.push_back(n);
  }
  if (csv.header.empty()) throw InputError(path + ": empty file, expected a CSV header line");
  return csv;
}

Format parse_format(const std::string& name) {
  if (name == "table") return Format::Table;
  if (name == "csv") return Format::Csv;
  if (name == "json") return Format::Json;
  if (name == "markdown" || name == "md") return Format::Markdown;
  throw InputError("unknown format \"" + name + "\": expected table, csv, json or markdown");
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
        for (const auto& c : r) o << " " << c << " |";
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

void write_file_atomic(const std::string& path, const std::string& content) {
  if (path == "-") {
    std::cout << content << std::flush;
    return;
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(path + ": cannot write (" + std::strerror(errno) + ")");
    out << content;
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw InputError(path + ": write failed (" + std::strerror(errno) + ")");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    throw InputError(path + ": cannot rename temporary file into place (" + std::strerror(err) +
                     ")");
  }
}

}  // namespace zerolm
