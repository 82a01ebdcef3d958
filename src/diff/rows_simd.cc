// The difference layer's row kernels in Highway, compiled for every x86
// target Highway builds (as core/correlate_simd.cc is) and chosen at run
// time. Each gives what its scalar twin in rows.cc gives, bit for bit:
// the same IEEE operations on the same operands (float or double
// subtraction, |x|, d * d, d / range, lo + f * (hi - lo)), never fused into
// one rounding (this file is built with -ffp-contract=off), and ordered
// where order matters (the double sums, the first maximum).
//
// Widths that are not a whole number of vectors: the simple per-sample
// kernels finish with a scalar loop of the same operations; the others run
// their last partial vector from a zero-padded copy, masked.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "diff/rows_simd.cc"
#include "diff/rows_simd.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "diff/stops.h"

HWY_BEFORE_NAMESPACE();
namespace convcorr::diff::detail::HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;

// More lanes than any target has: a padded copy of a partial vector.
constexpr size_t kMaxLanes = 64;

// ------------------------------------------------------------------ StatsRow
//
// Vectors count the row (threshold, zeros, NaN) and find its largest |d|;
// the sums of |d| and d^2 must be ComputeStats's, S <- fl(S + t) for the
// terms in (x, channel) order, two chains of dependent double additions,
// which stay scalar and in order (scalar::SumRow). (An exact out-of-order
// sum exists while the partial sums stay in one binade, where fl(S + t)
// adds t rounded to the binade's spacing; but ties, which round to even
// and so depend on S, are frequent in float differences, and following
// them in order cost more than the chains.)

void StatsRow(const float* const* conv, const float* const* corr, int channels,
              int width, double threshold, DiffAccumulator::State& s) {
  if (width > 0 && channels > 0) {
    const hn::ScalableTag<double> dd;
    const hn::Rebind<float, decltype(dd)> df;
    const size_t n = hn::Lanes(dd);
    const size_t w = static_cast<size_t>(width);
    const auto thr = hn::Set(dd, threshold);
    const auto zero = hn::Zero(dd);
    const auto none = hn::Set(dd, -1.0);
    auto vmax = none;     // largest non-NaN |d| per lane, -1 if none
    auto nonzero = zero;  // lanes where some d != 0 (NaN included)
    auto nan = zero;      // lanes where some d is NaN
    uint64_t above = 0;
    const auto step = [&](hn::Vec<decltype(df)> a, hn::Vec<decltype(df)> b,
                          hn::Mask<decltype(dd)> valid) {
      const auto d = hn::Sub(hn::PromoteTo(dd, a), hn::PromoteTo(dd, b));
      const auto ad = hn::Abs(d);
      above += hn::CountTrue(dd, hn::And(valid, hn::Gt(ad, thr)));
      nonzero = hn::Or(nonzero,
                       hn::VecFromMask(dd, hn::AndNot(hn::Eq(d, zero), valid)));
      const auto number = hn::Eq(ad, ad);
      nan = hn::Or(nan, hn::VecFromMask(dd, hn::AndNot(number, valid)));
      vmax = hn::Max(vmax, hn::IfThenElse(hn::And(valid, number), ad, none));
    };
    const auto all = hn::FirstN(dd, n);
    for (int c = 0; c < channels; ++c) {
      const float* a = conv[c];
      const float* b = corr[c];
      size_t x = 0;
      for (; x + n <= w; x += n) {
        step(hn::LoadU(df, a + x), hn::LoadU(df, b + x), all);
      }
      if (x < w) {
        float ta[kMaxLanes] = {};
        float tb[kMaxLanes] = {};
        std::memcpy(ta, a + x, (w - x) * sizeof(float));
        std::memcpy(tb, b + x, (w - x) * sizeof(float));
        step(hn::LoadU(df, ta), hn::LoadU(df, tb), hn::FirstN(dd, w - x));
      }
    }
    s.above += above;
    if (!hn::AllFalse(dd, hn::MaskFromVec(nonzero))) s.identical = false;
    // The first sample of all starts the maximum, even a NaN (which then
    // stays: nothing is greater); after it only a strictly greater |d|
    // moves it, to the first place it occurs.
    if (!s.have_max) {
      s.max_abs = std::fabs(static_cast<double>(conv[0][0]) - corr[0][0]);
      s.max_x = 0;
      s.max_y = s.y;
      s.max_channel = 0;
      s.have_max = true;
    }
    const double row_max = hn::GetLane(hn::MaxOfLanes(dd, vmax));
    if (row_max > s.max_abs) {
      for (int x = 0; x < width; ++x) {
        int c = 0;
        while (c < channels && std::fabs(static_cast<double>(conv[c][x]) -
                                         corr[c][x]) != row_max) {
          ++c;
        }
        if (c < channels) {
          s.max_abs = row_max;
          s.max_x = x;
          s.max_y = s.y;
          s.max_channel = c;
          break;
        }
      }
    }
    const bool nan_terms = !hn::AllFalse(dd, hn::MaskFromVec(nan));
    scalar::SumRow(conv, corr, channels, width, nan_terms, true, true,
                   s.sum_abs, s.sum_sq);
  }
  ++s.y;
}

// ---------------------------------------------------- SignedDiff and RawDiff

void SignedDiffRow(const float* const* conv, const float* const* corr,
                   int channels, int width, float* out) {
  if (channels <= 0 || width <= 0) return;
  const hn::ScalableTag<float> df;
  const size_t n = hn::Lanes(df);
  const size_t w = static_cast<size_t>(width);
  size_t x = 0;
  for (; x + n <= w; x += n) {
    auto o = hn::Sub(hn::LoadU(df, conv[0] + x), hn::LoadU(df, corr[0] + x));
    for (int c = 1; c < channels; ++c) {
      const auto d =
          hn::Sub(hn::LoadU(df, conv[c] + x), hn::LoadU(df, corr[c] + x));
      // Strictly greater keeps the first channel on ties (and a NaN).
      o = hn::IfThenElse(hn::Gt(hn::Abs(d), hn::Abs(o)), d, o);
    }
    hn::StoreU(o, df, out + x);
  }
  for (; x < w; ++x) {
    float o = conv[0][x] - corr[0][x];
    for (int c = 1; c < channels; ++c) {
      const float d = conv[c][x] - corr[c][x];
      if (std::fabs(d) > std::fabs(o)) o = d;
    }
    out[x] = o;
  }
}

void RawDiffRow(const float* const* conv, const float* const* corr,
                int channels, int width, float* const* out) {
  const hn::ScalableTag<float> df;
  const size_t n = hn::Lanes(df);
  const size_t w = static_cast<size_t>(std::max(width, 0));
  for (int c = 0; c < channels; ++c) {
    const float* a = conv[c];
    const float* b = corr[c];
    float* o = out[c];
    size_t x = 0;
    for (; x + n <= w; x += n) {
      hn::StoreU(hn::Sub(hn::LoadU(df, a + x), hn::LoadU(df, b + x)), df,
                 o + x);
    }
    for (; x < w; ++x) o[x] = a[x] - b[x];
  }
}

// ---------------------------------------------------------------- HeatMapRow

// DivergingColor of d / range for the lanes of `v`, as B, G, R bytes stored
// at b, g, r (one per lane). The same double operations as DivergingColor:
// t = d / range, NaN to 0, clamped; the stops' segment i of |t| (the count
// of the stop positions 1/4, 1/2, 3/4 that |t| exceeds); f = (|t| - i/4) /
// (1/4), computed as (|t| - i/4) * 4, which is the same correctly rounded
// quotient (both exact: the subtraction by Sterbenz's lemma, the scaling
// by a power of two); v = lo + f * (hi - lo) with one rounding each for
// the product and the sum. Then lround(v): v lies in [24, 255] (between
// two stop values), and for v >= 0.5, floor(v + 0.5) computed in double is
// lround's half-away-from-zero rounding (v + 0.5 is exact unless it
// crosses into the next binade, whose bottom is a whole number at or below
// it, so the floor is unchanged), and DemoteTo truncates, which for
// positive values is the floor.
template <class DD, class VF>
HWY_INLINE void ColorLanes(DD dd, VF v, hn::Vec<DD> range, uint8_t* b,
                           uint8_t* g, uint8_t* r) {
  const hn::Rebind<int32_t, DD> di;
  const hn::Rebind<uint8_t, DD> du8;
  const auto zero = hn::Zero(dd);
  auto t = hn::Div(hn::PromoteTo(dd, v), range);
  t = hn::IfThenElseZero(hn::Eq(t, t), t);  // NaN: 0
  t = hn::Min(hn::Max(t, hn::Set(dd, -1.0)), hn::Set(dd, 1.0));
  const auto neg = hn::Lt(t, zero);  // -0 takes the positive side, as t >= 0
  const auto a = hn::Abs(t);
  const auto m1 = hn::Gt(a, hn::Set(dd, 0.25));
  const auto m2 = hn::Gt(a, hn::Set(dd, 0.5));
  const auto m3 = hn::Gt(a, hn::Set(dd, 0.75));
  const auto lo_t =
      hn::IfThenElse(m3, hn::Set(dd, 0.75),
                     hn::IfThenElse(m2, hn::Set(dd, 0.5),
                                    hn::IfThenElseZero(m1, hn::Set(dd, 0.25))));
  const auto f = hn::Mul(hn::Sub(a, lo_t), hn::Set(dd, 4.0));
  const auto half = hn::Set(dd, 0.5);
  const auto channel = [&](double Stop::*member, uint8_t* dst) {
    const auto stop = [&](int i) {
      return hn::IfThenElse(neg, hn::Set(dd, kNegative[i].*member),
                            hn::Set(dd, kPositive[i].*member));
    };
    const auto s0 = hn::Set(dd, kPositive[0].*member);  // white, both sides
    const auto s1 = stop(1);
    const auto s2 = stop(2);
    const auto s3 = stop(3);
    const auto s4 = stop(4);
    const auto lo = hn::IfThenElse(
        m3, s3, hn::IfThenElse(m2, s2, hn::IfThenElse(m1, s1, s0)));
    const auto hi = hn::IfThenElse(
        m3, s4, hn::IfThenElse(m2, s3, hn::IfThenElse(m1, s2, s1)));
    const auto value = hn::Add(lo, hn::Mul(f, hn::Sub(hi, lo)));
    const auto rounded = hn::DemoteTo(di, hn::Add(value, half));
    hn::StoreU(hn::DemoteTo(du8, rounded), du8, dst);
  };
  channel(&Stop::b, b);
  channel(&Stop::g, g);
  channel(&Stop::r, r);
}

void HeatMapRow(const float* d, int width, double range, uint8_t* bgr) {
  if (width <= 0) return;
  const size_t w = static_cast<size_t>(width);
  if (!(range > 0)) {
    // DivergingColor(0): white.
    std::memset(bgr, 255, 3 * w);
    return;
  }
  const hn::ScalableTag<double> dd;
  const hn::Rebind<float, decltype(dd)> df;
  const hn::ScalableTag<uint8_t> d8;
  const size_t n = hn::Lanes(dd);
  const size_t n8 = hn::Lanes(d8);
  const auto vrange = hn::Set(dd, range);
  // A chunk of pixels at a time: planar bytes, then interleaved.
  constexpr size_t kChunk = 256;
  HWY_ALIGN uint8_t cb[kChunk];
  HWY_ALIGN uint8_t cg[kChunk];
  HWY_ALIGN uint8_t cr[kChunk];
  for (size_t x0 = 0; x0 < w; x0 += kChunk) {
    const size_t m = std::min(kChunk, w - x0);
    const float* src = d + x0;
    size_t i = 0;
    for (; i + n <= m; i += n) {
      ColorLanes(dd, hn::LoadU(df, src + i), vrange, cb + i, cg + i, cr + i);
    }
    if (i < m) {
      // kChunk is a whole number of vectors, so the padded vector fits.
      float tail[kMaxLanes] = {};
      std::memcpy(tail, src + i, (m - i) * sizeof(float));
      ColorLanes(dd, hn::LoadU(df, tail), vrange, cb + i, cg + i, cr + i);
    }
    uint8_t* out = bgr + 3 * x0;
    size_t j = 0;
    for (; j + n8 <= m; j += n8) {
      hn::StoreInterleaved3(hn::Load(d8, cb + j), hn::Load(d8, cg + j),
                            hn::Load(d8, cr + j), d8, out + 3 * j);
    }
    for (; j < m; ++j) {
      out[3 * j] = cb[j];
      out[3 * j + 1] = cg[j];
      out[3 * j + 2] = cr[j];
    }
  }
}

// ------------------------------------------------------------- RangeChooser

// The lanes of |v| as float bits, and which of them count: not zero (either
// sign) and not NaN.
template <class DI, class VF>
HWY_INLINE hn::Vec<DI> AbsBits(DI di, VF v) {
  return hn::And(hn::BitCast(di, v), hn::Set(di, 0x7FFFFFFF));
}
template <class DI>
HWY_INLINE hn::Mask<DI> Counted(DI di, hn::Vec<DI> bits) {
  return hn::AndNot(hn::Gt(bits, hn::Set(di, 0x7F800000)),
                    hn::Gt(bits, hn::Zero(di)));
}

void RangeCountRow(const float* d, int width, uint64_t* high,
                   RangeCounts& counts) {
  const hn::ScalableTag<int32_t> di;
  const hn::Rebind<float, decltype(di)> df;
  const size_t n = hn::Lanes(di);
  const size_t w = static_cast<size_t>(std::max(width, 0));
  const auto all_ones = hn::Set(di, 0x7FFFFFFF);
  const auto scratch =
      hn::Set(di, static_cast<int32_t>(RangeChooser::kHighBuckets));
  auto vmax = hn::Zero(di);
  auto vmin = all_ones;
  uint64_t count = 0;
  HWY_ALIGN int32_t index[kMaxLanes];
  const auto step = [&](hn::Vec<decltype(df)> v) {
    const auto bits = AbsBits(di, v);
    const auto counted = Counted(di, bits);
    if (hn::AllFalse(di, counted)) return;
    count += hn::CountTrue(di, counted);
    vmax = hn::Max(vmax, hn::IfThenElseZero(counted, bits));
    vmin = hn::Min(vmin, hn::IfThenElse(counted, bits, all_ones));
    if (high == nullptr) return;
    hn::Store(hn::IfThenElse(counted, hn::ShiftRight<16>(bits), scratch), di,
              index);
    for (size_t l = 0; l < n; ++l) ++high[index[l]];
  };
  size_t x = 0;
  for (; x + n <= w; x += n) step(hn::LoadU(df, d + x));
  if (x < w) {
    float tail[kMaxLanes] = {};  // zeros are not counted
    std::memcpy(tail, d + x, (w - x) * sizeof(float));
    step(hn::LoadU(df, tail));
  }
  if (count == 0) return;
  counts.count += count;
  counts.max_bits =
      std::max(counts.max_bits,
               static_cast<uint32_t>(hn::GetLane(hn::MaxOfLanes(di, vmax))));
  counts.min_bits =
      std::min(counts.min_bits,
               static_cast<uint32_t>(hn::GetLane(hn::MinOfLanes(di, vmin))));
}

void RangeBucketRow(const float* d, int width, uint32_t bucket, uint64_t* low) {
  const hn::ScalableTag<int32_t> di;
  const hn::Rebind<float, decltype(di)> df;
  const size_t n = hn::Lanes(di);
  const size_t w = static_cast<size_t>(std::max(width, 0));
  const auto target = hn::Set(di, static_cast<int32_t>(bucket));
  const auto scratch =
      hn::Set(di, static_cast<int32_t>(RangeChooser::kLowBuckets));
  const auto low_mask = hn::Set(di, 0xFFFF);
  HWY_ALIGN int32_t index[kMaxLanes];
  const auto step = [&](hn::Vec<decltype(df)> v) {
    const auto bits = AbsBits(di, v);
    const auto in_bucket =
        hn::And(Counted(di, bits), hn::Eq(hn::ShiftRight<16>(bits), target));
    if (hn::AllFalse(di, in_bucket)) return;
    hn::Store(hn::IfThenElse(in_bucket, hn::And(bits, low_mask), scratch), di,
              index);
    for (size_t l = 0; l < n; ++l) ++low[index[l]];
  };
  size_t x = 0;
  for (; x + n <= w; x += n) step(hn::LoadU(df, d + x));
  if (x < w) {
    float tail[kMaxLanes] = {};
    std::memcpy(tail, d + x, (w - x) * sizeof(float));
    step(hn::LoadU(df, tail));
  }
}

// The target this copy was compiled for, to name the dispatched one.
int64_t CompiledTarget() { return HWY_TARGET; }

}  // namespace convcorr::diff::detail::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convcorr::diff {
namespace detail {

HWY_EXPORT(StatsRow);
HWY_EXPORT(SignedDiffRow);
HWY_EXPORT(RawDiffRow);
HWY_EXPORT(HeatMapRow);
HWY_EXPORT(RangeCountRow);
HWY_EXPORT(RangeBucketRow);
HWY_EXPORT(CompiledTarget);

void StatsRow(const float* const* conv, const float* const* corr, int channels,
              int width, double threshold, DiffAccumulator::State& s) {
  HWY_DYNAMIC_DISPATCH(StatsRow)(conv, corr, channels, width, threshold, s);
}
void SignedDiffRow(const float* const* conv, const float* const* corr,
                   int channels, int width, float* out) {
  HWY_DYNAMIC_DISPATCH(SignedDiffRow)(conv, corr, channels, width, out);
}
void RawDiffRow(const float* const* conv, const float* const* corr,
                int channels, int width, float* const* out) {
  HWY_DYNAMIC_DISPATCH(RawDiffRow)(conv, corr, channels, width, out);
}
void HeatMapRow(const float* d, int width, double range, uint8_t* bgr) {
  HWY_DYNAMIC_DISPATCH(HeatMapRow)(d, width, range, bgr);
}
void RangeCountRow(const float* d, int width, uint64_t* high,
                   RangeCounts& counts) {
  HWY_DYNAMIC_DISPATCH(RangeCountRow)(d, width, high, counts);
}
void RangeBucketRow(const float* d, int width, uint32_t bucket, uint64_t* low) {
  HWY_DYNAMIC_DISPATCH(RangeBucketRow)(d, width, bucket, low);
}

}  // namespace detail

const char* DiffSimdTargetName() {
  return hwy::TargetName(HWY_DYNAMIC_DISPATCH(detail::CompiledTarget)());
}

}  // namespace convcorr::diff
#endif  // HWY_ONCE
