// PairCorrelator: correlate(K) and convolve(K) of one input at once, for
// compare. The plan (engine.h) is settled when the kernel is prepared: the
// mirror pairs or a shared ring (fused, direct and sparse), one set of
// transforms for both spectra (fused, fft), one correlation stored twice
// (symmetric), or two Correlators (two passes).
#include <hwy/cache_control.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <complex>
#include <cstdint>
#include <memory>
#include <numeric>
#include <utility>
#include <vector>

#include "core/border.h"
#include "core/engine.h"
#include "core/fft.h"
#include "core/geometry.h"
#include "core/prepared.h"
#include "core/store.h"
#include "core/strategies.h"
#include "core/stream.h"
#include "core/threads.h"

namespace convcorr::core {

using detail::Job;
using detail::Rows;
using detail::Scratch;
using detail::Taps;

struct PairCorrelator::Pairs {
  explicit Pairs(kernel::Kernel k) : centred(std::move(k)) {}
  kernel::Kernel centred;  // K embedded so the two windows coincide
  std::vector<int> r1, o1, r2, o2;
  std::vector<float> s, a;
  bool has_s = false;
  bool has_a = false;
  // fft: the centred kernel prepared for the FFT, and the spectrum of its
  // rotation on the same tiles.
  std::unique_ptr<Correlator::Prepared> fft;
  detail::FftArray<std::complex<float>> rotated_spectrum;
  // Both halves non-zero (direct, sparse): the centred kernel and its
  // rotation over one shared ring instead of the pairs.
  std::unique_ptr<Correlator::Prepared> dual_corr, dual_conv;
  // Integer weights that fit the int16 lanes (direct, sparse): the
  // centred kernel and its rotation in those lanes, for 8-bit inputs.
  std::unique_ptr<Correlator::Prepared> int_corr, int_conv;

  // The table with offsets scaled to `lanes` samples per pixel.
  struct Scaled {
    std::vector<int> o1, o2;
    detail::PairTable table;
  };
  Scaled Scale(int lanes) const {
    Scaled out;
    for (int o : o1) out.o1.push_back(o * lanes);
    for (int o : o2) out.o2.push_back(o * lanes);
    out.table = {s.size(), r1.data(), out.o1.data(), r2.data(), out.o2.data(),
                 s.data(), a.data(),  has_s,         has_a};
    return out;
  }
};

namespace {

// Both outputs of a fused pass for a purely antisymmetric kernel: a ring
// of kh padded rows, one PairRow per row and channel, each result stored
// into its own view (and |conv - corr| into `diff`).
PairCorrelator::Saturated RunPair(const Job& corr_job, const Job& conv_job,
                                  const detail::PairTable& pairs,
                                  const ImageView* diff, int y0, int y1) {
  const Job& job = corr_job;
  const int channels = job.packed ? 1 : job.in->channels;
  const size_t width = static_cast<size_t>(job.extent.width) * job.lanes;
  Rows ring(channels, job.k->rows(), job.padded_w * job.lanes);
  Rows acc(2 * channels, 1, job.extent.width * job.lanes);
  Scratch scratch;
  PairCorrelator::Saturated saturated;
  detail::WalkBand(
      ring, channels, job.k->rows(), y0, y1, false,
      [&](int py, float* const* slots) {
        detail::LoadPadded(job, py, 0, job.padded_w, slots, scratch);
      },
      [&](int y, int, const auto& rows) {
        for (int c = 0; c < channels; ++c) {
          detail::PairRow(rows(c), pairs, width, acc.at(c, 0),
                          acc.at(channels + c, 0));
        }
        saturated.correlate +=
            detail::EmitBlock(corr_job, y, 1, acc, 0, channels, scratch);
        saturated.convolve +=
            detail::EmitBlock(conv_job, y, 1, acc, channels, channels, scratch);
        if (diff != nullptr) {
          detail::DiffRows(*corr_job.out, *conv_job.out, *diff, y, 0,
                           job.extent.width);
        }
      });
  return saturated;
}

// Both outputs of a fused pass for kernels with a symmetric and an
// antisymmetric part: one ring of padded rows, read by K (a) and by its
// rotation (b), four rows at a time for dense kernels as in RunDirect, so
// every load and conversion of the input serves both results.
PairCorrelator::Saturated RunDual(const Job& corr_job, const Job& conv_job,
                                  const Taps& a, const Taps& b,
                                  const ImageView* diff, int y0, int y1) {
  const Job& job = corr_job;
  const int kh = job.k->rows();
  const int channels = job.packed ? 1 : job.in->channels;
  const size_t width = static_cast<size_t>(job.extent.width) * job.lanes;
  Rows ring(channels, kh + detail::kRowBlock - 1, job.padded_w * job.lanes);
  Rows acc(2 * channels, detail::kRowBlock, job.extent.width * job.lanes);
  Scratch scratch;
  PairCorrelator::Saturated saturated;
  detail::WalkBand(
      ring, channels, kh, y0, y1, !a.rows4.empty() && !b.rows4.empty(),
      [&](int py, float* const* slots) {
        detail::LoadPadded(job, py, 0, job.padded_w, slots, scratch);
      },
      [&](int y, int block, const auto& rows) {
        for (int c = 0; c < channels; ++c) {
          detail::ComputeRows(rows(c), a, kh, width, block, acc, c);
          detail::ComputeRows(rows(c), b, kh, width, block, acc, channels + c);
        }
        saturated.correlate +=
            detail::EmitBlock(corr_job, y, block, acc, 0, channels, scratch);
        saturated.convolve += detail::EmitBlock(conv_job, y, block, acc,
                                                channels, channels, scratch);
        if (diff != nullptr) {
          for (int q = 0; q < block; ++q) {
            detail::DiffRows(*corr_job.out, *conv_job.out, *diff, y + q, 0,
                             job.extent.width);
          }
        }
      });
  return saturated;
}

// K embedded with zeros in the smallest box, odd in each direction, centred
// on its anchor: the same correlation for `same`, with the anchor at the
// centre, so that K and rot180 K read the same window.
kernel::Kernel Centred(const kernel::Kernel& k) {
  const int hy = std::max(k.anchor_y(), k.rows() - 1 - k.anchor_y());
  const int hx = std::max(k.anchor_x(), k.cols() - 1 - k.anchor_x());
  const int rows = 2 * hy + 1;
  const int cols = 2 * hx + 1;
  if (rows == k.rows() && cols == k.cols()) return k;
  std::vector<double> w(static_cast<size_t>(rows) * cols, 0.0);
  const int dy = hy - k.anchor_y();
  const int dx = hx - k.anchor_x();
  for (int i = 0; i < k.rows(); ++i) {
    for (int j = 0; j < k.cols(); ++j) {
      w[static_cast<size_t>(i + dy) * cols + j + dx] = k.at(i, j);
    }
  }
  return kernel::Kernel(rows, cols, std::move(w), hx, hy);
}

}  // namespace

const char* PlanName(PairCorrelator::Plan plan) {
  switch (plan) {
    case PairCorrelator::Plan::kFused:
      return "fused";
    case PairCorrelator::Plan::kSymmetric:
      return "symmetric";
    case PairCorrelator::Plan::kTwoPasses:
      return "two passes";
  }
  return "?";
}

PairCorrelator::PairCorrelator(const kernel::Kernel& k, Method requested,
                               OutputSize size)
    : kernel_(k), size_(size) {
  // K's factors, computed once: for the choice and for the Correlator of
  // the plans that run one.
  const std::vector<kernel::RankOneFactors> terms = FactorsFor(k, requested);
  method_ = ChooseMethod(k, terms, requested);
  // In valid and full the window is the kernel's box whatever the anchor.
  auto pairs =
      std::make_unique<Pairs>(size == OutputSize::kSame ? Centred(k) : k);
  const kernel::Kernel& c = pairs->centred;
  const int n = c.rows() * c.cols();
  for (int t = 0; t < n; ++t) {
    const int m = n - 1 - t;  // the mirror of tap t about the centre
    if (m < t) break;
    const double kt = c.weights()[t];
    const double km = c.weights()[m];
    // The centre tap pairs with itself: (I + I) * k/2 is exactly k * I.
    const double sv = m == t ? kt / 2 : (kt + km) / 2;
    const double av = m == t ? 0.0 : (kt - km) / 2;
    if (sv == 0.0 && av == 0.0) continue;
    pairs->r1.push_back(t / c.cols());
    pairs->o1.push_back(t % c.cols());
    pairs->r2.push_back(m / c.cols());
    pairs->o2.push_back(m % c.cols());
    pairs->s.push_back(static_cast<float>(sv));
    pairs->a.push_back(static_cast<float>(av));
    pairs->has_s = pairs->has_s || sv != 0.0;
    pairs->has_a = pairs->has_a || av != 0.0;
  }
  if (!pairs->has_a) {
    plan_ = Plan::kSymmetric;
    first_ = std::make_unique<Correlator>(k, requested, terms);
  } else if (method_ == Method::kDirect || method_ == Method::kSparse) {
    plan_ = Plan::kFused;
    if (pairs->has_s) {
      // With both halves, a pair costs two loads, an add, a subtract and
      // two FMAs for four taps' worth of results: no fewer vector
      // operations than K and rot180 K over a shared ring, which also
      // shares each load between four output rows. So share the ring.
      pairs->dual_corr = detail::Prepare(pairs->centred, method_);
      pairs->dual_conv =
          detail::Prepare(kernel::Rotate180(pairs->centred), method_);
    }
    if (detail::IntegerLanesFit(pairs->centred)) {
      pairs->int_corr = detail::Prepare(pairs->centred, method_);
      pairs->int_conv =
          detail::Prepare(kernel::Rotate180(pairs->centred), method_);
    }
    pairs_ = std::move(pairs);
  } else if (method_ == Method::kFft) {
    // One forward transform per tile, two spectrum products and inverses.
    plan_ = Plan::kFused;
    pairs->fft = detail::Prepare(pairs->centred, Method::kFft);
    pairs->rotated_spectrum = detail::KernelSpectrum(
        *pairs->fft->fft, kernel::Rotate180(pairs->centred));
    pairs_ = std::move(pairs);
  } else {
    plan_ = Plan::kTwoPasses;
    first_ = std::make_unique<Correlator>(k, requested, terms);
    second_ = std::make_unique<Correlator>(kernel::Rotate180(k), requested);
  }
}

PairCorrelator::~PairCorrelator() = default;
PairCorrelator::PairCorrelator(PairCorrelator&&) noexcept = default;
PairCorrelator& PairCorrelator::operator=(PairCorrelator&&) noexcept = default;

namespace {

// True unless a float `in` holds NaN or infinity in a row that output rows
// [options.row_begin, row_end) of `k` or of its rotation read: only the
// rows of this band, found through the border's mapping (a ring view
// holds no others, and the rows outside it may be being filled).
bool BandFinite(const ConstImageView& in, const kernel::Kernel& k,
                OutputSize size, const EngineOptions& options, int height) {
  if (in.type != Depth::kF32) return true;
  const int r0 = options.row_begin;
  const int r1 = options.row_end < 0 ? height : options.row_end;
  if (r1 <= r0) return true;
  const bool packed = IsPacked(in);
  const size_t n = static_cast<size_t>(in.width) * (packed ? in.channels : 1);
  for (const kernel::Kernel& kk : {k, kernel::Rotate180(k)}) {
    const int top = OutputOrigin(kk, size).y;
    for (int py = r0 + top; py < r1 + top + kk.rows() - 1; ++py) {
      const int y = BorderIndex(py, in.height, options.border.mode);
      if (y < 0) continue;
      for (int c = 0; c < (packed ? 1 : in.channels); ++c) {
        const std::byte* row = in.base[c] + RowOffset(in, y);
        if (packed || in.step == 1) {
          if (!detail::RowFinite(reinterpret_cast<const float*>(row), n)) {
            return false;
          }
          continue;
        }
        for (int x = 0; x < in.width; ++x) {
          if (!std::isfinite(SampleAt(
                  row + static_cast<size_t>(x) * in.step * 4, Depth::kF32))) {
            return false;
          }
        }
      }
    }
  }
  return true;
}

}  // namespace

PairCorrelator::Saturated PairCorrelator::Run(const ConstImageView& in,
                                              const ImageView& corr,
                                              const ImageView& conv,
                                              const EngineOptions& options,
                                              const ImageView* diff) const {
  Saturated result;
  EngineOptions o = options;
  o.size = size_;
  const auto whole_diff = [&] {
    if (diff == nullptr) return;
    const detail::RowUnits rows = detail::UnitsOf(o, diff->height, 1);
    for (int y = rows.begin; y < rows.end; ++y) {
      detail::DiffRows(corr, conv, *diff, y, 0, diff->width);
    }
  };
  if (plan_ == Plan::kTwoPasses) {
    result.correlate = first_->Run(in, corr, o);
    result.convolve = second_->Run(in, conv, o);
    whole_diff();
    return result;
  }
  if (!BandFinite(in, kernel_, size_, o, corr.height)) {
    // NaN and infinity reach exactly the outputs the standalone commands
    // give them only if each result is computed on its own: the centring
    // zeros (0 * NaN), the skipped zero pairs and the FFT would each move
    // them. So such inputs take two passes.
    const Method m = method_ == Method::kFft ? Method::kDirect : method_;
    result.correlate = Correlator(kernel_, m).Run(in, corr, o);
    result.convolve =
        Correlator(kernel::Rotate180(kernel_), m).Run(in, conv, o);
    whole_diff();
    return result;
  }
  if (plan_ == Plan::kSymmetric) {
    // One correlation stored to both outputs from the same rows (copied
    // when the two are laid out alike, else stored a second time: the same
    // sums either way); the difference is zero everywhere.
    result.correlate = first_->RunInto(in, corr, o, &conv, diff);
    result.convolve = result.correlate;
    return result;
  }
  const kernel::Kernel& k = pairs_->centred;
  const Extent extent = OutputExtent(in.width, in.height, k, size_);
  if (extent.width == 0 || extent.height == 0 || in.channels == 0) {
    return result;
  }
  Job job = detail::MakeJob(in, corr, k, o, size_, extent);
  job.packed = in.channels == corr.channels && IsPacked(in) && IsPacked(corr) &&
               IsPacked(conv) && conv.type == corr.type;
  job.lanes = job.packed ? in.channels : 1;
  // With a difference to write, the results are read back right after
  // being stored, so they stay in the cache (no streaming stores).
  job.stream = diff == nullptr && detail::ShouldStream(corr);
  Job conv_job = job;
  conv_job.out = &conv;
  conv_job.emit.type = static_cast<int>(conv.type);
  conv_job.emit.max = static_cast<float>(DepthMax(conv.type));
  if (pairs_->fft != nullptr) {
    const Correlator::Prepared& f = *pairs_->fft;
    job.packed = false;
    job.lanes = 1;
    conv_job.packed = false;
    conv_job.lanes = 1;
    const detail::RowUnits tiles =
        detail::UnitsOf(o, extent.height, f.nh - k.rows() + 1);
    // The threads share the band's tiles, not only its rows of tiles.
    const int across = detail::FftTilesAcross(f, k.cols(), extent.width);
    std::atomic<uint64_t> corr_sat{0}, conv_sat{0};
    ParallelRows(
        (tiles.end - tiles.begin) * across, o.threads, [&](int v0, int v1) {
          const int t0 = tiles.begin * across + v0;
          const int t1 = tiles.begin * across + v1;
          uint64_t conv_part = 0;
          corr_sat +=
              detail::RunFft(job, f, t0, t1, pairs_->rotated_spectrum.get(),
                             &conv_job, &conv_part, diff);
          conv_sat += conv_part;
          hwy::FlushStream();
        });
    result.correlate = corr_sat;
    result.convolve = conv_sat;
    return result;
  }
  std::atomic<uint64_t> corr_sat{0}, conv_sat{0};
  const detail::RowUnits rows = detail::UnitsOf(o, extent.height, 1);
  if (pairs_->int_corr != nullptr &&
      detail::RunsInteger(job, *pairs_->int_corr, method_)) {
    ParallelRows(rows.end - rows.begin, o.threads, [&](int v0, int v1) {
      const Saturated part = detail::RunIntegerPair(
          job, conv_job, *pairs_->int_corr, *pairs_->int_conv, diff,
          rows.begin + v0, rows.begin + v1);
      corr_sat += part.correlate;
      conv_sat += part.convolve;
      hwy::FlushStream();
    });
    result.correlate = corr_sat;
    result.convolve = conv_sat;
    return result;
  }
  const Pairs::Scaled scaled = pairs_->Scale(job.lanes);
  std::unique_ptr<Taps> dual_a, dual_b;
  if (pairs_->dual_corr != nullptr) {
    dual_a = std::make_unique<Taps>(*pairs_->dual_corr, job.lanes);
    dual_b = std::make_unique<Taps>(*pairs_->dual_conv, job.lanes);
  }
  ParallelRows(rows.end - rows.begin, o.threads, [&](int v0, int v1) {
    const int y0 = rows.begin + v0;
    const int y1 = rows.begin + v1;
    const Saturated part =
        dual_a != nullptr
            ? RunDual(job, conv_job, *dual_a, *dual_b, diff, y0, y1)
            : RunPair(job, conv_job, scaled.table, diff, y0, y1);
    corr_sat += part.correlate;
    conv_sat += part.convolve;
    hwy::FlushStream();
  });
  result.correlate = corr_sat;
  result.convolve = conv_sat;
  return result;
}

int PairCorrelator::RowQuantum() const {
  if (pairs_ != nullptr && pairs_->fft != nullptr) {
    return pairs_->fft->nh - pairs_->centred.rows() + 1;
  }
  if (first_ == nullptr) return 1;
  return second_ != nullptr
             ? std::lcm(first_->RowQuantum(), second_->RowQuantum())
             : first_->RowQuantum();
}

}  // namespace convcorr::core
