// `zerolm checkpoint DIR`: what a Hugging Face model directory holds, as zerolm reads it (family,
// architecture, shards, dtypes, parameters) and the encoding of its architecture in our families.
#include <cstdio>
#include <iostream>
#include <memory>
#include <sstream>

#include "checkpoints/hf_checkpoint.h"
#include "driver/commands.h"
#include "spaces/family.h"
#include "train/bpe.h"

namespace zerolm {

namespace {

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string number(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// --tokenize TEXT: the ids of the folder's own tokenizer, space-separated on one line.
int run_tokenize(const std::string& dir, const std::string& text) {
  const HfCheckpoint ck = HfCheckpoint::open(dir);
  const auto t = checkpoint_tokenizer(dir, ck.config().vocab);
  if (!t)
    throw InputError(dir +
                     ": no tokenizer (expected tokenizer.json, vocab.json with merges.txt, "
                     "or tokenizer.model)");
  std::string line;
  for (std::int64_t id : t->encode(text)) line += (line.empty() ? "" : " ") + std::to_string(id);
  std::cout << line << "\n" << std::flush;
  return 0;
}

int run_checkpoint(const std::string& dir) {
  const HfCheckpoint ck = HfCheckpoint::open(dir);
  const CheckpointConfig& c = ck.config();
  const bool llama = c.family == CheckpointFamily::Llama;
  std::ostringstream out;
  out << "checkpoint  " << dir << "\n";
  out << "family      " << checkpoint_family_name(c.family) << " (" << c.architecture << ")\n";
  out << "config      hidden " << c.hidden << ", intermediate " << c.intermediate << ", heads "
      << c.heads << ", kv heads " << c.kv_heads << ", head_dim " << c.head_dim << ", layers "
      << c.layers << ", vocab " << c.vocab << ", positions " << c.positions << ", tied "
      << (c.tied ? "yes" : "no") << ", " << (llama ? "rms_norm_eps " : "layer_norm_epsilon ")
      << number(c.eps);
  if (llama) out << ", rope_theta " << number(c.rope_theta);
  if (c.attention_bias) out << ", attention_bias";
  if (c.mlp_bias) out << ", mlp_bias";
  out << "\n";
  std::size_t stored = 0;
  for (const SafetensorsFile& s : ck.shards()) stored += s.tensors().size();
  out << "shards      " << ck.shards().size()
      << (ck.sharded() ? " (model.safetensors.index.json)" : "") << "\n";
  for (const SafetensorsFile& s : ck.shards())
    out << "  " << base_name(s.path()) << "  " << s.tensors().size() << " tensors, "
        << s.file_size() << " bytes\n";
  out << "tensors     " << stored << " (" << ck.weights().size() << " weights";
  if (!ck.ignored().empty()) out << ", " << ck.ignored().size() << " skipped: buffers or tied head";
  out << ")\n";
  std::string dtypes;
  for (Dtype d : ck.dtypes()) dtypes += (dtypes.empty() ? "" : ", ") + dtype_name(d);
  out << "dtype       " << dtypes
      << (c.torch_dtype.empty() ? "" : " (torch_dtype " + c.torch_dtype + ")") << "\n";
  out << "parameters  " << ck.num_params() << "\n";
  // A valid checkpoint our families cannot express is still described; only the encoding is
  // missing, with the reason.
  try {
    const CheckpointArch a = checkpoint_arch(c, ck.num_params());
    out << "encoding    " << a.encoding << "\n";
    out << "ours        " << a.arch.family->name() << " family, " << a.params << " parameters ("
        << (a.difference.empty() ? "equal" : a.difference) << ")\n";
  } catch (const InputError& e) {
    out << "encoding    none: " << e.what() << "\n";
  }
  std::cout << out.str() << std::flush;
  return 0;
}

}  // namespace

Runner add_checkpoint_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "checkpoint",
      "Describe a Hugging Face checkpoint (LLaMA or GPT-2, safetensors) as zerolm reads it");
  auto dir = std::make_shared<std::string>();
  cmd->add_option("DIR", *dir, "model directory: config.json and model.safetensors (or shards)")
      ->required();
  auto text = std::make_shared<std::string>();
  CLI::Option* tokenize = cmd->add_option(
      "--tokenize", *text,
      "print the ids the folder's own tokenizer gives TEXT, space-separated on one line");
  return [dir, text, tokenize] {
    return tokenize->count() ? run_tokenize(*dir, *text) : run_checkpoint(*dir);
  };
}

}  // namespace zerolm
