#include "core/imagemagick.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "core/padding.h"
#include "core/threads.h"

namespace convcorr::core {

namespace {

// PerceptibleReciprocal: 1/x, or +-1e12 (1/MagickEpsilon) where |x| is
// below 1e-12, so that an all-transparent window gives 0, not NaN.
double PerceptibleReciprocal(double x) {
  const double sign = x < 0.0 ? -1.0 : 1.0;
  if (sign * x >= 1.0e-12) return 1.0 / x;
  return sign / 1.0e-12;
}

}  // namespace

Image FilterImageMagick(const Image& in, const kernel::Kernel& k,
                        const Border& border, OutputSize size, int threads,
                        double scale, double bias, bool abs,
                        const ImageMagickArithmetic& arithmetic) {
  const Extent out = OutputExtent(in.width, in.height, k, size);
  Image result;
  result.width = out.width;
  result.height = out.height;
  result.depth = in.depth;
  result.color.assign(in.color.size(), Plane(out.width, out.height));
  if (in.alpha) result.alpha = Plane(out.width, out.height);
  if (out.width == 0 || out.height == 0) return result;

  const Origin origin = OutputOrigin(k, size);
  std::vector<Plane> color;
  for (const Plane& p : in.color) {
    color.push_back(Pad(p, out, k, origin, border));
  }
  std::optional<Plane> alpha;
  if (in.alpha) alpha = Pad(*in.alpha, out, k, origin, border);

  const double quantum = arithmetic.quantum;
  // QuantumRange in this output's quanta (65535 for integer outputs).
  const double range = arithmetic.opaque * quantum;
  const double quantum_scale = 1.0 / range;  // QuantumScale
  // A result in quanta as a sample: scaled, biased, rounded, scaled back.
  const auto finish = [&](double sum) {
    double v = scale * sum + bias * quantum;
    if (abs) v = std::fabs(v);
    if (arithmetic.round) v = std::floor(v + 0.5);  // ClampToQuantum
    return static_cast<float>(v / quantum);
  };
  const auto quanta = [&](const Plane& p, int y, int x) {
    return quantum * static_cast<double>(p.at(y, x));
  };
  ParallelRows(out.height, threads, [&](int y0, int y1) {
    std::vector<double> sums(color.size());
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < out.width; ++x) {
        // The sums start at ImageMagick's bias, 0, and add tap by tap in
        // double: a product of a decimal weight is rounded, so the order
        // and the quanta (not samples scaled afterwards) decide which way
        // a result near a half falls.
        std::fill(sums.begin(), sums.end(), 0.0);
        if (!alpha) {
          for (int i = 0; i < k.rows(); ++i) {
            for (int j = 0; j < k.cols(); ++j) {
              for (size_t c = 0; c < color.size(); ++c) {
                sums[c] += k.at(i, j) * quanta(color[c], y + i, x + j);
              }
            }
          }
          for (size_t c = 0; c < color.size(); ++c) {
            result.color[c].at(y, x) = finish(sums[c]);
          }
          continue;
        }
        double gamma = 0.0;
        double opacity = 0.0;
        for (int i = 0; i < k.rows(); ++i) {
          for (int j = 0; j < k.cols(); ++j) {
            const double tap_opacity = range - quanta(*alpha, y + i, x + j);
            const double weight =
                quantum_scale * (range - tap_opacity) * k.at(i, j);
            gamma += weight;
            for (size_t c = 0; c < color.size(); ++c) {
              sums[c] += weight * quanta(color[c], y + i, x + j);
            }
            opacity += k.at(i, j) * tap_opacity;
          }
        }
        // ImageMagick also multiplies by taps / taps counted, which only
        // differs from 1 for its NaN taps (convcorr's are zeros).
        gamma = PerceptibleReciprocal(gamma);
        for (size_t c = 0; c < color.size(); ++c) {
          result.color[c].at(y, x) = finish(gamma * sums[c]);
        }
        if (arithmetic.round) opacity = std::floor(opacity + 0.5);
        result.alpha->at(y, x) =
            static_cast<float>((range - opacity) / quantum);
      }
    }
  });
  return result;
}

}  // namespace convcorr::core
