#include "cli/bands.h"

namespace convcorr::cli {

namespace {

// The buffer, allocated once at its full size: a vector grown by
// doubling touches twice its final size in fresh pages, and a fresh page
// costs a fault (docs/performance.md, "Page faults").
constexpr size_t kFlushBytes = size_t{256} << 10;
// Writes of this size and more go to the file without a copy (the PNM
// encoder's batches of rows, a banded PNG's IDAT chunks).
constexpr size_t kDirectBytes = size_t{64} << 10;

}  // namespace

void StagedSink::Write(const void* data, size_t n) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (n >= kDirectBytes) {
    Flush();
    file_.Append(bytes, n);
    return;
  }
  if (buffer_.size() + n > kFlushBytes) Flush();
  if (buffer_.capacity() == 0) buffer_.reserve(kFlushBytes);
  buffer_.insert(buffer_.end(), bytes, bytes + n);
}

void StagedSink::WriteAt(uint64_t offset, const void* data, size_t n) {
  Flush();  // appended bytes first: the offset may lie among them
  file_.WriteAt(offset, data, n);
}

void StagedSink::Flush() {
  if (buffer_.empty()) return;
  file_.Append(buffer_.data(), buffer_.size());
  buffer_.clear();
}

}  // namespace convcorr::cli
