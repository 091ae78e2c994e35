// `--space prune --checkpoint DIR`: the sub-networks of a Hugging Face checkpoint as a search space
// like any other (checkpoints/prune.h chooses them, proxy/checkpoint_scores.h scores them; this
// makes them Archs): every rank opens the checkpoint (memory-mapped, so ranks on a node share the
// page cache), builds the pruning space once (the preparation pass) and registers it under the name
// "prune". LibTorch-free.
//
// As an Arch, a sub-network has one Layer per checkpoint layer: heads and kv_heads are the kept
// query and key/value heads, ff_dim the kept feed-forward channels, hidden the checkpoint's width;
// a dropped layer has all three 0. Its plan (spaces/plan.h) is the pruned model's tensors, so
// count_params is exactly what a written pruned checkpoint holds (embeddings, head when untied).
#pragma once

#include <memory>
#include <string>

#include "checkpoints/hf_checkpoint.h"
#include "checkpoints/prune.h"
#include "spaces/space.h"

namespace zerolm {

class CheckpointSpace : public Space {
 public:
  // Opens DIR (HfCheckpoint::open: InputError for anything malformed) and prepares the space
  // with `options` (the grid's fractions, uniform, the importance order).
  static std::unique_ptr<CheckpointSpace> open(const std::string& dir,
                                               const PruneGridOptions& options = {});

  double count() const override;
  double count_with_depth(int depth) const override;
  Arch sample(Rng& rng) const override;
  Arch sample_at_depth(Rng& rng, int depth) const override;
  Arch mutate(const Arch& arch, Rng& rng) const override;
  void validate(const Arch& arch, std::string_view input) const override;
  void admit(const Arch& arch, std::string_view input) const override { validate(arch, input); }
  Arch parse(std::string_view encoding) const override;

  const HfCheckpoint& checkpoint() const { return *checkpoint_; }
  const PruneSpace& prune() const { return *prune_; }
  double preparation_seconds() const { return prep_seconds_; }
  PruneChoice choice(const Arch& arch) const;
  Arch arch(const PruneChoice& choice) const;
  // The tensors of the pruned model (spaces/plan.h), in the checkpoint's order.
  ModelPlan plan(const Arch& arch, bool with_names) const;

 private:
  CheckpointSpace(SpaceSpec spec, std::unique_ptr<HfCheckpoint> checkpoint,
                  const PruneGridOptions& options);
  std::unique_ptr<HfCheckpoint> checkpoint_;
  std::unique_ptr<PruneSpace> prune_;
  double prep_seconds_ = 0;
};

// The score a pruning search maximises by default: ZeroLM with the spectral capacity statistic,
// which ranks the sub-networks of a trained checkpoint best in docs/prune-experiment.md; the
// paper's msv ranks those of one budget backwards there.
DefaultScore prune_default_score();

// Opens DIR and registers its space as "prune" (register_runtime_space), unless the space of that
// directory is registered already with the same uniform and importance options. Returns it.
const CheckpointSpace& use_checkpoint_space(const std::string& dir,
                                            const PruneGridOptions& options = {});
// The space use_checkpoint_space registered last; std::logic_error when there is none.
const CheckpointSpace& registered_checkpoint_space();

}  // namespace zerolm
