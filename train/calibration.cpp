#include "train/calibration.h"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <memory>

#include "checkpoints/checkpoint_model.h"
#include "spaces/errors.h"
#include "spaces/rng.h"
#include "train/bpe.h"
#include "train/corpus.h"
#include "train/tokenizer.h"

namespace zerolm {

namespace {

// Restores LibTorch's thread count on the way out.
struct OneThread {
  int before = at::get_num_threads();
  OneThread() { at::set_num_threads(1); }
  ~OneThread() { at::set_num_threads(before); }
};

// "layers.<L>.<rest>" -> (L, rest); (-1, "") for other names.
std::pair<int, std::string> layer_of(const std::string& name) {
  if (name.rfind("layers.", 0) != 0) return {-1, ""};
  const std::size_t dot = name.find('.', 7);
  if (dot == std::string::npos) return {-1, ""};
  return {std::stoi(name.substr(7, dot - 7)), name.substr(dot + 1)};
}

}  // namespace

CalibrationImportance activation_importance(const HfCheckpoint& ck,
                                            const std::vector<std::int64_t>& ids, std::int64_t seq,
                                            int max_sequences, const std::string& origin) {
  const CheckpointConfig& c = ck.config();
  const std::int64_t n = std::min<std::int64_t>(std::int64_t(ids.size()) / seq, max_sequences);
  if (n < 1)
    throw InputError(origin + ": " + std::to_string(ids.size()) +
                     " tokens, shorter than one calibration sequence of " + std::to_string(seq) +
                     " tokens");
  for (std::int64_t i = 0; i < n * seq; ++i)
    if (ids[std::size_t(i)] < 0 || ids[std::size_t(i)] >= c.vocab)
      throw InputError(origin + ": token id " + std::to_string(ids[std::size_t(i)]) +
                       " is outside the model's vocabulary of " + std::to_string(c.vocab));
  const OneThread one;
  torch::NoGradGuard no_grad;
  TorchModel m(checkpoint_plan(c), torch::kCPU, InitSpec{}, 0);
  load_checkpoint_weights(m, ck);
  const ModelPlan& plan = m.plan();
  const std::size_t L = plan.layers.size();
  const bool llama = c.family == CheckpointFamily::Llama;
  const std::string down = llama ? "ffn.down" : "ffn.1";
  // Sums of squares over the calibration tokens, in double.
  std::vector<torch::Tensor> channel_sq(L), group_sq(L);
  m.observe_linears([&](const std::string& name, const torch::Tensor& x, const torch::Tensor& w) {
    const auto [l, part] = layer_of(name);
    if (l < 0) return;
    const LayerPlan& lp = plan.layers[std::size_t(l)];
    if (part == down) {
      const torch::Tensor sq = x.to(torch::kDouble).pow(2).sum(std::vector<std::int64_t>{0, 1});
      channel_sq[std::size_t(l)] =
          channel_sq[std::size_t(l)].defined() ? channel_sq[std::size_t(l)] + sq : sq;
    } else if (part == "attn.output") {
      const std::int64_t kv = lp.kv_heads > 0 ? lp.kv_heads : lp.heads;
      const std::int64_t width = lp.heads / kv * lp.head_dim;
      const torch::Tensor xd = x.to(torch::kDouble), wd = w.to(torch::kDouble);
      torch::Tensor sq = torch::zeros({kv}, torch::kDouble);
      for (std::int64_t g = 0; g < kv; ++g) {
        const torch::Tensor y =
            torch::matmul(xd.narrow(-1, g * width, width), wd.narrow(1, g * width, width).t());
        sq[g] = y.pow(2).sum();
      }
      group_sq[std::size_t(l)] =
          group_sq[std::size_t(l)].defined() ? group_sq[std::size_t(l)] + sq : sq;
    }
  });
  const std::int64_t batch = 8;
  for (std::int64_t first = 0; first < n; first += batch) {
    const std::int64_t b = std::min(batch, n - first);
    const torch::Tensor t =
        torch::tensor(
            std::vector<std::int64_t>(ids.begin() + first * seq, ids.begin() + (first + b) * seq))
            .view({b, seq});
    m.forward(t, false);
  }
  CalibrationImportance out;
  out.sequences = n;
  for (std::size_t l = 0; l < L; ++l) {
    const std::string p = "layers." + std::to_string(l) + ".";
    // Column norms of the down projection ([hidden, channels]).
    const torch::Tensor col =
        m.tensor(p + down + ".weight").to(torch::kDouble).pow(2).sum(0).sqrt();
    const torch::Tensor ch = (channel_sq[l].sqrt() * col).contiguous();
    const torch::Tensor gr = group_sq[l].sqrt().contiguous();
    out.channels.emplace_back(ch.data_ptr<double>(), ch.data_ptr<double>() + ch.numel());
    out.groups.emplace_back(gr.data_ptr<double>(), gr.data_ptr<double>() + gr.numel());
  }
  return out;
}

PruneGridOptions prune_grid_options(const std::string& dir, bool uniform,
                                    const std::string& importance, const std::string& calibration) {
  PruneGridOptions o;
  o.uniform = uniform;
  if (importance == "norm") {
    if (!calibration.empty())
      throw InputError("--calibration " + calibration +
                       ": only with --importance activation (norm is data-free)");
    return o;
  }
  if (importance != "activation")
    throw InputError("--importance " + quoted_input(importance, 40) +
                     ": expected norm or activation");
  if (calibration.empty())
    throw InputError(
        "--importance activation: expected --calibration FILE (text whose "
        "activations order the channels and groups)");
  const HfCheckpoint ck = HfCheckpoint::open(dir);
  const std::string text = Corpus::read_text(calibration);
  std::unique_ptr<Tokenizer> tok = checkpoint_tokenizer(dir, ck.config().vocab);
  if (!tok) tok = make_byte_tokenizer();
  const CalibrationImportance imp = activation_importance(ck, tok->encode(text), kCalibrationSeq,
                                                          kCalibrationSequences, calibration);
  o.ffn_importance = imp.channels;
  o.kv_importance = imp.groups;
  char hash[20];
  std::snprintf(hash, sizeof hash, "%016llx", static_cast<unsigned long long>(fnv1a(text)));
  o.importance = "activation over " + std::to_string(imp.sequences) + " sequences of " +
                 std::to_string(kCalibrationSeq) + " " + tok->name() + " tokens of " + calibration +
                 " (content " + hash + ")";
  return o;
}

}  // namespace zerolm
