// The fast engine: streams rows of any sample type (8-bit, 16-bit, float;
// planar or interleaved) through a border-extended ring of float32 rows,
// correlates them by the strategy the cost model picks, and writes each
// output row straight into the caller's buffer with scale, bias, |.|,
// rounding and saturation fused into the store.
//
// This header is the engine's API: its options, Correlator and
// PairCorrelator. It includes the rest of what callers use: views
// (core/view.h), output sizes (core/geometry.h) and the strategies with
// their cost model (core/cost_model.h). docs/architecture.md lists the
// files that implement it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/border.h"
#include "core/cost_model.h"
#include "core/geometry.h"
#include "core/image.h"
#include "core/view.h"
#include "kernel/kernel.h"

namespace convcorr::core {

// What happens to each sum on its way out: result = scale * sum + bias, then
// |result| if abs, then (for 8- and 16-bit targets) rounding half to even
// and saturation to [0, max], NaN giving 0, as core::Quantize does.
struct EngineOptions {
  Border border;
  OutputSize size = OutputSize::kSame;
  float scale = 1.0f;
  float bias = 0.0f;
  bool abs = false;
  int threads = 0;  // 0 = all cores
  // Cache budget of each thread's ring of rows: frames whose ring would
  // not fit are filtered in vertical strips. 0: the default (512 KiB);
  // tests set it tiny to exercise the strips.
  size_t ring_bytes = 0;
  // The output rows [row_begin, row_end) to compute (row_end < 0: to the
  // last), so that a band of an image streams through the engine
  // (core/pipeline.h). With the fft strategy both ends must be multiples
  // of RowQuantum() (or the last row): a tile is computed whole.
  int row_begin = 0;
  int row_end = -1;
};

// Name of the SIMD target the engine dispatches to on this CPU, e.g.
// "AVX2", "AVX3" (AVX-512), "SSE4" or "EMU128".
const char* SimdTargetName();

class PairCorrelator;

// A kernel prepared for one strategy, to run on any number of images.
class Correlator {
 public:
  // `k` is correlated as given (rotate it first for convolution).
  Correlator(const kernel::Kernel& k, Method requested);
  // The same, with k's rank-1 factors already computed (`terms`:
  // kernel::FactorTerms(k, kMaxSeparableTerms) when `requested` is kAuto
  // or kSeparable, else ignored), so that they are computed once.
  Correlator(const kernel::Kernel& k, Method requested,
             const std::vector<kernel::RankOneFactors>& terms);
  ~Correlator();
  Correlator(Correlator&&) noexcept;
  Correlator& operator=(Correlator&&) noexcept;

  Method method() const { return method_; }
  // The rank-1 passes the separable strategy sums; 0 for the others.
  int terms() const { return terms_; }
  // Whether the separable strategy runs one term whose factors are both
  // symmetric, adding each mirror pair before the multiply.
  bool symmetric_passes() const { return symmetric_; }
  // Whether 8-bit interleaved inputs run in exact int16 lanes: direct or
  // sparse with every weight an integer and no sum out of int16's range
  // (and, at run time, any constant border an integer in [0, 255]).
  bool integer_lanes() const { return integer_; }
  // The output rows a band must be a multiple of (EngineOptions::row_begin
  // and row_end): an fft tile's, else 1.
  int RowQuantum() const;

  // Correlates every channel of `in` into the same channel of `out`, whose
  // size must be OutputExtent(in, k, options.size) and whose channel count
  // matches. Returns the number of samples saturated on the way out.
  uint64_t Run(const ConstImageView& in, const ImageView& out,
               const EngineOptions& options) const;

  struct Prepared;  // the kernel in the form its strategy needs

 private:
  friend class PairCorrelator;
  // Run, also storing every row to `copy` (same channels and size) and
  // zeros to `zeros` when given.
  uint64_t RunInto(const ConstImageView& in, const ImageView& out,
                   const EngineOptions& options, const ImageView* copy,
                   const ImageView* zeros) const;

  kernel::Kernel kernel_;
  Method method_;
  int terms_ = 0;
  bool symmetric_ = false;
  bool integer_ = false;
  std::unique_ptr<Prepared> prepared_;
};

// correlate(K) and convolve(K) of one input at once, for compare. For
// `same`, K is first embedded, with zeros, in the smallest odd box centred
// on its anchor, so that the windows of K and rot180 K coincide; in `valid`
// and `full` they always do. Write K = S + A with S = (K + rot180 K)/2 and
// A = (K - rot180 K)/2 about the window's centre. The plan:
//  - fused:
//    - purely antisymmetric kernels (S == 0: Sobel, Scharr) take the
//      mirror pairs, (I(t) - I(t')) a, one load pair and one FMA giving
//      both results;
//    - kernels with both halves run K and rot180 K over one shared ring of
//      padded rows (four rows at a time when dense): the standalone results
//      bit for bit;
//    - fft transforms each tile once for both spectra;
//  - symmetric: A == 0, so one correlation gives both, stored from the same
//    rows: identical samples, a difference of exactly zero;
//  - two passes: separable kernels run K and rot180 K one after the other,
//    exactly as the standalone commands do.
// Float inputs holding NaN or infinity always take two passes, so those
// reach the outputs they reach in the standalone commands. The pairs and
// the FFT agree with the standalone commands within the bounds in
// docs/architecture.md; the other plans are bit for bit.
class PairCorrelator {
 public:
  enum class Plan { kFused, kSymmetric, kTwoPasses };

  PairCorrelator(const kernel::Kernel& k, Method requested, OutputSize size);
  ~PairCorrelator();
  PairCorrelator(PairCorrelator&&) noexcept;
  PairCorrelator& operator=(PairCorrelator&&) noexcept;

  Plan plan() const { return plan_; }
  Method method() const { return method_; }
  // As Correlator::RowQuantum, for the plan's strategy.
  int RowQuantum() const;
  // The rank-1 passes a separable strategy sums; 0 for the others.
  int terms() const { return first_ ? first_->terms() : 0; }
  // As Correlator::symmetric_passes.
  bool symmetric_passes() const {
    return first_ ? first_->symmetric_passes() : false;
  }

  struct Saturated {
    uint64_t correlate = 0;
    uint64_t convolve = 0;
  };
  // `options.size` must be the size given to the constructor; `corr` and
  // `conv` are the two outputs, laid out as Correlator::Run requires. With
  // `diff` (same size, channels and type as corr and conv), each row of
  // |convolve - correlate| is computed from the stored samples in the same
  // pass, so it equals the difference of the two outputs exactly.
  Saturated Run(const ConstImageView& in, const ImageView& corr,
                const ImageView& conv, const EngineOptions& options,
                const ImageView* diff = nullptr) const;

  struct Pairs;  // the paired taps of the fused plan

 private:
  kernel::Kernel kernel_;
  OutputSize size_;
  Method method_;
  Plan plan_;
  std::unique_ptr<Correlator> first_, second_;
  std::unique_ptr<Pairs> pairs_;
};

const char* PlanName(PairCorrelator::Plan plan);

}  // namespace convcorr::core
