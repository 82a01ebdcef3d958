// The core's API: correlation of planes and images with a kernel, and
// convolution as correlation with the kernel rotated about its anchor, by
// the reference (core/reference.h) or the fast engine (core/engine.h).
#pragma once

#include <cstdint>

#include "core/border.h"
#include "core/engine.h"
#include "core/image.h"
#include "core/reference.h"  // CorrelateReference
#include "core/threads.h"    // ResolveThreads
#include "kernel/kernel.h"

namespace convcorr::core {

enum class Mode { kCorrelate, kConvolve };

// The fast engine (core/engine.h) on one float plane with `method`: same
// contract as CorrelateReference, sums accumulated in float32 with fused
// multiply-add (bounds in docs/architecture.md).
Plane CorrelateFast(const Plane& in, const kernel::Kernel& k,
                    const Border& border, OutputSize size, int threads,
                    Method method);

// How to filter an image.
struct FilterParams {
  Mode mode = Mode::kCorrelate;
  Border border;
  OutputSize size = OutputSize::kSame;
  double scale = 1.0;  // result = scale * sum + bias
  double bias = 0.0;
  bool abs = false;               // write |result|
  bool filter_alpha = false;      // filter alpha like a colour channel
  int threads = 0;                // 0 = all cores
  bool simd = true;               // false: the reference (--no-simd)
  Method method = Method::kAuto;  // for the SIMD engine
};

// Filters every colour plane of `in` with `k` (rotated for convolve), applies
// scale, bias and abs, and carries alpha along unless filter_alpha: unchanged
// for same, cropped (valid) or extended by the border (full) around the
// kernel's centre, independent of anchor and mode. The result is
// float (depth of `in` kept as a tag); Quantize it for integer outputs.
Image Filter(const Image& in, const kernel::Kernel& k,
             const FilterParams& params);

// Filters the samples of `in` straight into `out` with the fast engine,
// whatever their types and layouts (core/engine.h): mode, border, size,
// scale, bias, abs, threads and method from `params` (simd is assumed).
// Every channel is filtered: pass views without an alpha channel to carry
// alpha. `out` must have in's channel count and OutputExtent's size.
// Returns the number of samples saturated on the way into out's type.
uint64_t FilterView(const ConstImageView& in, const ImageView& out,
                    const kernel::Kernel& k, const FilterParams& params);

// correlate and convolve of `in` with `k` at once, for compare
// (params.mode is ignored): the fast engine's PairCorrelator, or the
// reference twice with --no-simd. Same output rules as Filter.
struct FilterPairResult {
  Image correlate;
  Image convolve;
  PairCorrelator::Plan plan = PairCorrelator::Plan::kTwoPasses;
};
FilterPairResult FilterPair(const Image& in, const kernel::Kernel& k,
                            const FilterParams& params);

// Every sy-th row and sx-th column of `img`, from the first (--stride, as a
// CNN layer's stride: output (y, x) of the strided filter is output
// (y*sy, x*sx) of the unstrided one). Sizes become ceil(h/sy) x ceil(w/sx);
// alpha is sampled alike.
Image Subsample(const Image& img, int sy, int sx);

}  // namespace convcorr::core
