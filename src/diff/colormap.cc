// The diverging colour map and the heat map drawn with it.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "diff/diff.h"

namespace convcorr::diff {

namespace {

struct Stop {
  double t;
  double r, g, b;
};

// ColorBrewer RdBu stops, with pure white at 0 so that "no difference" is
// exactly white; lightness falls monotonically towards both ends.
constexpr Stop kPositive[] = {{0.0, 255, 255, 255},
                              {0.25, 253, 219, 199},
                              {0.5, 244, 165, 130},
                              {0.75, 214, 96, 77},
                              {1.0, 178, 24, 43}};
constexpr Stop kNegative[] = {{0.0, 255, 255, 255},
                              {0.25, 209, 229, 240},
                              {0.5, 146, 197, 222},
                              {0.75, 67, 147, 195},
                              {1.0, 33, 102, 172}};

uint8_t Channel(double v) {
  return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L));
}

}  // namespace

Bgr DivergingColor(double t) {
  if (std::isnan(t)) t = 0;
  t = std::clamp(t, -1.0, 1.0);
  const Stop* stops = t >= 0 ? kPositive : kNegative;
  const double a = std::fabs(t);
  int i = 0;
  while (i < 3 && a > stops[i + 1].t) ++i;
  const Stop& lo = stops[i];
  const Stop& hi = stops[i + 1];
  const double f = (a - lo.t) / (hi.t - lo.t);
  return {Channel(lo.b + f * (hi.b - lo.b)), Channel(lo.g + f * (hi.g - lo.g)),
          Channel(lo.r + f * (hi.r - lo.r))};
}

double ChooseRange(const core::Plane& d, const DiffRange& choice) {
  if (choice.kind == DiffRange::Kind::kValue) return choice.value;
  std::vector<float> mags;
  double max_abs = 0;
  for (const float v : d.data) {
    if (v == 0) continue;
    const float m = std::abs(v);
    mags.push_back(m);
    max_abs = std::max(max_abs, static_cast<double>(m));
  }
  if (mags.empty()) return 0.0;
  if (choice.kind == DiffRange::Kind::kMax || choice.value >= 100) {
    return max_abs;
  }
  // Nearest rank: the smallest |d| with at least p% of them at or below it.
  const double rank = std::ceil(choice.value / 100.0 * mags.size());
  const size_t k =
      static_cast<size_t>(std::clamp(rank, 1.0, double(mags.size()))) - 1;
  std::nth_element(mags.begin(), mags.begin() + static_cast<ptrdiff_t>(k),
                   mags.end());
  return mags[k];
}

std::string DiffRangeName(const DiffRange& choice) {
  switch (choice.kind) {
    case DiffRange::Kind::kMax:
      return "max";
    case DiffRange::Kind::kPercentile:
      return "p" + fmt::format("{:g}", choice.value);
    case DiffRange::Kind::kValue:
      break;
  }
  return fmt::format("{:g}", choice.value);
}

std::string FormatDiff(double v) { return fmt::format("{:.6g}", v); }

core::Image HeatMap(const core::Plane& d, double range) {
  core::Image out;
  out.width = d.width;
  out.height = d.height;
  out.depth = core::Depth::kU8;
  out.color.assign(3, core::Plane(d.width, d.height));
  for (size_t i = 0; i < d.data.size(); ++i) {
    const Bgr c = DivergingColor(range > 0 ? d.data[i] / range : 0.0);
    out.color[0].data[i] = c.b;
    out.color[1].data[i] = c.g;
    out.color[2].data[i] = c.r;
  }
  return out;
}

}  // namespace convcorr::diff
