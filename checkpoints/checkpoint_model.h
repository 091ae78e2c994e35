// A Hugging Face checkpoint (checkpoints/hf_checkpoint.h) as our LibTorch model and back: the model
// of its architecture (checkpoint_arch: llama or gpt, pruned layers included) with the checkpoint's
// weights, converted to float32, and a model written out as a checkpoint. Tensor names: ours
// (spaces/families/llama.cpp, gpt2_plan.cpp) <-> Hugging Face's; GPT-2's Conv1D weights are
// transposed and c_attn split into (or joined from) query, key and value.
#pragma once

#include <string>

#include "checkpoints/hf_checkpoint.h"
#include "spaces/model.h"

namespace zerolm {

// The plan of a checkpoint's model: checkpoint_arch(config)'s architecture with the checkpoint's
// vocabulary, rotary base and scaling, and positions). InputError when our families cannot hold it
// exactly: LLaMA with attention or MLP biases; GPT-2 with an untied head or n_positions other
// than our 1024; a config field whose effect is not computed here (CheckpointConfig::not_computed).
ModelPlan checkpoint_plan(const CheckpointConfig& config);

// Copies every weight of `ck` into `m`, which must have been built from checkpoint_plan(ck's
// config) (std::invalid_argument otherwise). A tied LLaMA head is copied from the embedding (our
// llama model's head is its own tensor).
void load_checkpoint_weights(TorchModel& m, const HfCheckpoint& ck);

// The checkpoint config of a model of the llama or gpt family (per-layer widths in per_layer when
// the layers differ; torch_dtype from `dtype`). InputError for another family.
CheckpointConfig model_checkpoint_config(const ModelPlan& plan, Dtype dtype);

// Writes `m` as a Hugging Face checkpoint in `dir` (config.json + model.safetensors, in dtype F32,
// F16 or BF16), through a temporary folder renamed into place; HfCheckpoint::open(dir) reads it
// back and load_checkpoint_weights of it gives `m`'s tensors (exactly, in F32). InputError when
// `dir` exists (unless empty), for another dtype or family. `source`, when given, is the config
// of the checkpoint `m` was read from: its carried fields (bos_token_id, rope_scaling, ...) are
// written again.
void save_checkpoint(TorchModel& m, const std::string& dir, Dtype dtype,
                     const CheckpointConfig* source = nullptr);

}  // namespace zerolm
