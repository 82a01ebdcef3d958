// Samples of a plane extended by the border: one at a time (the alpha
// that Filter carries along), or the whole window the reference reads.
#pragma once

#include "core/border.h"
#include "core/geometry.h"
#include "core/image.h"
#include "kernel/kernel.h"

namespace convcorr::core {

// Sample of `in` at (y, x), any integers, extended by the border.
float BorderSample(const Plane& in, int y, int x, const Border& border);

// The input extended by the border over every position the output reads:
// padded(py, px) = I(py + origin.y, px + origin.x), of size
// (out.width + kw - 1) x (out.height + kh - 1). Padding once lets the inner
// loops run without a single border test (as libvips does).
Plane Pad(const Plane& in, Extent out, const kernel::Kernel& k, Origin origin,
          const Border& border);

}  // namespace convcorr::core
