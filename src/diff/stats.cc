// Statistics and maps of d = convolve - correlate. Sums are kept in double:
// a large image of small float differences would lose them in float.
#include <cassert>
#include <cmath>
#include <limits>
#include <utility>

#include "diff/diff.h"

namespace convcorr::diff {

DiffStats ComputeStats(const core::Image& convolved,
                       const core::Image& correlated, double threshold,
                       double peak) {
  assert(convolved.width == correlated.width);
  assert(convolved.height == correlated.height);
  assert(convolved.color.size() == correlated.color.size());
  DiffStats s;
  s.threshold = threshold;
  s.peak = peak;
  const int channels = static_cast<int>(convolved.color.size());
  double sum_abs = 0;
  double sum_sq = 0;
  uint64_t above = 0;
  bool have_max = false;
  // Row-major order (y, then x, then channel) so the reported location is
  // the first maximum a reader scanning the image would meet.
  for (int y = 0; y < convolved.height; ++y) {
    for (int x = 0; x < convolved.width; ++x) {
      for (int c = 0; c < channels; ++c) {
        const double d = static_cast<double>(convolved.color[c].at(y, x)) -
                         correlated.color[c].at(y, x);
        const double a = std::fabs(d);
        sum_abs += a;
        sum_sq += d * d;
        if (a > threshold) ++above;
        if (d != 0) s.identical = false;
        if (!have_max || a > s.max_abs) {
          s.max_abs = a;
          s.max_x = x;
          s.max_y = y;
          s.max_channel = c;
          have_max = true;
        }
      }
    }
  }
  s.samples = static_cast<uint64_t>(convolved.width) * convolved.height *
              static_cast<uint64_t>(channels);
  if (s.samples > 0) {
    const double n = static_cast<double>(s.samples);
    s.mean_abs = sum_abs / n;
    s.rms = std::sqrt(sum_sq / n);
    s.share_above = static_cast<double>(above) / n;
  }
  // PSNR from the mean square itself, not rms^2, so it carries no extra
  // rounding.
  const double mse =
      s.samples > 0 ? sum_sq / static_cast<double>(s.samples) : 0;
  s.psnr = mse > 0 ? 10.0 * std::log10(peak * peak / mse)
                   : std::numeric_limits<double>::infinity();
  return s;
}

core::Plane SignedDiff(const core::Image& convolved,
                       const core::Image& correlated) {
  assert(convolved.width == correlated.width);
  assert(convolved.height == correlated.height);
  assert(convolved.color.size() == correlated.color.size());
  core::Plane out(convolved.width, convolved.height);
  for (size_t c = 0; c < convolved.color.size(); ++c) {
    const auto& a = convolved.color[c].data;
    const auto& b = correlated.color[c].data;
    for (size_t i = 0; i < out.data.size(); ++i) {
      const float d = a[i] - b[i];
      // Strictly greater keeps the first channel on ties.
      if (c == 0 || std::fabs(d) > std::fabs(out.data[i])) out.data[i] = d;
    }
  }
  return out;
}

core::Image RawDiff(const core::Image& convolved,
                    const core::Image& correlated) {
  assert(convolved.width == correlated.width);
  assert(convolved.height == correlated.height);
  assert(convolved.color.size() == correlated.color.size());
  core::Image out;
  out.width = convolved.width;
  out.height = convolved.height;
  out.depth = core::Depth::kF32;
  for (size_t c = 0; c < convolved.color.size(); ++c) {
    core::Plane p(out.width, out.height);
    for (size_t i = 0; i < p.data.size(); ++i) {
      p.data[i] = convolved.color[c].data[i] - correlated.color[c].data[i];
    }
    out.color.push_back(std::move(p));
  }
  return out;
}

}  // namespace convcorr::diff
