#include "spaces/init.h"

#include "spaces/arch.h"

namespace zerolm {

InitScheme parse_init(std::string_view name) {
  if (name == "bert" || name == "normal") return InitScheme::Bert;
  if (name == "xavier") return InitScheme::Xavier;
  if (name == "torch") return InitScheme::Torch;
  throw InputError("unknown init \"" + std::string(name) + "\": expected bert, xavier or torch");
}

std::string init_name(InitScheme s) {
  switch (s) {
    case InitScheme::Bert:
      return "bert";
    case InitScheme::Xavier:
      return "xavier";
    case InitScheme::Torch:
      return "torch";
  }
  return "?";
}

double linear_weight_variance(const InitSpec& spec, std::int64_t fan_in, std::int64_t fan_out) {
  switch (spec.scheme) {
    case InitScheme::Bert:
      return spec.std * spec.std;
    case InitScheme::Xavier:
      return 2.0 / double(fan_in + fan_out);  // U(+-sqrt(6/(in+out)))
    case InitScheme::Torch:
      return 1.0 / (3.0 * double(fan_in));  // U(+-1/sqrt(in))
  }
  return 0;
}

}  // namespace zerolm
