// The row kernels behind diff/rows.h, private to the diff layer: the
// Highway versions (rows_simd.cc, dispatched at run time) and their scalar
// twins (rows.cc, namespace scalar).
#pragma once

#include <cstdint>

#include "diff/rows.h"

namespace convcorr::diff::detail {

// What pass 1 of RangeChooser counts in a row besides the histogram: the
// nonzero, non-NaN |d| (their number, and the smallest and largest as
// float bits).
struct RangeCounts {
  uint64_t count = 0;
  uint32_t min_bits = 0xFFFFFFFFu;
  uint32_t max_bits = 0;
};

// The dispatched kernels (rows_simd.cc).
void StatsRow(const float* const* conv, const float* const* corr, int channels,
              int width, double threshold, DiffAccumulator::State& s);
void SignedDiffRow(const float* const* conv, const float* const* corr,
                   int channels, int width, float* out);
void RawDiffRow(const float* const* conv, const float* const* corr,
                int channels, int width, float* const* out);
void HeatMapRow(const float* d, int width, double range, uint8_t* bgr);
// ++high[bits(|v|) >> 16] for every nonzero, non-NaN v of the row (high
// holds RangeChooser::kHighBuckets + 1 counts, the last one scratch; null:
// no histogram, only `counts`).
void RangeCountRow(const float* d, int width, uint64_t* high,
                   RangeCounts& counts);
// ++low[bits(|v|) & 0xFFFF] for those whose bits >> 16 are `bucket` (low
// holds RangeChooser::kLowBuckets + 1 counts, the last one scratch).
void RangeBucketRow(const float* d, int width, uint32_t bucket, uint64_t* low);

namespace scalar {

// The scalar twins (rows.cc): ComputeStats's loop for one row, and so on.
void StatsRow(const float* const* conv, const float* const* corr, int channels,
              int width, double threshold, DiffAccumulator::State& s);
void SignedDiffRow(const float* const* conv, const float* const* corr,
                   int channels, int width, float* out);
void RawDiffRow(const float* const* conv, const float* const* corr,
                int channels, int width, float* const* out);
void HeatMapRow(const float* d, int width, double range, uint8_t* bgr);
void RangeCountRow(const float* d, int width, uint64_t* high,
                   RangeCounts& counts);
void RangeBucketRow(const float* d, int width, uint32_t bucket, uint64_t* low);

// The two sums of a row alone, in ComputeStats's order: for x, for c,
// d = double(conv) - double(corr); sum_abs += |d|; sum_sq += d * d (only
// those asked for). A NaN sum keeps the first NaN term it met, as
// ComputeStats's compiled loop did; `nan_terms` says the row may have NaN
// terms (otherwise a faster loop runs).
void SumRow(const float* const* conv, const float* const* corr, int channels,
            int width, bool nan_terms, bool abs, bool sq, double& sum_abs,
            double& sum_sq);

}  // namespace scalar
}  // namespace convcorr::diff::detail
