// The fft strategy: overlap-save over nh x nw tiles with the transforms of
// fft.h; tile (ty, tx) gives the outputs [ty*th, ty*th + th) x
// [tx*tw, tx*tw + tw), th = nh - kh + 1, tw = nw - kw + 1, from the padded
// rows and columns starting at the same place.
#include <algorithm>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include "core/fft.h"
#include "core/strategies.h"

namespace convcorr::core::detail {

namespace {

// A run's transform arrays, kept in a process-wide pool between calls:
// each band of a streaming run calls RunFft on every thread, and fresh
// arrays (11 MB for three channels of 512x512 tiles with compare's second
// result) would be touched afresh each time, at 10-40 us per 4 KiB page
// on a guest that shadows page tables (docs/performance.md, "Page
// faults"); AllocateReal and AllocateComplex put them in huge pages, each
// array on cache sets of its own.
struct Arrays {
  size_t real_n = 0;
  size_t complex_n = 0;
  std::vector<FftArray<float>> reals;
  FftArray<std::complex<float>> spectrum, freq;
};

class Workspace {
 public:
  Workspace(size_t real_n, size_t complex_n, size_t reals) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = pool_.begin(); it != pool_.end(); ++it) {
        if (it->real_n == real_n && it->complex_n == complex_n &&
            it->reals.size() >= reals) {
          arrays_ = std::move(*it);
          pool_.erase(it);
          break;
        }
      }
    }
    if (arrays_.real_n != real_n || arrays_.reals.size() < reals) {
      arrays_ = Arrays{};
      arrays_.real_n = real_n;
      arrays_.complex_n = complex_n;
      for (size_t i = 0; i < reals; ++i) {
        arrays_.reals.push_back(AllocateReal(real_n));
      }
      arrays_.spectrum = AllocateComplex(complex_n);
      arrays_.freq = AllocateComplex(complex_n);
    }
  }
  // Back to the pool, in place of the arrays unused the longest when it
  // is full (freed outside the lock): a run that alternates between more
  // tile sizes than the pool keeps would otherwise map and touch fresh
  // huge pages for every call.
  ~Workspace() {
    Arrays evicted;
    const std::lock_guard<std::mutex> lock(mutex_);
    if (pool_.size() >= kKept) {
      evicted = std::move(pool_.front());
      pool_.erase(pool_.begin());
    }
    pool_.push_back(std::move(arrays_));
  }
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  float* real(size_t i) const { return arrays_.reals[i].get(); }
  std::complex<float>* spectrum() const { return arrays_.spectrum.get(); }
  std::complex<float>* freq() const { return arrays_.freq.get(); }

 private:
  static constexpr size_t kKept = 8;
  static inline std::mutex mutex_;
  static inline std::vector<Arrays> pool_;
  Arrays arrays_;
};

}  // namespace

int FftTileRows(const Correlator::Prepared& p, int kh, int height) {
  const int th = p.nh - kh + 1;
  return (height + th - 1) / th;
}

int FftTilesAcross(const Correlator::Prepared& p, int kw, int width) {
  const int tw = p.nw - kw + 1;
  return (width + tw - 1) / tw;
}

uint64_t RunFft(const Job& job, const Correlator::Prepared& p, int t0, int t1,
                const std::complex<float>* second, const Job* second_job,
                uint64_t* second_saturated, const ImageView* diff) {
  const int kh = job.k->rows();
  const int kw = job.k->cols();
  const int channels = job.in->channels;
  const int th = p.nh - kh + 1;
  const int tw = p.nw - kw + 1;
  const int tiles_x = FftTilesAcross(p, kw, job.extent.width);
  const int padded_h = job.extent.height + kh - 1;
  const Fft2d& fft = *p.fft;
  const size_t n = fft.spectrum_size();
  const int reals = channels * (second != nullptr ? 3 : 2);
  const Workspace work(fft.real_size(), n, reals);
  std::vector<float*> tile, results, results2;
  for (int c = 0; c < channels; ++c) {
    tile.push_back(work.real(c));
    results.push_back(work.real(channels + c));
    if (second != nullptr) results2.push_back(work.real(2 * channels + c));
  }
  std::complex<float>* spectrum = work.spectrum();
  std::complex<float>* freq = work.freq();
  const auto row_of = [&p](float* a, int r) {
    return a + static_cast<size_t>(r) * p.nw;
  };
  Scratch scratch;
  std::vector<float*> load(channels);
  std::vector<const float*> sums(channels);
  uint64_t saturated = 0;
  for (int t = t0; t < t1; ++t) {
    const int ty = t / tiles_x;
    const int tx = t % tiles_x;
    {
      const int px0 = tx * tw;
      const int px1 = std::min(px0 + p.nw, job.padded_w);
      for (int r = 0; r < p.nh; ++r) {
        const int py = ty * th + r;
        for (int c = 0; c < channels; ++c) {
          load[c] = row_of(tile[c], r);
          const int from = py < padded_h ? px1 - px0 : 0;
          std::fill(load[c] + from, load[c] + p.nw, 0.0f);
        }
        if (py < padded_h) LoadPadded(job, py, px0, px1, load.data(), scratch);
      }
      const int rows = std::min(th, job.extent.height - ty * th);
      const int cols = std::min(tw, job.extent.width - px0);
      for (int c = 0; c < channels; ++c) {
        fft.Forward(tile[c], spectrum);
        MultiplyConjugate(spectrum, p.spectrum.get(), n, freq);
        fft.Inverse(freq, results[c]);
        if (second != nullptr) {
          MultiplyConjugate(spectrum, second, n, freq);
          fft.Inverse(freq, results2[c]);
        }
      }
      for (int r = 0; r < rows; ++r) {
        for (int c = 0; c < channels; ++c) sums[c] = row_of(results[c], r);
        saturated += Emit(job, ty * th + r, px0, cols, sums.data(), scratch);
        if (second != nullptr) {
          for (int c = 0; c < channels; ++c) sums[c] = row_of(results2[c], r);
          *second_saturated +=
              Emit(*second_job, ty * th + r, px0, cols, sums.data(), scratch);
          if (diff != nullptr) {
            DiffRows(*job.out, *second_job->out, *diff, ty * th + r, px0, cols);
          }
        }
      }
    }
  }
  return saturated;
}

}  // namespace convcorr::core::detail
