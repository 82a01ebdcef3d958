#include "core/fft.h"

#include <fftw3.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <utility>

#include "core/large_buffer.h"

namespace convcorr::core::detail {

static_assert(sizeof(std::complex<float>) == sizeof(fftwf_complex),
              "std::complex<float> has fftwf_complex's layout");

namespace {

// Each array starts kHeader bytes into its block (a multiple of the 16 or
// 32 bytes fftwf_malloc aligns to for FFTW's SIMD code, so every array has
// the alignment of those the plans were made with), with the block's owner
// in the bytes just before it: a LargeBuffer, or none for fftwf_malloc's
// memory.
constexpr size_t kHeader = 64;
std::atomic<unsigned> g_stagger{0};

// Arrays of a megabyte or more (a 512x512 tile's 1 MiB) in huge pages: on
// a guest that shadows page tables a first touch costs 10-40 us per 4 KiB
// page (docs/performance.md, "Page faults"), and a 63x63 compare touched
// 6,800 of them in its transform arrays. A huge page puts the arrays'
// physical addresses in step with their virtual ones, so arrays used
// together (the tile, its spectrum, the product) would start on the same
// cache sets: each starts 65 cache lines further into its block than the
// one before it, 15 starts in turn, a different L2 set each.
void* Allocate(size_t bytes) {
  std::byte* p = nullptr;
  LargeBuffer* owner = nullptr;
  if (bytes >= LargeBuffer::kMappedFrom) {
    const size_t offset = kHeader + (g_stagger++ % 15) * 65 * 64;
    owner = new LargeBuffer(bytes + offset);
    p = owner->data() + offset;
  } else {
    void* base = fftwf_malloc(bytes + kHeader);
    if (base == nullptr) throw std::bad_alloc();
    p = static_cast<std::byte*>(base) + kHeader;
  }
  std::memcpy(p - sizeof(owner), &owner, sizeof(owner));
  return p;
}

}  // namespace

void FftFree::operator()(void* q) const {
  if (q == nullptr) return;
  auto* p = static_cast<std::byte*>(q);
  LargeBuffer* owner = nullptr;
  std::memcpy(&owner, p - sizeof(owner), sizeof(owner));
  if (owner != nullptr) {
    delete owner;
  } else {
    fftwf_free(p - kHeader);
  }
}

FftArray<float> AllocateReal(size_t n) {
  return FftArray<float>(static_cast<float*>(Allocate(sizeof(float) * n)));
}

FftArray<std::complex<float>> AllocateComplex(size_t n) {
  return FftArray<std::complex<float>>(static_cast<std::complex<float>*>(
      Allocate(sizeof(std::complex<float>) * n)));
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
