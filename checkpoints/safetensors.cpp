#include "checkpoints/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

namespace zerolm {

namespace {

// The format is little-endian; so are the hosts we build for (x86-64, AArch64).
static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE float and double expected");

// The reference implementation's limit: a larger header is a corrupt or hostile file.
constexpr std::uint64_t kMaxHeader = 100'000'000;

struct DtypeInfo {
  Dtype dtype;
  const char* name;
  std::size_t size;
};
constexpr DtypeInfo kDtypes[] = {
    {Dtype::BOOL, "BOOL", 1}, {Dtype::U8, "U8", 1},     {Dtype::I8, "I8", 1},
    {Dtype::I16, "I16", 2},   {Dtype::U16, "U16", 2},   {Dtype::I32, "I32", 4},
    {Dtype::U32, "U32", 4},   {Dtype::I64, "I64", 8},   {Dtype::U64, "U64", 8},
    {Dtype::F16, "F16", 2},   {Dtype::BF16, "BF16", 2}, {Dtype::F32, "F32", 4},
    {Dtype::F64, "F64", 8}};

const DtypeInfo& info(Dtype d) {
  for (const DtypeInfo& i : kDtypes)
    if (i.dtype == d) return i;
  throw std::logic_error("unknown Dtype");
}

template <class T>
T load(const unsigned char* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // the data section need not be aligned
  return v;
}

float bits_to_float(std::uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
std::uint32_t float_bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

constexpr std::size_t size_of(Dtype d) {
  switch (d) {
    case Dtype::BOOL:
    case Dtype::U8:
    case Dtype::I8:
      return 1;
    case Dtype::I16:
    case Dtype::U16:
    case Dtype::F16:
    case Dtype::BF16:
      return 2;
    case Dtype::I32:
    case Dtype::U32:
    case Dtype::F32:
      return 4;
    default:
      return 8;
  }
}

// One element of dtype D at p, as Out.
template <Dtype D, class Out>
Out element(const unsigned char* p) {
  if constexpr (D == Dtype::BOOL) return Out(*p != 0);
  if constexpr (D == Dtype::U8) return Out(*p);
  if constexpr (D == Dtype::I8) return Out(static_cast<std::int8_t>(*p));
  if constexpr (D == Dtype::I16) return Out(load<std::int16_t>(p));
  if constexpr (D == Dtype::U16) return Out(load<std::uint16_t>(p));
  if constexpr (D == Dtype::I32) return Out(load<std::int32_t>(p));
  if constexpr (D == Dtype::U32) return Out(load<std::uint32_t>(p));
  if constexpr (D == Dtype::I64) return Out(load<std::int64_t>(p));
  if constexpr (D == Dtype::U64) return Out(load<std::uint64_t>(p));
  if constexpr (D == Dtype::F16) return Out(f16_to_float(load<std::uint16_t>(p)));
  if constexpr (D == Dtype::BF16) return Out(bf16_to_float(load<std::uint16_t>(p)));
  if constexpr (D == Dtype::F32) return Out(load<float>(p));
  if constexpr (D == Dtype::F64) return Out(load<double>(p));
}

// The dtype switch outside the loop: one tight loop per dtype.
template <Dtype D, class Out>
void gather_as(const unsigned char* p, std::int64_t count, std::int64_t stride, Out* out) {
  constexpr std::size_t size = size_of(D);
  const std::ptrdiff_t step = std::ptrdiff_t(stride) * std::ptrdiff_t(size);
  for (std::int64_t i = 0; i < count; ++i, p += step) out[i] = element<D, Out>(p);
}

template <class Out>
void gather_any(const TensorView& t, std::int64_t first, std::int64_t count, std::int64_t stride,
                Out* out) {
  if (count <= 0) return;
  const std::int64_t n = t.numel();
  const std::int64_t last = first + (count - 1) * stride;
  if (first < 0 || first >= n || last < 0 || last >= n)
    throw std::out_of_range("tensor " + printable(t.name) + ": elements " + std::to_string(first) +
                            " to " + std::to_string(last) + " outside its " + std::to_string(n));
  const unsigned char* p = t.data + std::size_t(first) * dtype_size(t.dtype);
  switch (t.dtype) {
#define ZEROLM_GATHER(D)                        \
  case Dtype::D:                                \
    gather_as<Dtype::D>(p, count, stride, out); \
    return;
    ZEROLM_GATHER(BOOL)
    ZEROLM_GATHER(U8)
    ZEROLM_GATHER(I8)
    ZEROLM_GATHER(I16)
    ZEROLM_GATHER(U16)
    ZEROLM_GATHER(I32)
    ZEROLM_GATHER(U32)
    ZEROLM_GATHER(I64)
    ZEROLM_GATHER(U64)
    ZEROLM_GATHER(F16)
    ZEROLM_GATHER(BF16)
    ZEROLM_GATHER(F32)
    ZEROLM_GATHER(F64)
#undef ZEROLM_GATHER
  }
}

std::string num(std::uint64_t v) {
  return std::to_string(v);
}

// a * b, false on overflow of 64 bits.
bool mul(std::uint64_t a, std::uint64_t b, std::uint64_t& out) {
  if (a != 0 && b > std::numeric_limits<std::uint64_t>::max() / a) return false;
  out = a * b;
  return true;
}

// A non-negative integer of the header, or InputError naming `what`.
std::uint64_t header_uint(const nlohmann::json& v, const std::string& what) {
  if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<std::int64_t>() >= 0))
    throw InputError(what + ": expected a non-negative integer, got " + printable(v.dump(), 80));
  return v.get<std::uint64_t>();
}

}  // namespace

std::string dtype_name(Dtype d) {
  return info(d).name;
}
std::size_t dtype_size(Dtype d) {
  return info(d).size;
}
bool parse_dtype(std::string_view name, Dtype& out) {
  for (const DtypeInfo& i : kDtypes)
    if (name == i.name) {
      out = i.dtype;
      return true;
    }
  return false;
}
std::string dtype_names() {
  std::string s;
  for (const DtypeInfo& i : kDtypes) s += (s.empty() ? "" : ", ") + std::string(i.name);
  return s;
}
bool is_floating(Dtype d) {
  return d == Dtype::F16 || d == Dtype::BF16 || d == Dtype::F32 || d == Dtype::F64;
}

float f16_to_float(std::uint16_t h) {
  const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
  const std::uint32_t exp = (h >> 10) & 0x1fu;
  std::uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return bits_to_float(sign | 0x7f800000u | (mant << 13));  // inf, NaN
  if (exp != 0) return bits_to_float(sign | ((exp - 15 + 127) << 23) | (mant << 13));
  if (mant == 0) return bits_to_float(sign);  // signed zero
  // Subnormal half: mant x 2^-24; normalise so the leading one becomes the implicit bit.
  int e = -14;
  while ((mant & 0x400u) == 0) {
    mant <<= 1;
    --e;
  }
  return bits_to_float(sign | std::uint32_t(e + 127) << 23 | ((mant & 0x3ffu) << 13));
}

std::uint16_t float_to_f16(float value) {
  const std::uint32_t f = float_bits(value);
  const std::uint16_t sign = std::uint16_t((f >> 16) & 0x8000u);
  const std::uint32_t exp = (f >> 23) & 0xffu;
  const std::uint32_t mant = f & 0x7fffffu;
  if (exp == 0xff)  // inf stays inf; NaN stays NaN (quiet, top payload bits kept)
    return std::uint16_t(sign | 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0u));
  const int e = int(exp) - 127 + 15;                    // the half exponent
  if (e >= 0x1f) return std::uint16_t(sign | 0x7c00u);  // overflow: infinity
  if (e <= 0) {
    // Subnormal half (or zero): the significand with its implicit bit, shifted right by 1 - e
    // more places; below half the smallest subnormal, it rounds to zero.
    if (e < -10) return sign;
    const std::uint32_t m = mant | 0x800000u;
    const int shift = 14 - e;  // 13 for the mantissa width difference, 1 - e for the exponent
    std::uint32_t r = m >> shift;
    const std::uint32_t rest = m & ((1u << shift) - 1), half = 1u << (shift - 1);
    if (rest > half || (rest == half && (r & 1u))) ++r;  // may carry into the smallest normal
    return std::uint16_t(sign | r);
  }
  std::uint32_t r = (std::uint32_t(e) << 10) | (mant >> 13);
  const std::uint32_t rest = mant & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (r & 1u))) ++r;  // a carry may reach infinity: right
  return std::uint16_t(sign | r);
}

float bf16_to_float(std::uint16_t bits) {
  return bits_to_float(std::uint32_t(bits) << 16);
}

std::uint16_t float_to_bf16(float value) {
  const std::uint32_t f = float_bits(value);
  if ((f & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((f >> 16) | 0x40u);  // quiet NaN
  const std::uint32_t rounding = 0x7fffu + ((f >> 16) & 1u);                     // ties to even
  return std::uint16_t((f + rounding) >> 16);
}

float round_to_dtype(float value, Dtype d) {
  if (d == Dtype::F16) return f16_to_float(float_to_f16(value));
  if (d == Dtype::BF16) return bf16_to_float(float_to_bf16(value));
  return value;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

std::int64_t TensorView::numel() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

std::int64_t TensorView::rows() const {
  if (shape.size() != 2)
    throw InputError("tensor " + printable(name) + ": shape " + shape_text(shape) +
                     ": expected a matrix");
  return shape[0];
}
std::int64_t TensorView::cols() const {
  if (shape.size() != 2)
    throw InputError("tensor " + printable(name) + ": shape " + shape_text(shape) +
                     ": expected a matrix");
  return shape[1];
}

void TensorView::gather(std::int64_t first, std::int64_t count, std::int64_t stride,
                        double* out) const {
  gather_any(*this, first, count, stride, out);
}
void TensorView::gather(std::int64_t first, std::int64_t count, std::int64_t stride,
                        float* out) const {
  gather_any(*this, first, count, stride, out);
}

double TensorView::at(std::int64_t index) const {
  double v;
  gather(index, 1, 1, &v);
  return v;
}

std::vector<double> TensorView::to_doubles() const {
  std::vector<double> v(static_cast<std::size_t>(numel()));
  to_double(0, numel(), v.data());
  return v;
}

namespace {

// An empty tensor's other extent may be anything the header says (no data bounds it): the index
// is checked before a buffer of that extent is allocated.
void check_index(const TensorView& t, const char* what, std::int64_t i, std::int64_t n) {
  if (i < 0 || i >= n)
    throw std::out_of_range("tensor " + printable(t.name) + ": " + what + " " + std::to_string(i) +
                            " of " + std::to_string(n));
}

}  // namespace

void TensorView::row(std::int64_t r, double* out) const {
  const std::int64_t c = cols();
  check_index(*this, "row", r, rows());
  gather(r * c, c, 1, out);
}
std::vector<double> TensorView::row(std::int64_t r) const {
  check_index(*this, "row", r, rows());
  std::vector<double> v(static_cast<std::size_t>(cols()));
  row(r, v.data());
  return v;
}
void TensorView::column(std::int64_t c, double* out) const {
  check_index(*this, "column", c, cols());
  gather(c, rows(), cols(), out);
}
std::vector<double> TensorView::column(std::int64_t c) const {
  check_index(*this, "column", c, cols());
  std::vector<double> v(static_cast<std::size_t>(rows()));
  column(c, v.data());
  return v;
}

SafetensorsFile::SafetensorsFile(SafetensorsFile&& o) noexcept
    : path_(std::move(o.path_)),
      map_(std::exchange(o.map_, nullptr)),
      size_(std::exchange(o.size_, 0)),
      header_(o.header_),
      tensors_(std::move(o.tensors_)),
      index_(std::move(o.index_)),
      metadata_(std::move(o.metadata_)) {}

SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&& o) noexcept {
  if (this != &o) {
    if (map_) ::munmap(map_, size_);
    path_ = std::move(o.path_);
    map_ = std::exchange(o.map_, nullptr);
    size_ = std::exchange(o.size_, 0);
    header_ = o.header_;
    tensors_ = std::move(o.tensors_);
    index_ = std::move(o.index_);
    metadata_ = std::move(o.metadata_);
  }
  return *this;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  SafetensorsFile f;
  f.path_ = path;
  // The path may come from an index file: escaped wherever it is shown.
  const std::string shown = printable(path);
  std::uint64_t size = 0;
  const int fd = open_regular_file(path, "a safetensors file", &size);
  if (size < 8) {
    ::close(fd);
    throw InputError(shown + ": " + num(size) +
                     " bytes: too short for a safetensors file (expected an 8-byte header "
                     "length, a JSON header and the data)");
  }
  // Read-only and shared: the pages are the page cache's, common to every process mapping the
  // file; nothing is read until touched.
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  const int err = errno;
  ::close(fd);  // the mapping keeps the file
  if (map == MAP_FAILED) {
    errno = err;
    throw io_error(shown, "cannot map into memory");
  }
  f.map_ = map;
  f.size_ = size;
  const auto* base = static_cast<const unsigned char*>(map);

  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | base[i];
  if (n > size - 8)
    throw InputError(shown + ": header length " + num(n) + " is longer than the file (" +
                     num(size - 8) + " bytes after the 8-byte length): truncated file or not " +
                     "a safetensors file?");
  if (n > kMaxHeader)
    throw InputError(shown + ": header length " + num(n) + " is over the 100 MB limit of the " +
                     "format: corrupt file?");
  f.header_ = std::size_t(n);
  const std::uint64_t data_size = size - 8 - n;
  const auto* data = base + 8 + n;

  nlohmann::json header;
  try {
    header = nlohmann::json::parse(base + 8, base + 8 + n);
  } catch (const nlohmann::json::exception& e) {
    // The parser's message quotes the bytes it stopped at, which may be anything.
    throw InputError(shown + ": header is not valid JSON (" + printable(e.what()) + ")");
  }
  if (!header.is_object())
    throw InputError(shown + ": header is " + std::string(header.type_name()) +
                     " JSON: expected an object of tensors");

  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& e = it.value();
    if (name == "__metadata__") {
      if (!e.is_object()) throw InputError(shown + ": __metadata__: expected an object of strings");
      for (auto m = e.begin(); m != e.end(); ++m) {
        if (!m->is_string())
          throw InputError(shown + ": __metadata__: value of " + quoted_input(m.key()) +
                           ": expected a string, got " + printable(m->dump(), 80));
        f.metadata_[m.key()] = m->get<std::string>();
      }
      continue;
    }
    const std::string where = shown + ": tensor " + printable(name);
    if (!e.is_object())
      throw InputError(where + ": expected an object with dtype, shape and data_offsets");
    const auto dt = e.find("dtype"), sh = e.find("shape"), off = e.find("data_offsets");
    if (dt == e.end() || !dt->is_string())
      throw InputError(where + ": expected a \"dtype\" string");
    TensorView t;
    t.name = name;
    if (!parse_dtype(dt->get<std::string>(), t.dtype))
      throw InputError(where + ": dtype " + printable(dt->get<std::string>(), 40) +
                       " is a dtype we do not read (expected one of " + dtype_names() + ")");
    if (sh == e.end() || !sh->is_array()) throw InputError(where + ": expected a \"shape\" array");
    // Every partial product stays an int64: numel() and the accessors multiply extents as such.
    constexpr std::uint64_t kMaxExtent = std::uint64_t(std::numeric_limits<std::int64_t>::max());
    std::uint64_t numel = 1;
    for (const auto& d : *sh) {
      const std::uint64_t v = header_uint(d, where + ": shape");
      if (v > kMaxExtent || !mul(numel, v, numel) || numel > kMaxExtent)
        throw InputError(where + ": shape " + printable(sh->dump(), 80) + " is too large");
      t.shape.push_back(std::int64_t(v));
    }
    if (off == e.end() || !off->is_array() || off->size() != 2)
      throw InputError(where + ": expected \"data_offsets\": [begin, end]");
    const std::uint64_t begin = header_uint((*off)[0], where + ": data offset begin");
    const std::uint64_t end = header_uint((*off)[1], where + ": data offset end");
    const std::string offsets = "data offsets [" + num(begin) + ", " + num(end) + "]";
    std::uint64_t bytes = 0;
    if (!mul(numel, dtype_size(t.dtype), bytes))
      throw InputError(where + ": shape " + shape_text(t.shape) + " is too large");
    if (end < begin) throw InputError(where + ": " + offsets + " end before they begin");
    if (end - begin != bytes)
      throw InputError(where + ": " + offsets + " hold " + num(end - begin) + " bytes, shape " +
                       shape_text(t.shape) + " of " + dtype_name(t.dtype) + " needs " + num(bytes));
    t.bytes = std::size_t(bytes);
    t.offset = std::size_t(begin);
    f.tensors_.push_back(std::move(t));
  }

  // The data section is the tensors back to back, in some order: no overlap, no hole, nothing
  // after the last one.
  std::stable_sort(f.tensors_.begin(), f.tensors_.end(),
                   [](const TensorView& a, const TensorView& b) {
                     return a.offset != b.offset ? a.offset < b.offset : a.bytes < b.bytes;
                   });
  std::size_t at = 0;
  const TensorView* prev = nullptr;
  for (TensorView& t : f.tensors_) {
    const std::string offsets =
        "data offsets [" + num(t.offset) + ", " + num(t.offset + t.bytes) + "]";
    if (t.offset + t.bytes > data_size)
      throw InputError(shown + ": tensor " + printable(t.name) + ": " + offsets +
                       " end past the file's data section (" + num(data_size) +
                       " bytes): truncated file?");
    t.data = data + t.offset;
    if (t.offset < at)
      throw InputError(shown + ": tensor " + printable(t.name) + ": " + offsets +
                       " overlap tensor " + printable(prev->name) + "'s [" + num(prev->offset) +
                       ", " + num(prev->offset + prev->bytes) + "]");
    if (t.offset > at)
      throw InputError(shown + ": tensor " + printable(t.name) + ": " + offsets +
                       " leave a hole of " + num(t.offset - at) + " bytes after " +
                       (prev ? "tensor " + printable(prev->name) : std::string("the header")));
    at = t.offset + t.bytes;
    prev = &t;
  }
  if (at != data_size)
    throw InputError(
        shown + ": " + num(data_size - at) + " bytes after " +
        (prev ? "the last tensor (" + printable(prev->name) + ")" : std::string("the header")) +
        " belong to no tensor: the data section has " + num(data_size) + " bytes, the tensors " +
        num(at));
  for (std::size_t i = 0; i < f.tensors_.size(); ++i) f.index_[f.tensors_[i].name] = i;
  return f;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
  const auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorView& SafetensorsFile::get(std::string_view name) const {
  if (const TensorView* t = find(name)) return *t;
  throw InputError(printable(path_) + ": tensor " + printable(name) + ": not in the file");
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::set<std::string> names;
  std::uint64_t offset = 0;
  for (const TensorToWrite& t : tensors) {
    const std::string where = printable(path) + ": tensor " + printable(t.name);
    if (t.name == "__metadata__" || !names.insert(t.name).second)
      throw InputError(where + ": the name is used twice (or is __metadata__)");
    const int sources =
        (t.values != nullptr) + bool(t.generate) + (t.raw != nullptr) + bool(t.stream);
    if (sources != 1)
      throw InputError(where + ": expected exactly one of values, generate, raw and stream");
    if (!t.raw && !t.stream && t.dtype != Dtype::F32 && t.dtype != Dtype::F16 &&
        t.dtype != Dtype::BF16)
      throw InputError(where + ": dtype " + dtype_name(t.dtype) +
                       ": float values are written as F32, F16 or BF16");
    std::int64_t n = 1;
    for (std::int64_t d : t.shape) {
      if (d < 0) throw InputError(where + ": negative extent in shape " + shape_text(t.shape));
      n *= d;
    }
    const std::uint64_t bytes = std::uint64_t(n) * dtype_size(t.dtype);
    header[t.name] = {{"dtype", dtype_name(t.dtype)},
                      {"shape", t.shape},
                      {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string text = header.dump();
  text.append((8 - (8 + text.size()) % 8) % 8, ' ');  // the data section starts 8-byte aligned
  unsigned char length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<unsigned char>(std::uint64_t(text.size()) >> (8 * i));

  AtomicFile out(path);
  out.write(length, 8);
  out.write(text.data(), text.size());
  // Converted in chunks: a tensor of billions of elements never exists as floats and bytes at once.
  constexpr std::int64_t kChunk = 1 << 20;
  std::vector<float> floats;
  std::vector<unsigned char> bytes;
  for (const TensorToWrite& t : tensors) {
    std::int64_t n = 1;
    for (std::int64_t d : t.shape) n *= d;
    const std::size_t size = dtype_size(t.dtype);
    if (t.raw) {
      out.write(t.raw, std::size_t(n) * size);
      continue;
    }
    if (t.stream) {
      std::size_t streamed = 0;
      t.stream([&](const void* b, std::size_t count) {
        out.write(b, count);
        streamed += count;
      });
      // The header already promised this many bytes: anything else would misplace every tensor
      // after this one.
      if (streamed != std::size_t(n) * size)
        throw std::logic_error(path + ": tensor " + t.name + ": streamed " +
                               std::to_string(streamed) + " bytes, expected " +
                               std::to_string(std::size_t(n) * size));
      continue;
    }
    for (std::int64_t first = 0; first < n; first += kChunk) {
      const std::int64_t count = std::min(kChunk, n - first);
      const float* v = t.values ? t.values + first : nullptr;
      if (!v) {
        floats.resize(std::size_t(count));
        t.generate(first, count, floats.data());
        v = floats.data();
      }
      bytes.resize(std::size_t(count) * size);
      unsigned char* b = bytes.data();
      if (t.dtype == Dtype::F32) {
        std::memcpy(b, v, std::size_t(count) * 4);
      } else {
        const bool half = t.dtype == Dtype::F16;
        for (std::int64_t i = 0; i < count; ++i) {
          const std::uint16_t h = half ? float_to_f16(v[i]) : float_to_bf16(v[i]);
          std::memcpy(b + 2 * i, &h, 2);
        }
      }
      out.write(b, bytes.size());
    }
  }
  out.commit();
}

}  // namespace zerolm
