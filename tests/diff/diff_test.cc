#include "diff/diff.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

namespace convcorr::diff {
namespace {

core::Image Make(int w, int h, std::vector<std::vector<float>> planes,
                 core::Depth depth = core::Depth::kF32) {
  core::Image img;
  img.width = w;
  img.height = h;
  img.depth = depth;
  for (auto& p : planes) {
    core::Plane plane(w, h);
    plane.data = std::move(p);
    img.color.push_back(std::move(plane));
  }
  return img;
}

// 2x2, one channel: d = conv - corr = {0, 3, -4, 1}.
TEST(ComputeStats, HandComputedSingleChannel) {
  const core::Image conv = Make(2, 2, {{5, 8, 1, 2}});
  const core::Image corr = Make(2, 2, {{5, 5, 5, 1}});
  const DiffStats s = ComputeStats(conv, corr, 1.5, 255.0);
  EXPECT_EQ(s.samples, 4u);
  EXPECT_DOUBLE_EQ(s.max_abs, 4.0);
  EXPECT_EQ(s.max_x, 0);
  EXPECT_EQ(s.max_y, 1);
  EXPECT_EQ(s.max_channel, 0);
  EXPECT_DOUBLE_EQ(s.mean_abs, 2.0);                   // (0+3+4+1)/4
  EXPECT_DOUBLE_EQ(s.rms, std::sqrt(26.0 / 4.0));      // (0+9+16+1)/4
  EXPECT_DOUBLE_EQ(s.psnr, 10.0 * std::log10(255.0 * 255.0 / 6.5));
  EXPECT_DOUBLE_EQ(s.share_above, 0.5);                // 3 and 4 exceed 1.5
  EXPECT_FALSE(s.identical);
  EXPECT_DOUBLE_EQ(s.peak, 255.0);
  EXPECT_DOUBLE_EQ(s.threshold, 1.5);
}

TEST(ComputeStats, IdenticalGivesInfinitePsnr) {
  const core::Image a = Make(3, 1, {{1, 2, 3}, {4, 5, 6}});
  const DiffStats s = ComputeStats(a, a, 0.0, 255.0);
  EXPECT_TRUE(s.identical);
  EXPECT_EQ(s.samples, 6u);
  EXPECT_EQ(s.max_abs, 0.0);
  EXPECT_EQ(s.share_above, 0.0);
  EXPECT_EQ(s.psnr, std::numeric_limits<double>::infinity());
}

TEST(ComputeStats, FirstMaximumInRowMajorOrderAcrossChannels) {
  // Two channels; |d| = 2 first at (x=1, y=0) channel 1, again later.
  const core::Image conv = Make(2, 2, {{0, 0, 2, 0}, {0, -2, 0, 0}});
  const core::Image corr = Make(2, 2, {{0, 0, 0, 0}, {0, 0, 0, 0}});
  const DiffStats s = ComputeStats(conv, corr, 0.0, 1.0);
  EXPECT_EQ(s.max_x, 1);
  EXPECT_EQ(s.max_y, 0);
  EXPECT_EQ(s.max_channel, 1);
  EXPECT_DOUBLE_EQ(s.share_above, 2.0 / 8.0);
}

TEST(ComputeStats, AlphaIsNotCompared) {
  core::Image conv = Make(1, 1, {{7}});
  core::Image corr = Make(1, 1, {{7}});
  conv.alpha = core::Plane(1, 1, 0.0f);
  corr.alpha = core::Plane(1, 1, 255.0f);
  EXPECT_TRUE(ComputeStats(conv, corr, 0.0, 255.0).identical);
}

TEST(SignedDiff, TakesTheChannelWithTheLargestMagnitudeFirstOnTies) {
  const core::Image conv = Make(3, 1, {{1, 3, 0}, {-4, 1, 0}, {0, -3, 0}});
  const core::Image corr = Make(3, 1, {{0, 0, 0}, {0, 0, 0}, {0, 0, 0}});
  const core::Plane d = SignedDiff(conv, corr);
  EXPECT_EQ(d.data, (std::vector<float>{-4, 3, 0}));
}

TEST(RawDiff, EveryColourChannelSignedFloat) {
  core::Image conv = Make(2, 1, {{1, 2}, {3, 4}}, core::Depth::kU8);
  core::Image corr = Make(2, 1, {{2, 2}, {0, 9}}, core::Depth::kU8);
  conv.alpha = core::Plane(2, 1, 255.0f);
  const core::Image raw = RawDiff(conv, corr);
  EXPECT_EQ(raw.depth, core::Depth::kF32);
  ASSERT_EQ(raw.color.size(), 2u);
  EXPECT_FALSE(raw.alpha.has_value());
  EXPECT_EQ(raw.color[0].data, (std::vector<float>{-1, 0}));
  EXPECT_EQ(raw.color[1].data, (std::vector<float>{3, -5}));
}

TEST(DivergingColor, WhiteAtZeroBlueNegativeRedPositive) {
  const Bgr zero = DivergingColor(0.0);
  EXPECT_EQ(zero.b, 255);
  EXPECT_EQ(zero.g, 255);
  EXPECT_EQ(zero.r, 255);
  const Bgr red = DivergingColor(1.0);
  EXPECT_GT(red.r, red.b + 100);
  EXPECT_GT(red.r, red.g + 100);
  const Bgr blue = DivergingColor(-1.0);
  EXPECT_GT(blue.b, blue.r + 100);
  // Clamped outside [-1, 1], NaN is white.
  const Bgr beyond = DivergingColor(7.0);
  EXPECT_EQ(beyond.r, red.r);
  EXPECT_EQ(beyond.g, red.g);
  EXPECT_EQ(beyond.b, red.b);
  EXPECT_EQ(DivergingColor(std::nan("")).g, 255);
}

TEST(DivergingColor, LightnessFallsMonotonicallyAwayFromZero) {
  const auto lightness = [](Bgr c) { return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b; };
  for (double sign : {-1.0, 1.0}) {
    double previous = lightness(DivergingColor(0.0));
    for (int i = 1; i <= 100; ++i) {
      const double l = lightness(DivergingColor(sign * i / 100.0));
      EXPECT_LE(l, previous + 1e-9) << sign * i / 100.0;
      previous = l;
    }
  }
}

TEST(HeatMap, SymmetricRangeAndZeroRangeIsWhite) {
  core::Plane d(3, 1);
  d.data = {-2, 0, 2};
  const core::Image heat = HeatMap(d, 2.0);
  EXPECT_EQ(heat.depth, core::Depth::kU8);
  ASSERT_EQ(heat.color.size(), 3u);
  const Bgr lo = DivergingColor(-1);
  const Bgr hi = DivergingColor(1);
  EXPECT_EQ(heat.color[0].data, (std::vector<float>{float(lo.b), 255, float(hi.b)}));
  EXPECT_EQ(heat.color[2].data, (std::vector<float>{float(lo.r), 255, float(hi.r)}));
  const core::Image white = HeatMap(d, 0.0);
  for (const core::Plane& p : white.color) {
    for (float v : p.data) EXPECT_EQ(v, 255.0f);
  }
}

// Looks up a pixel of an 8-bit BGR core image.
Bgr At(const core::Image& img, int x, int y) {
  return {static_cast<uint8_t>(img.color[0].at(y, x)),
          static_cast<uint8_t>(img.color[1].at(y, x)),
          static_cast<uint8_t>(img.color[2].at(y, x))};
}

TEST(Panel, SizesDepthsAndChannelsOfEveryInputKind) {
  struct Case {
    core::Depth depth;
    int channels;
    bool alpha;
  };
  for (const Case& c : {Case{core::Depth::kU8, 1, false},
                        Case{core::Depth::kU8, 3, false},
                        Case{core::Depth::kU8, 3, true},
                        Case{core::Depth::kU16, 1, false},
                        Case{core::Depth::kF32, 3, false}}) {
    core::Image in = Make(40, 30, {}, c.depth);
    for (int i = 0; i < c.channels; ++i) {
      core::Plane p(40, 30);
      for (size_t k = 0; k < p.data.size(); ++k) p.data[k] = float(k % 200) - 50;
      in.color.push_back(p);
    }
    if (c.alpha) in.alpha = core::Plane(40, 30, 128.0f);
    core::Plane d(40, 30);
    const core::Image heat = HeatMap(d, 0.0);
    const core::Image panel = Panel(in, in, in, heat, 0.0, "test");
    EXPECT_EQ(panel.depth, core::Depth::kU8);
    EXPECT_EQ(panel.color.size(), 3u);
    EXPECT_FALSE(panel.alpha.has_value());
    EXPECT_GE(panel.width, 4 * 40);
    EXPECT_GT(panel.height, 30);
  }
}

TEST(Panel, DiffTileShowsRedWherePositiveAndBlueWhereNegative) {
  const int w = 64;
  const int h = 48;
  core::Image in = Make(w, h, {std::vector<float>(w * h, 100.0f)}, core::Depth::kU8);
  core::Plane d(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) d.at(y, x) = x < w / 2 ? -10.0f : 10.0f;
  }
  const core::Image panel = Panel(in, in, in, HeatMap(d, 10.0), 10.0, "t");
  // The diff tile is the fourth; find it as the right-most quarter and
  // sample its middle row left and right of the centre.
  const int tile_x0 = panel.width - 8 - w;  // right gap then the tile
  int row = -1;
  for (int y = 0; y < panel.height && row < 0; ++y) {
    const Bgr c = At(panel, tile_x0 + 4, y);
    if (c.b > c.r + 100) row = y;  // first strongly blue row of the tile
  }
  ASSERT_GE(row, 0) << "no blue found in the diff tile";
  const Bgr left = At(panel, tile_x0 + 4, row + 2);
  const Bgr right = At(panel, tile_x0 + w - 5, row + 2);
  EXPECT_GT(left.b, left.r + 100);
  EXPECT_GT(right.r, right.b + 100);
}

TEST(Panel, WideImagesAreScaledDown) {
  core::Image in = Make(3000, 20, {std::vector<float>(3000 * 20, 10.0f)});
  in.depth = core::Depth::kU8;
  const core::Image panel =
      Panel(in, in, in, HeatMap(core::Plane(3000, 20), 0.0), 0.0, "wide");
  EXPECT_LE(panel.width, 4 * 1024 + 5 * 8);
}

}  // namespace
}  // namespace convcorr::diff
