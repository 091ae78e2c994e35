// Safetensors files and Hugging Face checkpoints (no LibTorch): the reference implementation's
// sample files, F16/BF16 bit patterns, the writer, synthetic LLaMA (GQA) and GPT-2 checkpoints
// through every accessor, and one clear error for every malformed file.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <limits>

#include <nlohmann/json.hpp>

#include "checkpoints/hf_checkpoint.h"
#include "checkpoints/hf_config.h"
#include "checkpoints/safetensors.h"
#include "checkpoints/synthetic_checkpoint.h"
#include "spaces/family.h"
#include "spaces/space.h"
#include "tests/testing.h"

namespace zerolm {
namespace {

namespace fs = std::filesystem;
using testing::expect_input_error;
using testing::TempDir;

std::string sample(const std::string& file) {
  return std::string(ZEROLM_SHARED_DIR) + "/fixtures/safetensors/" + file;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// A safetensors file from a header's text and the data section; `length` overrides the header
// length field (default: the header's size).
std::string safetensors_bytes(const std::string& header, const std::string& data,
                              std::uint64_t length = std::numeric_limits<std::uint64_t>::max()) {
  if (length == std::numeric_limits<std::uint64_t>::max()) length = header.size();
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[std::size_t(i)] = char((length >> (8 * i)) & 0xff);
  return out + header + data;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// ---- The reference implementation's sample files ----

struct Sample {
  const char* file;
  const char* name;
  Dtype dtype;
  double values[6];
};
const Sample kSamples[] = {
    {"B.safetensors", "B", Dtype::U8, {253, 254, 255, 0, 1, 2}},
    {"H.safetensors", "H", Dtype::U16, {65533, 65534, 65535, 0, 1, 2}},
    {"I.safetensors", "I", Dtype::U32, {4294967293.0, 4294967294.0, 4294967295.0, 0, 1, 2}},
    {"b.safetensors", "b", Dtype::I8, {-3, -2, -1, 0, 1, 2}},
    {"h.safetensors", "h", Dtype::I16, {-3, -2, -1, 0, 1, 2}},
    {"i.safetensors", "i", Dtype::I32, {-3, -2, -1, 0, 1, 2}},
    {"e.safetensors", "e", Dtype::F16, {-3, -2, -1, 0, 1, 2}},
    {"f.safetensors", "f", Dtype::F32, {-3, -2, -1, 0, 1, 2}},
    {"d.safetensors", "d", Dtype::F64, {-3, -2, -1, 0, 1, 2}},
};

void expect_sample(const TensorView& t, const Sample& s) {
  EXPECT_EQ(t.name, s.name);
  EXPECT_EQ(t.dtype, s.dtype) << s.name;
  EXPECT_EQ(t.shape, std::vector<std::int64_t>{6});
  EXPECT_EQ(t.bytes, 6 * dtype_size(s.dtype));
  const std::vector<double> v = t.to_doubles();
  ASSERT_EQ(v.size(), 6u);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(v[std::size_t(i)], s.values[i]) << s.name << "[" << i << "]";
  float f[6];
  t.to_float(0, 6, f);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(f[i], float(s.values[i])) << s.name << "[" << i << "]";
}

TEST(Safetensors, OfficialSamplesReadWithTheirDtypesAndValues) {
  for (const Sample& s : kSamples) {
    const SafetensorsFile f = SafetensorsFile::open(sample(s.file));
    ASSERT_EQ(f.tensors().size(), 1u) << s.file;
    EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"test", "a"}})) << s.file;
    expect_sample(f.get(s.name), s);
    EXPECT_EQ(f.data_size(), 6 * dtype_size(s.dtype));
  }
}

TEST(Safetensors, OverallSampleHoldsAllNineInOffsetOrder) {
  const SafetensorsFile f = SafetensorsFile::open(sample("overall.safetensors"));
  ASSERT_EQ(f.tensors().size(), 9u);
  std::string order;
  for (const TensorView& t : f.tensors()) order += t.name;
  EXPECT_EQ(order, "BHIbdefhi");  // the data section's order
  for (const Sample& s : kSamples) expect_sample(f.get(s.name), s);
  EXPECT_EQ(f.find("x"), nullptr);
  expect_input_error([&] { f.get("x"); }, {"overall.safetensors: tensor x: not in the file"});
  // Raw bytes of the unsigned sample: -3 wraps to 253.
  EXPECT_EQ(f.get("B").data[0], 253);
  EXPECT_EQ(f.get("B").offset, 0u);
  EXPECT_EQ(f.get("i").offset, 144u);
}

// ---- F16 and BF16, bit for bit ----

std::uint32_t bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

TEST(Safetensors, Bf16KnownBitPatterns) {
  EXPECT_EQ(float_to_bf16(1.0f), 0x3F80);
  EXPECT_EQ(float_to_bf16(-2.0f), 0xC000);
  EXPECT_EQ(float_to_bf16(-0.0f), 0x8000);
  EXPECT_EQ(float_to_bf16(0.0f), 0x0000);
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(float_to_bf16(-std::numeric_limits<float>::infinity()), 0xFF80);
  EXPECT_EQ(float_to_bf16(3.14159265f), 0x4049);  // 0x40490FDB: lower half below the midpoint
  // Ties go to even: 1 + 2^-8 is halfway between 0x3F80 and 0x3F81.
  EXPECT_EQ(float_to_bf16(1.0f + std::ldexp(1.0f, -8)), 0x3F80);
  EXPECT_EQ(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)), 0x3F82);
  EXPECT_EQ(float_to_bf16(std::numeric_limits<float>::max()), 0x7F80);  // rounds up to inf
  const std::uint16_t nan = float_to_bf16(std::numeric_limits<float>::quiet_NaN());
  EXPECT_TRUE(std::isnan(bf16_to_float(nan)));
  EXPECT_EQ(bits(bf16_to_float(0x3F80)), 0x3F800000u);
  EXPECT_EQ(bits(bf16_to_float(0x8000)), 0x80000000u);
  // Every bfloat16 is a float: to float and back is the identity (NaNs stay NaN).
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = bf16_to_float(std::uint16_t(h));
    EXPECT_EQ(bits(f), h << 16);
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(f))));
    } else {
      EXPECT_EQ(float_to_bf16(f), h) << std::hex << h;
    }
  }
}

// The value of a half from its fields, by the IEEE formula.
double half_value(std::uint16_t h) {
  const int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  const double v =
      exp == 0 ? std::ldexp(double(mant), -24) : std::ldexp(1.0 + double(mant) / 1024.0, exp - 15);
  return sign ? -v : v;
}

TEST(Safetensors, F16KnownBitPatterns) {
  EXPECT_EQ(float_to_f16(1.0f), 0x3C00);
  EXPECT_EQ(float_to_f16(-2.0f), 0xC000);
  EXPECT_EQ(float_to_f16(-0.0f), 0x8000);
  EXPECT_EQ(float_to_f16(65504.0f), 0x7BFF);  // the largest half
  EXPECT_EQ(float_to_f16(65519.0f), 0x7BFF);  // below the midpoint to inf
  EXPECT_EQ(float_to_f16(65520.0f), 0x7C00);  // the midpoint rounds to inf
  EXPECT_EQ(float_to_f16(1e10f), 0x7C00);     // overflow
  EXPECT_EQ(float_to_f16(-std::numeric_limits<float>::infinity()), 0xFC00);
  EXPECT_EQ(float_to_f16(std::ldexp(1.0f, -24)), 0x0001);         // the smallest subnormal
  EXPECT_EQ(float_to_f16(std::ldexp(1.0f, -25)), 0x0000);         // a tie: to even (zero)
  EXPECT_EQ(float_to_f16(std::ldexp(1.5f, -25)), 0x0001);         // above the tie
  EXPECT_EQ(float_to_f16(std::ldexp(3.0f, -25)), 0x0002);         // 1.5 ulp: tie to even (2)
  EXPECT_EQ(float_to_f16(std::ldexp(1023.0f, -24)), 0x03FF);      // the largest subnormal
  EXPECT_EQ(float_to_f16(std::ldexp(2047.0f, -25)), 0x0400);      // rounds up into the normals
  EXPECT_EQ(float_to_f16(std::ldexp(1.0f, -14)), 0x0400);         // the smallest normal
  EXPECT_EQ(float_to_f16(-std::ldexp(5.0f, -24)), 0x8005);        // a negative subnormal
  EXPECT_EQ(float_to_f16(1.0f + std::ldexp(1.0f, -11)), 0x3C00);  // tie to even
  EXPECT_EQ(float_to_f16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3C02);
  EXPECT_EQ(float_to_f16(std::ldexp(1.0f, -40)), 0x0000);
  EXPECT_TRUE(std::isnan(f16_to_float(float_to_f16(std::numeric_limits<float>::quiet_NaN()))));
  EXPECT_EQ(f16_to_float(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(bits(f16_to_float(0x8000)), 0x80000000u);
  EXPECT_EQ(f16_to_float(0x7C00), std::numeric_limits<float>::infinity());
  // Every half: its IEEE value exactly, and back to the same bits.
  for (std::uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_float(std::uint16_t(h));
    if (((h >> 10) & 0x1f) == 0x1f) {
      EXPECT_EQ(std::isnan(f), (h & 0x3ff) != 0) << std::hex << h;
      if (!std::isnan(f)) {
        EXPECT_EQ(float_to_f16(f), h);
      }
      continue;
    }
    EXPECT_EQ(double(f), half_value(std::uint16_t(h))) << std::hex << h;
    EXPECT_EQ(float_to_f16(f), h) << std::hex << h;
  }
}

TEST(Safetensors, F16AndBf16WrittenAndReadBitForBit) {
  TempDir tmp;
  const std::vector<float> v = {
      1.0f,     -0.0f,      std::ldexp(1.0f, -24), -2.5f, std::numeric_limits<float>::infinity(),
      65504.0f, 3.14159265f};
  const std::vector<std::uint16_t> half = {0x3C00, 0x8000, 0x0001, 0xC100, 0x7C00, 0x7BFF, 0x4248};
  const std::vector<std::uint16_t> bf = {0x3F80, 0x8000, 0x3380, 0xC020, 0x7F80, 0x4780, 0x4049};
  const std::int64_t n = std::int64_t(v.size());
  write_safetensors(tmp / "x.safetensors",
                    {{"h", Dtype::F16, {n}, v.data()}, {"b", Dtype::BF16, {n}, v.data()}});
  const SafetensorsFile f = SafetensorsFile::open(tmp / "x.safetensors");
  for (const auto& [name, want] : {std::pair{"h", half}, std::pair{"b", bf}}) {
    const TensorView& t = f.get(name);
    ASSERT_EQ(t.bytes, 2 * v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      std::uint16_t stored;
      std::memcpy(&stored, t.data + 2 * i, 2);
      EXPECT_EQ(stored, want[i]) << name << "[" << i << "]";
      EXPECT_EQ(bits(float(t.at(std::int64_t(i)))),
                bits(name == std::string("h") ? f16_to_float(want[i]) : bf16_to_float(want[i])));
    }
  }
  EXPECT_EQ(bits(float(f.get("h").at(1))), 0x80000000u);  // negative zero survives
  EXPECT_EQ(f.get("h").at(2), std::ldexp(1.0, -24));      // the subnormal, exactly
}

// ---- The writer ----

TEST(Safetensors, WriterRoundTrip) {
  TempDir tmp;
  std::vector<float> a(3 * 5);
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = float(i) * 0.25f - 1.0f;
  const unsigned char raw[4] = {1, 0, 1, 1};
  const float scalar = 7.5f;
  TensorToWrite gen{"gen", Dtype::BF16, {2, 3, 4}};
  gen.generate = [](std::int64_t first, std::int64_t count, float* out) {
    for (std::int64_t i = 0; i < count; ++i) out[i] = float(first + i) / 8.0f;
  };
  TensorToWrite flags{"flags", Dtype::BOOL, {4}};
  flags.raw = raw;
  TensorToWrite s{"scalar", Dtype::F32, {}};
  s.raw = &scalar;
  const std::string path = tmp / "w.safetensors";
  write_safetensors(
      path,
      {{"a", Dtype::F32, {3, 5}, a.data()}, gen, flags, s, {"empty", Dtype::F16, {0, 4}, a.data()}},
      {{"format", "pt"}, {"note", "round trip"}});
  EXPECT_FALSE(fs::exists(path + ".tmp." + std::to_string(::getpid())));
  const SafetensorsFile f = SafetensorsFile::open(path);
  EXPECT_EQ((8 + f.header_size()) % 8, 0u);  // the data section is 8-byte aligned
  const std::string bytes = read_bytes(path);
  EXPECT_EQ(bytes[8], '{');
  EXPECT_EQ(f.metadata(),
            (std::map<std::string, std::string>{{"format", "pt"}, {"note", "round trip"}}));
  ASSERT_EQ(f.tensors().size(), 5u);
  EXPECT_EQ(f.data_size(), 15 * 4 + 24 * 2 + 4 + 4 + 0u);
  const TensorView& ta = f.get("a");
  EXPECT_EQ(ta.shape, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(ta.row(2), (std::vector<double>{1.5, 1.75, 2.0, 2.25, 2.5}));
  EXPECT_EQ(ta.column(1), (std::vector<double>{-0.75, 0.5, 1.75}));
  EXPECT_EQ(ta.at(14), 2.5);
  const TensorView& tg = f.get("gen");
  EXPECT_EQ(tg.dtype, Dtype::BF16);
  for (int i = 0; i < 24; ++i) EXPECT_EQ(tg.at(i), i / 8.0);  // exact in bf16
  double strided[3];
  tg.gather(1, 3, 8, strided);  // elements 1, 9, 17
  EXPECT_EQ(strided[0], 1 / 8.0);
  EXPECT_EQ(strided[2], 17 / 8.0);
  EXPECT_EQ(f.get("flags").to_doubles(), (std::vector<double>{1, 0, 1, 1}));
  EXPECT_EQ(f.get("scalar").shape.size(), 0u);
  EXPECT_EQ(f.get("scalar").at(0), 7.5);
  EXPECT_EQ(f.get("empty").numel(), 0);
  EXPECT_THROW(ta.at(15), std::out_of_range);
  // The writer refuses what it cannot write, before creating anything.
  expect_input_error(
      [&] {
        write_safetensors(tmp / "bad.safetensors", {{"a", Dtype::I32, {2}, a.data()}});
      },
      {"bad.safetensors: tensor a: dtype I32"});
  expect_input_error(
      [&] {
        write_safetensors(tmp / "bad.safetensors",
                          {{"a", Dtype::F32, {2}, a.data()}, {"a", Dtype::F32, {2}, a.data()}});
      },
      {"bad.safetensors: tensor a: the name is used twice"});
  EXPECT_FALSE(fs::exists(tmp / "bad.safetensors"));
}

// ---- Malformed files: one line naming the file and the tensor ----

TEST(Safetensors, MalformedFilesNameTheFileAndTheTensor) {
  TempDir tmp;
  const auto bad = [&](const std::string& name, const std::string& bytes,
                       const std::vector<std::string>& parts) {
    const std::string path = tmp / name;
    write_bytes(path, bytes);
    std::vector<std::string> want = {path + ": "};
    want.insert(want.end(), parts.begin(), parts.end());
    SCOPED_TRACE(name);
    expect_input_error([&] { SafetensorsFile::open(path); }, want);
  };
  const std::string f16 = std::string(16, '\0');
  bad("short.safetensors", "abc", {"3 bytes: too short"});
  bad("long_header.safetensors",
      safetensors_bytes(R"({"x":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", f16, 1000),
      {"header length 1000 is longer than the file (", "truncated file"});
  bad("not_json.safetensors", safetensors_bytes(R"({"x":{"dtype":"F32",)", f16),
      {"header is not valid JSON"});
  bad("array.safetensors", safetensors_bytes("[1, 2]", ""), {"header is array JSON"});
  bad("f8.safetensors",
      safetensors_bytes(R"({"w.weight":{"dtype":"F8_E4M3","shape":[16],"data_offsets":[0,16]}})",
                        f16),
      {"tensor w.weight: dtype F8_E4M3 is a dtype we do not read (expected one of BOOL,"});
  bad("outside.safetensors",
      safetensors_bytes(
          R"({"model.layers.0.mlp.up_proj.weight":{"dtype":"F32","shape":[100],"data_offsets":[0,400]}})",
          f16),
      {"tensor model.layers.0.mlp.up_proj.weight: data offsets [0, 400] end past the file's "
       "data section (16 bytes): truncated file?"});
  bad("mismatch.safetensors",
      safetensors_bytes(R"({"x":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}})", f16),
      {"tensor x: data offsets [0, 16] hold 16 bytes, shape [3] of F32 needs 12"});
  bad("backwards.safetensors",
      safetensors_bytes(R"({"x":{"dtype":"F32","shape":[0],"data_offsets":[16,8]}})", f16),
      {"tensor x: data offsets [16, 8] end before they begin"});
  bad("overlap.safetensors",
      safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                        R"("b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
                        f16),
      {"tensor b: data offsets [8, 16] overlap tensor a's [0, 16]"});
  bad("hole.safetensors",
      safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                        R"("b":{"dtype":"F32","shape":[1],"data_offsets":[12,16]}})",
                        f16),
      {"tensor b: data offsets [12, 16] leave a hole of 4 bytes after tensor a"});
  bad("trailing.safetensors",
      safetensors_bytes(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", f16),
      {"8 bytes after the last tensor (a) belong to no tensor"});
  bad("no_dtype.safetensors", safetensors_bytes(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", f16),
      {"tensor a: expected a \"dtype\" string"});
  bad("neg_shape.safetensors",
      safetensors_bytes(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f16),
      {"tensor a: shape: expected a non-negative integer, got -2"});
  bad("bad_meta.safetensors",
      safetensors_bytes(
          R"({"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", f16),
      {"__metadata__: value of \"k\": expected a string"});
  bad("offsets.safetensors",
      safetensors_bytes(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0]}})", f16),
      {"tensor a: expected \"data_offsets\": [begin, end]"});

  // A truncated file: a good file cut short names the first tensor past the end.
  std::vector<float> v(64, 0.5f);
  const std::string good = tmp / "good.safetensors";
  write_safetensors(
      good, {{"first", Dtype::F32, {32}, v.data()}, {"second", Dtype::F32, {32}, v.data()}});
  std::string bytes = read_bytes(good);
  bad("truncated.safetensors", bytes.substr(0, bytes.size() - 10),
      {"tensor second: data offsets [128, 256] end past the file's data section (246 bytes): "
       "truncated file?"});

  // A header over the format's 100 MB limit (a sparse file: no 100 MB written).
  const std::string huge = tmp / "huge.safetensors";
  write_bytes(huge, safetensors_bytes("", "", 100'000'001));
  ASSERT_EQ(::truncate(huge.c_str(), 8 + 100'000'001 + 16), 0);
  expect_input_error([&] { SafetensorsFile::open(huge); },
                     {huge + ": header length 100000001 is over the 100 MB limit"});

  EXPECT_THROW(SafetensorsFile::open(tmp / "absent.safetensors"), IoError);
  expect_input_error([&] { SafetensorsFile::open(tmp.path()); }, {"not a regular file"});
}

// ---- Synthetic checkpoints ----

constexpr std::uint64_t kSeed = 42;

CheckpointConfig small_llama(bool tied = false) {
  // GQA: 4 query heads of 16 share 2 key/value heads.
  return make_checkpoint_config(CheckpointFamily::Llama, 64, 96, 4, 2, 3, 100, tied, 128);
}
CheckpointConfig small_gpt2(std::int64_t positions = 1024) {
  return make_checkpoint_config(CheckpointFamily::Gpt2, 32, 80, 4, 4, 2, 50, true, positions);
}

double expect_value(const std::string& name, std::int64_t index, Dtype d) {
  return double(round_to_dtype(synthetic_value(kSeed, name, index), d));
}

TEST(Checkpoint, LlamaGqaAccessorsReturnTheValuesWritten) {
  TempDir tmp;
  const CheckpointConfig c = small_llama();
  write_synthetic_checkpoint(tmp.path(), c, {Dtype::BF16, 1, kSeed});
  const HfCheckpoint ck = HfCheckpoint::open(tmp.path());
  const CheckpointConfig& r = ck.config();
  EXPECT_EQ(r.family, CheckpointFamily::Llama);
  EXPECT_EQ(r.architecture, "LlamaForCausalLM");
  EXPECT_EQ(r.hidden, 64);
  EXPECT_EQ(r.intermediate, 96);
  EXPECT_EQ(r.heads, 4);
  EXPECT_EQ(r.kv_heads, 2);
  EXPECT_EQ(r.head_dim, 16);
  EXPECT_EQ(r.layers, 3);
  EXPECT_EQ(r.vocab, 100);
  EXPECT_EQ(r.positions, 128);
  EXPECT_FALSE(r.tied);
  EXPECT_EQ(r.eps, 1e-6);
  EXPECT_EQ(r.rope_theta, 10000);
  EXPECT_EQ(r.torch_dtype, "bfloat16");
  EXPECT_FALSE(ck.sharded());
  EXPECT_EQ(ck.shards().size(), 1u);
  EXPECT_EQ(ck.dtypes(), std::vector<Dtype>{Dtype::BF16});
  EXPECT_TRUE(ck.ignored().empty());
  EXPECT_TRUE(ck.gated());
  // Per layer: q 64x64, k and v 32x64, o 64x64, gate/up/down 96x64 x 2 + 64x96, two norms.
  const std::int64_t layer = 64 * 64 * 2 + 32 * 64 * 2 + 3 * 96 * 64 + 2 * 64;
  EXPECT_EQ(ck.num_params(), 100 * 64 * 2 + 3 * layer + 64);
  EXPECT_EQ(ck.weights().size(), 2 + 3 * 9 + 1u);
  // transformers' count from the config alone (checkpoints/hf_config.h) agrees.
  EXPECT_EQ(hf_config_params(checkpoint_config_json(r)), ck.num_params());

  const Dtype d = Dtype::BF16;
  const Matrix q = ck.attention(1, AttnMatrix::Q), k = ck.attention(1, AttnMatrix::K),
               v = ck.attention(2, AttnMatrix::V), o = ck.attention(0, AttnMatrix::O);
  EXPECT_EQ(q.rows, 64);
  EXPECT_EQ(q.cols, 64);
  EXPECT_EQ(k.rows, 32);
  EXPECT_EQ(k.cols, 64);
  EXPECT_EQ(v.rows, 32);
  EXPECT_FALSE(q.transposed());
  EXPECT_EQ(q.at(5, 7), expect_value("model.layers.1.self_attn.q_proj.weight", 5 * 64 + 7, d));
  EXPECT_EQ(k.at(31, 63), expect_value("model.layers.1.self_attn.k_proj.weight", 31 * 64 + 63, d));
  EXPECT_EQ(v.at(17, 0), expect_value("model.layers.2.self_attn.v_proj.weight", 17 * 64, d));
  EXPECT_EQ(o.at(63, 1), expect_value("model.layers.0.self_attn.o_proj.weight", 63 * 64 + 1, d));
  const Matrix gate = ck.ffn(2, FfnMatrix::Gate), up = ck.ffn(2, FfnMatrix::Up),
               down = ck.ffn(2, FfnMatrix::Down);
  EXPECT_EQ(gate.rows, 96);
  EXPECT_EQ(gate.cols, 64);
  EXPECT_EQ(down.rows, 64);
  EXPECT_EQ(down.cols, 96);
  EXPECT_EQ(gate.at(95, 3), expect_value("model.layers.2.mlp.gate_proj.weight", 95 * 64 + 3, d));
  EXPECT_EQ(up.at(10, 20), expect_value("model.layers.2.mlp.up_proj.weight", 10 * 64 + 20, d));
  // Channel 40: row 40 of up, column 40 of down.
  const std::vector<double> row = up.row(40), col = down.column(40);
  ASSERT_EQ(row.size(), 64u);
  ASSERT_EQ(col.size(), 64u);
  for (int i = 0; i < 64; ++i) {
    EXPECT_EQ(row[std::size_t(i)],
              expect_value("model.layers.2.mlp.up_proj.weight", 40 * 64 + i, d));
    EXPECT_EQ(col[std::size_t(i)],
              expect_value("model.layers.2.mlp.down_proj.weight", i * 96 + 40, d));
  }
  const std::vector<double> all = down.to_doubles();
  EXPECT_EQ(all[5 * 96 + 7], down.at(5, 7));
  EXPECT_NE(down.at(5, 7), down.at(7, 5));
  // Norms, embedding and the untied head.
  EXPECT_EQ(ck.tensor("model.layers.0.input_layernorm.weight").at(3),
            expect_value("model.layers.0.input_layernorm.weight", 3, d));
  EXPECT_NEAR(ck.tensor("model.norm.weight").at(0), 1.0, 0.11);
  EXPECT_EQ(ck.embedding().at(99, 63), expect_value("model.embed_tokens.weight", 99 * 64 + 63, d));
  EXPECT_EQ(ck.lm_head().at(2, 1), expect_value("lm_head.weight", 2 * 64 + 1, d));
  EXPECT_EQ(ck.attention_name(1, AttnMatrix::K), "model.layers.1.self_attn.k_proj.weight");
  EXPECT_EQ(ck.ffn_name(0, FfnMatrix::Down), "model.layers.0.mlp.down_proj.weight");
  EXPECT_THROW(ck.attention(3, AttnMatrix::Q), std::out_of_range);

  // Our llama encoding of it counts exactly the checkpoint's parameters.
  const CheckpointArch a = checkpoint_arch(r, ck.num_params());
  EXPECT_EQ(a.encoding, "LLAMA-d64|h4-kv2-ff96|h4-kv2-ff96|h4-kv2-ff96");
  EXPECT_EQ(a.arch.family->name(), "llama");
  EXPECT_EQ(a.params, ck.num_params());
  EXPECT_EQ(a.difference, "");
}

TEST(Checkpoint, TiedLlamaDiffersFromOursByTheHead) {
  TempDir tmp;
  write_synthetic_checkpoint(tmp.path(), small_llama(true), {Dtype::F32, 1, kSeed});
  const HfCheckpoint ck = HfCheckpoint::open(tmp.path());
  EXPECT_TRUE(ck.config().tied);
  EXPECT_EQ(ck.find("lm_head.weight"), nullptr);
  EXPECT_EQ(ck.lm_head().tensor, ck.embedding().tensor);
  EXPECT_EQ(hf_config_params(checkpoint_config_json(ck.config())), ck.num_params());
  const CheckpointArch a = checkpoint_arch(ck.config(), ck.num_params());
  EXPECT_EQ(a.params - ck.num_params(), 100 * 64);
  EXPECT_EQ(a.difference,
            "ours - checkpoint = +6400: our llama model has an untied output head (100 x 64), "
            "the checkpoint ties it to the embedding");
}

TEST(Checkpoint, ShardedLlamaWithBuffersReadsAsOneFile) {
  TempDir tmp;
  const CheckpointConfig c = small_llama();
  write_synthetic_checkpoint(tmp / "one", c, {Dtype::F32, 1, kSeed});
  write_synthetic_checkpoint(tmp / "two", c, {Dtype::F32, 2, kSeed, true, true});
  EXPECT_TRUE(fs::exists(tmp / "two/model-00001-of-00002.safetensors"));
  EXPECT_TRUE(fs::exists(tmp / "two/model-00002-of-00002.safetensors"));
  EXPECT_FALSE(fs::exists(tmp / "two/model.safetensors"));
  const HfCheckpoint one = HfCheckpoint::open(tmp / "one");
  const HfCheckpoint two = HfCheckpoint::open(tmp / "two");
  EXPECT_TRUE(two.sharded());
  ASSERT_EQ(two.shards().size(), 2u);
  EXPECT_FALSE(two.shards()[0].tensors().empty());
  EXPECT_FALSE(two.shards()[1].tensors().empty());
  // The buffers (rotary inv_freq of each layer) are skipped, not weights.
  EXPECT_EQ(two.ignored().size(), 3u);
  EXPECT_EQ(two.ignored()[0], "model.layers.0.self_attn.rotary_emb.inv_freq");
  EXPECT_EQ(two.num_params(), one.num_params());
  ASSERT_EQ(two.weights().size(), one.weights().size());
  for (std::size_t i = 0; i < one.weights().size(); ++i) {
    const TensorView& a = *one.weights()[i];
    const TensorView& b = *two.weights()[i];
    EXPECT_EQ(a.name, b.name);
    ASSERT_EQ(a.bytes, b.bytes);
    EXPECT_EQ(std::memcmp(a.data, b.data, a.bytes), 0) << a.name;
  }
  // The index lists every tensor in the shard that holds it.
  const std::string index = read_bytes(tmp / "two/model.safetensors.index.json");
  EXPECT_NE(index.find("\"total_size\""), std::string::npos);
  EXPECT_NE(index.find("\"lm_head.weight\": \"model-00002-of-00002.safetensors\""),
            std::string::npos);
  EXPECT_EQ(two.attention(2, AttnMatrix::K).at(3, 4),
            expect_value("model.layers.2.self_attn.k_proj.weight", 3 * 64 + 4, Dtype::F32));
}

TEST(Checkpoint, Gpt2Conv1DIsSeenTransposedAndCAttnSplit) {
  TempDir tmp;
  const CheckpointConfig c = small_gpt2();
  const Dtype d = Dtype::F16;
  write_synthetic_checkpoint(tmp.path(), c, {d, 1, kSeed, true, true});
  const HfCheckpoint ck = HfCheckpoint::open(tmp.path());
  const CheckpointConfig& r = ck.config();
  EXPECT_EQ(r.family, CheckpointFamily::Gpt2);
  EXPECT_EQ(r.hidden, 32);
  EXPECT_EQ(r.intermediate, 80);
  EXPECT_EQ(r.heads, 4);
  EXPECT_EQ(r.kv_heads, 4);
  EXPECT_EQ(r.head_dim, 8);
  EXPECT_EQ(r.positions, 1024);
  EXPECT_TRUE(r.tied);
  EXPECT_EQ(r.eps, 1e-5);
  EXPECT_FALSE(ck.gated());
  // Stored with the "transformer." prefix; found with or without it.
  EXPECT_NE(ck.find("transformer.h.0.attn.c_attn.weight"), nullptr);
  EXPECT_EQ(ck.find("h.0.attn.c_attn.weight"), ck.find("transformer.h.0.attn.c_attn.weight"));
  EXPECT_EQ(ck.find("h.0.attn.c_attn.weight")->shape, (std::vector<std::int64_t>{32, 96}));
  // The causal-mask buffers (attn.bias, attn.masked_bias) are skipped, the real biases kept.
  EXPECT_EQ(ck.ignored().size(), 4u);
  EXPECT_NE(ck.find("h.1.attn.c_attn.bias"), nullptr);
  const std::int64_t D = 32, I = 80;
  const std::int64_t block = 2 * D + 3 * D * D + 3 * D + D * D + D + 2 * D + D * I + I + I * D + D;
  EXPECT_EQ(ck.num_params(), 50 * D + 1024 * D + 2 * block + 2 * D);
  EXPECT_EQ(hf_config_params(checkpoint_config_json(r)), ck.num_params());

  const std::string c_attn = "h.1.attn.c_attn.weight";
  const Matrix q = ck.attention(1, AttnMatrix::Q), k = ck.attention(1, AttnMatrix::K),
               v = ck.attention(1, AttnMatrix::V), o = ck.attention(1, AttnMatrix::O);
  EXPECT_TRUE(q.transposed());
  EXPECT_EQ(q.rows, D);
  EXPECT_EQ(q.cols, D);
  // Element (r, c) of the [out, in] view is element (c, r) of the stored [in, out] weight, with
  // k and v after q along the output dimension.
  EXPECT_EQ(q.at(3, 5), expect_value(c_attn, 5 * 96 + 3, d));
  EXPECT_EQ(k.at(3, 5), expect_value(c_attn, 5 * 96 + 32 + 3, d));
  EXPECT_EQ(v.at(31, 0), expect_value(c_attn, 0 * 96 + 64 + 31, d));
  EXPECT_EQ(o.at(2, 9), expect_value("h.1.attn.c_proj.weight", 9 * 32 + 2, d));
  const Matrix up = ck.ffn(0, FfnMatrix::Up), down = ck.ffn(0, FfnMatrix::Down);
  EXPECT_EQ(up.rows, I);
  EXPECT_EQ(up.cols, D);
  EXPECT_EQ(down.rows, D);
  EXPECT_EQ(down.cols, I);
  EXPECT_EQ(up.at(70, 4), expect_value("h.0.mlp.c_fc.weight", 4 * 80 + 70, d));
  EXPECT_EQ(down.at(4, 70), expect_value("h.0.mlp.c_proj.weight", 70 * 32 + 4, d));
  // A channel: row c of c_fc's view (stored column c), column c of c_proj's (stored row c).
  const std::vector<double> row = up.row(70), col = down.column(70);
  for (int i = 0; i < D; ++i) {
    EXPECT_EQ(row[std::size_t(i)], expect_value("h.0.mlp.c_fc.weight", i * 80 + 70, d));
    EXPECT_EQ(col[std::size_t(i)], expect_value("h.0.mlp.c_proj.weight", 70 * 32 + i, d));
  }
  const std::vector<double> krow = k.row(3);
  for (int i = 0; i < D; ++i) EXPECT_EQ(krow[std::size_t(i)], k.at(3, i));
  const std::vector<double> kcol = k.column(6);
  for (int i = 0; i < D; ++i) EXPECT_EQ(kcol[std::size_t(i)], k.at(i, 6));
  expect_input_error([&] { ck.ffn(0, FfnMatrix::Gate); }, {"GPT2LMHeadModel has no gate"});
  EXPECT_EQ(ck.lm_head().tensor, ck.embedding().tensor);
  EXPECT_EQ(ck.embedding().at(49, 31), expect_value("wte.weight", 49 * 32 + 31, d));

  // Our gpt family holds it with the same count (1024 positions, tied head).
  const CheckpointArch a = checkpoint_arch(r, ck.num_params());
  EXPECT_EQ(a.encoding, "GPT-d32|h4-ff80|h4-ff80");
  EXPECT_EQ(a.params, ck.num_params());
  EXPECT_EQ(a.difference, "");
}

TEST(Checkpoint, Gpt2WithoutPrefixShardedAndOtherPositions) {
  TempDir tmp;
  write_synthetic_checkpoint(tmp.path(), small_gpt2(64), {Dtype::F32, 2, kSeed, false});
  const HfCheckpoint ck = HfCheckpoint::open(tmp.path());
  EXPECT_NE(ck.find("h.0.mlp.c_fc.weight"), nullptr);
  EXPECT_NE(ck.find("transformer.h.0.mlp.c_fc.weight"), nullptr);
  EXPECT_EQ(ck.shards().size(), 2u);
  EXPECT_EQ(ck.find("wpe.weight")->shape, (std::vector<std::int64_t>{64, 32}));
  const CheckpointArch a = checkpoint_arch(ck.config(), ck.num_params());
  EXPECT_EQ(a.params - ck.num_params(), (1024 - 64) * 32);
  EXPECT_EQ(a.difference,
            "ours - checkpoint = +30720: our gpt model's position table has 1024 rows, the "
            "checkpoint's 64");
}

TEST(Checkpoint, ConfigFields) {
  const std::string w = "m/config.json";
  // Old LLaMA configs: no num_key_value_heads (= heads), no head_dim (= hidden / heads).
  const CheckpointConfig c = parse_checkpoint_config(
      R"({"architectures":["LlamaForCausalLM"],"hidden_size":4096,"intermediate_size":11008,
          "num_attention_heads":32,"num_hidden_layers":32,"vocab_size":32000,
          "rms_norm_eps":1e-05,"max_position_embeddings":4096})",
      w);
  EXPECT_EQ(c.kv_heads, 32);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.eps, 1e-5);
  EXPECT_EQ(c.positions, 4096);
  EXPECT_FALSE(c.tied);
  const CheckpointArch a = checkpoint_arch(c, 6738415616);  // LLaMA-7B's published count
  EXPECT_EQ(a.params, 6738415616);
  // GPT-2 small: n_inner null = 4 x n_embd, tied by default; model_type alone is enough.
  const CheckpointConfig g = parse_checkpoint_config(
      R"({"model_type":"gpt2","n_embd":768,"n_layer":12,"n_head":12,"n_inner":null,
          "n_positions":1024,"vocab_size":50257})",
      w);
  EXPECT_EQ(g.family, CheckpointFamily::Gpt2);
  EXPECT_EQ(g.intermediate, 3072);
  EXPECT_TRUE(g.tied);
  EXPECT_EQ(checkpoint_arch(g, 124439808).params, 124439808);  // GPT-2 small
  // GPT-2's activation: gelu_new (the tanh GELU) unless the config says otherwise; an activation
  // our model does not compute is refused.
  EXPECT_EQ(g.activation, "gelu_new");
  const std::string gpt2 = R"({"model_type":"gpt2","n_embd":768,"n_layer":12,"n_head":12,)"
                           R"("vocab_size":50257,"activation_function":)";
  EXPECT_EQ(parse_checkpoint_config(gpt2 + R"("gelu"})", w).activation, "gelu");
  EXPECT_EQ(parse_checkpoint_config(gpt2 + R"("gelu_pytorch_tanh"})", w).activation, "gelu_new");
  expect_input_error(
      [&] { parse_checkpoint_config(gpt2 + R"("relu"})", w); },
      {"m/config.json: field \"activation_function\": \"relu\" is not computed here"});
  // Round trip through checkpoint_config_json.
  const CheckpointConfig back =
      parse_checkpoint_config(checkpoint_config_json(small_llama()).dump(), w);
  EXPECT_EQ(back.hidden, 64);
  EXPECT_EQ(back.kv_heads, 2);
  EXPECT_EQ(back.positions, 128);

  expect_input_error(
      [&] { parse_checkpoint_config(R"({"architectures":["MistralForCausalLM"]})", w); },
      {"m/config.json: unknown architecture MistralForCausalLM: expected LlamaForCausalLM or "
       "GPT2LMHeadModel"});
  expect_input_error([&] { parse_checkpoint_config(R"({"model_type":"bert"})", w); },
                     {"m/config.json: unknown architecture bert"});
  expect_input_error([&] { parse_checkpoint_config("{}", w); },
                     {"unknown architecture (no architectures or model_type field)"});
  expect_input_error([&] { parse_checkpoint_config("{nope", w); },
                     {"m/config.json: not valid JSON"});
  expect_input_error(
      [&] {
        parse_checkpoint_config(R"({"model_type":"llama","intermediate_size":8,
          "num_attention_heads":2,"num_hidden_layers":1,"vocab_size":10})",
                                w);
      },
      {"m/config.json: field \"hidden_size\": missing"});
  expect_input_error(
      [&] {
        parse_checkpoint_config(R"({"model_type":"llama","hidden_size":64,"intermediate_size":8,
          "num_attention_heads":4,"num_key_value_heads":3,"num_hidden_layers":1,"vocab_size":10})",
                                w);
      },
      {"num_key_value_heads 3 does not divide num_attention_heads 4"});
  expect_input_error(
      [&] {
        parse_checkpoint_config(
            R"({"model_type":"gpt2","n_embd":-5,"n_layer":1,"n_head":1,"vocab_size":10})", w);
      },
      {"field \"n_embd\": expected a positive integer, got -5"});
  // head_dim x heads != hidden: our llama family writes the head width (-hd); rotary positions
  // still need it even.
  CheckpointConfig wide = small_llama();
  wide.head_dim = 32;
  const CheckpointArch w_arch = checkpoint_arch(wide, checkpoint_config_params(wide));
  EXPECT_EQ(w_arch.encoding, "LLAMA-d64-hd32|h4-kv2-ff96|h4-kv2-ff96|h4-kv2-ff96");
  EXPECT_EQ(w_arch.params, checkpoint_config_params(wide));
  EXPECT_EQ(w_arch.difference, "");
  wide.head_dim = 15;
  expect_input_error([&] { checkpoint_arch(wide, 0); }, {"head_dim 15 is odd"});
}

// ---- Malformed checkpoints ----

// A LLaMA checkpoint written from expected_tensors, after `edit` changed the list of tensors.
void write_edited(const std::string& dir, const CheckpointConfig& c,
                  const std::function<void(std::vector<TensorToWrite>&)>& edit) {
  fs::create_directories(dir);
  std::vector<TensorToWrite> t;
  for (const ExpectedTensor& e : expected_tensors(c)) {
    TensorToWrite w{e.name, Dtype::F32, e.shape};
    w.generate = [](std::int64_t, std::int64_t count, float* out) {
      std::fill(out, out + count, 0.5f);
    };
    t.push_back(std::move(w));
  }
  edit(t);
  write_safetensors(dir + "/model.safetensors", t);
  std::ofstream(dir + "/config.json") << checkpoint_config_json(c).dump(2);
}

TEST(Checkpoint, MalformedCheckpointsNameTheFileAndTheTensor) {
  TempDir tmp;
  const CheckpointConfig c = small_llama();
  const auto open = [](const std::string& dir) { return [dir] { HfCheckpoint::open(dir); }; };

  write_edited(tmp / "missing", c, [](std::vector<TensorToWrite>& t) {
    t.erase(std::find_if(t.begin(), t.end(), [](const TensorToWrite& w) {
      return w.name == "model.layers.1.mlp.up_proj.weight";
    }));
  });
  expect_input_error(open(tmp / "missing"),
                     {tmp / "missing/model.safetensors: tensor model.layers.1.mlp.up_proj.weight: "
                            "missing (config.json: LlamaForCausalLM with 3 layers, hidden 64)"});

  write_edited(tmp / "shape", c, [](std::vector<TensorToWrite>& t) {
    for (TensorToWrite& w : t)
      if (w.name == "model.layers.2.self_attn.k_proj.weight") w.shape = {64, 64};
  });
  expect_input_error(
      open(tmp / "shape"),
      {tmp / "shape/model.safetensors: tensor model.layers.2.self_attn.k_proj.weight: "
             "shape [64, 64] disagrees with config.json (expected [32, 64])"});

  write_edited(tmp / "int", c, [](std::vector<TensorToWrite>& t) {
    static const std::vector<std::int32_t> zeros(64, 0);
    for (TensorToWrite& w : t)
      if (w.name == "model.norm.weight") {
        w.dtype = Dtype::I32;
        w.generate = nullptr;
        w.raw = zeros.data();
      }
  });
  expect_input_error(open(tmp / "int"), {tmp / "int/model.safetensors: tensor model.norm.weight: "
                                               "dtype I32: expected a floating-point dtype"});

  // A tensor the config does not imply (here: attention biases without attention_bias).
  write_edited(tmp / "extra", c, [](std::vector<TensorToWrite>& t) {
    TensorToWrite b{"model.layers.0.self_attn.q_proj.bias", Dtype::F32, {64}};
    b.generate = [](std::int64_t, std::int64_t count, float* out) {
      std::fill(out, out + count, 0.0f);
    };
    t.push_back(std::move(b));
  });
  expect_input_error(open(tmp / "extra"),
                     {tmp / "extra/model.safetensors: tensor model.layers.0.self_attn.q_proj.bias: "
                            "not a weight of LlamaForCausalLM as config.json describes it"});

  // Unknown architecture, with good weights beside it.
  write_synthetic_checkpoint(tmp / "mistral", c);
  std::ofstream(tmp / "mistral/config.json") << R"({"architectures":["MistralForCausalLM"]})";
  expect_input_error(open(tmp / "mistral"),
                     {tmp / "mistral/config.json: unknown architecture MistralForCausalLM: "
                            "expected LlamaForCausalLM or GPT2LMHeadModel"});

  // A config with more layers than the weights: the first tensor of the extra layer is missing.
  write_synthetic_checkpoint(tmp / "layers", c);
  CheckpointConfig more = c;
  more.layers = 4;
  std::ofstream(tmp / "layers/config.json") << checkpoint_config_json(more).dump();
  expect_input_error(open(tmp / "layers"),
                     {"layers/model.safetensors: tensor model.layers.3.self_attn.q_proj.weight: "
                      "missing"});

  // A GPT-2 checkpoint with the prefix names the missing tensor as it would be stored.
  write_synthetic_checkpoint(tmp / "gpt", small_gpt2());
  CheckpointConfig g3 = small_gpt2();
  g3.layers = 3;
  std::ofstream(tmp / "gpt/config.json") << checkpoint_config_json(g3).dump();
  expect_input_error(open(tmp / "gpt"),
                     {"gpt/model.safetensors: tensor transformer.h.2.ln_1.weight: missing"});

  // A truncated shard of a sharded checkpoint: the shard and the tensor.
  write_synthetic_checkpoint(tmp / "cut", c, {Dtype::F32, 2, kSeed});
  const std::string shard = tmp / "cut/model-00002-of-00002.safetensors";
  ASSERT_EQ(::truncate(shard.c_str(), fs::file_size(shard) - 4), 0);
  expect_input_error(open(tmp / "cut"),
                     {shard + ": tensor lm_head.weight: data offsets", "truncated file?"});

  // The index names a shard that does not hold the tensor, or a file that is not there.
  write_synthetic_checkpoint(tmp / "index", c, {Dtype::F32, 2, kSeed});
  std::string index = read_bytes(tmp / "index/model.safetensors.index.json");
  const std::string from = "\"lm_head.weight\": \"model-00002-of-00002.safetensors\"";
  ASSERT_NE(index.find(from), std::string::npos);
  index.replace(index.find(from), from.size(),
                "\"lm_head.weight\": \"model-00001-of-00002.safetensors\"");
  write_bytes(tmp / "index/model.safetensors.index.json", index);
  expect_input_error(open(tmp / "index"),
                     {"index/model.safetensors.index.json: tensor lm_head.weight: mapped to "
                      "model-00001-of-00002.safetensors, which does not hold it"});
  const std::string to = "\"lm_head.weight\": \"model-00001-of-00002";
  index.replace(index.find(to), to.size(), "\"lm_head.weight\": \"model-00009-of-00002");
  write_bytes(tmp / "index/model.safetensors.index.json", index);
  expect_input_error(open(tmp / "index"), {"model-00009-of-00002.safetensors", "not found"});

  fs::create_directories(tmp / "empty");
  expect_input_error(open(tmp / "empty"), {"empty/config.json: not found"});
  std::ofstream(tmp / "empty/config.json") << checkpoint_config_json(c).dump();
  expect_input_error(open(tmp / "empty"),
                     {"empty: no model.safetensors or model.safetensors.index.json"});
  expect_input_error(open(tmp / "absent"), {"absent: not found"});
}

// ---- Hostile or corrupt checkpoints: bounded sizes, FIFOs, shards outside, escaped bytes ----

// The message of the InputError `f` throws ("(no InputError)" when it returns).
std::string input_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

// A checkpoint's config.json with `field` set to `value` (raw JSON).
void set_config_field(const std::string& dir, const std::string& field, const std::string& value) {
  nlohmann::json j = nlohmann::json::parse(read_bytes(dir + "/config.json"));
  j[field] = nlohmann::json::parse(value);
  write_bytes(dir + "/config.json", j.dump());
}

TEST(Checkpoint, ConfigSizesBeyondTheWeightsAreRefusedBeforeUse) {
  TempDir tmp;
  const std::string dir = tmp / "ck";
  write_synthetic_checkpoint(dir, small_llama());
  const auto open = [&] { HfCheckpoint::open(dir); };
  const std::string where = dir + "/config.json: ";
  // 30 tensors of 105408 elements in all (embedding, 3 layers of 9, norm, head).
  const std::string held = " is more than the weights' 105408 elements can hold";
  const auto refused = [&](const std::string& field, const std::string& value,
                           const std::string& message) {
    write_synthetic_checkpoint(dir, small_llama());
    set_config_field(dir, field, value);
    SCOPED_TRACE(field + " " + value);
    expect_input_error(open, {where + message});
  };
  // A trillion layers would be a trillion entries of expected_tensors before the first is missed.
  refused("num_hidden_layers", "1000000000000",
          "field \"num_hidden_layers\": 1000000000000 layers, more than the weights' 30 tensors "
          "can hold");
  refused("num_hidden_layers", "31",
          "field \"num_hidden_layers\": 31 layers, more than the weights' 30 tensors can hold");
  refused("hidden_size", "1000000000000", "field \"hidden_size\": 1000000000000" + held);
  refused("intermediate_size", "4611686018427387904",
          "field \"intermediate_size\": 4611686018427387904" + held);
  refused("vocab_size", "9223372036854775807", "field \"vocab_size\": 9223372036854775807" + held);
  refused("head_dim", "4611686018427387904", "field \"head_dim\": 4611686018427387904" + held);
  // Each below the bound, their product (the attention's width) beyond it.
  write_synthetic_checkpoint(dir, small_llama());
  set_config_field(dir, "num_attention_heads", "400");
  set_config_field(dir, "head_dim", "400");
  expect_input_error(open,
                     {where + "fields \"num_attention_heads\" x \"head_dim\": 400 x 400" + held});
  // Per-layer widths, named by their entry.
  CheckpointConfig per_layer = small_llama();
  per_layer.per_layer = {{4, 2, 96}, {4, 2, 1000000}, {4, 2, 96}};
  write_synthetic_checkpoint(dir, small_llama());
  write_bytes(dir + "/config.json", checkpoint_config_json(per_layer).dump());
  expect_input_error(open,
                     {where + "zerolm_layers[1]: field \"intermediate_size\": 1000000" + held});
  // A layer count within the bound still names the first missing tensor.
  write_synthetic_checkpoint(dir, small_llama());
  set_config_field(dir, "num_hidden_layers", "30");
  expect_input_error(open, {"tensor model.layers.3.self_attn.q_proj.weight: missing"});

  // GPT-2's names; n_inner absent is 4 x n_embd, which must not overflow either.
  const std::string gpt = tmp / "gpt";
  const auto open_gpt = [&] { HfCheckpoint::open(gpt); };
  write_synthetic_checkpoint(gpt, small_gpt2());
  set_config_field(gpt, "n_layer", "1000000000000");
  expect_input_error(open_gpt, {gpt + "/config.json: field \"n_layer\": 1000000000000 layers"});
  write_synthetic_checkpoint(gpt, small_gpt2());
  set_config_field(gpt, "n_positions", "1000000000000");
  expect_input_error(open_gpt, {gpt + "/config.json: field \"n_positions\": 1000000000000 is more "
                                      "than the weights'"});
  write_synthetic_checkpoint(gpt, small_gpt2());
  set_config_field(gpt, "n_inner", "null");
  set_config_field(gpt, "n_head", "1");
  set_config_field(gpt, "head_dim", "1");
  set_config_field(gpt, "n_embd", "4611686018427387904");
  expect_input_error(open_gpt, {gpt + "/config.json: field \"n_embd\": 4611686018427387904 is too "
                                      "large"});
}

TEST(Safetensors, ExtentsAreBoundedBeforeUse) {
  TempDir tmp;
  // Extents whose product leaves int64 (though not uint64) before a zero brings it back.
  const std::string over = tmp / "over.safetensors";
  write_bytes(over, safetensors_bytes(R"({"a":{"dtype":"U8","shape":[4294967296,4294967295,0],)"
                                      R"("data_offsets":[0,0]}})",
                                      ""));
  expect_input_error([&] { SafetensorsFile::open(over); },
                     {over + ": tensor a: shape [4294967296,4294967295,0] is too large"});
  // An empty tensor's other extent is bounded by nothing: no buffer of that size is allocated
  // for a row or column that is not there.
  const std::string empty = tmp / "empty.safetensors";
  write_bytes(empty, safetensors_bytes(R"({"r":{"dtype":"F32","shape":[0,1099511627776],)"
                                       R"("data_offsets":[0,0]},)"
                                       R"("c":{"dtype":"F32","shape":[1099511627776,0],)"
                                       R"("data_offsets":[0,0]}})",
                                       ""));
  const SafetensorsFile f = SafetensorsFile::open(empty);
  EXPECT_THROW(f.get("r").row(0), std::out_of_range);
  EXPECT_THROW(f.get("c").column(0), std::out_of_range);
}

// Runs `f`, which must not wait on the FIFO `fifo`; if it still runs after 5 s, a writer opened
// and closed on the FIFO lets it go on (so that a failing test does not hang).
void without_waiting(const std::string& fifo, const std::function<void()>& f) {
  auto done = std::async(std::launch::async, f);
  if (done.wait_for(std::chrono::seconds(5)) == std::future_status::timeout) {
    ADD_FAILURE() << "waited on the FIFO " << fifo;
    const int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0) ::close(w);
  }
  done.get();
}

TEST(Checkpoint, FifosAreRefusedNotWaitedOn) {
  TempDir tmp;
  const CheckpointConfig c = small_llama();
  const auto fifo_instead = [](const std::string& path) {
    fs::remove(path);
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0) << path;
  };
  const auto refused = [&](const std::string& dir, const std::string& fifo,
                           const std::string& expected) {
    SCOPED_TRACE(fifo);
    expect_input_error([&] { without_waiting(fifo, [&] { HfCheckpoint::open(dir); }); },
                       {fifo + ": not a regular file (expected a " + expected + " file)"});
  };
  write_synthetic_checkpoint(tmp / "weights", c);
  fifo_instead(tmp / "weights/model.safetensors");
  refused(tmp / "weights", tmp / "weights/model.safetensors", "safetensors");
  expect_input_error(
      [&] {
        without_waiting(tmp / "weights/model.safetensors",
                        [&] { SafetensorsFile::open(tmp / "weights/model.safetensors"); });
      },
      {"not a regular file"});

  write_synthetic_checkpoint(tmp / "config", c);
  fifo_instead(tmp / "config/config.json");
  refused(tmp / "config", tmp / "config/config.json", "JSON");

  write_synthetic_checkpoint(tmp / "shard", c, {Dtype::F32, 2, kSeed});
  fifo_instead(tmp / "shard/model-00002-of-00002.safetensors");
  refused(tmp / "shard", tmp / "shard/model-00002-of-00002.safetensors", "safetensors");

  write_synthetic_checkpoint(tmp / "index", c, {Dtype::F32, 2, kSeed});
  fifo_instead(tmp / "index/model.safetensors.index.json");
  refused(tmp / "index", tmp / "index/model.safetensors.index.json", "JSON");
}

TEST(Checkpoint, ShardsOutsideTheFolderAreRefused) {
  TempDir tmp;
  const std::string dir = tmp / "ck", index = dir + "/model.safetensors.index.json";
  const std::string shard = "model-00002-of-00002.safetensors";
  write_synthetic_checkpoint(dir, small_llama(), {Dtype::F32, 2, kSeed});
  // The same shard elsewhere: followed, the checkpoint would open without a word.
  fs::create_directories(tmp / "other");
  fs::copy_file(dir + "/" + shard, tmp / "other/" + shard);
  const std::string original = read_bytes(index);
  const auto map_to = [&](const std::string& file) {
    std::string text = original;
    const std::string from = "\"" + shard + "\"";
    const std::string to = nlohmann::json(file).dump();
    for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size())
      text.replace(at, from.size(), to);
    write_bytes(index, text);
  };
  for (const std::string& file :
       {"../other/" + shard, tmp / "other/" + shard, "./../other/" + shard,
        "sub/../../other/" + shard, std::string("..")}) {
    SCOPED_TRACE(file);
    map_to(file);
    expect_input_error([&] { HfCheckpoint::open(dir); },
                       {index + ": tensor ", ": shard " + quoted_input(file) +
                                                 " is not inside the checkpoint folder (expected "
                                                 "a file name inside it"});
  }
  // Inside, and a symbolic link to a file elsewhere (the Hugging Face cache's layout): read.
  map_to("./" + shard);
  EXPECT_NO_THROW(HfCheckpoint::open(dir));
  fs::remove(dir + "/" + shard);
  fs::create_symlink("../other/" + shard, dir + "/" + shard);
  map_to(shard);
  EXPECT_NO_THROW(HfCheckpoint::open(dir));
}

TEST(Checkpoint, FileContentInErrorsIsEscaped) {
  // Bytes that are no UTF-8 character and controls (C0 and C1) are escaped; characters are not.
  EXPECT_EQ(printable("a\xff"
                      "b\xc3\xa9\xc2\x9b[1m\xe2\x82"),
            "a\\xffb\xc3\xa9\\xc2\\x9b[1m\\xe2\\x82");
  EXPECT_EQ(quoted_input("\xed\xa0\x80\xf0\x9f\x98\x80"), "\"\\xed\\xa0\\x80\xf0\x9f\x98\x80\"");
  EXPECT_EQ(
      quoted_input(std::string(300, '\x80')), "\"" + [] {
        std::string s;
        for (int i = 0; i < 200; ++i) s += "\\x80";
        return s;
      }() + "\"... (300 characters)");

  TempDir tmp;
  // The whole message on one line, with no byte a terminal would act on or mis-decode.
  const auto clean = [](const std::string& m) {
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_EQ(m.find('\x1b'), std::string::npos) << m;
    EXPECT_EQ(m.find('\xff'), std::string::npos) << m;
  };
  const auto header = [&](const std::string& name, const std::string& json,
                          const std::string& expected) {
    const std::string path = tmp / name;
    write_bytes(path, safetensors_bytes(json, std::string(16, '\0')));
    const std::string m = input_error([&] { SafetensorsFile::open(path); });
    SCOPED_TRACE(name);
    clean(m);
    EXPECT_NE(m.find(expected), std::string::npos) << m;
  };
  // Raw bytes stop the JSON parser, whose message quotes them.
  header("name_ff.safetensors",
         "{\"w\xff\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", "\\xff");
  header("dtype_ff.safetensors",
         "{\"w\":{\"dtype\":\"F3\xff\",\"shape\":[4],\"data_offsets\":[0,16]}}", "\\xff");
  // JSON escapes make any character part of a name.
  header("name_ctl.safetensors",
         R"({"w\n\u001b[31m":{"dtype":"F8_E4M3","shape":[16],"data_offsets":[0,16]}})",
         "tensor w\\n\\x1b[31m: dtype F8_E4M3 is a dtype we do not read");
  header("meta_ctl.safetensors",
         R"({"__metadata__":{"k\n":1},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
         "__metadata__: value of \"k\\n\": expected a string");
  header("overlap_ctl.safetensors",
         R"({"a\r":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
         R"("b\t":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})",
         "tensor b\\t: data offsets [8, 16] overlap tensor a\\r's [0, 16]");

  // config.json and the index.
  const std::string m = input_error(
      [] { parse_checkpoint_config("{\"architectures\":[\"Llama\xff\"]}", "m/config.json"); });
  clean(m);
  EXPECT_NE(m.find("m/config.json: not valid JSON ("), std::string::npos) << m;
  EXPECT_NE(m.find("\\xff"), std::string::npos) << m;
  const std::string dir = tmp / "ck";
  write_synthetic_checkpoint(dir, small_llama(), {Dtype::F32, 2, kSeed});
  const std::string index = dir + "/model.safetensors.index.json";
  const std::string original = read_bytes(index);
  const auto edited = [&](const std::string& from, const std::string& to) {
    std::string text = original;
    const std::size_t at = text.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    if (at != std::string::npos) text.replace(at, from.size(), to);
    write_bytes(index, text);
    const std::string m = input_error([&] { HfCheckpoint::open(dir); });
    clean(m);
    return m;
  };
  const std::string head = "\"lm_head.weight\": \"model-00002-of-00002.safetensors\"";
  EXPECT_NE(edited(head, R"("lm_head.weight": "model-0000\n\u001b2.safetensors")")
                .find("shard model-0000\\n\\x1b2.safetensors: "),
            std::string::npos);
  EXPECT_NE(edited(head, R"("lm_head.weight\n\u001b": "model-00002-of-00002.safetensors")")
                .find("tensor lm_head.weight\\n\\x1b: mapped to model-00002-of-00002.safetensors, "
                      "which does not hold it"),
            std::string::npos);
  EXPECT_NE(edited(head, "\"lm_head.weight\": \"model\xff.safetensors\"").find("\\xff"),
            std::string::npos);
}

// ---- Pruned models: head widths of their own, per-layer configs, write_pruned_checkpoint ----

TEST(PrunedArch, HeadDimEncodingRoundTripsAndShapesThePlan) {
  // Fewer heads than hidden / head_dim: the attention is heads x head_dim wide.
  const std::string e = "LLAMA-d64-hd16|h2-kv1-ff40|h4-kv2-ff96";
  const Arch a = parse_encoding(e);
  EXPECT_EQ(a.family->name(), "llama");
  EXPECT_EQ(a.head_dim, 16);
  EXPECT_EQ(encode(a), e);
  const ModelPlan p = make_plan(a, Profile::Spec, true, 100);
  ASSERT_EQ(p.layers.size(), 2u);
  EXPECT_EQ(p.layers[0].head_dim, 16);
  EXPECT_EQ(p.layers[0].attn_dim, 32);
  EXPECT_EQ(p.layers[1].attn_dim, 64);
  const auto shape = [&](const std::string& name) {
    for (const TensorSpec& t : p.tensors)
      if (t.name == name) return t.shape;
    ADD_FAILURE() << name << " not in the plan";
    return std::vector<std::int64_t>{};
  };
  EXPECT_EQ(shape("layers.0.attn.query.weight"), (std::vector<std::int64_t>{32, 64}));
  EXPECT_EQ(shape("layers.0.attn.key.weight"), (std::vector<std::int64_t>{16, 64}));
  EXPECT_EQ(shape("layers.0.attn.value.weight"), (std::vector<std::int64_t>{16, 64}));
  EXPECT_EQ(shape("layers.0.attn.output.weight"), (std::vector<std::int64_t>{64, 32}));
  EXPECT_EQ(shape("layers.0.ffn.gate.weight"), (std::vector<std::int64_t>{40, 64}));
  EXPECT_EQ(shape("layers.1.attn.query.weight"), (std::vector<std::int64_t>{64, 64}));
  // Embedding + lm_head 2 x 100 x 64; layer 0: q, o 2 x 32 x 64, k, v 2 x 16 x 64, SwiGLU
  // 3 x 40 x 64, two norms; layer 1 as LLaMA-d64|h4-kv2-ff96; final norm.
  const std::int64_t l0 = 2 * 32 * 64 + 2 * 16 * 64 + 3 * 40 * 64 + 2 * 64;
  const std::int64_t l1 = 2 * 64 * 64 + 2 * 32 * 64 + 3 * 96 * 64 + 2 * 64;
  EXPECT_EQ(count_params(p), 2 * 100 * 64 + l0 + l1 + 64);
  // A head width every layer has anyway is neither kept nor written: one canonical form.
  const Arch same = parse_encoding("LLAMA-d64-hd16|h4-kv2-ff96");
  EXPECT_EQ(same.head_dim, 0);
  EXPECT_EQ(encode(same), "LLAMA-d64|h4-kv2-ff96");
  EXPECT_EQ(same, parse_encoding("LLAMA-d64|h4-kv2-ff96"));
  EXPECT_EQ(encode(parse_encoding("LLAMA-d4096|h32-kv8-ff11008")), "LLAMA-d4096|h32-kv8-ff11008");
  // gpt alike (no -kv).
  const Arch g = parse_encoding("GPT-d64-hd16|h2-ff40|h4-ff256");
  EXPECT_EQ(encode(g), "GPT-d64-hd16|h2-ff40|h4-ff256");
  const ModelPlan gp = make_plan(g, Profile::Spec, true, 50);
  EXPECT_EQ(gp.layers[0].attn_dim, 32);
  EXPECT_EQ(gp.tensors[4].name, "layers.0.attn.query.weight");
  EXPECT_EQ(gp.tensors[4].shape, (std::vector<std::int64_t>{32, 64}));
  // Errors, one line each.
  expect_input_error([] { parse_encoding("LLAMA-d64-hd15|h2-kv1-ff40"); },
                     {"\"LLAMA-d64-hd15|h2-kv1-ff40\": head width 15 is odd"});
  expect_input_error([] { parse_encoding("LLAMA-d64-hd16|h2-kv1-ff40|h4-kv3-ff40"); },
                     {"layer 2: key/value heads 3 do not divide 4 heads"});
  expect_input_error([] { parse_encoding("LLAMA-d64-hdx|h4-kv2-ff40"); }, {"head width"});
  // The llama space's grid keeps its heads hidden / heads wide; the family builds the others.
  expect_input_error(
      [] { find_space("llama").validate(parse_encoding("LLAMA-d768-hd32|h8-kv8-ff2048"), "x"); },
      {"head width 32 given (-hd), but the heads of space llama"});
  EXPECT_EQ(find_space("llama").parse("LLAMA-d768-hd32|h8-kv8-ff2048").head_dim, 32);
}

// LLaMA: layer 0 keeps 1 of 2 key/value groups and 40 channels, layer 1 everything; 3 layers.
CheckpointConfig per_layer_llama() {
  CheckpointConfig c =
      make_checkpoint_config(CheckpointFamily::Llama, 64, 96, 4, 2, 3, 100, false, 128, 16);
  c.per_layer = {{2, 1, 40}, {4, 2, 96}, {4, 1, 48}};
  c.heads = 2;
  c.kv_heads = 1;
  c.intermediate = 40;
  return c;
}

TEST(PrunedConfig, PerLayerFieldsRoundTripThroughConfigJson) {
  const CheckpointConfig c = per_layer_llama();
  const auto j = checkpoint_config_json(c);
  EXPECT_EQ(j["num_attention_heads"], 2);
  EXPECT_EQ(j["num_key_value_heads"], 1);
  EXPECT_EQ(j["intermediate_size"], 40);
  EXPECT_EQ(j["head_dim"], 16);
  EXPECT_EQ(j["num_hidden_layers"], 3);
  ASSERT_EQ(j["zerolm_layers"].size(), 3u);
  EXPECT_EQ(j["zerolm_layers"][2].dump(),
            R"({"num_attention_heads":4,"num_key_value_heads":1,"intermediate_size":48})");
  const CheckpointConfig r = parse_checkpoint_config(j.dump(), "m/config.json");
  ASSERT_EQ(r.per_layer.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.layer(i), c.layer(i)) << i;
  EXPECT_EQ(r.head_dim, 16);
  EXPECT_EQ(checkpoint_config_json(r).dump(), j.dump());
  // Layer 1: q 64 x 64, k, v 32 x 64; layer 2: q 64, k, v 16 rows.
  const std::vector<ExpectedTensor> t = expected_tensors(r);
  const auto shape = [&](const std::string& name) {
    for (const ExpectedTensor& e : t)
      if (e.name == name) return e.shape;
    return std::vector<std::int64_t>{};
  };
  EXPECT_EQ(shape("model.layers.0.self_attn.q_proj.weight"), (std::vector<std::int64_t>{32, 64}));
  EXPECT_EQ(shape("model.layers.0.self_attn.o_proj.weight"), (std::vector<std::int64_t>{64, 32}));
  EXPECT_EQ(shape("model.layers.1.self_attn.k_proj.weight"), (std::vector<std::int64_t>{32, 64}));
  EXPECT_EQ(shape("model.layers.2.self_attn.v_proj.weight"), (std::vector<std::int64_t>{16, 64}));
  EXPECT_EQ(shape("model.layers.2.mlp.down_proj.weight"), (std::vector<std::int64_t>{64, 48}));
  // Our llama family holds it with -hd, parameter for parameter (untied head on both sides).
  const CheckpointArch a = checkpoint_arch(r, checkpoint_config_params(r));
  EXPECT_EQ(a.encoding, "LLAMA-d64-hd16|h2-kv1-ff40|h4-kv2-ff96|h4-kv1-ff48");
  EXPECT_EQ(a.difference, "");

  // Alike layers: no zerolm_layers (and the list, when given, is dropped on reading).
  CheckpointConfig u = c;
  u.per_layer = {{2, 1, 40}, {2, 1, 40}, {2, 1, 40}};
  EXPECT_EQ(checkpoint_config_json(u).count("zerolm_layers"), 0u);
  EXPECT_TRUE(parse_checkpoint_config(checkpoint_config_json(u).dump(), "x").per_layer.empty());
  auto with_list = checkpoint_config_json(u);
  with_list["zerolm_layers"] = checkpoint_config_json(c)["zerolm_layers"];
  with_list["zerolm_layers"][1] = with_list["zerolm_layers"][0];
  with_list["zerolm_layers"][2] = with_list["zerolm_layers"][0];
  EXPECT_TRUE(parse_checkpoint_config(with_list.dump(), "x").per_layer.empty());

  // GPT-2: n_head and n_inner per layer, head_dim beside n_embd.
  CheckpointConfig g = make_checkpoint_config(CheckpointFamily::Gpt2, 32, 80, 4, 4, 2, 50, true);
  g.per_layer = {{2, 2, 40}, {4, 4, 80}};
  g.heads = g.kv_heads = 2;
  g.intermediate = 40;
  const auto gj = checkpoint_config_json(g);
  EXPECT_EQ(gj["head_dim"], 8);
  EXPECT_EQ(gj["n_head"], 2);
  EXPECT_EQ(gj["zerolm_layers"].dump(), R"([{"n_head":2,"n_inner":40},{"n_head":4,"n_inner":80}])");
  const CheckpointConfig gr = parse_checkpoint_config(gj.dump(), "g/config.json");
  EXPECT_EQ(gr.layer(0), (CheckpointLayer{2, 2, 40}));
  EXPECT_EQ(gr.layer(1), (CheckpointLayer{4, 4, 80}));
  EXPECT_EQ(shape_text(expected_tensors(gr)[4].shape), "[32, 48]");  // h.0.attn.c_attn.weight
  EXPECT_EQ(checkpoint_arch(gr, 0).encoding, "GPT-d32-hd8|h2-ff40|h4-ff80");

  // Malformed lists: one line naming the entry.
  const auto bad = [&](const std::function<void(nlohmann::ordered_json&)>& edit) {
    auto k = checkpoint_config_json(c);
    edit(k);
    return [k] { parse_checkpoint_config(k.dump(), "m/config.json"); };
  };
  expect_input_error(bad([](auto& k) { k["num_hidden_layers"] = 4; }),
                     {"m/config.json: field \"zerolm_layers\": 3 entries, but num_hidden_layers "
                      "is 4"});
  expect_input_error(bad([](auto& k) { k["zerolm_layers"][1]["num_key_value_heads"] = 3; }),
                     {"zerolm_layers[1]: num_key_value_heads 3 does not divide "
                      "num_attention_heads 4"});
  expect_input_error(bad([](auto& k) { k["zerolm_layers"][2].erase("intermediate_size"); }),
                     {"zerolm_layers[2]: field \"intermediate_size\": missing"});
  expect_input_error(bad([](auto& k) { k["intermediate_size"] = 96; }),
                     {"zerolm_layers[0] (heads 2, key/value heads 1, intermediate 40) disagrees"});
  expect_input_error(bad([](auto& k) { k["zerolm_layers"] = 3; }),
                     {"\"zerolm_layers\": expected a list"});
}

// Element (r, c) of `m` equals element (rows[r], cols[c]) of `src` for every element.
void expect_slice(const Matrix& m, const Matrix& src, const std::vector<std::int64_t>& rows,
                  const std::vector<std::int64_t>& cols, const std::string& what) {
  ASSERT_EQ(m.rows, std::int64_t(rows.size())) << what;
  ASSERT_EQ(m.cols, std::int64_t(cols.size())) << what;
  int wrong = 0;
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::size_t c = 0; c < cols.size(); ++c)
      wrong += m.at(std::int64_t(r), std::int64_t(c)) != src.at(rows[r], cols[c]);
  EXPECT_EQ(wrong, 0) << what;
}

std::vector<std::int64_t> iota(std::int64_t n, std::int64_t from = 0) {
  std::vector<std::int64_t> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(from + i);
  return v;
}

std::vector<std::int64_t> heads_rows(const std::vector<std::int64_t>& heads, std::int64_t hd) {
  std::vector<std::int64_t> v;
  for (std::int64_t h : heads)
    for (std::int64_t r = 0; r < hd; ++r) v.push_back(h * hd + r);
  return v;
}

TEST(PrunedCheckpoint, LlamaGqaSlicesAreTheSourceBytes) {
  TempDir tmp;
  const CheckpointConfig c = small_llama();  // 64 wide, 96 channels, 4 heads in 2 groups, 3 layers
  write_synthetic_checkpoint(tmp / "src", c, {Dtype::BF16, 1, kSeed});
  const HfCheckpoint src = HfCheckpoint::open(tmp / "src");
  PruneKeep keep(3);
  keep[0].kv_groups = {1};
  keep[0].ffn_channels = {0, 5, 17, 40, 41, 42, 90, 95};
  keep[1].dropped = true;
  keep[2].kv_groups = {0, 1};
  for (std::int64_t ch = 0; ch < 96; ch += 2) keep[2].ffn_channels.push_back(ch);
  write_pruned_checkpoint(src, keep, tmp / "out");
  EXPECT_FALSE(fs::exists(tmp / ("out.tmp." + std::to_string(::getpid()))));
  const HfCheckpoint out = HfCheckpoint::open(tmp / "out");
  const CheckpointConfig& r = out.config();
  EXPECT_EQ(r.layers, 2);
  EXPECT_EQ(r.layer(0), (CheckpointLayer{2, 1, 8}));
  EXPECT_EQ(r.layer(1), (CheckpointLayer{4, 2, 48}));
  EXPECT_EQ(r.head_dim, 16);
  EXPECT_EQ(r.heads, 2);
  EXPECT_EQ(r.intermediate, 8);
  EXPECT_EQ(out.dtypes(), std::vector<Dtype>{Dtype::BF16});
  // Kept count: embedding and head 2 x 100 x 64, final norm 64; layer 0: q, o 2 x 32 x 64, k, v
  // 2 x 16 x 64, SwiGLU 3 x 8 x 64, norms 2 x 64; layer 1 (source layer 2): 4 heads, 48 channels.
  const std::int64_t l0 = 2 * 32 * 64 + 2 * 16 * 64 + 3 * 8 * 64 + 2 * 64;
  const std::int64_t l1 = 2 * 64 * 64 + 2 * 32 * 64 + 3 * 48 * 64 + 2 * 64;
  EXPECT_EQ(out.num_params(), 2 * 100 * 64 + l0 + l1 + 64);
  EXPECT_EQ(out.num_params(), checkpoint_config_params(pruned_config(c, keep)));
  EXPECT_EQ(checkpoint_arch(r, out.num_params()).params, out.num_params());

  // Group 1 of layer 0 = query heads 2, 3 (rows 32..63), key/value head 1 (rows 16..31).
  const std::vector<std::int64_t> all = iota(64);
  const std::vector<std::int64_t> q0 = heads_rows({2, 3}, 16), kv0 = heads_rows({1}, 16);
  expect_slice(out.attention(0, AttnMatrix::Q), src.attention(0, AttnMatrix::Q), q0, all, "q0");
  expect_slice(out.attention(0, AttnMatrix::K), src.attention(0, AttnMatrix::K), kv0, all, "k0");
  expect_slice(out.attention(0, AttnMatrix::V), src.attention(0, AttnMatrix::V), kv0, all, "v0");
  expect_slice(out.attention(0, AttnMatrix::O), src.attention(0, AttnMatrix::O), all, q0, "o0");
  const auto& ch0 = keep[0].ffn_channels;
  expect_slice(out.ffn(0, FfnMatrix::Gate), src.ffn(0, FfnMatrix::Gate), ch0, all, "gate0");
  expect_slice(out.ffn(0, FfnMatrix::Up), src.ffn(0, FfnMatrix::Up), ch0, all, "up0");
  expect_slice(out.ffn(0, FfnMatrix::Down), src.ffn(0, FfnMatrix::Down), all, ch0, "down0");
  // Output layer 1 is source layer 2 (layer 1 dropped): all heads, every other channel.
  expect_slice(out.attention(1, AttnMatrix::Q), src.attention(2, AttnMatrix::Q), all, all, "q1");
  expect_slice(out.attention(1, AttnMatrix::K), src.attention(2, AttnMatrix::K), iota(32), all,
               "k1");
  const auto& ch1 = keep[2].ffn_channels;
  expect_slice(out.ffn(1, FfnMatrix::Up), src.ffn(2, FfnMatrix::Up), ch1, all, "up1");
  expect_slice(out.ffn(1, FfnMatrix::Down), src.ffn(2, FfnMatrix::Down), all, ch1, "down1");
  EXPECT_EQ(out.tensor("model.layers.1.input_layernorm.weight").to_doubles(),
            src.tensor("model.layers.2.input_layernorm.weight").to_doubles());
  // Untouched tensors are the same bytes.
  const TensorView &e = out.tensor("model.embed_tokens.weight"),
                   &se = src.tensor("model.embed_tokens.weight");
  ASSERT_EQ(e.bytes, se.bytes);
  EXPECT_EQ(std::memcmp(e.data, se.data, e.bytes), 0);
  EXPECT_EQ(
      std::memcmp(out.tensor("lm_head.weight").data, src.tensor("lm_head.weight").data, se.bytes),
      0);

  // Nothing pruned: the same checkpoint, tensor for tensor.
  PruneKeep full(3);
  for (LayerKeep& k : full) {
    k.kv_groups = {0, 1};
    k.ffn_channels = iota(96);
  }
  write_pruned_checkpoint(src, full, tmp / "full");
  const HfCheckpoint same = HfCheckpoint::open(tmp / "full");
  EXPECT_TRUE(same.config().per_layer.empty());
  ASSERT_EQ(same.weights().size(), src.weights().size());
  for (std::size_t i = 0; i < src.weights().size(); ++i) {
    EXPECT_EQ(same.weights()[i]->name, src.weights()[i]->name);
    ASSERT_EQ(same.weights()[i]->bytes, src.weights()[i]->bytes);
    EXPECT_EQ(std::memcmp(same.weights()[i]->data, src.weights()[i]->data, src.weights()[i]->bytes),
              0)
        << src.weights()[i]->name;
  }
  // A uniform pruning keeps to the standard fields (transformers' count agrees).
  PruneKeep half = full;
  for (LayerKeep& k : half) {
    k.kv_groups = {0};
    k.ffn_channels = iota(48, 48);
  }
  write_pruned_checkpoint(src, half, tmp / "half");
  const HfCheckpoint h = HfCheckpoint::open(tmp / "half");
  EXPECT_TRUE(h.config().per_layer.empty());
  EXPECT_EQ(h.config().heads, 2);
  EXPECT_EQ(hf_config_params(checkpoint_config_json(h.config())), h.num_params());
}

TEST(PrunedCheckpoint, Gpt2Conv1DAndCAttnThirdsSliced) {
  TempDir tmp;
  const CheckpointConfig c = small_gpt2();  // 32 wide, 80 channels, 4 heads of 8, 2 layers
  write_synthetic_checkpoint(tmp / "src", c, {Dtype::F16, 1, kSeed, true, true});
  const HfCheckpoint src = HfCheckpoint::open(tmp / "src");
  PruneKeep keep(2);
  keep[0].kv_groups = {0, 2};
  keep[0].ffn_channels = {1, 3, 8, 9, 10, 11, 12, 79};
  keep[1].kv_groups = {3};
  keep[1].ffn_channels = iota(16, 64);
  write_pruned_checkpoint(src, keep, tmp / "out");
  const HfCheckpoint out = HfCheckpoint::open(tmp / "out");
  const CheckpointConfig& r = out.config();
  EXPECT_EQ(r.layer(0), (CheckpointLayer{2, 2, 8}));
  EXPECT_EQ(r.layer(1), (CheckpointLayer{1, 1, 16}));
  EXPECT_EQ(r.head_dim, 8);
  EXPECT_EQ(out.tensor("h.0.attn.c_attn.weight").shape, (std::vector<std::int64_t>{32, 48}));
  EXPECT_EQ(out.tensor("h.1.attn.c_proj.weight").shape, (std::vector<std::int64_t>{8, 32}));
  EXPECT_EQ(out.dtypes(), std::vector<Dtype>{Dtype::F16});
  const std::int64_t D = 32;
  const auto block = [&](std::int64_t A, std::int64_t I) {
    return 4 * D + (D * 3 * A + 3 * A) + (A * D + D) + (D * I + I) + (I * D + D);
  };
  EXPECT_EQ(out.num_params(), 50 * D + 1024 * D + block(16, 8) + block(8, 16) + 2 * D);
  EXPECT_EQ(out.num_params(), checkpoint_config_params(pruned_config(c, keep)));

  const std::vector<std::int64_t> all = iota(D);
  const std::vector<std::int64_t> h0 = heads_rows({0, 2}, 8), h1 = heads_rows({3}, 8);
  for (AttnMatrix m : {AttnMatrix::Q, AttnMatrix::K, AttnMatrix::V}) {
    expect_slice(out.attention(0, m), src.attention(0, m), h0, all, "qkv0");
    expect_slice(out.attention(1, m), src.attention(1, m), h1, all, "qkv1");
  }
  expect_slice(out.attention(0, AttnMatrix::O), src.attention(0, AttnMatrix::O), all, h0, "o0");
  expect_slice(out.attention(1, AttnMatrix::O), src.attention(1, AttnMatrix::O), all, h1, "o1");
  expect_slice(out.ffn(0, FfnMatrix::Up), src.ffn(0, FfnMatrix::Up), keep[0].ffn_channels, all,
               "fc0");
  expect_slice(out.ffn(1, FfnMatrix::Down), src.ffn(1, FfnMatrix::Down), all, keep[1].ffn_channels,
               "proj1");
  // Biases: c_attn's kept outputs in each third, c_fc's kept channels, c_proj's whole.
  const TensorView &b = out.tensor("h.1.attn.c_attn.bias"),
                   &sb = src.tensor("h.1.attn.c_attn.bias");
  ASSERT_EQ(b.numel(), 24);
  for (int third = 0; third < 3; ++third)
    for (int i = 0; i < 8; ++i) EXPECT_EQ(b.at(third * 8 + i), sb.at(third * 32 + 24 + i));
  const TensorView& fb = out.tensor("h.0.mlp.c_fc.bias");
  for (std::size_t k = 0; k < keep[0].ffn_channels.size(); ++k)
    EXPECT_EQ(fb.at(std::int64_t(k)), src.tensor("h.0.mlp.c_fc.bias").at(keep[0].ffn_channels[k]));
  EXPECT_EQ(out.tensor("h.0.mlp.c_proj.bias").to_doubles(),
            src.tensor("h.0.mlp.c_proj.bias").to_doubles());
  EXPECT_EQ(checkpoint_arch(r, out.num_params()).encoding, "GPT-d32-hd8|h2-ff8|h1-ff16");
}

TEST(PrunedCheckpoint, BadKeepOrAnExistingFolderIsOneLineAndWritesNothing) {
  TempDir tmp;
  write_synthetic_checkpoint(tmp / "src", small_llama(), {Dtype::F32, 1, kSeed});
  const HfCheckpoint src = HfCheckpoint::open(tmp / "src");
  PruneKeep ok(3);
  for (LayerKeep& k : ok) {
    k.kv_groups = {0};
    k.ffn_channels = {0, 1};
  }
  const auto fails = [&](PruneKeep keep, const std::string& dir, const std::string& part) {
    expect_input_error([&] { write_pruned_checkpoint(src, keep, tmp / dir); }, {part});
  };
  fails(PruneKeep(2, ok[0]), "a", "pruning: 2 layer entries for a 3-layer checkpoint");
  PruneKeep k = ok;
  k[1].kv_groups = {2};
  fails(k, "a", "pruning: layer 1: key/value groups: index 2 at position 0");
  k = ok;
  k[2].ffn_channels = {5, 5};
  fails(k, "a", "layer 2: feed-forward channels: index 5 at position 1: expected ascending");
  k = ok;
  k[0].ffn_channels.clear();
  fails(k, "a", "layer 0: feed-forward channels: none kept");
  k = ok;
  for (LayerKeep& l : k) l.dropped = true;
  fails(k, "a", "every layer dropped");
  EXPECT_FALSE(fs::exists(tmp / "a"));
  fs::create_directories(tmp / "b");
  write_bytes(tmp / "b/x", "x");
  fails(ok, "b", "b: exists");
  EXPECT_EQ(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()), 2);
}

}  // namespace
}  // namespace zerolm
