// ImageMagick 6 Q16's convolution arithmetic (--compat imagemagick): what
// `convert -morphology Convolve|Correlate` computes, sample for sample.
#pragma once

#include "core/border.h"
#include "core/geometry.h"
#include "core/image.h"
#include "kernel/kernel.h"

namespace convcorr::core {

// How ImageMagick 6 Q16 (non-HDRI) holds and rounds one output's samples.
struct ImageMagickArithmetic {
  // Quanta per sample: 257 for 8-bit outputs (ScaleCharToQuantum), 1 for
  // 16-bit and float ones.
  double quantum = 257.0;
  // The sample value of an opaque alpha: 255, 65535, or 1 for float inputs.
  double opaque = 255.0;
  // Round each result half up to a whole quantum (ClampToQuantum; the
  // clamp is Quantize's). False for float outputs.
  bool round = true;
};

// Correlation of `in` with `k` as ImageMagick's MorphologyPrimitive
// computes it, geometry and border as CorrelateReference: every sample is
// first a quantum (times `arithmetic.quantum`), each product of a weight
// and a quantum is added, in double, in ImageMagick's order (kernel rows,
// then columns), then scale * sum + bias * quantum, |.| with `abs`,
// rounded half up to a whole quantum and divided by `quantum` again, so
// that Quantize recovers the quantum exactly.
//
// With alpha, ImageMagick's default channels are synced: each colour
// product is weighted by the tap's alpha and the colour sum divided by the
// sum of those weights (so a transparent neighbour does not count, and an
// opaque image is divided by the kernel's sum); alpha itself is filtered as
// opacity (opaque - alpha), without scale, bias or abs.
Image FilterImageMagick(const Image& in, const kernel::Kernel& k,
                        const Border& border, OutputSize size, int threads,
                        double scale, double bias, bool abs,
                        const ImageMagickArithmetic& arithmetic);

}  // namespace convcorr::core
