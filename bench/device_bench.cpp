// ZeroLM weights-mode time per architecture on one device (a GPU, or the CPU: run it under
// `taskset -c 0` for one core), for every space family: the FlexiBERT-500 rows (compat shapes),
// the 200 LTS GPT-2 rows, a ~700M-parameter gpt-large decoder and LLaMA-7B. Each case: one
// warm-up pass (CUDA context, allocator), then the median of `repeats` timed passes. The scores
// come back to the host inside every pass, so a pass's time includes the device's work.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "bench/median.h"
#include "driver/inputs.h"
#include "proxy/evaluator.h"
#include "proxy/torch_runtime.h"
#include "spaces/plan.h"

using namespace zerolm;

namespace {

std::string repeat(const std::string& head, const std::string& layer, int n) {
  std::string s = head;
  for (int i = 0; i < n; ++i) s += layer;
  return s;
}

struct Case {
  std::string name;
  std::string space;
  Profile profile;
  std::vector<Arch> archs;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr,
                 "usage: %s DEVICE FLEXIBERT_CSV LTS_CSV [repeats=5] "
                 "[cases=flexibert-bench,gpt2-lts,gpt-large,llama-7b]\n",
                 argv[0]);
    return 2;
  }
  const std::string device = argv[1];
  const int repeats = argc > 4 ? std::stoi(argv[4]) : 5;
  const std::string wanted = argc > 5 ? argv[5] : "flexibert-bench,gpt2-lts,gpt-large,llama-7b";
  set_torch_threads(1);
  try {
    std::vector<Case> cases;
    auto add = [&](const std::string& name, const std::string& space, Profile p,
                   const std::vector<ArchSource>& src) {
      if (("," + wanted + ",").find("," + name + ",") == std::string::npos) return;
      cases.push_back({name, space, p, parse_archs(find_space(space), src)});
    };
    add("flexibert-bench", "flexibert-bench", Profile::Compat, read_arch_file(argv[2]));
    add("gpt2-lts", "gpt2-lts", Profile::Spec, read_arch_file(argv[3]));
    // GPT-2-style, 1280 wide, 32 layers of MLP ratio 4: 694M parameters.
    add("gpt-large", "gpt-large", Profile::Spec,
        {{repeat("GPT-d1280", "|h16-ff5120", 32), "gpt-large ~700M"}});
    add("llama-7b", "llama", Profile::Spec,
        {{repeat("LLAMA-d4096", "|h32-kv32-ff11008", 32), "LLaMA-7B"}});
    for (const Case& c : cases) {
      EvalOptions opt;
      opt.profile = c.profile;
      opt.device = device;
      opt.proxy.mode = Mode::Weights;
      Evaluator ev({"zerolm"}, opt);
      double checksum = 0, params = 0;
      auto pass = [&] {
        const auto t0 = std::chrono::steady_clock::now();
        for (const Arch& a : c.archs) {
          const Evaluation e = ev.evaluate(a);
          checksum += e.results[0].score;
          params += double(e.params);
        }
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() /
               double(c.archs.size());
      };
      pass();
      std::vector<double> t;
      for (int r = 0; r < repeats; ++r) t.push_back(pass());
      const double m = median(t);
      std::printf(
          "case=%s device=%s archs=%zu mean_params=%.4g ms_per_arch=%.3f archs_per_s=%.1f "
          "(median of %d, min %.3f max %.3f ms) checksum=%.6g\n",
          c.name.c_str(), device.c_str(), c.archs.size(),
          params / double(c.archs.size() * (repeats + 1)), 1e3 * m, 1.0 / m, repeats,
          1e3 * *std::min_element(t.begin(), t.end()), 1e3 * *std::max_element(t.begin(), t.end()),
          checksum);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "device_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
