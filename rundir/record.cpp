#include "rundir/record.h"

#include <cstdlib>

#include "rundir/csv.h"
#include "spaces/errors.h"

namespace zerolm {

const char* status_name(Status s) {
  switch (s) {
    case Status::Ok:
      return "ok";
    case Status::Failed:
      return "failed";
    case Status::Preempted:
      return "preempted";
    case Status::OverBudget:
      return "over-budget";
  }
  return "?";
}

const std::vector<std::string>& FinetuneRow::columns() {
  static const std::vector<std::string> c = {"encoding", "proxy_score", "params",     "steps",
                                             "tokens",   "train_loss",  "valid_loss", "perplexity",
                                             "wall_s",   "device",      "precision",  "status"};
  return c;
}

std::vector<std::string> FinetuneRow::cells() const {
  return {encoding,
          format_number(proxy_score),
          std::to_string(params),
          std::to_string(steps),
          std::to_string(tokens),
          format_number(train_loss),
          format_number(valid_loss),
          format_number(perplexity),
          format_number(wall_s),
          device,
          precision,
          status};
}

FinetuneRow FinetuneRow::parse(const std::vector<std::string>& header,
                               const std::vector<std::string>& cells, const std::string& where) {
  auto field = [&](const std::string& name) -> const std::string& {
    for (std::size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) {
        if (i >= cells.size())
          throw InputError(where + ": " + std::to_string(cells.size()) + " fields, expected " +
                           std::to_string(header.size()));
        return cells[i];
      }
    throw InputError(where + ": no column " + name + " (expected the columns of finetune.csv)");
  };
  auto number = [&](const std::string& name) {
    const std::string& s = field(name);
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0')
      throw InputError(where + ": " + name + " \"" + s + "\": expected a number");
    return v;
  };
  FinetuneRow r;
  r.encoding = field("encoding");
  r.proxy_score = number("proxy_score");
  r.params = std::int64_t(number("params"));
  r.steps = std::int64_t(number("steps"));
  r.tokens = std::int64_t(number("tokens"));
  r.train_loss = number("train_loss");
  r.valid_loss = number("valid_loss");
  r.perplexity = number("perplexity");
  r.wall_s = number("wall_s");
  r.device = field("device");
  r.precision = field("precision");
  r.status = field("status");
  return r;
}

}  // namespace zerolm
