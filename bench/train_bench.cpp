// Training throughput (tokens per second) of one architecture: masked-LM steps as zerolm finetune
// runs them. Usage: train_bench CORPUS [ENCODING] [STEPS=30] [DEVICE=cpu] [BATCH=8] [SEQ=128]
// [PRECISION=auto]
#include <cstdio>
#include <string>

#include "proxy/evaluator.h"
#include "proxy/torch_runtime.h"
#include "train/trainer.h"

using namespace zerolm;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS [ENCODING] [STEPS] [DEVICE] [BATCH] [SEQ] [PRECISION]\n",
                 argv[0]);
    return 2;
  }
  const std::string enc =
      argc > 2 ? argv[2]
               : "H256|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1|SA-SDP-h4-ff1024x1";
  TrainOptions o;
  o.steps = argc > 3 ? std::stoll(argv[3]) : 30;
  o.device = argc > 4 ? argv[4] : "cpu";
  o.batch = argc > 5 ? std::stoll(argv[5]) : 8;
  o.seq = argc > 6 ? std::stoll(argv[6]) : 128;
  o.precision = argc > 7 ? argv[7] : "auto";
  o.eval_batches = 1;
  set_torch_threads(1);
  const Corpus corpus = Corpus::read(argv[1], o.seq);
  // A short warm-up run first: allocator and kernel caches.
  TrainOptions warm = o;
  warm.steps = 2;
  train_masked_lm(parse_encoding(enc), Profile::Spec, InitSpec{}, corpus, warm);
  const TrainResult r = train_masked_lm(parse_encoding(enc), Profile::Spec, InitSpec{}, corpus, o);
  std::printf(
      "encoding=%s device=%s precision=%s steps=%lld batch=%lld seq=%lld tokens_per_s=%.0f "
      "valid_loss=%.4f\n",
      enc.c_str(), r.device.c_str(), r.precision.c_str(), static_cast<long long>(r.steps),
      static_cast<long long>(o.batch), static_cast<long long>(o.seq), double(r.tokens) / r.seconds,
      r.valid_loss);
  return 0;
}
