// The fft strategy: overlap-save over nh x nw tiles with the transforms of
// fft.h; tile (ty, tx) gives the outputs [ty*th, ty*th + th) x
// [tx*tw, tx*tw + tw), th = nh - kh + 1, tw = nw - kw + 1, from the padded
// rows and columns starting at the same place.
#include <algorithm>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/fft.h"
#include "core/strategies.h"

namespace convcorr::core::detail {

int FftTileRows(const Correlator::Prepared& p, int kh, int height) {
  const int th = p.nh - kh + 1;
  return (height + th - 1) / th;
}

uint64_t RunFft(const Job& job, const Correlator::Prepared& p, int ty0, int ty1,
                const std::complex<float>* second, const Job* second_job,
                uint64_t* second_saturated, const ImageView* diff) {
  const int kh = job.k->rows();
  const int kw = job.k->cols();
  const int channels = job.in->channels;
  const int th = p.nh - kh + 1;
  const int tw = p.nw - kw + 1;
  const int tiles_x = (job.extent.width + tw - 1) / tw;
  const int padded_h = job.extent.height + kh - 1;
  const Fft2d& fft = *p.fft;
  const size_t n = fft.spectrum_size();
  std::vector<FftArray<float>> tile;
  std::vector<FftArray<float>> results, results2;
  for (int c = 0; c < channels; ++c) {
    tile.push_back(AllocateReal(fft.real_size()));
    results.push_back(AllocateReal(fft.real_size()));
    if (second != nullptr) {
      results2.push_back(AllocateReal(fft.real_size()));
    }
  }
  FftArray<std::complex<float>> spectrum = AllocateComplex(n);
  FftArray<std::complex<float>> freq = AllocateComplex(n);
  const auto row_of = [&p](const FftArray<float>& a, int r) {
    return a.get() + static_cast<size_t>(r) * p.nw;
  };
  Scratch scratch;
  std::vector<float*> load(channels);
  std::vector<const float*> sums(channels);
  uint64_t saturated = 0;
  for (int ty = ty0; ty < ty1; ++ty) {
    for (int tx = 0; tx < tiles_x; ++tx) {
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
        fft.Forward(tile[c].get(), spectrum.get());
        MultiplyConjugate(spectrum.get(), p.spectrum.get(), n, freq.get());
        fft.Inverse(freq.get(), results[c].get());
        if (second != nullptr) {
          MultiplyConjugate(spectrum.get(), second, n, freq.get());
          fft.Inverse(freq.get(), results2[c].get());
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
