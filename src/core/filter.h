// The engine: correlation of planes and images with a kernel, and convolution
// as correlation with the kernel rotated about its anchor.
#pragma once

#include <cstdint>

#include "core/border.h"
#include "core/image.h"
#include "kernel/kernel.h"

namespace convcorr::core {

enum class Mode { kCorrelate, kConvolve };

// Output size: `same` as the input, `valid` windows fully inside, `full`
// every overlap.
enum class OutputSize { kSame, kValid, kFull };

// Output size of a plane of `width` x `height` filtered with `k` (valid needs
// k no larger than the image: returns 0x0 otherwise).
struct Extent {
  int width = 0;
  int height = 0;
};
Extent OutputExtent(int width, int height, const kernel::Kernel& k,
                    OutputSize size);

// Reference correlation of one plane: plain loops, accumulation in double,
// never optimised: the oracle for every fast path.
//   same:  O(y,x) = sum K(i,j) I(y+i-ay, x+j-ax)
//   valid: O(y,x) = sum K(i,j) I(y+i, x+j)
//   full:  O(y,x) = sum K(i,j) I(y+i-(kh-1), x+j-(kw-1))
// Samples outside the plane come from `border`. Rows are split over
// `threads` threads (0 = all cores); the result does not depend on it.
Plane CorrelateReference(const Plane& in, const kernel::Kernel& k,
                         const Border& border, OutputSize size, int threads);

// The SIMD correlation (Highway, best target of this CPU chosen at run
// time): same contract as CorrelateReference, sums accumulated in float32
// with fused multiply-add, so results agree with the reference within
// kh*kw float32 rounding steps of sum |K(i,j) I(...)| (docs/architecture.md).
Plane CorrelateSimd(const Plane& in, const kernel::Kernel& k,
                    const Border& border, OutputSize size, int threads);

// How the SIMD engine computes a correlation (--method).
enum class Method { kAuto, kDirect, kSeparable };

// A rank-1 kernel is taken as separable when its best rank-1 factorisation
// is this close to it (relative Frobenius residual): the error it adds is
// then below float32 rounding.
inline constexpr double kSeparableResidual = 1e-7;
// Cost of the separable method's extra pass (the intermediate plane written
// and read back), in multiply-adds per output sample.
inline constexpr int kExtraPassCost = 4;

// The method Filter uses for `k` (with its rank-1 factors `f`): `requested`
// unless it is kAuto, which picks by the cost model: direct costs kh*kw
// multiply-adds per output sample, separable kh + kw + kExtraPassCost, and
// only a kernel within kSeparableResidual of rank 1 can be separable.
// A kSeparable request for a kernel that is not rank 1 gives kDirect.
Method ChooseMethod(const kernel::Kernel& k, const kernel::RankOneFactors& f,
                    Method requested);
const char* MethodName(Method method);

// Correlation by two 1-D SIMD passes with the factors of a rank-1 kernel:
// rows with f.row, then columns with f.column. `k` gives size and anchor.
Plane CorrelateSeparable(const Plane& in, const kernel::Kernel& k,
                         const kernel::RankOneFactors& f, const Border& border,
                         OutputSize size, int threads);

// Name of the SIMD target CorrelateSimd dispatches to on this CPU, e.g.
// "AVX2", "AVX3" (AVX-512), "SSE4" or "EMU128".
const char* SimdTargetName();

// How to filter an image.
struct FilterParams {
  Mode mode = Mode::kCorrelate;
  Border border;
  OutputSize size = OutputSize::kSame;
  double scale = 1.0;  // result = scale * sum + bias
  double bias = 0.0;
  bool abs = false;           // write |result|
  bool filter_alpha = false;  // filter alpha like a colour channel
  int threads = 0;            // 0 = all cores
  bool simd = true;           // false: the reference (--no-simd)
  Method method = Method::kAuto;  // for the SIMD engine
};

// Filters every colour plane of `in` with `k` (rotated for convolve), applies
// scale, bias and abs, and carries alpha along unless filter_alpha: unchanged
// for same, cropped (valid) or extended by the border (full) around the
// kernel's centre, independent of anchor and mode. The result is
// float (depth of `in` kept as a tag); Quantize it for integer outputs.
Image Filter(const Image& in, const kernel::Kernel& k,
             const FilterParams& params);

// Number of worker threads for `requested` (0 = hardware concurrency).
int ResolveThreads(int requested);

}  // namespace convcorr::core
