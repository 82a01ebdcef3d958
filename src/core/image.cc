#include "core/image.h"

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
// [0, max]; returns true when the sample had to be clamped.
bool QuantizeSample(float& v, float max) {
  if (std::isnan(v)) {
    v = 0.0f;
    return true;
  }
  const float r = std::nearbyint(v);
  if (r < 0.0f) {
    v = 0.0f;
    return true;
  }
  if (r > max) {
    v = max;
    return true;
  }
  v = r;
  return false;
}

uint64_t QuantizePlane(Plane& p, float max) {
  uint64_t saturated = 0;
  for (float& v : p.data) saturated += QuantizeSample(v, max) ? 1 : 0;
  return saturated;
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
