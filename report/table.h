// Tables for people and programs: one table of strings rendered as aligned text, CSV, JSON or
// Markdown (--format), and numbers formatted for them.
#pragma once

#include <string>
#include <vector>

#include "rundir/csv.h"

namespace zerolm {

enum class Format { Table, Csv, Json, Markdown };
Format parse_format(const std::string& name);  // throws InputError

// A table of strings; numbers are formatted by the caller.
struct TextTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
  std::string render(Format f) const;  // json: an array of objects (numeric fields as numbers)
};

}  // namespace zerolm
