// The row functions of diff/rows.h: DiffAccumulator, RangeChooser, and the
// scalar twins of the SIMD kernels (rows_simd.cc). The scalar twins are
// ComputeStats, SignedDiff, RawDiff and HeatMap as they were written for
// whole images, cut into rows (the sums' NaN rule spelled out), and
// RangeChooser's two histogram passes in plain loops. Built with
// -ffp-contract=off (src/CMakeLists.txt): no multiply and add may become
// one fused step.
#include "diff/rows.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

#include "diff/rows_simd.h"

namespace convcorr::diff {

namespace detail::scalar {

namespace {

// sum + t as ComputeStats's compiled loop adds: x86's addsd with the sum as
// its first operand, which returns that operand's NaN when both are NaN.
// The terms are never negative, so a sum is NaN only after a NaN term, and
// then the first NaN term's (sign included) stays, whatever comes after.
// Written out so that no compiler's choice of operand order changes it.
inline double AddTerm(double sum, double t) {
  return std::isnan(sum) ? sum : sum + t;
}

}  // namespace

void StatsRow(const float* const* conv, const float* const* corr, int channels,
              int width, double threshold, DiffAccumulator::State& s) {
  const int y = s.y;
  for (int x = 0; x < width; ++x) {
    for (int c = 0; c < channels; ++c) {
      const double d = static_cast<double>(conv[c][x]) - corr[c][x];
      const double a = std::fabs(d);
      s.sum_abs = AddTerm(s.sum_abs, a);
      s.sum_sq = AddTerm(s.sum_sq, d * d);
      if (a > threshold) ++s.above;
      if (d != 0) s.identical = false;
      if (!s.have_max || a > s.max_abs) {
        s.max_abs = a;
        s.max_x = x;
        s.max_y = y;
        s.max_channel = c;
        s.have_max = true;
      }
    }
  }
  ++s.y;
}

namespace {

// Without NaN terms the order of a sum's operands does not matter (a NaN
// sum plus a number is that NaN either way).
template <int kChannels>
void SumRowFixed(const float* const* conv, const float* const* corr, int width,
                 bool abs, bool sq, double& sum_abs, double& sum_sq) {
  double sa = sum_abs;
  double ss = sum_sq;
  if (abs && sq) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < kChannels; ++c) {
        const double d = static_cast<double>(conv[c][x]) - corr[c][x];
        sa += std::fabs(d);
        ss += d * d;
      }
    }
  } else if (abs) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < kChannels; ++c) {
        sa += std::fabs(static_cast<double>(conv[c][x]) - corr[c][x]);
      }
    }
  } else if (sq) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < kChannels; ++c) {
        const double d = static_cast<double>(conv[c][x]) - corr[c][x];
        ss += d * d;
      }
    }
  }
  sum_abs = sa;
  sum_sq = ss;
}

}  // namespace

void SumRow(const float* const* conv, const float* const* corr, int channels,
            int width, bool nan_terms, bool abs, bool sq, double& sum_abs,
            double& sum_sq) {
  if (!nan_terms) {
    switch (channels) {
      case 1:
        return SumRowFixed<1>(conv, corr, width, abs, sq, sum_abs, sum_sq);
      case 2:
        return SumRowFixed<2>(conv, corr, width, abs, sq, sum_abs, sum_sq);
      case 3:
        return SumRowFixed<3>(conv, corr, width, abs, sq, sum_abs, sum_sq);
      case 4:
        return SumRowFixed<4>(conv, corr, width, abs, sq, sum_abs, sum_sq);
      default:
        break;
    }
  }
  for (int x = 0; x < width; ++x) {
    for (int c = 0; c < channels; ++c) {
      const double d = static_cast<double>(conv[c][x]) - corr[c][x];
      if (abs) sum_abs = AddTerm(sum_abs, std::fabs(d));
      if (sq) sum_sq = AddTerm(sum_sq, d * d);
    }
  }
}

void SignedDiffRow(const float* const* conv, const float* const* corr,
                   int channels, int width, float* out) {
  for (int c = 0; c < channels; ++c) {
    const float* a = conv[c];
    const float* b = corr[c];
    for (int x = 0; x < width; ++x) {
      const float d = a[x] - b[x];
      // Strictly greater keeps the first channel on ties.
      if (c == 0 || std::fabs(d) > std::fabs(out[x])) out[x] = d;
    }
  }
}

void RawDiffRow(const float* const* conv, const float* const* corr,
                int channels, int width, float* const* out) {
  for (int c = 0; c < channels; ++c) {
    for (int x = 0; x < width; ++x) out[c][x] = conv[c][x] - corr[c][x];
  }
}

void HeatMapRow(const float* d, int width, double range, uint8_t* bgr) {
  for (int x = 0; x < width; ++x) {
    const Bgr c = DivergingColor(range > 0 ? d[x] / range : 0.0);
    bgr[3 * x] = c.b;
    bgr[3 * x + 1] = c.g;
    bgr[3 * x + 2] = c.r;
  }
}

void RangeCountRow(const float* d, int width, uint64_t* high,
                   RangeCounts& counts) {
  for (int x = 0; x < width; ++x) {
    uint32_t bits;
    std::memcpy(&bits, &d[x], sizeof bits);
    bits &= 0x7FFFFFFFu;
    // Zero (either sign) and NaN are not counted.
    if (bits == 0 || bits > 0x7F800000u) continue;
    if (high != nullptr) ++high[bits >> 16];
    ++counts.count;
    counts.min_bits = std::min(counts.min_bits, bits);
    counts.max_bits = std::max(counts.max_bits, bits);
  }
}

void RangeBucketRow(const float* d, int width, uint32_t bucket, uint64_t* low) {
  for (int x = 0; x < width; ++x) {
    uint32_t bits;
    std::memcpy(&bits, &d[x], sizeof bits);
    bits &= 0x7FFFFFFFu;
    if (bits == 0 || bits > 0x7F800000u) continue;
    if ((bits >> 16) == bucket) ++low[bits & 0xFFFFu];
  }
}

}  // namespace detail::scalar

// ------------------------------------------------------------ DiffAccumulator

DiffAccumulator::DiffAccumulator(int width, int channels, double threshold,
                                 RowCode code)
    : width_(width), channels_(channels), threshold_(threshold), code_(code) {
  assert(width >= 0 && channels >= 0);
}

void DiffAccumulator::AddRow(const float* const* conv,
                             const float* const* corr) {
  if (code_ == RowCode::kSimd) {
    detail::StatsRow(conv, corr, channels_, width_, threshold_, state_);
  } else {
    detail::scalar::StatsRow(conv, corr, channels_, width_, threshold_, state_);
  }
}

DiffStats DiffAccumulator::Finish(double peak) const {
  const State& st = state_;
  DiffStats s;
  s.threshold = threshold_;
  s.peak = peak;
  s.identical = st.identical;
  if (st.have_max) {
    s.max_abs = st.max_abs;
    s.max_x = st.max_x;
    s.max_y = st.max_y;
    s.max_channel = st.max_channel;
  }
  s.samples = static_cast<uint64_t>(width_) * static_cast<uint64_t>(st.y) *
              static_cast<uint64_t>(channels_);
  if (s.samples > 0) {
    const double n = static_cast<double>(s.samples);
    s.mean_abs = st.sum_abs / n;
    s.rms = std::sqrt(st.sum_sq / n);
    s.share_above = static_cast<double>(st.above) / n;
  }
  // PSNR from the mean square itself, not rms^2, so it carries no extra
  // rounding.
  const double mse =
      s.samples > 0 ? st.sum_sq / static_cast<double>(s.samples) : 0;
  // Identical results have an infinite PSNR; a NaN difference (from a
  // NaN in a float input) makes it NaN, as it makes the mean and rms.
  s.psnr = mse > 0    ? 10.0 * std::log10(peak * peak / mse)
           : mse == 0 ? std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::quiet_NaN();
  return s;
}

// ------------------------------------------------------------ row functions

void SignedDiffRow(const float* const* conv, const float* const* corr,
                   int channels, int width, float* out, RowCode code) {
  if (code == RowCode::kSimd) {
    detail::SignedDiffRow(conv, corr, channels, width, out);
  } else {
    detail::scalar::SignedDiffRow(conv, corr, channels, width, out);
  }
}

void RawDiffRow(const float* const* conv, const float* const* corr,
                int channels, int width, float* const* out, RowCode code) {
  if (code == RowCode::kSimd) {
    detail::RawDiffRow(conv, corr, channels, width, out);
  } else {
    detail::scalar::RawDiffRow(conv, corr, channels, width, out);
  }
}

void HeatMapRow(const float* d, int width, double range, uint8_t* bgr,
                RowCode code) {
  if (code == RowCode::kSimd) {
    detail::HeatMapRow(d, width, range, bgr);
  } else {
    detail::scalar::HeatMapRow(d, width, range, bgr);
  }
}

// --------------------------------------------------------------- RangeChooser

RangeChooser::RangeChooser(const DiffRange& choice, RowCode code)
    : choice_(choice),
      code_(code),
      histogram_(choice.kind == DiffRange::Kind::kPercentile &&
                 !(choice.value >= 100)) {
  if (histogram_) high_.assign(kHighBuckets + 1, 0);
}

void RangeChooser::AddRow(const float* d, int width) {
  if (choice_.kind == DiffRange::Kind::kValue) return;
  detail::RangeCounts counts;
  // Without a histogram (kMax, p >= 100) only the count and the largest
  // value matter.
  uint64_t* high = histogram_ ? high_.data() : nullptr;
  if (code_ == RowCode::kSimd) {
    detail::RangeCountRow(d, width, high, counts);
  } else {
    detail::scalar::RangeCountRow(d, width, high, counts);
  }
  count_ += counts.count;
  min_bits_ = std::min(min_bits_, counts.min_bits);
  max_bits_ = std::max(max_bits_, counts.max_bits);
}

uint64_t RangeChooser::Rank() const {
  // Nearest rank, as ChooseRange had it: the smallest |d| with at least p%
  // of them at or below it.
  const double rank =
      std::ceil(choice_.value / 100.0 * static_cast<double>(count_));
  if (!(rank >= 1.0)) return 0;  // also a NaN percentile
  return static_cast<uint64_t>(std::min(rank, static_cast<double>(count_))) - 1;
}

bool RangeChooser::NeedsSecondPass() const {
  if (!histogram_ || count_ == 0 || second_done_) return false;
  const uint64_t k = Rank();
  return k != 0 && k != count_ - 1;
}

void RangeChooser::AddRowSecond(const float* d, int width) {
  if (!histogram_ || count_ == 0) return;
  if (!second_done_) {
    // The bucket holding rank k, and how many values lie below it.
    const uint64_t k = Rank();
    uint64_t below = 0;
    uint32_t b = 0;
    while (below + high_[b] <= k) below += high_[b++];
    bucket_ = b;
    below_ = below;
    low_.assign(kLowBuckets + 1, 0);
    second_done_ = true;
  }
  if (code_ == RowCode::kSimd) {
    detail::RangeBucketRow(d, width, bucket_, low_.data());
  } else {
    detail::scalar::RangeBucketRow(d, width, bucket_, low_.data());
  }
}

double RangeChooser::Result() const {
  const auto value = [](uint32_t bits) {
    float f;
    std::memcpy(&f, &bits, sizeof f);
    return static_cast<double>(f);
  };
  if (choice_.kind == DiffRange::Kind::kValue) return choice_.value;
  if (count_ == 0) return 0.0;
  if (!histogram_) return value(max_bits_);
  const uint64_t k = Rank();
  if (k == count_ - 1) return value(max_bits_);
  if (k == 0) return value(min_bits_);
  assert(second_done_ && "RangeChooser: the second pass is needed");
  if (!second_done_) return std::numeric_limits<double>::quiet_NaN();
  uint64_t seen = below_;
  uint32_t low = 0;
  while (low < kLowBuckets - 1 && seen + low_[low] <= k) seen += low_[low++];
  return value((bucket_ << 16) | low);
}

}  // namespace convcorr::diff
