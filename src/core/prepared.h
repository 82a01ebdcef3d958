// A kernel in the form its strategy needs (Correlator::Prepared): tap
// tables for the row kernels, rank-1 factors, or a tile spectrum; and the
// tap tables scaled to one run's layout (Taps).
#pragma once

#include <complex>
#include <memory>
#include <optional>
#include <vector>

#include "core/correlate_simd.h"
#include "core/engine.h"
#include "core/fft.h"
#include "core/integer_simd.h"
#include "kernel/kernel.h"

namespace convcorr::core {

// Tap tables for the row kernels, or the kernel's spectrum for the FFT.
struct Correlator::Prepared {
  // direct: the weights row-major, for four rows at a time; sparse: the
  // same when its rows share loads (`dense_skips_zeros`: TapRows4 leaves
  // the zero weights out), else nothing; separable: the column factors of
  // its r terms (a kh x r kernel whose column t reads term t's ring).
  std::vector<float> dense;
  int dense_cols = 0;
  bool dense_skips_zeros = false;
  // direct, sparse: the kernel's taps; separable: the column pass (offset
  // t for term t, scaled to the term's place in the ring rows).
  std::vector<int> offsets;
  std::vector<float> weights;
  std::vector<detail::TapGroup> groups;
  // direct, sparse: the non-zero taps as int16 weights, for 8-bit inputs
  // (core/integer.cc), when every weight is an integer and no sum of 8-bit
  // samples can leave int16's range (`integer`).
  bool integer = false;
  std::vector<int> i16_offsets;
  std::vector<int16_t> i16_weights;
  std::vector<detail::TapGroupI16> i16_groups;
  // separable: the row pass of each term (one group each, row 0).
  std::vector<int> h_offsets;
  std::vector<float> h_weights;
  std::vector<detail::TapGroup> h_groups;
  // separable with one term whose row and column factors are both
  // symmetric (odd sizes, w[j] == w[size - 1 - j]): each factor's centre
  // weight and then its pairs' (w[m], w[m + 1], ..., w[2m]), for
  // SymRow and SymColumn, which add each mirror pair before multiplying.
  std::vector<float> sym_row, sym_column;
  // fft: tile size, its transforms and the kernel's half spectrum (scaled
  // by 1 / (nh * nw), detail::KernelSpectrum).
  int nh = 0;
  int nw = 0;
  std::optional<detail::Fft2d> fft;
  detail::FftArray<std::complex<float>> spectrum;
  // Used instead of the FFT for planes holding NaN or infinity, which a
  // transform would spread over a whole tile.
  std::unique_ptr<Prepared> fallback;
};

namespace detail {

// `k` prepared for `method` (kAuto is taken as kDirect). For separable,
// `terms` are kernel::FactorTerms(k, kMaxSeparableTerms) when the caller
// has them already (empty: factored here).
std::unique_ptr<Correlator::Prepared> Prepare(
    const kernel::Kernel& k, Method method,
    const std::vector<kernel::RankOneFactors>& terms = {});

// True if every weight of `k` is an integer and every sum of k's products
// with samples in [0, 255] lies in [-32767, 32767]: 255 times the sum of
// the positive weights, and 255 times the sum of the negative weights'
// magnitudes, at most 32767. Such sums are exact in int16 lanes and in float32
// (below 2^24), so the integer lanes give the float engine's results bit for
// bit.
bool IntegerLanesFit(const kernel::Kernel& k);

// TapRows4's loads for a table of weights, kh rows of `cols` (row-major),
// whose column j lies j * step floats along a row: input row r and column
// j serve output row q with kernel row r - q. With `skip_zeros` the zero
// weights are left out, and with them a load no output row takes. Listed
// by input row and then column, so that each output row sums its taps in
// row-major order, as TapRow sums groups built from the same table; runs
// of loads from one row serving the same output rows are one RowTap4,
// pointing into `offsets` and `weights`.
void BuildRowTaps4(const std::vector<float>& table, int cols, int step,
                   bool skip_zeros, std::vector<int>& offsets,
                   std::vector<float>& weights, std::vector<RowTap4>& runs);

// The tap tables with offsets scaled to `lanes` samples per pixel; for
// separable, the column pass's term offsets scaled to `term_stride` floats
// (the distance between two terms' rows in its ring).
struct Taps {
  std::vector<int> offsets, h_offsets;
  std::vector<TapGroup> groups, h_groups;
  // Prepared::dense as TapRows4's runs of loads (BuildRowTaps4); empty if
  // none.
  std::vector<int> rows4_offsets;
  std::vector<float> rows4_weights;
  std::vector<RowTap4> rows4;
  const std::vector<float>& sym_row;     // Prepared::sym_row
  const std::vector<float>& sym_column;  // Prepared::sym_column
  Taps(const Correlator::Prepared& p, int lanes, int term_stride = 0);
};

}  // namespace detail

}  // namespace convcorr::core
