// Correlator: a kernel prepared once for the strategy the cost model (or
// the caller) picks, run over the output rows on ParallelRows' threads.
#include <hwy/cache_control.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "core/engine.h"
#include "core/prepared.h"
#include "core/strategies.h"
#include "core/stream.h"
#include "core/threads.h"

namespace convcorr::core {

Correlator::Correlator(const kernel::Kernel& k, Method requested)
    : Correlator(k, requested, FactorsFor(k, requested)) {}

Correlator::Correlator(const kernel::Kernel& k, Method requested,
                       const std::vector<kernel::RankOneFactors>& terms)
    : kernel_(k),
      method_(ChooseMethod(k, terms, requested)),
      prepared_(detail::Prepare(kernel_, method_, terms)) {
  terms_ = static_cast<int>(prepared_->h_groups.size());
  symmetric_ = !prepared_->sym_row.empty();
  integer_ = detail::IntegerKernel(*prepared_, method_);
}

Correlator::~Correlator() = default;
Correlator::Correlator(Correlator&&) noexcept = default;
Correlator& Correlator::operator=(Correlator&&) noexcept = default;

uint64_t Correlator::Run(const ConstImageView& in, const ImageView& out,
                         const EngineOptions& options) const {
  return RunInto(in, out, options, nullptr, nullptr);
}

uint64_t Correlator::RunInto(const ConstImageView& in, const ImageView& out,
                             const EngineOptions& options,
                             const ImageView* copy,
                             const ImageView* zeros) const {
  const Extent extent =
      OutputExtent(in.width, in.height, kernel_, options.size);
  if (extent.width == 0 || extent.height == 0 || in.channels == 0) return 0;
  detail::Job job =
      detail::MakeJob(in, out, kernel_, options, options.size, extent);

  Method method = method_;
  const Prepared* p = prepared_.get();
  if (method == Method::kFft && !AllFinite(in)) {
    method = Method::kDirect;
    p = prepared_->fallback.get();
  }
  job.packed = method != Method::kFft && in.channels == out.channels &&
               IsPacked(in) && IsPacked(out) &&
               (copy == nullptr || IsPacked(*copy));
  job.lanes = job.packed ? in.channels : 1;
  job.stream = detail::ShouldStream(out);
  job.copy = copy;
  job.zeros = zeros;
  const detail::Taps taps(*p, job.lanes);
  const bool integer = detail::RunsInteger(job, *p, method);
  // The output rows asked for, as rows or fft tile rows.
  const detail::RowUnits units =
      detail::UnitsOf(options, extent.height,
                      method == Method::kFft ? p->nh - kernel_.rows() + 1 : 1);
  std::atomic<uint64_t> saturated{0};
  // fft: the threads share the band's tiles, not only its rows of tiles.
  const int across =
      method == Method::kFft
          ? detail::FftTilesAcross(*p, kernel_.cols(), extent.width)
          : 1;
  ParallelRows(
      (units.end - units.begin) * across, options.threads, [&](int v0, int v1) {
        const int u0 = units.begin + v0;
        const int u1 = units.begin + v1;
        switch (method) {
          case Method::kFft:
            saturated += detail::RunFft(job, *p, units.begin * across + v0,
                                        units.begin * across + v1);
            break;
          case Method::kSeparable:
            saturated += detail::RunSeparable(job, *p, u0, u1);
            break;
          default:
            saturated += integer ? detail::RunInteger(job, *p, u0, u1)
                                 : detail::RunDirect(job, taps, u0, u1);
            break;
        }
        hwy::FlushStream();  // the non-temporal stores, before the join
      });
  return saturated;
}

int Correlator::RowQuantum() const {
  return method_ == Method::kFft ? prepared_->nh - kernel_.rows() + 1 : 1;
}

}  // namespace convcorr::core
