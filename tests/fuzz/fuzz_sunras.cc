// libFuzzer harness: convcorr's own Sun raster reader
// (io/legacy_codecs.cc), which takes bytes from anywhere. Any bytes must
// either decode or throw one kInput error of one line naming the input.
// Images over 2^16 pixels are skipped after Open, as the CLI's
// --max-pixels refuses them there, before any pixel buffer exists. Each
// input is read twice: from memory in bands of one height, and from a
// source of unknown size (a pipe) in bands of another; both must give the
// same samples, or the same error.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "fuzz_check.h"
#include "io/codec.h"
#include "io/legacy_codecs.h"

namespace convcorr::fuzz {
namespace {

constexpr uint64_t kMaxPixels = 1u << 16;

// A memory source that knows no size, as a pipe.
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

// The samples, an empty vector for an image over kMaxPixels, or the
// error's message.
struct Outcome {
  std::vector<std::byte> samples;
  std::string error;
};

Outcome Decode(io::Source& source, int band) {
  Outcome out;
  try {
    const std::unique_ptr<io::Decoder> decoder =
        io::OpenSunRaster(source, "fuzz.ras");
    const io::PixelFormat f = decoder->format();
    Require(f.width >= 1 && f.height >= 1, "opened an empty image");
    Require(f.channels >= 1 && f.channels <= 4,
            "opened 0 or more than 4 channels");
    if (static_cast<uint64_t>(f.width) * static_cast<uint64_t>(f.height) >
        kMaxPixels) {
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
    RequireOneLine(e.what(), "input 'fuzz.ras': ");
    out.samples.clear();
    out.error = e.what();
  }
  return out;
}

}  // namespace
}  // namespace convcorr::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace convcorr;
  const std::span<const uint8_t> bytes(data, size);
  // Band heights from the input's length, so that seeds stay plain files.
  const std::unique_ptr<io::Source> memory = io::Source::FromMemory(bytes);
  const fuzz::Outcome a = fuzz::Decode(*memory, 1 + static_cast<int>(size % 5));
  fuzz::StreamSource stream(bytes);
  const fuzz::Outcome b = fuzz::Decode(stream, 64);
  fuzz::Require(a.error == b.error,
                "a source of unknown size gives another error");
  fuzz::Require(a.samples == b.samples,
                "a source of unknown size or other bands give other samples");
  return 0;
}
