// Writes that never leave a partial file: each output goes to a temporary
// file beside its destination, is flushed and renamed over it; a signal
// handler removes the temporary files in flight.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <future>
#include <span>

namespace convcorr::io {

// Files in flight that a batch may run at once (--jobs is capped there).
inline constexpr int kMaxWriters = 256;

// A complete output written to a temporary file in its destination's
// directory, not yet flushed nor renamed: the first half of
// WriteFileAtomic, so that a batch can flush and rename one file while its
// workers go on with the next. Destroying a staged file that was not
// committed removes the temporary file (the destination is untouched).
class StagedFile {
 public:
  StagedFile() = default;
  StagedFile(StagedFile&& other) noexcept;
  StagedFile& operator=(StagedFile&& other) noexcept;
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  ~StagedFile();

  // Flushes the file (fsync) and renames it over the destination; throws
  // Error(kOutput, "output '<dest>': <reason>"), after which the temporary
  // file is removed when the staged file is destroyed. A second call does
  // nothing.
  void Commit();
  const std::filesystem::path& dest() const { return dest_; }
  // Appends bytes to the temporary file (an output written as it is
  // encoded). Throws Error(kOutput) naming dest. Every kWritebackBytes
  // appended, the disk is asked to start writing them
  // (sync_file_range), so that Commit waits for the last few only.
  void Append(const void* data, size_t size);
  // Writes bytes at `offset` of the temporary file: over bytes written
  // before, or past its end (the gap reads as zeros); a later Append goes
  // after the last byte written either way. Throws like Append.
  void WriteAt(uint64_t offset, const void* data, size_t size);
  static constexpr size_t kWritebackBytes = size_t{8} << 20;
  // After the last Append: flushes the file on a thread of its own, so
  // that the disk works while the caller goes on; Commit waits for it (and
  // reports its failure) instead of flushing. An Append after it waits for
  // that flush, and Commit flushes again.
  void StartSync();

 private:
  friend StagedFile StageFile(const std::filesystem::path& dest);
  void Discard() noexcept;
  // Writes bytes at `offset` (pwrite): throws if closed, and waits for
  // StartSync's flush first, which Commit must then redo.
  void PutAt(uint64_t offset, const void* data, size_t size);

  std::filesystem::path dest_;
  int fd_ = -1;
  int slot_ = -1;  // the entry naming the temporary file for the signal handler
  size_t appended_ = 0;    // bytes appended (the file's size)
  size_t writeback_ = 0;   // bytes the disk was asked to write
  std::future<int> sync_;  // StartSync's fsync: 0 or its errno
};

// Writes `bytes` to a new temporary file beside `dest` (the first half of
// WriteFileAtomic). Thread-safe. Throws Error(kOutput) naming dest.
StagedFile StageFile(const std::filesystem::path& dest,
                     std::span<const uint8_t> bytes);
// An empty temporary file beside `dest`, for Append.
StagedFile StageFile(const std::filesystem::path& dest);

// Writes `bytes` to a temporary file in dest's directory, flushes it and
// renames it over `dest`: dest is either untouched or complete. Thread-safe.
// Throws Error(kOutput, "output '<dest>': <reason>").
void WriteFileAtomic(const std::filesystem::path& dest,
                     std::span<const uint8_t> bytes);

// Removes the temporary files WriteFileAtomic calls are writing, if any,
// and stops any further one from being created: the process must end
// right after (_exit). Only async-signal-safe calls: meant for the SIGINT
// and SIGTERM handlers.
void RemovePendingTempFile();

// Writes bytes to standard output (kOutput error on failure).
void WriteStdout(std::span<const uint8_t> bytes);

}  // namespace convcorr::io
