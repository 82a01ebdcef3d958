// The difference layer row by row: what ComputeStats, SignedDiff, RawDiff,
// ChooseRange and HeatMap compute, one row at a time (rows in order), so
// that a streaming pipeline can feed them band by band. Every function has
// a Highway version compiled for each SIMD target and dispatched at run
// time (rows_simd.cc), and a plain scalar twin (rows.cc); the two give the
// same results bit for bit, and so do the whole-image functions of diff.h,
// which are made of these.
//
// Rows are planar: `conv` and `corr` hold one pointer per colour channel
// (1 to 4; alpha is never compared) to a row of `width` floats.
#pragma once

#include <cstdint>
#include <vector>

#include "diff/diff.h"

namespace convcorr::diff {

// Which code a row function runs: the dispatched SIMD kernels, or their
// scalar twins (the tests' reference, and the oracle of the SIMD code).
enum class RowCode { kSimd, kScalar };

// ComputeStats over rows y = 0, 1, 2, ... given in order. Finish gives the
// DiffStats ComputeStats gives for the image made of those rows, bit for
// bit: the sums of |d| and d^2 (d = double(conv) - double(corr)) keep
// ComputeStats's sequential row-major order (y, x, channel) and its
// rounding; the largest |d| its first location in that order.
class DiffAccumulator {
 public:
  DiffAccumulator(int width, int channels, double threshold,
                  RowCode code = RowCode::kSimd);

  // The next row (y counts from 0 by itself).
  void AddRow(const float* const* conv, const float* const* corr);

  // The statistics of the rows so far; `peak` as for ComputeStats.
  DiffStats Finish(double peak) const;

  // What the rows so far have summed; Finish derives the rest from it.
  struct State {
    double sum_abs = 0;
    double sum_sq = 0;
    uint64_t above = 0;  // |d| > threshold
    bool identical = true;
    bool have_max = false;
    double max_abs = 0;
    int max_x = 0;
    int max_y = 0;
    int max_channel = 0;
    int y = 0;  // rows added
  };
  const State& state() const { return state_; }

 private:
  int width_;
  int channels_;
  double threshold_;
  RowCode code_;
  State state_;
};

// Per pixel, the d = conv - corr (float) with the largest |d| over the
// colour channels, the first channel on ties (a NaN in the first channel
// stays): one row of SignedDiff. `out` holds `width` floats.
void SignedDiffRow(const float* const* conv, const float* const* corr,
                   int channels, int width, float* out,
                   RowCode code = RowCode::kSimd);

// out[c][x] = conv[c][x] - corr[c][x] (float) for every colour channel: one
// row of RawDiff.
void RawDiffRow(const float* const* conv, const float* const* corr,
                int channels, int width, float* const* out,
                RowCode code = RowCode::kSimd);

// One row of HeatMap, interleaved: bgr[3x], bgr[3x + 1], bgr[3x + 2] are the
// B, G, R of DivergingColor(range > 0 ? d[x] / range : 0) (so range <= 0,
// or NaN, paints white; NaN d is t = 0; t is clamped to [-1, 1]).
void HeatMapRow(const float* d, int width, double range, uint8_t* bgr,
                RowCode code = RowCode::kSimd);

// ChooseRange in two passes over the rows of the signed difference d
// (SignedDiff), in the same order both times:
//
//   RangeChooser chooser(choice);
//   for each row: chooser.AddRow(row, width);
//   if (chooser.NeedsSecondPass()) {
//     for each row again: chooser.AddRowSecond(row, width);
//   }
//   double range = chooser.Result();
//
// The nonzero |d| are ranked by their float bit patterns (a positive
// float's bits order like its value): the first pass counts them in a
// histogram of their top 16 bits (sign, exponent, 7 mantissa bits) and
// keeps the largest; the second, needed only for a percentile strictly
// between the smallest and the largest rank, counts the low 16 bits of the
// values in the bucket holding the nearest rank, which gives its exact bit
// pattern. Memory is the two histograms (about 0.8 MB), never a copy of d.
//
// NaN d are left out, as kMax always left them out: they neither count nor
// rank. (Before, a NaN counted in the number of values and the percentile
// was std::nth_element's pick among values that NaN leaves unordered, which
// depends on where the NaNs lie.)
class RangeChooser {
 public:
  explicit RangeChooser(const DiffRange& choice, RowCode code = RowCode::kSimd);

  // Pass 1: every row of d.
  void AddRow(const float* d, int width);
  // Whether Result needs pass 2.
  bool NeedsSecondPass() const;
  // Pass 2: the same rows again, in the same order.
  void AddRowSecond(const float* d, int width);
  // The range ChooseRange gives: kValue's value; 0 when no d is nonzero
  // (and not NaN); kMax and percentiles of 100 and above the largest |d|;
  // otherwise the p-th percentile by nearest rank of the nonzero |d|.
  double Result() const;

  // Buckets of the first pass (top 16 bits of |d| up to +infinity's) and of
  // the second (low 16 bits).
  static constexpr uint32_t kHighBuckets = (0x7F800000u >> 16) + 1;
  static constexpr uint32_t kLowBuckets = 1u << 16;

 private:
  // The 0-based rank of the result among the counted values.
  uint64_t Rank() const;

  DiffRange choice_;
  RowCode code_;
  bool histogram_;  // a percentile below 100: ranks are needed
  uint64_t count_ = 0;
  uint32_t max_bits_ = 0;  // largest |d| counted, as float bits
  uint32_t min_bits_ = 0xFFFFFFFFu;
  // Index kHighBuckets and kLowBuckets are scratch for the SIMD code.
  std::vector<uint64_t> high_;
  uint32_t bucket_ = 0;  // pass 2's bucket
  uint64_t below_ = 0;   // values in buckets below it
  std::vector<uint64_t> low_;
  bool second_done_ = false;
};

// The name of the SIMD target the dispatched row functions run (as
// core::SimdTargetName for the engine).
const char* DiffSimdTargetName();

}  // namespace convcorr::diff
