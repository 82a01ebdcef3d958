// The diverging colour map and the heat map drawn with it.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "diff/diff.h"
#include "diff/rows.h"
#include "diff/stops.h"

namespace convcorr::diff {

namespace {

using detail::kNegative;
using detail::kPositive;
using detail::Stop;

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
  RangeChooser chooser(choice);
  const auto row = [&d](int y) {
    return d.data.data() + static_cast<size_t>(y) * d.width;
  };
  for (int y = 0; y < d.height; ++y) chooser.AddRow(row(y), d.width);
  if (chooser.NeedsSecondPass()) {
    for (int y = 0; y < d.height; ++y) chooser.AddRowSecond(row(y), d.width);
  }
  return chooser.Result();
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
  for (int c = 0; c < 3; ++c) out.color.emplace_back(d.width, d.height);
  std::vector<uint8_t> bgr(3 * static_cast<size_t>(d.width));
  for (int y = 0; y < d.height; ++y) {
    const size_t row = static_cast<size_t>(y) * d.width;
    HeatMapRow(d.data.data() + row, d.width, range, bgr.data());
    float* b = out.color[0].data.data() + row;
    float* g = out.color[1].data.data() + row;
    float* r = out.color[2].data.data() + row;
    for (int x = 0; x < d.width; ++x) {
      b[x] = bgr[3 * static_cast<size_t>(x)];
      g[x] = bgr[3 * static_cast<size_t>(x) + 1];
      r[x] = bgr[3 * static_cast<size_t>(x) + 2];
    }
  }
  return out;
}

}  // namespace convcorr::diff
