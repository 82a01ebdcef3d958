#include "io/spill_file.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <utility>

#include "io/codec.h"

namespace convcorr::io {

namespace {

// Full pwrite/pread: false (errno set) when the call fails or makes no
// progress.
bool WriteAll(int fd, const std::byte* p, size_t n, off_t offset) {
  while (n > 0) {
    const ssize_t done = pwrite(fd, p, n, offset);
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) {
      if (done == 0) errno = ENOSPC;
      return false;
    }
    p += done;
    n -= static_cast<size_t>(done);
    offset += done;
  }
  return true;
}

bool ReadAll(int fd, std::byte* p, size_t n, off_t offset) {
  while (n > 0) {
    const ssize_t done = pread(fd, p, n, offset);
    if (done < 0 && errno == EINTR) continue;
    if (done < 0) return false;
    if (done == 0) {  // past the end: never written, so zero
      std::memset(p, 0, n);
      return true;
    }
    p += done;
    n -= static_cast<size_t>(done);
    offset += done;
  }
  return true;
}

}  // namespace

SpillFile::SpillFile(const std::filesystem::path& dir, size_t bytes,
                     uint64_t reserve)
    : size_(bytes), dir_(dir.empty() ? std::string(".") : dir.string()) {
  if (FileFits(reserve)) {
    fd_ = open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  }
  if (fd_ < 0) memory_ = core::LargeBuffer(size_);
}

bool SpillFile::FileFits(uint64_t reserve) const {
  rlimit limit{};
  if (getrlimit(RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY &&
      limit.rlim_cur < size_) {
    return false;
  }
  struct statvfs fs {};
  if (statvfs(dir_.c_str(), &fs) != 0) return false;
  const uint64_t free_bytes =
      static_cast<uint64_t>(fs.f_bavail) * static_cast<uint64_t>(fs.f_frsize);
  return free_bytes >= reserve && free_bytes - reserve >= size_;
}

void SpillFile::Release(size_t offset, size_t n) {
  Check(offset, n);
  if (fd_ < 0 || n == 0) return;
  // A hint: where holes cannot be punched, the space waits for the close.
  (void)fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  static_cast<off_t>(offset), static_cast<off_t>(n));
}

SpillFile::~SpillFile() {
  if (fd_ >= 0) close(fd_);
}

void SpillFile::Check(size_t offset, size_t n) const {
  if (offset > size_ || n > size_ - offset) {
    throw std::out_of_range("SpillFile: bytes past the record's size");
  }
}

void SpillFile::Write(size_t offset, const void* src, size_t n) {
  Check(offset, n);
  if (fd_ >= 0) {
    if (WriteAll(fd_, static_cast<const std::byte*>(src), n,
                 static_cast<off_t>(offset))) {
      written_ = std::max(written_, offset + n);
      return;
    }
    ToMemory();
  }
  std::memcpy(memory_.data() + offset, src, n);
}

void SpillFile::Read(size_t offset, void* dst, size_t n) const {
  Check(offset, n);
  if (fd_ < 0) {
    std::memcpy(dst, memory_.data() + offset, n);
    return;
  }
  if (!ReadAll(fd_, static_cast<std::byte*>(dst), n,
               static_cast<off_t>(offset))) {
    Fail();
  }
}

void SpillFile::Fail() const {
  const int err = errno;
  ThrowOutput(dir_,
              "cannot read back the temporary record of the difference (" +
                  ErrnoText(err) + ")");
}

void SpillFile::ToMemory() {
  core::LargeBuffer memory(size_);
  if (!ReadAll(fd_, memory.data(), written_, 0)) Fail();
  close(fd_);
  fd_ = -1;
  memory_ = std::move(memory);
}

}  // namespace convcorr::io
