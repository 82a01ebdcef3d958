#include "core/fft.h"

#include <fftw3.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <utility>

namespace convcorr::core::detail {

static_assert(sizeof(std::complex<float>) == sizeof(fftwf_complex),
              "std::complex<float> has fftwf_complex's layout");

void FftFree::operator()(void* p) const { fftwf_free(p); }

FftArray<float> AllocateReal(size_t n) {
  auto* p = static_cast<float*>(fftwf_malloc(sizeof(float) * n));
  if (p == nullptr) throw std::bad_alloc();
  return FftArray<float>(p);
}

FftArray<std::complex<float>> AllocateComplex(size_t n) {
  auto* p = static_cast<std::complex<float>*>(
      fftwf_malloc(sizeof(std::complex<float>) * n));
  if (p == nullptr) throw std::bad_alloc();
  return FftArray<std::complex<float>>(p);
}

struct FftPlans {
  fftwf_plan forward = nullptr;
  fftwf_plan inverse = nullptr;
};

namespace {

// FFTW's planner is not thread-safe; execution of a finished plan is.
// Plans live as long as the process: a run uses a handful of sizes.
std::mutex& PlannerMutex() {
  static std::mutex mutex;
  return mutex;
}

std::map<std::pair<int, int>, FftPlans>& PlanCache() {
  static auto* cache = new std::map<std::pair<int, int>, FftPlans>();
  return *cache;
}

}  // namespace

Fft2d::Fft2d(int rows, int cols) : rows_(rows), cols_(cols) {
  if (rows < 1 || cols < 1) throw std::invalid_argument("empty transform");
  std::lock_guard lock(PlannerMutex());
  auto [it, inserted] = PlanCache().try_emplace({rows, cols});
  if (inserted) {
    // FFTW_ESTIMATE plans in microseconds without touching the arrays;
    // measuring plans (FFTW_MEASURE) would cost a one-photo run far more
    // than it saves (docs/performance.md). The arrays only give the
    // alignment every later array shares (fftwf_malloc).
    FftArray<float> real = AllocateReal(real_size());
    FftArray<std::complex<float>> spectrum = AllocateComplex(spectrum_size());
    auto* c = reinterpret_cast<fftwf_complex*>(spectrum.get());
    it->second.forward =
        fftwf_plan_dft_r2c_2d(rows, cols, real.get(), c, FFTW_ESTIMATE);
    it->second.inverse =
        fftwf_plan_dft_c2r_2d(rows, cols, c, real.get(), FFTW_ESTIMATE);
    if (it->second.forward == nullptr || it->second.inverse == nullptr) {
      PlanCache().erase(it);
      throw std::runtime_error("FFTW could not plan a transform");
    }
  }
  plans_ = &it->second;
}

void Fft2d::Forward(const float* in, std::complex<float>* out) const {
  // r2c leaves its input alone; FFTW's signature is not const.
  fftwf_execute_dft_r2c(plans_->forward, const_cast<float*>(in),
                        reinterpret_cast<fftwf_complex*>(out));
}

void Fft2d::Inverse(std::complex<float>* in, float* out) const {
  fftwf_execute_dft_c2r(plans_->inverse, reinterpret_cast<fftwf_complex*>(in),
                        out);
}

void MultiplyConjugate(const std::complex<float>* a,
                       const std::complex<float>* b, size_t n,
                       std::complex<float>* out) {
  // Plain float arithmetic (std::complex's operator* checks for NaN and
  // calls __mulsc3): (ar + i ai)(br - i bi).
  const auto* x = reinterpret_cast<const float*>(a);
  const auto* y = reinterpret_cast<const float*>(b);
  auto* z = reinterpret_cast<float*>(out);
  for (size_t i = 0; i < n; ++i) {
    const float ar = x[2 * i];
    const float ai = x[2 * i + 1];
    const float br = y[2 * i];
    const float bi = y[2 * i + 1];
    z[2 * i] = ar * br + ai * bi;
    z[2 * i + 1] = ai * br - ar * bi;
  }
}

FftArray<std::complex<float>> KernelSpectrum(const Fft2d& fft,
                                             const kernel::Kernel& k) {
  FftArray<float> padded = AllocateReal(fft.real_size());
  std::fill_n(padded.get(), fft.real_size(), 0.0f);
  for (int i = 0; i < k.rows(); ++i) {
    float* row = padded.get() + static_cast<size_t>(i) * fft.cols();
    for (int j = 0; j < k.cols(); ++j) row[j] = static_cast<float>(k.at(i, j));
  }
  FftArray<std::complex<float>> spectrum = AllocateComplex(fft.spectrum_size());
  fft.Forward(padded.get(), spectrum.get());
  const float scale = 1.0f / static_cast<float>(fft.real_size());
  for (size_t i = 0; i < fft.spectrum_size(); ++i) spectrum[i] *= scale;
  return spectrum;
}

}  // namespace convcorr::core::detail
