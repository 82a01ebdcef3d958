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

}  // namespace convcorr::core
