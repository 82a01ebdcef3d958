#include "cli/bands.h"

namespace convcorr::cli {

namespace {

constexpr size_t kFlushBytes = size_t{1} << 20;
// Writes of this size and more go to the file without a copy.
constexpr size_t kDirectBytes = size_t{256} << 10;

}  // namespace

void StagedSink::Write(const void* data, size_t n) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (n >= kDirectBytes) {
    Flush();
    file_.Append(bytes, n);
    return;
  }
  if (buffer_.size() + n > kFlushBytes) Flush();
  buffer_.insert(buffer_.end(), bytes, bytes + n);
}

void StagedSink::Flush() {
  if (buffer_.empty()) return;
  file_.Append(buffer_.data(), buffer_.size());
  buffer_.clear();
}

}  // namespace convcorr::cli
