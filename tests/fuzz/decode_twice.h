// What the harnesses of convcorr's own readers share: a memory source that
// cannot seek (as a pipe), and the check that any bytes decode, or fail
// with one kInput error of one line naming the input, the same way from
// memory in bands of one height and from that source in bands of another.
// Images over 2^16 pixels are skipped after Open, as the CLI's
// --max-pixels refuses them there, before any pixel buffer exists.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "fuzz_check.h"
#include "io/codec.h"

namespace convcorr::fuzz {

inline constexpr uint64_t kMaxDecodedPixels = 1u << 16;

// A memory source that knows no size and cannot seek, as a pipe.
class StreamSource : public io::Source {
 public:
  explicit StreamSource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  size_t Read(void* dst, size_t n) override {
    const size_t k = std::min(n, bytes_.size() - pos_);
    if (k > 0) std::memcpy(dst, bytes_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  std::span<const uint8_t> Peek(size_t n) override {
    return bytes_.first(std::min(n, bytes_.size()));
  }
  size_t ReadAt(uint64_t, void*, size_t) override {
    Require(false, "ReadAt on a source that cannot seek");
    return 0;
  }
  bool Seekable() const override { return false; }
  std::optional<uint64_t> Size() const override { return std::nullopt; }
  std::span<const uint8_t> All() override { return bytes_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

// A decoder's entry point (io::OpenBmp, io::OpenHdr, ...).
using Opener = std::unique_ptr<io::Decoder> (*)(io::Source&, std::string_view);

// The samples, an empty vector for an image over kMaxDecodedPixels, or the
// error's message.
struct Outcome {
  std::vector<std::byte> samples;
  std::string error;
};

inline Outcome DecodeInBands(Opener open, std::string_view name,
                             io::Source& source, int band) {
  Outcome out;
  try {
    const std::unique_ptr<io::Decoder> decoder = open(source, name);
    const io::PixelFormat f = decoder->format();
    Require(f.width >= 1 && f.height >= 1, "opened an empty image");
    Require(f.channels >= 1 && f.channels <= 4,
            "opened 0 or more than 4 channels");
    if (static_cast<uint64_t>(f.width) * static_cast<uint64_t>(f.height) >
        kMaxDecodedPixels) {
      return out;
    }
    const size_t row_bytes = f.RowBytes();
    out.samples.resize(row_bytes * static_cast<size_t>(f.height));
    for (int y = 0; y < f.height; y += band) {
      decoder->ReadRows(out.samples.data() + row_bytes * static_cast<size_t>(y),
                        static_cast<std::ptrdiff_t>(row_bytes),
                        std::min(band, f.height - y));
    }
    decoder->Finish();
  } catch (const Error& e) {
    Require(e.kind() == ErrorKind::kInput,
            "a decode error is not of kind kInput");
    RequireOneLine(e.what(), "input '" + std::string(name) + "': ");
    out.samples.clear();
    out.error = e.what();
  }
  return out;
}

// The whole check on one input. Band heights come from the input's length,
// so that seeds stay plain files.
inline void RequireSameFromMemoryAndStream(std::span<const uint8_t> bytes,
                                           Opener open, std::string_view name) {
  const std::unique_ptr<io::Source> memory = io::Source::FromMemory(bytes);
  const Outcome a = DecodeInBands(open, name, *memory,
                                  1 + static_cast<int>(bytes.size() % 5));
  StreamSource stream(bytes);
  const Outcome b = DecodeInBands(open, name, stream, 64);
  Require(a.error == b.error, "a source of unknown size gives another error");
  Require(a.samples == b.samples,
          "a source of unknown size or other bands give other samples");
}

}  // namespace convcorr::fuzz
