// Quantize (declared in image.h): float results to integer samples by
// the rounding --compat asks for.
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/correlate_simd.h"
#include "core/image.h"
#include "core/view.h"

namespace convcorr::core {

namespace {

// Rounds half to even (as OpenCV's saturate_cast does) and clamps to
// [0, max], NaN giving 0; counts the samples that had to be clamped. A SIMD
// row kernel (tests/core/quantize_test.cc pins it to hand-worked values on
// every target).
uint64_t QuantizePlane(Plane& p, float max) {
  return detail::QuantizeRow(p.data.data(), p.data.size(), max);
}

// A C cast to the integer type, as SciPy's ndimage stores results: the
// value truncated toward zero, then its low 8 or 16 bits (NaN gives 0).
uint64_t WrapPlane(Plane& p, Depth target) {
  const int64_t modulus = target == Depth::kU8 ? 256 : 65536;
  const double max = DepthMax(target);
  uint64_t outside = 0;
  for (float& v : p.data) {
    if (std::isnan(v)) {
      v = 0;
      continue;
    }
    const double t = std::trunc(double{v});
    if (t < 0 || t > max) ++outside;
    // Through int32 as x86's cvttsd2si does; beyond it the low bits are 0.
    const int64_t i = (t >= -2147483648.0 && t <= 2147483647.0)
                          ? static_cast<int64_t>(t)
                          : int64_t{INT32_MIN};
    v = static_cast<float>(((i % modulus) + modulus) % modulus);
  }
  return outside;
}

// ImageMagick 6 Q16 (non-HDRI): a sample is a 16-bit quantum; results are
// rounded half up and clamped to it (ClampToQuantum). 8-bit inputs come in
// as quanta (x 257), so an 8-bit result v is the quantum of 257 v, which
// the writer scales down to 8 bits: most writers round it
// (ScaleQuantumToChar), the PNG writer first reduces the image to its
// 8-bit depth with SetImageDepth, which truncates (ScaleQuantumToAny:
// 255 q / 65535 cast to an integer, the same as q / 257 rounded down).
// That writer truncates alpha as opacity (opaque - alpha): 255 minus the
// truncated 8-bit opacity. Results of FilterImageMagick are whole quanta
// already.
uint64_t ImageMagickPlane(Plane& p, Depth target, bool truncate, bool opacity) {
  const double scale = target == Depth::kU8 ? 257.0 : 1.0;
  const double max = DepthMax(target);
  uint64_t outside = 0;
  for (float& v : p.data) {
    const double x = std::isnan(v) ? 0.0 : double{v};
    if (x < 0 || x > max) ++outside;
    const double q = x * scale;
    const uint64_t quantum = q <= 0         ? 0
                             : q >= 65535.0 ? 65535
                                            : static_cast<uint64_t>(q + 0.5);
    if (target != Depth::kU8) {
      v = static_cast<float>(quantum);
    } else if (truncate) {
      const uint64_t q = opacity ? 65535 - quantum : quantum;
      const auto level = static_cast<uint64_t>(255.0 * q / 65535.0);
      v = static_cast<float>(opacity ? 255 - level : level);
    } else {
      v = static_cast<float>(((quantum + 128) - ((quantum + 128) >> 8)) >> 8);
    }
  }
  return outside;
}

}  // namespace

uint64_t Quantize(Image& img, Depth target, Rounding rounding) {
  img.depth = target;
  if (target == Depth::kF32) return 0;
  const auto max = static_cast<float>(DepthMax(target));
  uint64_t saturated = 0;
  const auto one = [&](Plane& p, bool alpha) -> uint64_t {
    switch (rounding) {
      case Rounding::kSaturate:
        return QuantizePlane(p, max);
      case Rounding::kWrap:
        return WrapPlane(p, target);
      case Rounding::kImageMagick:
        return ImageMagickPlane(p, target, /*truncate=*/false, alpha);
      case Rounding::kImageMagickPng:
        return ImageMagickPlane(p, target, /*truncate=*/true, alpha);
    }
    return 0;
  };
  for (Plane& p : img.color) saturated += one(p, false);
  if (img.alpha) saturated += one(*img.alpha, true);
  return saturated;
}

uint64_t QuantizeSaturate(float* row, size_t n, Depth target) {
  if (target == Depth::kF32) return 0;
  return detail::QuantizeRow(row, n, static_cast<float>(DepthMax(target)));
}

uint64_t QuantizeInterleave(const float* const* planes, int channels, size_t n,
                            Depth target, std::byte* dst,
                            std::vector<std::byte>& scratch) {
  // EmitRow rounds and saturates as QuantizeRow does (the same vector
  // code), and stores the samples as `target`.
  detail::EmitParams e;
  e.type = static_cast<int>(target);
  e.max = static_cast<float>(DepthMax(target));
  if (channels == 1) return detail::EmitRow(planes[0], n, e, dst);
  const size_t sample = SampleBytes(target);
  const size_t plane = n * sample;
  scratch.resize(plane * static_cast<size_t>(channels));
  uint64_t saturated = 0;
  for (int c = 0; c < channels; ++c) {
    saturated += detail::EmitRow(planes[c], n, e, scratch.data() + c * plane);
  }
  if (channels == 3) {
    detail::Interleave3(scratch.data(), scratch.data() + plane,
                        scratch.data() + 2 * plane, e.type, n, dst);
    return saturated;
  }
  for (size_t x = 0; x < n; ++x) {
    for (int c = 0; c < channels; ++c) {
      std::memcpy(dst + (x * channels + c) * sample,
                  scratch.data() + c * plane + x * sample, sample);
    }
  }
  return saturated;
}

}  // namespace convcorr::core
