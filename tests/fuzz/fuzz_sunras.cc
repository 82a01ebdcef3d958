// libFuzzer harness: convcorr's own Sun raster reader (io/sunras_reader.cc),
// which takes bytes from anywhere: decode_twice.h says what every input
// must do.
#include <cstddef>
#include <cstdint>
#include <span>

#include "decode_twice.h"
#include "io/legacy_codecs.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  convcorr::fuzz::RequireSameFromMemoryAndStream(
      std::span<const uint8_t>(data, size), convcorr::io::OpenSunRaster,
      "fuzz.ras");
  return 0;
}
