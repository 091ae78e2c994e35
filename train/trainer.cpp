#include "train/trainer.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <chrono>
#include <cmath>

#include "checkpoints/checkpoint_model.h"
#include "spaces/family.h"
#include "spaces/model.h"
#include "train/autocast.h"

namespace zerolm {

namespace {

// A batch of masked windows starting at `starts`.
std::pair<torch::Tensor, torch::Tensor> make_batch(const std::vector<std::int64_t>& tokens,
                                                   const std::vector<std::size_t>& starts,
                                                   std::int64_t seq, Rng& rng,
                                                   const Vocabulary& vocab) {
  std::vector<std::int64_t> ids, labels, all_ids, all_labels;
  for (std::size_t s : starts) {
    ids.assign(tokens.begin() + std::ptrdiff_t(s),
               tokens.begin() + std::ptrdiff_t(s + std::size_t(seq)));
    mask_tokens(ids, labels, rng, 0.15, vocab);
    all_ids.insert(all_ids.end(), ids.begin(), ids.end());
    all_labels.insert(all_labels.end(), labels.begin(), labels.end());
  }
  const auto B = std::int64_t(starts.size());
  return {torch::tensor(all_ids, torch::kLong).view({B, seq}),
          torch::tensor(all_labels, torch::kLong).view({B, seq})};
}

// Masked LM for encoders; causal LM (each position predicts the next token) for decoders, which
// then see the windows unmasked. The loss is taken in float32 whatever the forward's precision.
torch::Tensor mlm_loss(TorchModel& m, const torch::Tensor& ids, const torch::Tensor& labels,
                       bool bf16) {
  torch::Tensor logits, target;
  {
    Autocast autocast(m.device().type(), bf16);
    if (m.plan().family->causal()) {
      const auto T = ids.size(1);
      const auto original = torch::where(labels != -100, labels, ids);
      logits = m.forward(original.narrow(1, 0, T - 1));
      target = original.narrow(1, 1, T - 1);
    } else {
      logits = m.forward(ids);
      target = labels;
    }
  }
  return torch::nn::functional::cross_entropy(
      logits.to(torch::kFloat32).reshape({-1, logits.size(-1)}),
      target.to(logits.device()).reshape({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
}

}  // namespace

std::string resolve_precision(const std::string& precision, const std::string& device) {
  if (precision == "fp32" || precision == "bf16") return precision;
  if (precision == "auto") return resolve_device(device).is_cuda() ? "bf16" : "fp32";
  throw InputError("unknown precision \"" + precision + "\": expected fp32, bf16 or auto");
}

namespace {

// Validation: evenly spaced windows of the held-out split, masked identically for every model
// (and every call).
double validation_loss(TorchModel& m, const Corpus& corpus, const TrainOptions& o, bool bf16) {
  torch::NoGradGuard no_grad;
  Rng valid_rng(derive_seed(o.seed, fnv1a("valid-masks")));
  const std::size_t vspan = corpus.valid.size() - std::size_t(o.seq);
  double total = 0, count = 0;
  for (int b = 0; b < o.eval_batches; ++b) {
    std::vector<std::size_t> starts;
    for (std::int64_t k = 0; k < o.batch; ++k)
      starts.push_back(vspan * std::size_t(b * o.batch + k) /
                       std::size_t(o.eval_batches * o.batch));
    auto [ids, labels] = make_batch(corpus.valid, starts, o.seq, valid_rng, corpus.vocab);
    const double n = m.plan().family->causal()
                         ? double(ids.numel() - ids.size(0))
                         : double((labels != -100).sum().item<std::int64_t>());
    if (n == 0) continue;
    total += mlm_loss(m, ids, labels, bf16).item<double>() * n;
    count += n;
  }
  return count > 0 ? total / count : std::nan("");
}

TrainResult train_model(TorchModel& m, const Corpus& corpus, const TrainOptions& o, bool bf16,
                        const std::function<bool()>& keep_going,
                        std::chrono::steady_clock::time_point t0);

}  // namespace

TrainResult train_masked_lm(const Arch& arch, Profile profile, const InitSpec& init,
                            const Corpus& corpus, const TrainOptions& o,
                            const std::function<bool()>& keep_going, const std::string& save_dir) {
  const auto t0 = std::chrono::steady_clock::now();
  const torch::Device device = resolve_device(o.device);
  const std::string enc = encode(arch);
  const bool bf16 = resolve_precision(o.precision, o.device) == "bf16";
  const ModelPlan plan = make_plan(arch, profile, true, corpus.vocab.size);
  if (o.seq > plan.max_positions)
    throw InputError("sequence length " + std::to_string(o.seq) + " exceeds the " +
                     std::to_string(plan.max_positions) + " positions of " + encode(arch));
  TorchModel m(plan, device, init, derive_seed(o.seed, fnv1a(enc)));
  // Refused before training rather than after it.
  if (!save_dir.empty()) model_checkpoint_config(plan, Dtype::F32);
  TrainResult r = train_model(m, corpus, o, bf16, keep_going, t0);
  if (!save_dir.empty()) save_checkpoint(m, save_dir, Dtype::F32);
  return r;
}

CheckpointSummary summarize_checkpoint(const std::string& dir) {
  const HfCheckpoint ck = HfCheckpoint::open(dir);
  const CheckpointArch a = checkpoint_arch(ck.config(), ck.num_params());
  return {a.encoding, a.params};
}

TrainResult train_checkpoint(const std::string& dir, const Corpus& corpus, const TrainOptions& o,
                             const std::function<bool()>& keep_going, const std::string& save_dir) {
  const auto t0 = std::chrono::steady_clock::now();
  const torch::Device device = resolve_device(o.device);
  const bool bf16 = resolve_precision(o.precision, o.device) == "bf16";
  const HfCheckpoint ck = HfCheckpoint::open(dir);
  const ModelPlan plan = checkpoint_plan(ck.config());
  if (!plan.family->causal()) throw InputError(dir + ": not a causal language model");
  if (corpus.vocab.size > plan.vocab)
    throw InputError(dir + ": vocabulary of " + std::to_string(plan.vocab) + " tokens, but the " +
                     corpus.tokenizer + " tokenizer's ids go up to " +
                     std::to_string(corpus.vocab.size - 1) +
                     " (expected a checkpoint trained with this tokenizer)");
  if (o.seq > plan.max_positions)
    throw InputError("sequence length " + std::to_string(o.seq) + " exceeds the " +
                     std::to_string(plan.max_positions) + " positions of " + dir);
  TorchModel m(plan, device, InitSpec{}, 0);
  load_checkpoint_weights(m, ck);
  const double before = validation_loss(m, corpus, o, bf16);
  TrainResult r = train_model(m, corpus, o, bf16, keep_going, t0);
  r.valid_loss_before = before;
  if (!save_dir.empty()) {
    save_checkpoint(m, save_dir, Dtype::F32, &ck.config());
    copy_tokenizer_files(dir, save_dir);
  }
  return r;
}

namespace {

TrainResult train_model(TorchModel& m, const Corpus& corpus, const TrainOptions& o, bool bf16,
                        const std::function<bool()>& keep_going,
                        std::chrono::steady_clock::time_point t0) {
  m.set_requires_grad(true);
  auto params = m.parameters();
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  const auto warm = std::max<std::int64_t>(1, std::int64_t(double(o.steps) * o.warmup));

  Rng batches(derive_seed(o.seed, fnv1a("train-batches")));
  const std::size_t span = corpus.train.size() - std::size_t(o.seq);
  std::vector<double> losses;
  TrainResult r;
  r.device = m.device().str();
  r.precision = bf16 ? "bf16" : "fp32";
  for (std::int64_t step = 0; step < o.steps && keep_going(); ++step) {
    // Warm-up to lr, then linear decay to 0.
    const double lr = step < warm ? o.lr * double(step + 1) / double(warm)
                                  : o.lr * double(o.steps - step) /
                                        double(std::max<std::int64_t>(1, o.steps - warm));
    for (auto& g : opt.param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
    std::vector<std::size_t> starts;
    for (std::int64_t b = 0; b < o.batch; ++b) starts.push_back(std::size_t(batches.below(span)));
    auto [ids, labels] = make_batch(corpus.train, starts, o.seq, batches, corpus.vocab);
    opt.zero_grad();
    auto loss = mlm_loss(m, ids, labels, bf16);
    loss.backward();
    torch::nn::utils::clip_grad_norm_(params, o.clip);
    opt.step();
    losses.push_back(loss.item<double>());
    r.tokens += o.batch * o.seq;
  }
  r.steps = std::int64_t(losses.size());
  if (!losses.empty()) {
    const std::size_t tenth = std::max<std::size_t>(1, losses.size() / 10);
    for (std::size_t i = 0; i < tenth; ++i) {
      r.first_loss += losses[i] / double(tenth);
      r.train_loss += losses[losses.size() - 1 - i] / double(tenth);
    }
  }
  r.valid_loss = validation_loss(m, corpus, o, bf16);
  r.perplexity = std::exp(r.valid_loss);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The model leaves training as weights only (a later save or forward needs no graph).
  m.set_requires_grad(false);
  return r;
}

}  // namespace

}  // namespace zerolm
