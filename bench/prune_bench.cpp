// The pruning space's cost on a LLaMA-shaped checkpoint (synthetic weights, written once into
// DIR when it holds no config.json): the preparation pass (one read of every attention and
// feed-forward matrix) and then sub-networks scored per second on one core (msv ZeroLM, kept
// parameters and kept norm fraction of each), with peak memory.
//
// Then the capacity table of a statistic (spectral by default; "none" skips it): its preparation
// on one LibTorch thread (first TABLE_LAYERS layers, all by default) and sub-networks scored per
// second from it.
//
//   prune_bench DIR [hidden layers intermediate heads kv_heads vocab dtype(f16|bf16|f32) count
//                    statistic table_layers]
//   (default: 2048 16 5504 16 16 32000 bf16 1000000 spectral 0)
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "checkpoints/hf_checkpoint.h"
#include "checkpoints/prune.h"
#include "checkpoints/synthetic_checkpoint.h"
#include "proxy/checkpoint_scores.h"
#include "proxy/torch_runtime.h"

using namespace zerolm;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_maxrss) / 1024.0;  // kilobytes on Linux
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: prune_bench DIR [hidden layers intermediate heads kv_heads vocab "
                 "dtype(f16|bf16|f32) count]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const auto arg = [&](int i, long long fallback) {
    return argc > i ? std::atoll(argv[i]) : fallback;
  };
  const std::int64_t hidden = arg(2, 2048), layers = arg(3, 16), intermediate = arg(4, 5504),
                     heads = arg(5, 16), kv_heads = arg(6, 16), vocab = arg(7, 32000);
  const std::string dtype = argc > 8 ? argv[8] : "bf16";
  const std::int64_t count = arg(9, 1000000);
  try {
    if (!std::filesystem::exists(dir + "/config.json")) {
      SyntheticOptions o;
      o.dtype = dtype == "f16" ? Dtype::F16 : dtype == "f32" ? Dtype::F32 : Dtype::BF16;
      const auto t = std::chrono::steady_clock::now();
      write_synthetic_checkpoint(
          dir,
          make_checkpoint_config(CheckpointFamily::Llama, hidden, intermediate, heads, kv_heads,
                                 layers, vocab, false),
          o);
      std::printf("wrote %s in %.1f s\n", dir.c_str(), seconds_since(t));
    }
    const HfCheckpoint ck = HfCheckpoint::open(dir);
    const CheckpointConfig& c = ck.config();
    std::printf(
        "checkpoint: llama hidden %lld, %lld layers, intermediate %lld, %lld heads, %lld "
        "kv heads, vocab %lld, %s, %.3f B parameters\n",
        (long long)c.hidden, (long long)c.layers, (long long)c.intermediate, (long long)c.heads,
        (long long)c.kv_heads, (long long)c.vocab, dtype_name(ck.dtypes().front()).c_str(),
        double(ck.num_params()) / 1e9);

    auto t = std::chrono::steady_clock::now();
    const PruneSpace space(ck);
    const double prep = seconds_since(t);
    std::printf("preparation (importance order, prefix sums): %.2f s; %s\n", prep,
                space.describe().c_str());
    std::printf("space: %.3g sub-networks\n", space.count());

    // Draw the sub-networks first so that only scoring is timed.
    Rng rng(1);
    const std::size_t distinct = 4096;
    std::vector<PruneChoice> choices;
    for (std::size_t i = 0; i < distinct; ++i) choices.push_back(space.sample(rng));
    double sink = 0;
    t = std::chrono::steady_clock::now();
    for (std::int64_t i = 0; i < count; ++i) {
      const PruneChoice& ch = choices[std::size_t(i) % distinct];
      sink += prune_msv(space, ch).zerolm(0.75) + double(space.params(ch)) * 1e-12 +
              kept_norm(space, ch);
    }
    const double scoring = seconds_since(t);
    std::printf(
        "scored %lld sub-networks (msv ZeroLM + kept params + kept norm) in %.3f s on "
        "one core: %.0f sub-networks/s (%.2f us each; checksum %.6g)\n",
        (long long)count, scoring, double(count) / scoring, scoring / double(count) * 1e6, sink);
    t = std::chrono::steady_clock::now();
    const std::int64_t samples = count / 10;
    for (std::int64_t i = 0; i < samples; ++i)
      sink += prune_msv(space, space.sample(rng)).zerolm(0.75);
    const double with_sampling = seconds_since(t);
    std::printf("sample + score: %.0f sub-networks/s (checksum %.6g)\n",
                double(samples) / with_sampling, sink);
    const std::string stat_name = argc > 10 ? argv[10] : "spectral";
    if (stat_name != "none") {
      const CapacityStat stat = parse_capacity(stat_name);
      const int table_layers = argc > 11 && std::atoi(argv[11]) > 0
                                   ? std::min(std::atoi(argv[11]), space.layers())
                                   : space.layers();
      set_torch_threads(1);
      t = std::chrono::steady_clock::now();
      const CapacityTable table =
          capacity_table(ck, space, stat, 0, table_layers, "cpu", [&](int done) {
            std::fprintf(stderr, "  %s table: %d of %d layers, %.1f s\n", stat_name.c_str(), done,
                         table_layers, seconds_since(t));
          });
      const double table_s = seconds_since(t);
      std::printf(
          "%s table of %d layers (%zu + %zu slices a layer): %.1f s on one thread (%.2f s "
          "a layer)\n",
          stat_name.c_str(), table_layers, (ck.gated() ? 3 : 2) * space.ffn_grid(0).size(),
          4 * space.kv_grid(0).size(), table_s, table_s / table_layers);
      if (table_layers == space.layers()) {
        t = std::chrono::steady_clock::now();
        for (std::int64_t i = 0; i < count; ++i)
          sink += table_capacities(space, table, choices[std::size_t(i) % distinct]).zerolm(0.75);
        const double s_table = seconds_since(t);
        std::printf(
            "scored %lld sub-networks from the %s table in %.3f s on one core: %.0f "
            "sub-networks/s (checksum %.6g)\n",
            (long long)count, stat_name.c_str(), s_table, double(count) / s_table, sink);
      }
    }
    std::printf("peak resident memory: %.0f MiB (mapped checkpoint pages included)\n",
                peak_rss_mib());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prune_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
