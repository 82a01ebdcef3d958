// Statistics and maps of d = convolve - correlate, made of the row
// functions of rows.h. Sums are kept in double: a large image of small
// float differences would lose them in float.
#include <cassert>
#include <cstddef>
#include <vector>

#include "diff/diff.h"
#include "diff/rows.h"

namespace convcorr::diff {

namespace {

// Row y of every colour plane of `img`.
std::vector<const float*> Rows(const core::Image& img, int y) {
  std::vector<const float*> rows;
  rows.reserve(img.color.size());
  for (const core::Plane& p : img.color) {
    rows.push_back(p.data.data() + static_cast<size_t>(y) * img.width);
  }
  return rows;
}

void CheckSameShape(const core::Image& convolved,
                    const core::Image& correlated) {
  assert(convolved.width == correlated.width);
  assert(convolved.height == correlated.height);
  assert(convolved.color.size() == correlated.color.size());
  (void)convolved;
  (void)correlated;
}

}  // namespace

DiffStats ComputeStats(const core::Image& convolved,
                       const core::Image& correlated, double threshold,
                       double peak) {
  CheckSameShape(convolved, correlated);
  // Row-major order (y, then x, then channel) so the reported location is
  // the first maximum a reader scanning the image would meet, and the sums
  // are those of that order (DiffAccumulator).
  DiffAccumulator acc(convolved.width, static_cast<int>(convolved.color.size()),
                      threshold);
  for (int y = 0; y < convolved.height; ++y) {
    acc.AddRow(Rows(convolved, y).data(), Rows(correlated, y).data());
  }
  return acc.Finish(peak);
}

core::Plane SignedDiff(const core::Image& convolved,
                       const core::Image& correlated) {
  CheckSameShape(convolved, correlated);
  core::Plane out(convolved.width, convolved.height);
  const int channels = static_cast<int>(convolved.color.size());
  for (int y = 0; y < convolved.height; ++y) {
    SignedDiffRow(Rows(convolved, y).data(), Rows(correlated, y).data(),
                  channels, convolved.width,
                  out.data.data() + static_cast<size_t>(y) * out.width);
  }
  return out;
}

core::Image RawDiff(const core::Image& convolved,
                    const core::Image& correlated) {
  CheckSameShape(convolved, correlated);
  core::Image out;
  out.width = convolved.width;
  out.height = convolved.height;
  out.depth = core::Depth::kF32;
  const int channels = static_cast<int>(convolved.color.size());
  for (int c = 0; c < channels; ++c)
    out.color.emplace_back(out.width, out.height);
  std::vector<float*> rows(convolved.color.size());
  for (int y = 0; y < out.height; ++y) {
    for (int c = 0; c < channels; ++c) {
      rows[c] = out.color[c].data.data() + static_cast<size_t>(y) * out.width;
    }
    RawDiffRow(Rows(convolved, y).data(), Rows(correlated, y).data(), channels,
               out.width, rows.data());
  }
  return out;
}

}  // namespace convcorr::diff
