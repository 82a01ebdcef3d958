#include "core/image.h"

#include "core/engine_internal.h"

#include <cmath>

namespace convcorr::core {

double DepthMax(Depth d) {
  switch (d) {
    case Depth::kU8:
      return 255.0;
    case Depth::kU16:
      return 65535.0;
    case Depth::kF32:
      return 0.0;
  }
  return 0.0;
}

Range ColorRange(const Image& img) {
  Range r;
  bool first = true;
  for (const Plane& p : img.color) {
    for (float v : p.data) {
      if (!std::isfinite(v)) continue;
      if (first || v < r.lo) r.lo = v;
      if (first || v > r.hi) r.hi = v;
      first = false;
    }
  }
  return r;
}

namespace {

// Rounds half to even (as OpenCV's saturate_cast does) and clamps to
// [0, max], NaN giving 0; counts the samples that had to be clamped. A SIMD
// row kernel (tests/core/simd_test.cc pins it to hand-worked values on
// every target).
uint64_t QuantizePlane(Plane& p, float max) {
  return detail::QuantizeRow(p.data.data(), p.data.size(), max);
}

}  // namespace

uint64_t Quantize(Image& img, Depth target) {
  img.depth = target;
  if (target == Depth::kF32) return 0;
  const auto max = static_cast<float>(DepthMax(target));
  uint64_t saturated = 0;
  for (Plane& p : img.color) saturated += QuantizePlane(p, max);
  if (img.alpha) saturated += QuantizePlane(*img.alpha, max);
  return saturated;
}

}  // namespace convcorr::core
