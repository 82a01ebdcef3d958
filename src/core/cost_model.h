// The strategies of the fast engine and the cost model that picks one for
// a kernel (docs/architecture.md, "Cost model").
#pragma once

#include <limits>
#include <vector>

#include "kernel/kernel.h"

namespace convcorr::core {

// How the engine computes a correlation (--method).
enum class Method { kAuto, kDirect, kSparse, kSeparable, kFft };

// Cost of each strategy in float32 multiply-add equivalents per output
// sample (docs/architecture.md, "Cost model"); infinity where a strategy
// cannot run the kernel.
struct Costs {
  double direct = 0.0;
  double sparse = 0.0;
  double separable = std::numeric_limits<double>::infinity();
  int separable_terms = 0;  // rank-1 passes summed by separable; 0: cannot
  double fft = 0.0;
};
// The constants of the cost model, measured with bench/engine_bench.
inline constexpr double kRowCost = 0.5;  // per kernel row walked
// separable: a 1-D tap (the row pass has one load per multiply-add) and
// the fixed cost of each term (its row pass and ring).
inline constexpr double kSeparableTapCost = 1.25;
inline constexpr double kSeparableCost = 7.0;
// separable with one term whose factors are both symmetric (SymRow,
// SymColumn): a mirror pair costs one tap (its addition runs beside the
// multiply-adds), and the term's fixed cost is lower (one aligned load a
// vector in the row pass, the column pass storing 8-bit samples itself).
inline constexpr double kSymmetricSeparableCost = 2.0;
inline constexpr double kFftCost = 21.0;  // per N log2 N of a tile (FFTW)
// A sum of rank-1 terms within this relative Frobenius residual of K
// stands for K (below float32 rounding).
inline constexpr double kSeparableResidual = 1e-7;
// The separable strategy sums at most this many rank-1 passes.
inline constexpr int kMaxSeparableTerms = 4;

// True if `f` (a factor of kernel::FactorTerms) has an odd size and is
// symmetric, f[j] == f[size - 1 - j], but for the decomposition's rounding
// (1e-12 of its largest magnitude): the separable strategy then adds each
// mirror pair before the multiply.
bool SymmetricFactor(const std::vector<double>& f);

// The fewest leading terms of kernel::FactorTerms whose sum is within
// kSeparableResidual of K; 0 if none of the given terms is.
int SeparableTerms(const std::vector<kernel::RankOneFactors>& terms);

// The FFT strategy's tile side for a kernel extent `k` (its rows or its
// columns): a power of two, 256 below 32 taps and 512 from there, and at
// least 2k so that half a tile or more is valid output.
int BestDftSize(int k);

// The factors ChooseMethod needs for a `requested` method:
// kernel::FactorTerms(k, kMaxSeparableTerms) for kSeparable, and for kAuto
// unless direct or sparse already costs no more than one rank-1 term's
// passes would (then separable cannot win); none for the others (no SVD).
std::vector<kernel::RankOneFactors> FactorsFor(const kernel::Kernel& k,
                                               Method requested);

// `terms`: kernel::FactorTerms(k, kMaxSeparableTerms), or fewer (none: no
// separable strategy).
Costs EstimateCosts(const kernel::Kernel& k,
                    const std::vector<kernel::RankOneFactors>& terms);
// `requested` unless kAuto, which takes the cheapest strategy (ties go to
// the simpler one, in the order direct, sparse, separable, fft; sparse
// first for a one-row kernel). A
// kSeparable request for a kernel that is not a sum of at most
// kMaxSeparableTerms rank-1 terms gives kDirect.
Method ChooseMethod(const kernel::Kernel& k,
                    const std::vector<kernel::RankOneFactors>& terms,
                    Method requested);
const char* MethodName(Method method);

}  // namespace convcorr::core
