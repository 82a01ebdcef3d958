// libFuzzer harness: decode-then-filter of a small image, as the CLI does
// with a file or stdin, and the provenance reader on the same bytes. Any bytes
// must either decode within --max-pixels or throw one kInput error of one line
// naming the input; what decodes must filter in its own sample type (the typed
// views of the fast engine), agree between the fast engine and the reference on
// the planar image, and encode again.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "common/error.h"
#include "core/filter.h"
#include "fuzz_check.h"
#include "io/image_io.h"
#include "io/provenance.h"
#include "kernel/kernel.h"

namespace convcorr::fuzz {
namespace {

// A --max-pixels small enough that each input decodes in milliseconds.
constexpr uint64_t kMaxPixels = 1u << 16;

void CheckPlanar(const core::Image& img, const kernel::Kernel& k,
                 core::FilterParams params) {
  float max_abs = 0;
  for (const core::Plane& p : img.color) {
    for (float v : p.data) {
      if (!std::isfinite(v)) return;  // NaN and inf propagate differently
      max_abs = std::max(max_abs, std::abs(v));
    }
  }
  if (max_abs > 1e30f) return;
  params.simd = false;
  const core::Image ref = core::Filter(img, k, params);
  params.simd = true;
  const core::Image fast = core::Filter(img, k, params);
  Require(ref.width == fast.width && ref.height == fast.height &&
              ref.color.size() == fast.color.size() &&
              ref.alpha.has_value() == fast.alpha.has_value(),
          "fast and reference outputs differ in shape");
  double sum_abs = 0;
  for (double w : k.weights()) sum_abs += std::abs(w);
  const double tol = 1e-5 * sum_abs * max_abs + 1e-30;
  for (size_t c = 0; c < ref.color.size(); ++c) {
    for (size_t i = 0; i < ref.color[c].data.size(); ++i) {
      Require(std::abs(double{ref.color[c].data[i]} -
                       double{fast.color[c].data[i]}) <= tol,
              "fast engine differs from the reference");
    }
  }
}

}  // namespace
}  // namespace convcorr::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace convcorr;
  const std::span<const uint8_t> bytes(data, size);
  // Options from the input's length, so that seeds stay plain image files.
  io::DecodeOptions options;
  options.max_pixels = fuzz::kMaxPixels;
  options.gray = size % 3 == 0;
  core::FilterParams params;
  params.mode = size % 2 == 0 ? core::Mode::kCorrelate : core::Mode::kConvolve;
  params.threads = 1;
  // An asymmetric kernel: the two modes differ.
  const kernel::Kernel k(3, 3, {1, 2, 0, -1, 0, 1, 0, -2, 1});

  // The provenance reader (--skip-existing) on the same bytes: whatever
  // it finds must be a provenance; it never throws over memory.
  const std::optional<std::string> provenance = io::ReadProvenance(bytes);
  fuzz::Require(!provenance || io::IsProvenanceText(*provenance),
                "the provenance reader returned malformed text");

  io::Raster raster;
  try {
    raster = io::DecodeRaster(bytes, "fuzz-input", options);
  } catch (const Error& e) {
    fuzz::Require(e.kind() == ErrorKind::kInput,
                  "a decode error is not of kind kInput");
    fuzz::RequireOneLine(e.what(), "input 'fuzz-input': ");
    return 0;
  }
  const int w = raster.width();
  const int h = raster.height();
  const int c = raster.channels();
  fuzz::Require(w >= 1 && h >= 1, "decoded an empty image");
  fuzz::Require(static_cast<uint64_t>(w) * h <= options.max_pixels,
                "decoded an image larger than --max-pixels");
  fuzz::Require(c >= 1 && c <= 4, "decoded 0 or more than 4 channels");
  fuzz::Require(!options.gray || c <= 2, "--gray decoded colour channels");

  // The typed path: every channel in its own sample type.
  io::Raster out = io::NewRaster(w, h, c, raster.depth());
  core::FilterView(raster.View(), out.MutableView(), k, params);
  {
    // With the input's metadata, which the encoders must take whatever it
    // holds (an ICC profile libpng rejects is left out, not an error).
    const bool is_float = raster.depth() == core::Depth::kF32;
    const std::vector<uint8_t> encoded = io::EncodeRaster(
        out, is_float ? "tiff" : "png", "fuzz-output", raster.metadata());
    fuzz::Require(!encoded.empty(), "encoding the output gave no bytes");
  }
  // The planar path, fast against the reference.
  const core::Image img = io::ToImage(std::move(raster));
  fuzz::CheckPlanar(img, k, params);
  return 0;
}
