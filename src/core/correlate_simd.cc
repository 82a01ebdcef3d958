// The SIMD correlation: Highway code compiled for every x86 target (SSE4,
// AVX2, AVX-512, and the scalar fallback) and chosen at run time for the CPU
// it runs on. Same padded input and same result layout as the reference;
// sums accumulate in float32 with fused multiply-add.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/correlate_simd.cc"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "core/filter.h"
#include "core/padding.h"

HWY_BEFORE_NAMESPACE();
namespace convcorr::core::HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;

// Correlates output rows [y0, y1) of width out_w from the padded input:
// out(y, x) = sum_ij w(i, j) * padded(y + i, x + j). Four vectors of output
// are kept in registers while the taps are walked, so each weight is
// broadcast once per four vectors.
void CorrelatePaddedRows(const float* padded, size_t padded_stride,
                         const float* weights, int kh, int kw, float* out,
                         size_t out_stride, int out_w, int y0, int y1) {
  const hn::ScalableTag<float> d;
  const size_t n = hn::Lanes(d);
  const size_t width = static_cast<size_t>(out_w);
  for (int y = y0; y < y1; ++y) {
    float* o = out + static_cast<size_t>(y) * out_stride;
    const float* base = padded + static_cast<size_t>(y) * padded_stride;
    size_t x = 0;
    for (; x + 4 * n <= width; x += 4 * n) {
      auto a0 = hn::Zero(d);
      auto a1 = hn::Zero(d);
      auto a2 = hn::Zero(d);
      auto a3 = hn::Zero(d);
      for (int i = 0; i < kh; ++i) {
        const float* row = base + static_cast<size_t>(i) * padded_stride + x;
        const float* w = weights + static_cast<size_t>(i) * kw;
        for (int j = 0; j < kw; ++j) {
          const auto wv = hn::Set(d, w[j]);
          a0 = hn::MulAdd(wv, hn::LoadU(d, row + j), a0);
          a1 = hn::MulAdd(wv, hn::LoadU(d, row + j + n), a1);
          a2 = hn::MulAdd(wv, hn::LoadU(d, row + j + 2 * n), a2);
          a3 = hn::MulAdd(wv, hn::LoadU(d, row + j + 3 * n), a3);
        }
      }
      hn::StoreU(a0, d, o + x);
      hn::StoreU(a1, d, o + x + n);
      hn::StoreU(a2, d, o + x + 2 * n);
      hn::StoreU(a3, d, o + x + 3 * n);
    }
    for (; x + n <= width; x += n) {
      auto a = hn::Zero(d);
      for (int i = 0; i < kh; ++i) {
        const float* row = base + static_cast<size_t>(i) * padded_stride + x;
        const float* w = weights + static_cast<size_t>(i) * kw;
        for (int j = 0; j < kw; ++j) {
          a = hn::MulAdd(hn::Set(d, w[j]), hn::LoadU(d, row + j), a);
        }
      }
      hn::StoreU(a, d, o + x);
    }
    // The last width % n pixels, one at a time in the same tap order.
    for (; x < width; ++x) {
      float a = 0.0f;
      for (int i = 0; i < kh; ++i) {
        const float* row = base + static_cast<size_t>(i) * padded_stride + x;
        const float* w = weights + static_cast<size_t>(i) * kw;
        for (int j = 0; j < kw; ++j) a += w[j] * row[j];
      }
      o[x] = a;
    }
  }
}

// The target this copy was compiled for, to name the dispatched one.
int64_t CompiledTarget() { return HWY_TARGET; }

}  // namespace convcorr::core::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convcorr::core {

HWY_EXPORT(CorrelatePaddedRows);
HWY_EXPORT(CompiledTarget);

Plane CorrelateSimd(const Plane& in, const kernel::Kernel& k,
                    const Border& border, OutputSize size, int threads) {
  const Extent out = OutputExtent(in.width, in.height, k, size);
  Plane result(out.width, out.height);
  if (out.width == 0 || out.height == 0) return result;
  const Plane padded = Pad(in, out, k, OutputOrigin(k, size), border);
  const std::vector<float> weights(k.weights().begin(), k.weights().end());
  ParallelRows(out.height, threads, [&](int y0, int y1) {
    HWY_DYNAMIC_DISPATCH(CorrelatePaddedRows)
    (padded.data.data(), static_cast<size_t>(padded.width), weights.data(),
     k.rows(), k.cols(), result.data.data(), static_cast<size_t>(out.width),
     out.width, y0, y1);
  });
  return result;
}

Plane CorrelateSeparable(const Plane& in, const kernel::Kernel& k,
                         const kernel::RankOneFactors& f, const Border& border,
                         OutputSize size, int threads) {
  const Extent out = OutputExtent(in.width, in.height, k, size);
  Plane result(out.width, out.height);
  if (out.width == 0 || out.height == 0) return result;
  const Plane padded = Pad(in, out, k, OutputOrigin(k, size), border);
  const std::vector<float> row(f.row.begin(), f.row.end());
  const std::vector<float> column(f.column.begin(), f.column.end());
  // Rows first: every padded row, narrowed to the output width.
  Plane across(out.width, padded.height);
  ParallelRows(padded.height, threads, [&](int y0, int y1) {
    HWY_DYNAMIC_DISPATCH(CorrelatePaddedRows)
    (padded.data.data(), static_cast<size_t>(padded.width), row.data(), 1,
     k.cols(), across.data.data(), static_cast<size_t>(out.width), out.width,
     y0, y1);
  });
  // Then columns: a kh x 1 correlation of the intermediate plane.
  ParallelRows(out.height, threads, [&](int y0, int y1) {
    HWY_DYNAMIC_DISPATCH(CorrelatePaddedRows)
    (across.data.data(), static_cast<size_t>(out.width), column.data(),
     k.rows(), 1, result.data.data(), static_cast<size_t>(out.width),
     out.width, y0, y1);
  });
  return result;
}

const char* SimdTargetName() {
  return hwy::TargetName(HWY_DYNAMIC_DISPATCH(CompiledTarget)());
}

}  // namespace convcorr::core
#endif  // HWY_ONCE
