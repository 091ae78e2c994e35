// The safetensors format (no LibTorch here): an 8-byte little-endian header length N, N bytes of
// JSON ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, ..., optional "__metadata__"}),
// then the data section, every tensor row-major and contiguous. A file is memory-mapped read-only
// and shared (MAP_SHARED), so that the ranks of one node share the page cache and a 7B checkpoint
// is never copied into each rank's memory: tensors are views into the mapping, and values are
// converted to float or double only in the ranges asked for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "spaces/errors.h"
#include "spaces/files.h"

namespace zerolm {

// The dtypes we read. The F8 variants (F8_E4M3, F8_E5M2, ...) are refused by name.
enum class Dtype { BOOL, U8, I8, I16, U16, I32, U32, I64, U64, F16, BF16, F32, F64 };

std::string dtype_name(Dtype d);  // "BF16"
std::size_t dtype_size(Dtype d);  // bytes per element
// False for a name we do not read ("F8_E4M3", "bf16": names are case-sensitive, as the format).
bool parse_dtype(std::string_view name, Dtype& out);
// "BOOL, U8, I8, ..., F64": for messages.
std::string dtype_names();
bool is_floating(Dtype d);  // F16, BF16, F32, F64

// IEEE half and bfloat16, converted bit by bit (no hardware or library conversion). To float:
// exact (every half and bfloat16 value is a float). From float: round to nearest, ties to even;
// overflow gives infinity, NaN stays NaN (quiet), signs of zero are kept, half subnormals exact.
float f16_to_float(std::uint16_t bits);
std::uint16_t float_to_f16(float value);
float bf16_to_float(std::uint16_t bits);
std::uint16_t float_to_bf16(float value);
// `value` as stored in F32, F16 or BF16 and read back (F64: unchanged).
float round_to_dtype(float value, Dtype d);

// One tensor of a mapped file: valid as long as its SafetensorsFile lives.
struct TensorView {
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;
  const unsigned char* data = nullptr;  // the first byte, in the mapping (not necessarily aligned)
  std::size_t bytes = 0;                // numel() * dtype_size(dtype)
  std::size_t offset = 0;               // of the first byte, from the start of the data section

  std::int64_t numel() const;
  std::int64_t rows() const;  // 2-D only: shape[0] (InputError naming the tensor otherwise)
  std::int64_t cols() const;  // 2-D only: shape[1]

  // Elements first, first + stride, ... (count of them) of the row-major data, converted
  // (integers: their value; BOOL: 0 or 1; I64/U64 beyond 2^53 rounded). The range must lie in
  // the tensor (std::out_of_range otherwise: a caller's bug, not the file's).
  void gather(std::int64_t first, std::int64_t count, std::int64_t stride, double* out) const;
  void gather(std::int64_t first, std::int64_t count, std::int64_t stride, float* out) const;
  void to_double(std::int64_t first, std::int64_t count, double* out) const {
    gather(first, count, 1, out);
  }
  void to_float(std::int64_t first, std::int64_t count, float* out) const {
    gather(first, count, 1, out);
  }
  double at(std::int64_t index) const;  // one element by flat index
  std::vector<double> to_doubles() const;

  // 2-D tensors: row r (cols() values, contiguous) and column c (rows() values, strided).
  void row(std::int64_t r, double* out) const;
  std::vector<double> row(std::int64_t r) const;
  void column(std::int64_t c, double* out) const;
  std::vector<double> column(std::int64_t c) const;
};

// "[4096, 11008]"
std::string shape_text(const std::vector<std::int64_t>& shape);

class SafetensorsFile {
 public:
  // Maps and validates the file; throws InputError (one line: the path, the tensor when one is
  // to blame, and what is wrong, with the file's bytes escaped) for a file that is not a valid
  // safetensors file: not a regular file (a FIFO is refused, never opened), too short, a header
  // length past the end or over 100 MB, invalid JSON, a malformed entry, a dtype we do not read,
  // extents whose product leaves int64, data offsets that disagree with the shape, lie past the
  // data section (truncated file), overlap or leave holes. IoError when the file cannot be opened
  // or mapped.
  static SafetensorsFile open(const std::string& path);

  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;
  ~SafetensorsFile();

  const std::string& path() const { return path_; }
  // In data-offset order (the order of the data section).
  const std::vector<TensorView>& tensors() const { return tensors_; }
  const TensorView* find(std::string_view name) const;  // nullptr when absent
  const TensorView& get(std::string_view name) const;   // InputError naming file and tensor
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  std::size_t file_size() const { return size_; }
  std::size_t header_size() const { return header_; }  // N, the JSON header's bytes
  std::size_t data_size() const { return size_ - 8 - header_; }

 private:
  SafetensorsFile() = default;
  std::string path_;
  void* map_ = nullptr;
  std::size_t size_ = 0;
  std::size_t header_ = 0;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::size_t, std::less<>> index_;  // name -> position in tensors_
  std::map<std::string, std::string> metadata_;
};

// One tensor for write_safetensors: its values come from exactly one of `values` (numel floats,
// converted to `dtype`, which must then be F32, F16 or BF16), `generate` (called with consecutive
// element ranges [first, first + count) to fill `out` with floats, same dtypes; for tensors too
// large to hold as floats) or `raw` (numel * dtype_size(dtype) bytes already in `dtype`, any
// dtype, copied as they are).
struct TensorToWrite {
  TensorToWrite(std::string name_, Dtype dtype_, std::vector<std::int64_t> shape_,
                const float* values_ = nullptr)
      : name(std::move(name_)), dtype(dtype_), shape(std::move(shape_)), values(values_) {}
  std::string name;
  Dtype dtype = Dtype::F32;
  std::vector<std::int64_t> shape;
  const float* values = nullptr;
  std::function<void(std::int64_t first, std::int64_t count, float* out)> generate;
  const void* raw = nullptr;
  // Or `stream`: called once with a sink, to which it hands the tensor's numel * dtype_size(dtype)
  // bytes in order, in pieces of any size (any dtype, as raw): for tensors assembled from slices
  // of others without holding them whole.
  using Sink = std::function<void(const void* bytes, std::size_t count)>;
  std::function<void(const Sink& sink)> stream;
};

// Writes a safetensors file: the header lists the tensors in the given order with consecutive
// data offsets, "__metadata__" first when `metadata` is not empty, padded with spaces so that the
// data section starts 8-byte aligned. Written to a temporary in the same folder, synced and
// renamed into place: never half-written. InputError for duplicate names or a tensor without
// exactly one source; IoError for a failed write.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace zerolm
