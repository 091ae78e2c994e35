// Files every layer writes and reads at its boundary: the one all-or-nothing writer (results,
// run files, checkpoints, exports) and the one opener of input files that refuses what is not a
// regular file. It lives beside errors.h, at the bottom of the dependency order, because writers
// of every layer (checkpoints/, train/, rundir/, report/) use it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace zerolm {

// A file written under a temporary name in the same folder and renamed into place by commit(),
// after its data reached the disk (fsync), followed by the folder's entry: readers see the old
// file or the whole new one, never part of it, even after a crash or a power cut. Without
// commit() (an exception on the way) the temporary is removed. Errors are IoError naming `path`.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, std::size_t n);  // retried on short writes
  void write(const std::string& text) { write(text.data(), text.size()); }
  void commit();

 private:
  std::string path_, tmp_;
  int fd_ = -1;
};

// The whole of `content` through AtomicFile; "-" writes to standard output.
void write_file_atomic(const std::string& path, const std::string& content);

// The folder of a path: "a/b" -> "a", "b" -> ".", "/b" -> "/".
std::string folder_of(const std::string& path);

// Opens `path` for reading if it is a regular file (a FIFO would block the open forever) and
// gives its size; throws InputError "<path>: not a regular file (expected <expected>)" or
// IoError. The caller closes the descriptor.
int open_regular_file(const std::string& path, const std::string& expected, std::uint64_t* size);

}  // namespace zerolm
