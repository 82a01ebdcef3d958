// Images as the engine sees them: planar float32 samples in the input's own
// scale (0..255 for 8-bit, 0..65535 for 16-bit, as-is for float).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace convcorr::core {

// Sample type of an image on disk, and of an output after --depth.
enum class Depth { kU8, kU16, kF32 };

// One channel: width x height float samples, row-major.
struct Plane {
  int width = 0;
  int height = 0;
  std::vector<float> data;

  Plane() = default;
  Plane(int w, int h, float fill = 0.0f)
      : width(w), height(h), data(static_cast<size_t>(w) * h, fill) {}
  float& at(int y, int x) { return data[static_cast<size_t>(y) * width + x]; }
  float at(int y, int x) const {
    return data[static_cast<size_t>(y) * width + x];
  }
  bool operator==(const Plane&) const = default;
};

// An image: 1 or 3 colour planes and an optional alpha plane, all the same
// size, with the depth it came from.
struct Image {
  int width = 0;
  int height = 0;
  Depth depth = Depth::kU8;
  std::vector<Plane> color;    // gray, or B,G,R in OpenCV order
  std::optional<Plane> alpha;  // present for gray+alpha and RGBA

  int channels() const {
    return static_cast<int>(color.size()) + (alpha ? 1 : 0);
  }
};

// Largest value of an integer depth (255, 65535); 0 for float.
double DepthMax(Depth d);

// Smallest and largest finite colour sample of `img` (alpha excluded);
// {0, 0} when there is none.
struct Range {
  float lo = 0.0f;
  float hi = 0.0f;
};
Range ColorRange(const Image& img);

// How float results become integer samples (--compat, docs/compat.md).
enum class Rounding {
  kSaturate,        // round half to even, clamp (OpenCV's saturate_cast)
  kWrap,            // truncate toward zero, keep the low bits (a C cast: SciPy)
  kImageMagick,     // ImageMagick Q16: round half up to 16 bits, clamp, then
                    // ScaleQuantumToChar (rounding) for 8-bit outputs, as its
                    // PNM, TIFF, BMP, WebP and JPEG writers do
  kImageMagickPng,  // the same, but 8-bit outputs truncate the quantum
                    // (SetImageDepth), as its PNG writer does
};

// Rounds and saturates every sample of `img` to `target` (no-op for kF32
// apart from counting nothing) and sets img.depth = target. Returns the
// number of samples that were outside the target's range (saturated, or
// wrapped with kWrap). Defined in quantize.cc.
uint64_t Quantize(Image& img, Depth target,
                  Rounding rounding = Rounding::kSaturate);

// One row of Quantize with Rounding::kSaturate, in place: `n` samples
// rounded half to even and clamped to `target` (NaN to 0), the clamped
// ones counted; a float target leaves them as they are.
uint64_t QuantizeSaturate(float* row, size_t n, Depth target);

// One row of `channels` planar float rows (1 to 4) rounded and clamped as
// QuantizeSaturate does, stored as `target` samples and interleaved
// (channel c of pixel x at dst[x * channels + c]); returns how many were
// clamped. `scratch` is working memory, kept between rows.
uint64_t QuantizeInterleave(const float* const* planes, int channels, size_t n,
                            Depth target, std::byte* dst,
                            std::vector<std::byte>& scratch);

}  // namespace convcorr::core
