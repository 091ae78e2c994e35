#include "report/table.h"

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

Format parse_format(const std::string& name) {
  if (name == "table") return Format::Table;
  if (name == "csv") return Format::Csv;
  if (name == "json") return Format::Json;
  if (name == "markdown" || name == "md") return Format::Markdown;
  throw InputError("unknown format " + quoted_input(name) +
                   ": expected table, csv, json or markdown");
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

}  // namespace zerolm
