// Real two-dimensional transforms on FFTW (single precision), for the FFT
// strategy of the engine (fft_strategy.cc): plans are made once per size
// per process and shared by every thread and every file. fft.cc is the
// only file that sees FFTW.
#pragma once

#include <complex>
#include <cstddef>
#include <memory>

#include "kernel/kernel.h"

namespace convcorr::core::detail {

struct FftPlans;

// Memory with the alignment FFTW's SIMD code wants (fftwf_malloc's, 32
// bytes at most); arrays of a megabyte or more in huge pages (fft.cc says
// why).
struct FftFree {
  void operator()(void* p) const;
};
template <typename T>
using FftArray = std::unique_ptr<T[], FftFree>;
FftArray<float> AllocateReal(size_t n);
FftArray<std::complex<float>> AllocateComplex(size_t n);

// The transforms of a rows x cols real array (row-major) to its
// rows x (cols / 2 + 1) half spectrum and back, unnormalised (an inverse
// of a forward gives rows * cols times the input). Arrays must come from
// AllocateReal / AllocateComplex. Copies share the plans; Forward and
// Inverse may run on many threads at once.
class Fft2d {
 public:
  Fft2d(int rows, int cols);

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  size_t real_size() const { return static_cast<size_t>(rows_) * cols_; }
  size_t spectrum_size() const {
    return static_cast<size_t>(rows_) * (cols_ / 2 + 1);
  }

  // `in` is left as it was.
  void Forward(const float* in, std::complex<float>* out) const;
  // `in` is overwritten (FFTW's multi-dimensional inverse works in place).
  void Inverse(std::complex<float>* in, float* out) const;

 private:
  int rows_;
  int cols_;
  const FftPlans* plans_;  // owned by the process-wide cache
};

// out[i] = a[i] * conj(b[i]) for i < n: the spectrum of a correlation with
// the kernel whose spectrum is b.
void MultiplyConjugate(const std::complex<float>* a,
                       const std::complex<float>* b, size_t n,
                       std::complex<float>* out);

// The half spectrum of `k`'s weights, rounded to float32 and zero padded
// to the transform's rows x cols, divided by rows * cols so that an inverse
// of a product with it needs no further scaling.
FftArray<std::complex<float>> KernelSpectrum(const Fft2d& fft,
                                             const kernel::Kernel& k);

}  // namespace convcorr::core::detail
