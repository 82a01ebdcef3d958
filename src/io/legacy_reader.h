// What the readers of BMP, Sun raster and Radiance HDR share
// (bmp_reader.cc, sunras_reader.cc, hdr_reader.cc): byte order helpers, a
// bounded peek, and the row decoder they are built on. Internal to io.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/error.h"
#include "io/codec.h"

namespace convcorr::io::legacy {

using Bytes = std::span<const uint8_t>;

inline uint16_t Le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}
inline uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
inline uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}

// The first `n` bytes of the source, or all it has if fewer. The peek grows
// by doubling, so that a header claiming a huge length costs at most twice
// the bytes the file really has (a pipe's size is not known up front).
inline Bytes PeekUpTo(Source& source, uint64_t n) {
  if (const std::optional<uint64_t> size = source.Size(); size && n > *size) {
    n = *size;
  }
  uint64_t step = 4096;
  for (;;) {
    const size_t want = static_cast<size_t>(std::min(n, step));
    const Bytes got = source.Peek(want);
    if (got.size() < want || want == n) return got;
    step *= 2;
  }
}

struct Bgr {
  uint8_t b = 0, g = 0, r = 0;
};

// What the three readers share: the header is read by the constructor; at
// the first ReadRows the file is taken into memory (unless the reader
// reads its rows at offsets: ReadsAtOffsets) and Start() checks what
// needs the whole file; then, for each band, Fetch() gets its rows and
// DecodeRow() makes each of them, top to bottom.
class RowDecoder : public Decoder {
 public:
  void ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) final {
    if (rows < 0 || rows > format_.height - next_row_) {
      throw Error(ErrorKind::kInternal,
                  "input '" + name_ + "': rows asked for past the last row");
    }
    if (rows == 0) return;
    if (!started_) {
      if (!ReadsAtOffsets()) file_ = source_.All();
      Start();
      started_ = true;
    }
    Fetch(next_row_, rows);
    for (int i = 0; i < rows; ++i, ++next_row_) {
      DecodeRow(next_row_, reinterpret_cast<uint8_t*>(dst + i * stride));
    }
  }

 protected:
  RowDecoder(Source& source, std::string_view name)
      : source_(source), name_(name) {}

  virtual void Start() = 0;
  // True when the reader reads the rows it needs from the source at
  // offsets (Fetch) instead of from the whole file in memory.
  virtual bool ReadsAtOffsets() const { return false; }
  // Before rows [y0, y0 + rows) are decoded: where ReadsAtOffsets, reads
  // what they are made from.
  virtual void Fetch(int /*y0*/, int /*rows*/) {}
  // Writes row `y` (0 at the top) of format().RowBytes() bytes.
  virtual void DecodeRow(int y, uint8_t* out) = 0;

  [[noreturn]] void Fail(const std::string& why) const {
    ThrowInput(name_, why);
  }
  void SetFormat(int64_t width, int64_t height, int channels,
                 core::Depth depth) {
    format_.width = static_cast<int>(width);
    format_.height = static_cast<int>(height);
    format_.channels = channels;
    format_.depth = depth;
  }
  size_t width() const { return static_cast<size_t>(format_.width); }

  Source& source_;
  std::string name_;
  Bytes file_;  // the whole file, from the first ReadRows on (unless
                // ReadsAtOffsets)

 private:
  bool started_ = false;
  int next_row_ = 0;
};

}  // namespace convcorr::io::legacy
