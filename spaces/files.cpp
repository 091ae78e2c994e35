#include "spaces/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <iostream>
#include <utility>

#include "spaces/errors.h"

namespace zerolm {

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  // The process id keeps two writers of one path (two ranks, two runs) off each other's
  // temporaries.
  tmp_ = path_ + ".tmp." + std::to_string(::getpid());
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    tmp_.clear();
    throw io_error(path_, "cannot write");
  }
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_.empty()) std::remove(tmp_.c_str());
}

void AtomicFile::write(const void* data, std::size_t n) {
  if (fd_ < 0) throw IoError(path_ + ": write after the file was committed");
  const auto* p = static_cast<const unsigned char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw io_error(path_, "write failed");
    }
    p += w;
    n -= std::size_t(w);
  }
}

void AtomicFile::commit() {
  // Data on the disk before the rename makes it visible: otherwise a crash can leave the new name
  // pointing at an empty file (ext4, xfs with delayed allocation).
  if (::fsync(fd_) != 0) throw io_error(path_, "write failed");
  if (::close(std::exchange(fd_, -1)) != 0) throw io_error(path_, "write failed");
  if (std::rename(tmp_.c_str(), path_.c_str()) != 0)
    throw io_error(path_, "cannot rename the temporary file into place");
  tmp_.clear();
  // The rename itself is durable once the folder is synced; best effort (not every file system
  // can sync a directory).
  const int dir = ::open(folder_of(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);
    ::close(dir);
  }
}

void write_file_atomic(const std::string& path, const std::string& content) {
  if (path == "-") {
    std::cout << content << std::flush;
    if (!std::cout) throw IoError("standard output: write failed");
    return;
  }
  AtomicFile f(path);
  f.write(content);
  f.commit();
}

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

int open_regular_file(const std::string& path, const std::string& expected, std::uint64_t* size) {
  const std::string shown = printable(path);
  const auto not_regular = [&] {
    return InputError(shown + ": not a regular file (expected " + expected + ")");
  };
  struct stat st {};
  // Opening a FIFO waits for a writer, forever: anything but a regular file is refused before it
  // is opened (O_NONBLOCK covers one swapped in after the stat).
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) throw not_regular();
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) throw io_error(shown, "cannot open");
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const int err = errno;
    const bool regular = S_ISREG(st.st_mode);
    ::close(fd);
    errno = err;
    if (!regular) throw not_regular();
    throw io_error(shown, "cannot read");
  }
  *size = std::uint64_t(st.st_size);
  return fd;
}

}  // namespace zerolm
