// The integer lanes' row kernels: Highway code compiled for every x86
// target Highway builds and chosen at run time, as correlate_simd.cc.
// Sums are int16 additions and low-half multiplies. The caller takes these
// lanes only for kernels whose every partial sum over samples in [0, 255]
// lies between -255 N and 255 P (N and P the magnitudes of the negative
// and positive weights summed), inside int16's range (IntegerLanesFit), so
// nothing wraps.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "core/integer_simd.cc"
#include "core/integer_simd.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstdlib>

HWY_BEFORE_NAMESPACE();
namespace convcorr::core::detail::HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;

// acc += w * v, with the multiply left out for 1 and -1.
template <class D>
HWY_INLINE hn::Vec<D> Tap(D, int16_t w, hn::Vec<D> wv, hn::Vec<D> v,
                          hn::Vec<D> acc) {
  if (w == 1) return hn::Add(acc, v);
  if (w == -1) return hn::Sub(acc, v);
  return hn::Add(acc, hn::Mul(wv, v));
}

// A vector of 8-bit samples widened to int16 lanes.
template <class D>
HWY_INLINE hn::Vec<D> LoadWide(D d, const uint8_t* p) {
  return hn::PromoteTo(d, hn::LoadU(hn::Rebind<uint8_t, D>(), p));
}

// Walks the taps over the row, kB vectors of output at a time, and hands
// each finished vector to store(x, sum). The weight's test is taken once
// per tap and kB vectors.
template <class D, class Store>
HWY_INLINE void WalkTaps(D d, const uint8_t* const* rows,
                         const TapGroupI16* groups, size_t ngroups,
                         size_t width, Store store) {
  const size_t n = hn::Lanes(d);
  const size_t end = (width + n - 1) / n * n;
  size_t x = 0;
  constexpr size_t kB = 4;  // 8 and 2 measured slower on AVX-512
  for (; x + kB * n <= end; x += kB * n) {
    hn::Vec<D> a[kB];
    for (size_t b = 0; b < kB; ++b) a[b] = hn::Zero(d);
    for (size_t g = 0; g < ngroups; ++g) {
      const TapGroupI16& group = groups[g];
      const uint8_t* row = rows[group.row] + x;
      for (int t = 0; t < group.count; ++t) {
        const int16_t w = group.weights[t];
        const uint8_t* p = row + group.offsets[t];
        if (w == 1) {
          for (size_t b = 0; b < kB; ++b) {
            a[b] = hn::Add(a[b], LoadWide(d, p + b * n));
          }
        } else if (w == -1) {
          for (size_t b = 0; b < kB; ++b) {
            a[b] = hn::Sub(a[b], LoadWide(d, p + b * n));
          }
        } else {
          const auto wv = hn::Set(d, w);
          for (size_t b = 0; b < kB; ++b) {
            a[b] = hn::Add(a[b], hn::Mul(wv, LoadWide(d, p + b * n)));
          }
        }
      }
    }
    for (size_t b = 0; b < kB; ++b) store(x + b * n, a[b]);
  }
  for (; x < end; x += n) {
    auto a = hn::Zero(d);
    for (size_t g = 0; g < ngroups; ++g) {
      const TapGroupI16& group = groups[g];
      const uint8_t* row = rows[group.row] + x;
      for (int t = 0; t < group.count; ++t) {
        const int16_t w = group.weights[t];
        a = Tap(d, w, hn::Set(d, w), LoadWide(d, row + group.offsets[t]), a);
      }
    }
    store(x, a);
  }
}

void TapRowI16(const uint8_t* const* rows, const TapGroupI16* groups,
               size_t ngroups, size_t width, int16_t* out) {
  const hn::ScalableTag<int16_t> d;
  WalkTaps(
      d, rows, groups, ngroups, width,
      [&](size_t x, hn::Vec<decltype(d)> v) { hn::StoreU(v, d, out + x); });
}

// |v| if abs, saturated to [0, 255] (DemoteTo: what rounding, which an
// integer does not need, and saturation give), with the lanes outside
// [0, 255] among the first `valid` counted into *outside.
template <class D>
HWY_INLINE hn::Vec<hn::Rebind<uint8_t, D>> ToU8(D d, hn::Vec<D> v, bool abs,
                                                size_t valid, size_t* outside) {
  if (abs) v = hn::Abs(v);
  auto out = hn::Or(hn::Lt(v, hn::Zero(d)), hn::Gt(v, hn::Set(d, 255)));
  if (valid < hn::Lanes(d)) out = hn::And(out, hn::FirstN(d, valid));
  *outside += hn::CountTrue(d, out);
  return hn::DemoteTo(hn::Rebind<uint8_t, D>(), v);
}

uint64_t TapRowI16U8(const uint8_t* const* rows, const TapGroupI16* groups,
                     size_t ngroups, size_t width, bool abs, uint8_t* dst) {
  const hn::ScalableTag<int16_t> d;
  const hn::Rebind<uint8_t, decltype(d)> d8;
  const size_t n = hn::Lanes(d);
  size_t outside = 0;
  WalkTaps(d, rows, groups, ngroups, width,
           [&](size_t x, hn::Vec<decltype(d)> v) {
             if (x + n <= width) {
               hn::StoreU(ToU8(d, v, abs, n, &outside), d8, dst + x);
               return;
             }
             HWY_ALIGN uint8_t tail[HWY_MAX_BYTES / 2] = {};
             hn::Store(ToU8(d, v, abs, width - x, &outside), d8, tail);
             std::copy(tail, tail + (width - x), dst + x);
           });
  return outside;
}

uint64_t EmitRowI16U8(const int16_t* acc, size_t n, bool abs, uint8_t* dst) {
  const hn::ScalableTag<int16_t> d;
  const hn::Rebind<uint8_t, decltype(d)> d8;
  const size_t lanes = hn::Lanes(d);
  size_t outside = 0;
  size_t x = 0;
  for (; x + lanes <= n; x += lanes) {
    hn::StoreU(ToU8(d, hn::LoadU(d, acc + x), abs, lanes, &outside), d8,
               dst + x);
  }
  for (; x < n; ++x) {
    int v = acc[x];
    if (abs) v = std::abs(v);
    outside += v < 0 || v > 255;
    dst[x] = static_cast<uint8_t>(std::clamp(v, 0, 255));
  }
  return outside;
}

void WidenRowI16(const int16_t* acc, size_t n, float* dst) {
  const hn::ScalableTag<float> df;
  const hn::Rebind<int32_t, decltype(df)> di;
  const hn::Rebind<int16_t, decltype(df)> d16;
  const size_t lanes = hn::Lanes(df);
  size_t x = 0;
  for (; x + lanes <= n; x += lanes) {
    hn::StoreU(hn::ConvertTo(df, hn::PromoteTo(di, hn::LoadU(d16, acc + x))),
               df, dst + x);
  }
  for (; x < n; ++x) dst[x] = static_cast<float>(acc[x]);
}

}  // namespace convcorr::core::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convcorr::core::detail {

HWY_EXPORT(TapRowI16);
HWY_EXPORT(TapRowI16U8);
HWY_EXPORT(EmitRowI16U8);
HWY_EXPORT(WidenRowI16);

void TapRowI16(const uint8_t* const* rows, const TapGroupI16* groups,
               size_t ngroups, size_t width, int16_t* out) {
  HWY_DYNAMIC_DISPATCH(TapRowI16)(rows, groups, ngroups, width, out);
}
uint64_t TapRowI16U8(const uint8_t* const* rows, const TapGroupI16* groups,
                     size_t ngroups, size_t width, bool abs, uint8_t* dst) {
  return HWY_DYNAMIC_DISPATCH(TapRowI16U8)(rows, groups, ngroups, width, abs,
                                           dst);
}
uint64_t EmitRowI16U8(const int16_t* acc, size_t n, bool abs, uint8_t* dst) {
  return HWY_DYNAMIC_DISPATCH(EmitRowI16U8)(acc, n, abs, dst);
}
void WidenRowI16(const int16_t* acc, size_t n, float* dst) {
  HWY_DYNAMIC_DISPATCH(WidenRowI16)(acc, n, dst);
}

}  // namespace convcorr::core::detail
#endif  // HWY_ONCE
