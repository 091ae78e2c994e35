#include "rundir/search_config.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "spaces/arch.h"
#include "spaces/rng.h"

namespace zerolm {

namespace {

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + x;
  return s;
}

std::string exact(double v) {
  char b[40];
  std::snprintf(b, sizeof b, "%.17g", v);
  return b;
}

}  // namespace

std::vector<std::pair<std::string, std::string>> SearchConfig::search_fields() const {
  return {{"space", space},
          {"strategy", strategy},
          {"profile", profile},
          {"proxy", proxy},
          {"alpha", alpha},
          {"alpha_value", exact(alpha_value)},
          {"capacity", capacity},
          {"init", init},
          {"mode", mode},
          {"seed", std::to_string(seed)},
          {"population", std::to_string(population)},
          {"sample", std::to_string(sample)},
          {"generation", std::to_string(generation)},
          {"min_params", std::to_string(min_params)},
          {"max_params", std::to_string(max_params)},
          {"top_k", std::to_string(top_k)},
          {"seed_archs", std::to_string(seed_archs.size()) + ":" + std::to_string(fnv1a([&] {
                           std::string all;
                           for (const auto& e : seed_archs) all += e + "\n";
                           return all;
                         }()))},
          // Multi-objective fields last; hash() leaves them out at their defaults, so that the
          // runs of single-objective searches keep their hash.
          {"objectives", join(objectives)},
          {"constraints", join(constraints)},
          {"latency_batch", std::to_string(latency_batch)},
          {"latency_seq", std::to_string(latency_seq)},
          {"latency_repeats", std::to_string(latency_repeats)},
          {"precision", precision},
          {"checkpoint", checkpoint},
          {"prune_uniform", prune_uniform ? "1" : "0"},
          {"importance", importance},
          {"calibration", calibration}};
}

std::vector<SearchObjective> SearchConfig::objective_list() const {
  if (objectives.empty()) return {SearchObjective{proxy, true}};
  return parse_objectives(objectives);
}

std::vector<Constraint> SearchConfig::constraint_list() const {
  std::vector<Constraint> out;
  for (const auto& c : constraints) out.push_back(parse_constraint(c));
  return out;
}

std::vector<std::string> SearchConfig::value_names() const {
  std::vector<std::string> out;
  auto add = [&](const std::string& n) {
    if (n == proxy || n == "params") return;
    for (const auto& o : out)
      if (o == n) return;
    out.push_back(n);
  };
  for (const SearchObjective& o : objective_list()) add(o.name);
  for (const Constraint& c : constraint_list())
    if (is_measured(c.name)) add(c.name);
  return out;
}

bool SearchConfig::measures(const std::string& quantity) const {
  for (const auto& n : value_names())
    if (n == quantity) return true;
  return false;
}

std::string SearchConfig::hash() const {
  static const SearchConfig defaults;
  const auto base = defaults.search_fields();
  std::string s;
  const auto fields = search_fields();
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const auto& [k, v] = fields[i];
    const bool late = k == "objectives" || k == "constraints" || k.rfind("latency_", 0) == 0 ||
                      k == "precision" || k == "prune_uniform" || k == "importance" ||
                      k == "calibration";
    if (late && v == base[i].second) continue;
    s += k + "=" + v + "\n";
  }
  char b[20];
  std::snprintf(b, sizeof b, "%016llx", static_cast<unsigned long long>(fnv1a(s)));
  return b;
}

std::string SearchConfig::to_json() const {
  nlohmann::ordered_json j;
  j["space"] = space;
  j["strategy"] = strategy;
  j["profile"] = profile;
  j["proxy"] = proxy;
  j["alpha"] = alpha;
  j["alpha_value"] = alpha_value;
  j["capacity"] = capacity;
  j["init"] = init;
  j["mode"] = mode;
  j["seed"] = seed;
  j["population"] = population;
  j["sample"] = sample;
  j["generation"] = generation;
  j["min_params"] = min_params;
  j["max_params"] = max_params;
  j["top_k"] = top_k;
  j["seed_file"] = seed_file;
  j["seed_archs"] = seed_archs;
  j["objectives"] = objectives;
  j["constraints"] = constraints;
  j["latency_batch"] = latency_batch;
  j["latency_seq"] = latency_seq;
  j["latency_repeats"] = latency_repeats;
  j["precision"] = precision;
  j["latency_table"] = latency_table;
  j["checkpoint"] = checkpoint;
  j["prune_uniform"] = prune_uniform;
  j["importance"] = importance;
  j["calibration"] = calibration;
  j["importance_detail"] = importance_detail;
  j["evaluations"] = evaluations;
  j["device"] = device;
  j["threads"] = threads;
  j["memory_limit_mb"] = memory_limit_mb;
  j["checkpoint_every"] = checkpoint_every;
  j["progress_every"] = progress_every;
  j["config_hash"] = hash();
  return j.dump(2) + "\n";
}

SearchConfig SearchConfig::from_json(const std::string& text, const std::string& origin) {
  SearchConfig c;
  try {
    const auto j = nlohmann::json::parse(text);
    c.space = j.at("space");
    c.strategy = j.at("strategy");
    c.profile = j.at("profile");
    c.proxy = j.at("proxy");
    c.alpha = j.at("alpha");
    c.alpha_value = j.at("alpha_value");
    c.capacity = j.at("capacity");
    c.init = j.at("init");
    c.mode = j.at("mode");
    c.seed = j.at("seed");
    c.population = j.at("population");
    c.sample = j.at("sample");
    c.generation = j.at("generation");
    c.min_params = j.at("min_params");
    c.max_params = j.at("max_params");
    c.top_k = j.at("top_k");
    c.seed_file = j.value("seed_file", std::string());
    c.seed_archs = j.value("seed_archs", std::vector<std::string>());
    c.objectives = j.value("objectives", std::vector<std::string>());
    c.constraints = j.value("constraints", std::vector<std::string>());
    c.latency_batch = j.value("latency_batch", 1);
    c.latency_seq = j.value("latency_seq", 128);
    c.latency_repeats = j.value("latency_repeats", 5);
    c.precision = j.value("precision", std::string("fp32"));
    c.latency_table = j.value("latency_table", std::string());
    c.checkpoint = j.value("checkpoint", std::string());
    c.prune_uniform = j.value("prune_uniform", false);
    c.importance = j.value("importance", std::string("norm"));
    c.calibration = j.value("calibration", std::string());
    c.importance_detail = j.value("importance_detail", std::string());
    c.evaluations = j.at("evaluations");
    c.device = j.at("device");
    c.threads = j.at("threads");
    c.memory_limit_mb = j.at("memory_limit_mb");
    c.checkpoint_every = j.at("checkpoint_every");
    c.progress_every = j.at("progress_every");
  } catch (const std::exception& e) {
    throw InputError(origin + ": not a zerolm run configuration (" + e.what() + ")");
  }
  return c;
}

}  // namespace zerolm
