// Independent oracles for the engine tests: the defining formula
// (docs/semantics.md) evaluated tap by tap, with border extension by
// repeated reflection (the way a person extends a row on paper), sharing
// no code with src/core.
#pragma once

#include <random>
#include <vector>

#include "core/border.h"
#include "core/image.h"
#include "kernel/kernel.h"

namespace convcorr::testing {

// Where sample p of a row of n lands after extending the row by `mode`,
// walking outward one reflection at a time; -1 for a constant sample.
inline int BounceIndex(int p, int n, core::BorderMode mode) {
  while (p < 0 || p >= n) {
    switch (mode) {
      case core::BorderMode::kConstant:
        return -1;
      case core::BorderMode::kReplicate:
        return p < 0 ? 0 : n - 1;
      case core::BorderMode::kWrap:
        p += p < 0 ? n : -n;
        break;
      case core::BorderMode::kReflect:
        p = p < 0 ? -p - 1 : 2 * n - 1 - p;
        break;
      case core::BorderMode::kReflect101:
        if (n == 1) return 0;
        p = p < 0 ? -p : 2 * (n - 1) - p;
        break;
    }
  }
  return p;
}

// The SPEC's correlate formula for `same`, `valid` (origin 0) and `full`
// (origin -(k-1)), in double.
inline std::vector<double> BruteCorrelate(const core::Plane& in,
                                          const kernel::Kernel& k,
                                          core::BorderMode mode, float value,
                                          int out_w, int out_h, int origin_x,
                                          int origin_y) {
  std::vector<double> out(static_cast<size_t>(out_w) * out_h);
  for (int y = 0; y < out_h; ++y) {
    for (int x = 0; x < out_w; ++x) {
      double s = 0;
      for (int i = 0; i < k.rows(); ++i) {
        for (int j = 0; j < k.cols(); ++j) {
          const int iy = BounceIndex(y + origin_y + i, in.height, mode);
          const int ix = BounceIndex(x + origin_x + j, in.width, mode);
          const double v = (iy < 0 || ix < 0) ? value : in.at(iy, ix);
          s += k.at(i, j) * v;
        }
      }
      out[static_cast<size_t>(y) * out_w + x] = s;
    }
  }
  return out;
}

inline core::Plane RandomPlane(int w, int h, std::mt19937& rng, float lo = 0.0f,
                               float hi = 255.0f) {
  std::uniform_real_distribution<float> dist(lo, hi);
  core::Plane p(w, h);
  for (float& v : p.data) v = dist(rng);
  return p;
}

inline kernel::Kernel RandomKernel(int rows, int cols, std::mt19937& rng) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> w(static_cast<size_t>(rows) * cols);
  for (double& v : w) v = dist(rng);
  return kernel::Kernel(rows, cols, std::move(w));
}

inline double L1(const kernel::Kernel& k) {
  double s = 0;
  for (double w : k.weights()) s += w < 0 ? -w : w;
  return s;
}

}  // namespace convcorr::testing
