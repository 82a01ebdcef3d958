// A scratch record too large to be worth fresh memory: compare's signed
// difference (one float per pixel), written once band by band and read
// back in order for the heat map. It lives in an unnamed temporary file
// (O_TMPFILE: no name, so nothing is left behind by a crash or a signal)
// in the given directory, where the outputs go: writes and reads are
// copies into and out of the page cache, which cost a tenth of first
// touches of fresh memory on a virtual machine that shadows page tables
// (docs/performance.md, "Page faults"), and the record takes no room in
// the process (the kernel may write it out under memory pressure).
//
// When the directory cannot hold such a file (no O_TMPFILE support, no
// permission, less free space than the record and the room the caller
// reserves for its outputs, a file-size limit below the record) or a write
// fails (a full disk), the record moves to memory (core::LargeBuffer) with
// what was written so far, and the run goes on. Release gives back the
// disk space of bytes read for the last time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

#include "core/large_buffer.h"

namespace convcorr::io {

class SpillFile {
 public:
  // Room for `bytes` bytes, in `dir` (empty: the working directory),
  // which must keep `reserve` bytes free besides (the outputs' room).
  SpillFile(const std::filesystem::path& dir, size_t bytes,
            uint64_t reserve = 0);
  ~SpillFile();
  SpillFile(const SpillFile&) = delete;
  SpillFile& operator=(const SpillFile&) = delete;

  // Bytes [offset, offset + n) from `src`; throws std::out_of_range past
  // the size, std::bad_alloc if the file failed and memory has no room.
  void Write(size_t offset, const void* src, size_t n);
  // Bytes [offset, offset + n) into `dst`, as last written (zero where
  // nothing was); throws std::out_of_range past the size, or
  // Error(kOutput) naming the directory if the file cannot be read back.
  void Read(size_t offset, void* dst, size_t n) const;

  // Bytes [offset, offset + n) will not be read again: a file gives their
  // disk space back (a hole), memory keeps them.
  void Release(size_t offset, size_t n);

  // Whether the record is in a file (false: in memory).
  bool in_file() const { return fd_ >= 0; }
  size_t size() const { return size_; }

 private:
  // Moves the record into memory: the bytes written so far are read back.
  void ToMemory();
  void Check(size_t offset, size_t n) const;
  // Whether a file of size_ may go to dir_, `reserve` bytes kept free.
  bool FileFits(uint64_t reserve) const;
  [[noreturn]] void Fail() const;

  size_t size_;
  std::string dir_;
  size_t written_ = 0;  // bytes below this may have been written
  int fd_ = -1;
  core::LargeBuffer memory_;
};

}  // namespace convcorr::io
