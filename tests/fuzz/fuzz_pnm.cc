// libFuzzer harness: convcorr's own PNM/PAM/PFM reader (io/pnm_reader.cc,
// io/pfm_reader.cc),
// which takes bytes from anywhere. Any bytes must either decode or throw
// one kInput error of one line naming the input. Images over 2^16 pixels
// are skipped after Open, as the CLI's --max-pixels refuses them there.
// What decodes is decoded again from a source that cannot seek, in bands
// of another height (PFM reads such a source another way), and must give
// the same samples; and what the PNM/PFM writer can store must write and
// read back to the same samples.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "common/error.h"
#include "decode_twice.h"
#include "fuzz_check.h"
#include "io/codec.h"

namespace convcorr::fuzz {
namespace {

struct Decoded {
  io::PixelFormat format;
  std::vector<std::byte> samples;
};

// Decodes in bands of `band` rows; nullopt if the image is too large to
// try. Errors propagate.
std::optional<Decoded> Decode(io::Source& source, int band) {
  const std::unique_ptr<io::Decoder> d = io::OpenPnm(source, "fuzz.pnm");
  const io::PixelFormat f = d->format();
  Require(f.width > 0 && f.height > 0, "a decoder opened with a size of 0");
  Require(f.channels >= 1 && f.channels <= 4, "channel count out of range");
  if (static_cast<uint64_t>(f.width) * static_cast<uint64_t>(f.height) >
      kMaxDecodedPixels) {
    return std::nullopt;
  }
  Decoded out{
      f, std::vector<std::byte>(f.RowBytes() * static_cast<size_t>(f.height))};
  for (int y = 0; y < f.height; y += band) {
    d->ReadRows(out.samples.data() + static_cast<size_t>(y) * f.RowBytes(),
                static_cast<std::ptrdiff_t>(f.RowBytes()),
                std::min(band, f.height - y));
  }
  d->Finish();
  return out;
}

void RequireSame(const Decoded& a, const Decoded& b, const char* what) {
  Require(a.format.width == b.format.width &&
              a.format.height == b.format.height &&
              a.format.channels == b.format.channels &&
              a.format.depth == b.format.depth,
          what);
  // Bytes, not values: NaN payloads must pass too.
  Require(a.samples == b.samples, what);
}

}  // namespace
}  // namespace convcorr::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace convcorr;
  using namespace convcorr::fuzz;
  const std::span<const uint8_t> bytes(data, size);
  std::optional<Decoded> first;
  try {
    const std::unique_ptr<io::Source> source = io::Source::FromMemory(bytes);
    first = Decode(*source, 1 << 30);
  } catch (const Error& e) {
    Require(e.kind() == ErrorKind::kInput, "a PNM error is not of kind kInput");
    RequireOneLine(e.what(), "input 'fuzz.pnm': ");
    // The same bytes through a stream fail too.
    try {
      StreamSource stream(bytes);
      Decode(stream, 3);
    } catch (const Error& again) {
      Require(again.kind() == ErrorKind::kInput,
              "a PNM error is not of kind kInput");
      RequireOneLine(again.what(), "input 'fuzz.pnm': ");
      return 0;
    }
    Require(false, "bytes that fail from memory decode from a stream");
  }
  if (!first) return 0;
  {
    StreamSource stream(bytes);
    const std::optional<Decoded> again = Decode(stream, 3);
    Require(again.has_value(), "a stream decodes another size");
    RequireSame(*first, *again, "a stream in bands decodes other samples");
  }
  // Written back (where the writer stores the form), read back the same.
  const io::PixelFormat& f = first->format;
  if (f.channels != 1 && f.channels != 3) return 0;
  io::VectorSink sink;
  const std::unique_ptr<io::Encoder> encoder = io::NewPnmEncoder(
      f.depth == core::Depth::kF32 ? "pfm" : "pnm", f, sink, "fuzz.out");
  encoder->WriteRows(first->samples.data(),
                     static_cast<std::ptrdiff_t>(f.RowBytes()), f.height);
  encoder->Finish();
  const std::unique_ptr<io::Source> written =
      io::Source::FromMemory(sink.bytes());
  const std::optional<Decoded> back = Decode(*written, 5);
  Require(back.has_value(), "a written image reads back another size");
  RequireSame(*first, *back, "a written image reads back other samples");
  return 0;
}
