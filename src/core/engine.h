// The fast engine: streams rows of any sample type (8-bit, 16-bit, float;
// planar or interleaved) through a border-extended ring of float32 rows,
// correlates them by the strategy the cost model picks, and writes each
// output row straight into the caller's buffer with scale, bias, |.|,
// rounding and saturation fused into the store.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "core/border.h"
#include "core/image.h"
#include "kernel/kernel.h"

namespace convcorr::core {

enum class OutputSize { kSame, kValid, kFull };

// How the engine computes a correlation (--method).
enum class Method { kAuto, kDirect, kSparse, kSeparable, kFft };

// Output size of a plane of `width` x `height` filtered with `k` (valid needs
// k no larger than the image: returns 0x0 otherwise).
struct Extent {
  int width = 0;
  int height = 0;
};
Extent OutputExtent(int width, int height, const kernel::Kernel& k,
                    OutputSize size);

// Up to four channels of one image in memory. Channel c's sample at (y, x)
// is at base[c] + y * row_bytes + x * step * SampleBytes(type): planar
// images have step 1 and one base per plane; interleaved ones (OpenCV's
// cv::Mat) step == channels and bases one sample apart.
struct ConstImageView {
  std::array<const std::byte*, 4> base{};
  int channels = 0;
  int width = 0;
  int height = 0;
  Depth type = Depth::kF32;
  std::ptrdiff_t row_bytes = 0;
  int step = 1;
};
struct ImageView {
  std::array<std::byte*, 4> base{};
  int channels = 0;
  int width = 0;
  int height = 0;
  Depth type = Depth::kF32;
  std::ptrdiff_t row_bytes = 0;
  int step = 1;
};

size_t SampleBytes(Depth type);
// Views of float planes (type kF32, step 1), all the same size.
ConstImageView ViewOf(const std::vector<const Plane*>& planes);
ImageView ViewOf(const std::vector<Plane*>& planes);

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
};

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
inline constexpr double kFftCost = 21.0;  // per N log2 N of a tile (FFTW)
// A sum of rank-1 terms within this relative Frobenius residual of K
// stands for K (below float32 rounding).
inline constexpr double kSeparableResidual = 1e-7;
// The separable strategy sums at most this many rank-1 passes.
inline constexpr int kMaxSeparableTerms = 4;

// The fewest leading terms of kernel::FactorTerms whose sum is within
// kSeparableResidual of K; 0 if none of the given terms is.
int SeparableTerms(const std::vector<kernel::RankOneFactors>& terms);

// `terms`: kernel::FactorTerms(k, kMaxSeparableTerms), or fewer (none: no
// separable strategy).
Costs EstimateCosts(const kernel::Kernel& k,
                    const std::vector<kernel::RankOneFactors>& terms);
// `requested` unless kAuto, which takes the cheapest strategy (ties go to
// the simpler one, in the order direct, sparse, separable, fft). A
// kSeparable request for a kernel that is not a sum of at most
// kMaxSeparableTerms rank-1 terms gives kDirect.
Method ChooseMethod(const kernel::Kernel& k,
                    const std::vector<kernel::RankOneFactors>& terms,
                    Method requested);
const char* MethodName(Method method);

// Name of the SIMD target the engine dispatches to on this CPU, e.g.
// "AVX2", "AVX3" (AVX-512), "SSE4" or "EMU128".
const char* SimdTargetName();

class PairCorrelator;

// A kernel prepared for one strategy, to run on any number of images.
class Correlator {
 public:
  // `k` is correlated as given (rotate it first for convolution).
  Correlator(const kernel::Kernel& k, Method requested);
  ~Correlator();
  Correlator(Correlator&&) noexcept;
  Correlator& operator=(Correlator&&) noexcept;

  Method method() const { return method_; }
  // The rank-1 passes the separable strategy sums; 0 for the others.
  int terms() const { return terms_; }

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
