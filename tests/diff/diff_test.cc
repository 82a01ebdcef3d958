#include "diff/diff.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "diff/panel_internal.h"

namespace convcorr::diff {
namespace {

using core::Depth;

core::Image Make(int w, int h, std::vector<std::vector<float>> planes,
                 Depth depth = Depth::kF32) {
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

// An image whose every colour sample is `value`.
core::Image Filled(int w, int h, int channels, float value, Depth depth) {
  return Make(
      w, h,
      std::vector<std::vector<float>>(
          channels, std::vector<float>(static_cast<size_t>(w) * h, value)),
      depth);
}

// CIELAB lightness L* of an 8-bit sRGB colour: what "perceptually monotone"
// and "symmetric" are measured in.
double Lightness(Bgr c) {
  const auto linear = [](double v) {
    v /= 255.0;
    return v <= 0.04045 ? v / 12.92 : std::pow((v + 0.055) / 1.055, 2.4);
  };
  const double y =
      0.2126 * linear(c.r) + 0.7152 * linear(c.g) + 0.0722 * linear(c.b);
  const double f =
      y > 216.0 / 24389.0 ? std::cbrt(y) : (24389.0 / 27.0 * y + 16.0) / 116.0;
  return 116.0 * f - 16.0;
}

// ---------------------------------------------------------------- ComputeStats

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
  EXPECT_DOUBLE_EQ(s.mean_abs, 2.0);               // (0+3+4+1)/4
  EXPECT_DOUBLE_EQ(s.rms, std::sqrt(26.0 / 4.0));  // (0+9+16+1)/4
  EXPECT_DOUBLE_EQ(s.psnr, 10.0 * std::log10(255.0 * 255.0 / 6.5));
  EXPECT_DOUBLE_EQ(s.share_above, 0.5);  // 3 and 4 exceed 1.5
  EXPECT_FALSE(s.identical);
  EXPECT_DOUBLE_EQ(s.peak, 255.0);
  EXPECT_DOUBLE_EQ(s.threshold, 1.5);
}

// 2x1 BGR, 16-bit peak: d per pixel (b,g,r) = (1,-2,0), (0,0,6).
TEST(ComputeStats, HandComputedThreeChannels) {
  const core::Image conv = Make(2, 1, {{11, 0}, {8, 50}, {3, 9}}, Depth::kU16);
  const core::Image corr = Make(2, 1, {{10, 0}, {10, 50}, {3, 3}}, Depth::kU16);
  const DiffStats s = ComputeStats(conv, corr, 1.0, 65535.0);
  EXPECT_EQ(s.samples, 6u);
  EXPECT_DOUBLE_EQ(s.max_abs, 6.0);
  EXPECT_EQ(s.max_x, 1);
  EXPECT_EQ(s.max_y, 0);
  EXPECT_EQ(s.max_channel, 2);
  EXPECT_DOUBLE_EQ(s.mean_abs, 9.0 / 6.0);         // 1+2+6
  EXPECT_DOUBLE_EQ(s.rms, std::sqrt(41.0 / 6.0));  // 1+4+36
  EXPECT_DOUBLE_EQ(s.psnr, 10.0 * std::log10(65535.0 * 65535.0 * 6.0 / 41.0));
  EXPECT_DOUBLE_EQ(s.share_above, 2.0 / 6.0);  // 2 and 6; 1 is not > 1
}

TEST(ComputeStats, IdenticalGivesInfinitePsnr) {
  const core::Image a = Make(3, 1, {{1, 2, 3}, {4, 5, 6}});
  const DiffStats s = ComputeStats(a, a, 0.0, 255.0);
  EXPECT_TRUE(s.identical);
  EXPECT_EQ(s.samples, 6u);
  EXPECT_EQ(s.max_abs, 0.0);
  EXPECT_EQ(s.mean_abs, 0.0);
  EXPECT_EQ(s.rms, 0.0);
  EXPECT_EQ(s.share_above, 0.0);
  EXPECT_EQ(s.psnr, std::numeric_limits<double>::infinity());
  EXPECT_EQ(s.max_x, 0);
  EXPECT_EQ(s.max_y, 0);
  EXPECT_EQ(s.max_channel, 0);
}

TEST(ComputeStats, NanDifferenceGivesNanPsnr) {
  const core::Image conv =
      Make(2, 1, {{1.0f, std::numeric_limits<float>::quiet_NaN()}});
  const core::Image corr = Make(2, 1, {{1.0f, 2.0f}});
  const DiffStats s = ComputeStats(conv, corr, 0.0, 255.0);
  EXPECT_FALSE(s.identical);
  EXPECT_TRUE(std::isnan(s.mean_abs));
  EXPECT_TRUE(std::isnan(s.rms));
  EXPECT_TRUE(std::isnan(s.psnr));
}

TEST(ComputeStats, TinyDifferenceIsNotIdentical) {
  const core::Image conv = Make(1, 1, {{1.0f}});
  const core::Image corr = Make(1, 1, {{std::nextafter(1.0f, 2.0f)}});
  const DiffStats s = ComputeStats(conv, corr, 0.0, 1.0);
  EXPECT_FALSE(s.identical);
  EXPECT_GT(s.max_abs, 0.0);
  EXPECT_TRUE(std::isfinite(s.psnr));
  EXPECT_EQ(s.share_above, 1.0);
}

TEST(ComputeStats, FirstMaximumInRowMajorOrderAcrossChannels) {
  // Two channels; |d| = 2 first at (x=1, y=0) channel 1, again at (0, 1)
  // channel 0, which comes earlier by channel but later by row.
  const core::Image conv = Make(2, 2, {{0, 0, 2, 0}, {0, -2, 0, 0}});
  const core::Image corr = Make(2, 2, {{0, 0, 0, 0}, {0, 0, 0, 0}});
  const DiffStats s = ComputeStats(conv, corr, 0.0, 1.0);
  EXPECT_EQ(s.max_x, 1);
  EXPECT_EQ(s.max_y, 0);
  EXPECT_EQ(s.max_channel, 1);
  EXPECT_DOUBLE_EQ(s.share_above, 2.0 / 8.0);
}

TEST(ComputeStats, TiesWithinAPixelGoToTheFirstChannel) {
  const core::Image conv = Make(1, 1, {{0}, {-3}, {3}});
  const core::Image corr = Make(1, 1, {{0}, {0}, {0}});
  EXPECT_EQ(ComputeStats(conv, corr, 0.0, 1.0).max_channel, 1);
}

TEST(ComputeStats, AlphaIsNotCompared) {
  core::Image conv = Make(1, 1, {{7}});
  core::Image corr = Make(1, 1, {{7}});
  conv.alpha = core::Plane(1, 1, 0.0f);
  corr.alpha = core::Plane(1, 1, 255.0f);
  const DiffStats s = ComputeStats(conv, corr, 0.0, 255.0);
  EXPECT_TRUE(s.identical);
  EXPECT_EQ(s.samples, 1u);
}

#ifndef NDEBUG
TEST(ComputeStatsDeathTest, MismatchedSizesAreAPreconditionFailure) {
  const core::Image a = Make(2, 1, {{0, 0}});
  const core::Image b = Make(1, 2, {{0, 0}});
  const core::Image c = Make(2, 1, {{0, 0}, {0, 0}});
  EXPECT_DEATH(ComputeStats(a, b, 0.0, 1.0), "");
  EXPECT_DEATH(ComputeStats(a, c, 0.0, 1.0), "");
}
#endif

// ------------------------------------------------------------------ SignedDiff

TEST(SignedDiff, TakesTheChannelWithTheLargestMagnitudeFirstOnTies) {
  // Pixel 0: -4 wins; pixel 1: 3 and -3 tie, the first channel wins;
  // pixel 2: -2 and 2 tie the other way round; pixel 3: all zero.
  const core::Image conv =
      Make(4, 1, {{1, 3, -2, 0}, {-4, 1, 2, 0}, {0, -3, 0, 0}});
  const core::Image corr =
      Make(4, 1, {{0, 0, 0, 0}, {0, 0, 0, 0}, {0, 0, 0, 0}});
  const core::Plane d = SignedDiff(conv, corr);
  EXPECT_EQ(d.width, 4);
  EXPECT_EQ(d.height, 1);
  EXPECT_EQ(d.data, (std::vector<float>{-4, 3, -2, 0}));
}

TEST(SignedDiff, GrayIsTheDifferenceItself) {
  const core::Image conv = Make(2, 2, {{5, 8, 1, 2}}, Depth::kU8);
  const core::Image corr = Make(2, 2, {{5, 5, 5, 1}}, Depth::kU8);
  EXPECT_EQ(SignedDiff(conv, corr).data, (std::vector<float>{0, 3, -4, 1}));
}

// --------------------------------------------------------------------- RawDiff

TEST(RawDiff, EveryColourChannelSignedFloat) {
  core::Image conv = Make(2, 1, {{1, 2}, {3, 4}}, Depth::kU8);
  core::Image corr = Make(2, 1, {{2, 2}, {0, 9}}, Depth::kU8);
  conv.alpha = core::Plane(2, 1, 255.0f);
  corr.alpha = core::Plane(2, 1, 255.0f);
  const core::Image raw = RawDiff(conv, corr);
  EXPECT_EQ(raw.depth, Depth::kF32);
  EXPECT_EQ(raw.width, 2);
  EXPECT_EQ(raw.height, 1);
  ASSERT_EQ(raw.color.size(), 2u);
  EXPECT_FALSE(raw.alpha.has_value());
  EXPECT_EQ(raw.color[0].data, (std::vector<float>{-1, 0}));
  EXPECT_EQ(raw.color[1].data, (std::vector<float>{3, -5}));
}

// -------------------------------------------------------------- DivergingColor

TEST(DivergingColor, WhiteAtZeroBlueNegativeRedPositive) {
  const Bgr zero = DivergingColor(0.0);
  EXPECT_EQ(zero.b, 255);
  EXPECT_EQ(zero.g, 255);
  EXPECT_EQ(zero.r, 255);
  // The ends of ColorBrewer RdBu's dark stops (see colormap.cc).
  const Bgr red = DivergingColor(1.0);
  EXPECT_EQ(red.b, 43);
  EXPECT_EQ(red.g, 24);
  EXPECT_EQ(red.r, 178);
  const Bgr blue = DivergingColor(-1.0);
  EXPECT_EQ(blue.b, 172);
  EXPECT_EQ(blue.g, 102);
  EXPECT_EQ(blue.r, 33);
  for (double t : {0.01, 0.3, 0.7}) {
    const Bgr p = DivergingColor(t);
    const Bgr n = DivergingColor(-t);
    EXPECT_GT(p.r, p.b) << t;
    EXPECT_GT(n.b, n.r) << t;
  }
}

TEST(DivergingColor, ClampsOutsideTheRangeAndNanIsWhite) {
  const auto same = [](Bgr a, Bgr b) {
    return a.b == b.b && a.g == b.g && a.r == b.r;
  };
  EXPECT_TRUE(same(DivergingColor(7.0), DivergingColor(1.0)));
  EXPECT_TRUE(same(DivergingColor(-7.0), DivergingColor(-1.0)));
  EXPECT_TRUE(same(DivergingColor(std::numeric_limits<double>::infinity()),
                   DivergingColor(1.0)));
  EXPECT_TRUE(same(DivergingColor(std::nan("")), DivergingColor(0.0)));
}

TEST(DivergingColor, LightnessFallsMonotonicallyAwayFromZero) {
  for (double sign : {-1.0, 1.0}) {
    double previous = Lightness(DivergingColor(0.0));
    for (int i = 1; i <= 200; ++i) {
      const double l = Lightness(DivergingColor(sign * i / 200.0));
      EXPECT_LE(l, previous) << sign * i / 200.0;
      previous = l;
    }
  }
  EXPECT_LT(Lightness(DivergingColor(1.0)), 50.0) << "the ends are strong";
  EXPECT_LT(Lightness(DivergingColor(-1.0)), 50.0) << "the ends are strong";
}

TEST(DivergingColor, BothSidesAreAlmostEquallyLight) {
  // A diverging map should not make +v look stronger than -v.
  for (int i = 0; i <= 100; ++i) {
    const double t = i / 100.0;
    EXPECT_NEAR(Lightness(DivergingColor(t)), Lightness(DivergingColor(-t)),
                5.0)
        << t;
  }
}

// --------------------------------------------------------------------- HeatMap

TEST(HeatMap, SymmetricRangeGivesMirroredColours) {
  core::Plane d(5, 1);
  d.data = {-2, -1, 0, 1, 2};
  const core::Image heat = HeatMap(d, 2.0);
  EXPECT_EQ(heat.depth, Depth::kU8);
  EXPECT_EQ(heat.width, 5);
  EXPECT_EQ(heat.height, 1);
  EXPECT_FALSE(heat.alpha.has_value());
  ASSERT_EQ(heat.color.size(), 3u);
  for (int x = 0; x < 5; ++x) {
    const Bgr want = DivergingColor(d.data[x] / 2.0);
    EXPECT_EQ(heat.color[0].data[x], want.b) << x;
    EXPECT_EQ(heat.color[1].data[x], want.g) << x;
    EXPECT_EQ(heat.color[2].data[x], want.r) << x;
  }
  const auto at = [&](int x) {
    return Bgr{static_cast<uint8_t>(heat.color[0].data[x]),
               static_cast<uint8_t>(heat.color[1].data[x]),
               static_cast<uint8_t>(heat.color[2].data[x])};
  };
  // +v red, -v blue, equally far from white.
  EXPECT_GT(at(4).r, at(4).b + 100);
  EXPECT_GT(at(0).b, at(0).r + 100);
  EXPECT_NEAR(Lightness(at(1)), Lightness(at(3)), 5.0);
  EXPECT_EQ(heat.color[1].data[2], 255.0f);
}

TEST(HeatMap, ValuesBeyondTheRangeSaturate) {
  core::Plane d(2, 1);
  d.data = {-100, 100};
  const core::Image heat = HeatMap(d, 1.0);
  const Bgr lo = DivergingColor(-1.0);
  const Bgr hi = DivergingColor(1.0);
  EXPECT_EQ(heat.color[0].data, (std::vector<float>{float(lo.b), float(hi.b)}));
  EXPECT_EQ(heat.color[2].data, (std::vector<float>{float(lo.r), float(hi.r)}));
}

TEST(HeatMap, EmptyRangeIsAllWhite) {
  core::Plane d(3, 2);
  d.data = {-2, 0, 2, 5, -5, 0.5f};
  for (double range : {0.0, -1.0}) {
    const core::Image white = HeatMap(d, range);
    ASSERT_EQ(white.color.size(), 3u);
    for (const core::Plane& p : white.color) {
      for (float v : p.data) EXPECT_EQ(v, 255.0f) << range;
    }
  }
}

// ----------------------------------------------------------------------- Panel

// A pixel of an 8-bit BGR core image.
Bgr At(const core::Image& img, int x, int y) {
  return {static_cast<uint8_t>(img.color[0].at(y, x)),
          static_cast<uint8_t>(img.color[1].at(y, x)),
          static_cast<uint8_t>(img.color[2].at(y, x))};
}

// How many pixels of `img` are exactly (b, g, r).
int Count(const core::Image& img, int b, int g, int r) {
  int n = 0;
  for (int y = 0; y < img.height; ++y) {
    for (int x = 0; x < img.width; ++x) {
      const Bgr c = At(img, x, y);
      n += c.b == b && c.g == g && c.r == r;
    }
  }
  return n;
}

// Every structural promise of the panel: 8-bit, three colour planes, no
// alpha, integer samples in 0..255, four tiles wide.
void ExpectPanelShape(const core::Image& panel, int tile_width) {
  EXPECT_EQ(panel.depth, Depth::kU8);
  ASSERT_EQ(panel.color.size(), 3u);
  EXPECT_FALSE(panel.alpha.has_value());
  EXPECT_GE(panel.width, 4 * tile_width);
  EXPECT_GT(panel.width, panel.height);
  for (const core::Plane& p : panel.color) {
    ASSERT_EQ(p.width, panel.width);
    ASSERT_EQ(p.height, panel.height);
    ASSERT_EQ(p.data.size(), static_cast<size_t>(panel.width) * panel.height);
    // One check per plane: a gtest assertion per sample is slow in Debug.
    const auto bad = std::find_if(p.data.begin(), p.data.end(), [](float v) {
      return !(v >= 0.0f && v <= 255.0f && v == std::round(v));
    });
    ASSERT_TRUE(bad == p.data.end()) << "sample " << *bad;
  }
}

core::Image ZeroHeat(int w, int h) { return HeatMap(core::Plane(w, h), 0.0); }

TEST(Panel, ShapeForEveryInputKind) {
  struct Case {
    Depth depth;
    int channels;
    bool alpha;
  };
  for (const Case& c :
       {Case{Depth::kU8, 1, false}, Case{Depth::kU8, 1, true},
        Case{Depth::kU8, 3, false}, Case{Depth::kU8, 3, true},
        Case{Depth::kU16, 1, false}, Case{Depth::kU16, 3, true},
        Case{Depth::kF32, 1, false}, Case{Depth::kF32, 3, false},
        Case{Depth::kF32, 3, true}}) {
    SCOPED_TRACE(testing::Message()
                 << "depth " << static_cast<int>(c.depth) << " channels "
                 << c.channels << " alpha " << c.alpha);
    core::Image in = Make(240, 180, {}, c.depth);
    for (int i = 0; i < c.channels; ++i) {
      core::Plane p(240, 180);
      for (size_t k = 0; k < p.data.size(); ++k) {
        p.data[k] = static_cast<float>(k % 200) - 50;
      }
      in.color.push_back(p);
    }
    if (c.alpha) in.alpha = core::Plane(240, 180, 0.5f);
    for (double range : {0.0, 3.5}) {
      ExpectPanelShape(
          Panel(in, in, in, ZeroHeat(240, 180), range, range, "test"), 240);
    }
  }
}

TEST(Panel, GrayBecomesBgr) {
  // 30 is darker than the text, so no label pixel can be counted.
  const core::Image in = Filled(200, 20, 1, 30.0f, Depth::kU8);
  const core::Image panel = Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0, "g");
  EXPECT_EQ(Count(panel, 30, 30, 30), 3 * 200 * 20);
}

TEST(Panel, SixteenBitIsScaledTo8Bit) {
  // 65535 -> 255 and 13107 -> 51 exactly.
  const core::Image in =
      Make(200, 20,
           {std::vector<float>(4000, 65535.0f), std::vector<float>(4000, 0.0f),
            std::vector<float>(4000, 13107.0f)},
           Depth::kU16);
  const core::Image panel =
      Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0, "u16");
  EXPECT_EQ(Count(panel, 255, 0, 51), 3 * 200 * 20);
}

TEST(Panel, AlphaIsCompositedOverACheckerboard) {
  core::Image clear = Filled(200, 40, 3, 0.0f, Depth::kU8);
  clear.alpha = core::Plane(200, 40, 0.0f);
  const core::Image panel =
      Panel(clear, clear, clear, ZeroHeat(200, 40), 0.0, 0.0, "rgba");
  // Fully transparent black shows only the checkerboard; no text, frame or
  // colour bar pixel is pure black either.
  EXPECT_EQ(Count(panel, 0, 0, 0), 0);
  EXPECT_GT(Count(panel, 240, 240, 240), 3 * 200 * 40 / 4);
  EXPECT_GT(Count(panel, 204, 204, 204), 3 * 200 * 40 / 4);
  core::Image opaque = clear;
  opaque.alpha = core::Plane(200, 40, 255.0f);
  EXPECT_EQ(
      Count(Panel(opaque, opaque, opaque, ZeroHeat(200, 40), 0.0, 0.0, "a"), 0,
            0, 0),
      3 * 200 * 40);
}

TEST(Panel, FloatIsStretchedFromMinToMax) {
  // 1000..1199 would saturate to white unscaled; stretched, the first
  // column is black and the last white.
  core::Image in = Filled(200, 20, 1, 0.0f, Depth::kF32);
  for (int y = 0; y < 20; ++y) {
    for (int x = 0; x < 200; ++x) in.color[0].at(y, x) = 1000.0f + x;
  }
  const core::Image panel =
      Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0, "f32");
  EXPECT_EQ(Count(panel, 0, 0, 0), 3 * 20);
  // A negative-only image is stretched the same way.
  for (float& v : in.color[0].data) v -= 2000.0f;
  EXPECT_EQ(
      Count(Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0, "neg"), 0, 0, 0),
      3 * 20);
}

TEST(Panel, ConstantFloatIsMidGray) {
  const core::Image in = Filled(200, 20, 1, -7.0f, Depth::kF32);
  const core::Image panel = Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0, "c");
  // Exactly: text is drawn in one colour, without anti-aliasing.
  EXPECT_EQ(Count(panel, 128, 128, 128), 3 * 200 * 20);
}

// Bounding box of the pixels where `a` and `b` differ, and of those among
// them that are strongly red or strongly blue in `a`.
struct Box {
  int x0 = std::numeric_limits<int>::max();
  int y0 = std::numeric_limits<int>::max();
  int x1 = -1;
  int y1 = -1;
  int count = 0;
  void Add(int x, int y) {
    x0 = std::min(x0, x);
    y0 = std::min(y0, y);
    x1 = std::max(x1, x);
    y1 = std::max(y1, y);
    ++count;
  }
  int width() const { return x1 - x0 + 1; }
  int height() const { return y1 - y0 + 1; }
};
struct DiffBoxes {
  Box all, red, blue;
};
DiffBoxes Compare(const core::Image& a, const core::Image& b) {
  DiffBoxes boxes;
  EXPECT_EQ(a.width, b.width);
  EXPECT_EQ(a.height, b.height);
  for (int y = 0; y < a.height; ++y) {
    for (int x = 0; x < a.width; ++x) {
      const Bgr p = At(a, x, y);
      const Bgr q = At(b, x, y);
      if (p.b == q.b && p.g == q.g && p.r == q.r) continue;
      boxes.all.Add(x, y);
      if (p.r > p.b + 100) boxes.red.Add(x, y);
      if (p.b > p.r + 100) boxes.blue.Add(x, y);
    }
  }
  return boxes;
}

// ------------------------------------------------------------- ChooseRange

TEST(ChooseRange, PercentileOfTheNonzeroMagnitudes) {
  // 1000 pixels: 900 zero, 99 with |d| = 1..99 (signs alternating) and one
  // hard edge of -5000.
  core::Plane d(1000, 1);
  for (int i = 1; i < 100; ++i) {
    d.data[static_cast<size_t>(i)] = (i % 2 ? 1.0f : -1.0f) * i;
  }
  d.data[999] = -5000.0f;
  // 100 nonzero magnitudes; nearest rank: p50 is the 50th smallest (50),
  // p99 the 99th (99), p99.5 and p100 the 100th (5000).
  using K = DiffRange::Kind;
  EXPECT_EQ(ChooseRange(d, {K::kPercentile, 50}), 50.0);
  EXPECT_EQ(ChooseRange(d, {K::kPercentile, 99}), 99.0);
  EXPECT_EQ(ChooseRange(d, {K::kPercentile, 99.5}), 5000.0);
  EXPECT_EQ(ChooseRange(d, {K::kPercentile, 1}), 1.0);
  EXPECT_EQ(ChooseRange(d, {K::kMax, 0}), 5000.0);
  EXPECT_EQ(ChooseRange(d, {K::kValue, 7.25}), 7.25);
  // The default is p99.5; on 10000 nonzero magnitudes it leaves the top
  // 50 out.
  core::Plane many(10000, 1);
  for (int i = 0; i < 10000; ++i) {
    many.data[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  }
  EXPECT_EQ(ChooseRange(many, DiffRange{}), 9950.0);
}

TEST(ChooseRange, ZeroDifferenceHasAnEmptyRange) {
  const core::Plane zero(50, 40);
  EXPECT_EQ(ChooseRange(zero, DiffRange{}), 0.0);
  EXPECT_EQ(ChooseRange(zero, {DiffRange::Kind::kMax, 0}), 0.0);
}

TEST(DiffRangeName, HowTheOptionReadsBack) {
  EXPECT_EQ(DiffRangeName(DiffRange{}), "p99.5");
  EXPECT_EQ(DiffRangeName({DiffRange::Kind::kMax, 0}), "max");
  EXPECT_EQ(DiffRangeName({DiffRange::Kind::kPercentile, 90}), "p90");
  EXPECT_EQ(DiffRangeName({DiffRange::Kind::kValue, 12.5}), "12.5");
}

TEST(FormatDiff, SixSignificantDigitsNoExponentBelowAMillion) {
  EXPECT_EQ(FormatDiff(1992), "1992");
  EXPECT_EQ(FormatDiff(-1992), "-1992");
  EXPECT_EQ(FormatDiff(0.125), "0.125");
  EXPECT_EQ(FormatDiff(65535), "65535");
  EXPECT_EQ(FormatDiff(1.0 / 3.0), "0.333333");
}

// The colour bar: a white bar with one "0" for an empty range, a blue to
// red bar for a range, and arrows at both ends when the largest difference
// is beyond the range.
TEST(Panel, ColourBarShowsAnEmptyRangeAndSaturation) {
  const core::Image in = Filled(200, 20, 3, 100.0f, Depth::kU8);
  const core::Image zero = Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0, "t");
  const core::Image full =
      Panel(in, in, in, ZeroHeat(200, 20), 10.0, 10.0, "t");
  const core::Image clipped =
      Panel(in, in, in, ZeroHeat(200, 20), 10.0, 500.0, "t");
  const Bgr blue = DivergingColor(-1.0);
  const Bgr red = DivergingColor(1.0);
  // No saturated colour anywhere on a zero panel; the range bar has both.
  EXPECT_EQ(Count(zero, blue.b, blue.g, blue.r), 0);
  EXPECT_EQ(Count(zero, red.b, red.g, red.r), 0);
  const int blue_full = Count(full, blue.b, blue.g, blue.r);
  const int red_full = Count(full, red.b, red.g, red.r);
  EXPECT_GT(blue_full, 0);
  EXPECT_GT(red_full, 0);
  // The arrows add saturated pixels beyond the bar's ends.
  EXPECT_GT(Count(clipped, blue.b, blue.g, blue.r), blue_full);
  EXPECT_GT(Count(clipped, red.b, red.g, red.r), red_full);
  // Blue arrow pixels lie left of every blue bar pixel.
  int bar_left = clipped.width;
  int arrow_left = clipped.width;
  for (int y = 0; y < full.height; ++y) {
    for (int x = 0; x < full.width; ++x) {
      if (At(full, x, y) == blue) bar_left = std::min(bar_left, x);
    }
  }
  for (int y = 0; y < clipped.height; ++y) {
    for (int x = 0; x < clipped.width; ++x) {
      if (At(clipped, x, y) == blue) arrow_left = std::min(arrow_left, x);
    }
  }
  EXPECT_LT(arrow_left, bar_left + 1);
}

// The diff tile is the only part of the panel that changes with the heat
// map, so comparing with an all-white heat map (same range, same labels)
// isolates it without knowing the layout.
TEST(Panel, DiffTileIsRedWherePositiveAndBlueWhereNegative) {
  for (const auto& [w, h] : {std::pair{64, 48}, std::pair{300, 200},
                             std::pair{3, 2}, std::pair{2048, 100}}) {
    SCOPED_TRACE(testing::Message() << w << "x" << h);
    const core::Image in = Filled(w, h, 3, 100.0f, Depth::kU8);
    core::Plane d(w, h);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) d.at(y, x) = y < h / 2 ? -10.0f : 10.0f;
    }
    const core::Image panel =
        Panel(in, in, in, HeatMap(d, 10.0), 10.0, 10.0, "t");
    const DiffBoxes boxes =
        Compare(panel, Panel(in, in, in, ZeroHeat(w, h), 10.0, 10.0, "t"));
    ASSERT_GT(boxes.all.count, 0);
    // Every changed pixel is one of the two colours: blue rows above red.
    EXPECT_EQ(boxes.red.count + boxes.blue.count, boxes.all.count);
    ASSERT_GT(boxes.red.count, 0);
    ASSERT_GT(boxes.blue.count, 0);
    EXPECT_LT(boxes.blue.y1, boxes.red.y0);
    EXPECT_EQ(boxes.blue.x0, boxes.red.x0);
    EXPECT_EQ(boxes.blue.x1, boxes.red.x1);
    // It is the right-most tile, scaled without distortion (2048x100 halves
    // exactly, so no row blends the two halves).
    EXPECT_GT(boxes.all.x0, panel.width * 3 / 4 - 20);
    EXPECT_NEAR(static_cast<double>(boxes.all.width()) / boxes.all.height(),
                static_cast<double>(w) / h, 0.05 * w / h);
  }
}

TEST(Panel, WideImagesAreScaledDown) {
  const core::Image in = Filled(3000, 20, 3, 10.0f, Depth::kU8);
  const core::Image panel =
      Panel(in, in, in, ZeroHeat(3000, 20), 0.0, 0.0, "wide");
  ExpectPanelShape(panel, 1000);
  EXPECT_LE(panel.width, 4096 + 100);
}

TEST(Panel, TallImagesAreScaledDown) {
  const core::Image in = Filled(20, 3000, 1, 10.0f, Depth::kU8);
  const core::Image panel =
      Panel(in, in, in, ZeroHeat(20, 3000), 0.0, 0.0, "tall");
  EXPECT_LE(panel.height, 1024 + 200);
}

TEST(Panel, TinyImagesAreEnlargedByAWholeFactor) {
  const core::Image in = Filled(3, 2, 1, 10.0f, Depth::kU8);
  core::Plane d(3, 2);
  d.data = {1, -1, 1, -1, 1, -1};
  const DiffBoxes boxes =
      Compare(Panel(in, in, in, HeatMap(d, 1.0), 1.0, 1.0, "tiny"),
              Panel(in, in, in, ZeroHeat(3, 2), 1.0, 1.0, "tiny"));
  EXPECT_GE(boxes.all.width(), 150);
  EXPECT_EQ(boxes.all.width() % 3, 0);
  EXPECT_EQ(boxes.all.width() * 2, boxes.all.height() * 3);
}

TEST(Panel, TilesOfDifferentSizesShareTheRow) {
  // A 'full' result is larger than its input, a 'valid' one smaller. The
  // values are darker than the text so only tile pixels are counted.
  const core::Image in = Filled(200, 30, 3, 20.0f, Depth::kU8);
  const core::Image full = Filled(204, 34, 3, 30.0f, Depth::kU8);
  const core::Image valid = Filled(196, 26, 3, 40.0f, Depth::kU8);
  const core::Image panel =
      Panel(in, valid, full, ZeroHeat(204, 34), 0.0, 0.0, "sizes");
  ExpectPanelShape(panel, 204);
  EXPECT_EQ(Count(panel, 20, 20, 20), 200 * 30);
  EXPECT_EQ(Count(panel, 40, 40, 40), 196 * 26);
  EXPECT_EQ(Count(panel, 30, 30, 30), 204 * 34);
}

TEST(Panel, EmptyImagesStillMakeAPanel) {
  const core::Image empty = Filled(0, 0, 3, 0.0f, Depth::kU8);
  ExpectPanelShape(
      Panel(empty, empty, empty, ZeroHeat(0, 0), 0.0, 0.0, "empty"), 0);
  const core::Image wide = Filled(3000, 20, 3, 10.0f, Depth::kU8);
  ExpectPanelShape(
      Panel(wide, empty, wide, ZeroHeat(3000, 20), 0.0, 0.0, "mixed"), 1000);
}

TEST(Panel, TitleIsDrawnAndNeverClipped) {
  const core::Image in = Filled(200, 20, 1, 200.0f, Depth::kU8);
  const core::Image plain = Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0, "");
  const core::Image titled = Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0,
                                   "sobel-x  |  astronaut.png");
  ASSERT_EQ(plain.width, titled.width);
  const DiffBoxes text = Compare(titled, plain);
  ASSERT_GT(text.all.count, 0);
  EXPECT_LT(text.all.y1, titled.height / 4) << "the title is on top";
  // Text is dark grey on white.
  EXPECT_GT(Count(titled, 60, 60, 60), 0);
  const core::Image long_title =
      Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0, std::string(200, 'W'));
  EXPECT_GT(long_title.width, titled.width);
}

// ------------------------------------------------------------------ PanelText

using internal::DecodeUtf8;
using internal::DrawText;
using internal::Raster;
using internal::TextWidth;

constexpr Bgr kWhite{255, 255, 255};
constexpr Bgr kInk{60, 60, 60};

// A string of these bytes (UTF-8, or not).
std::string Bytes(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes) s.push_back(static_cast<char>(b));
  return s;
}

// One of Unifont's files, "XXXX:VALUE" lines, read here independently of
// the library's embedded copy: VALUE by code point; empty if unreadable.
std::map<char32_t, std::string> ReadUnifontFile(const char* path) {
  std::map<char32_t, std::string> lines;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    const unsigned long code = std::stoul(line.substr(0, colon), nullptr, 16);
    lines[static_cast<char32_t>(code)] = line.substr(colon + 1);
  }
  return lines;
}

const std::map<char32_t, std::string>& UnifontHex() {
  static const auto* lines = new std::map<char32_t, std::string>(
      ReadUnifontFile(CONVCORR_UNIFONT_HEX));
  return *lines;
}

const std::map<char32_t, std::string>& UnifontCombining() {
  static const auto* lines = new std::map<char32_t, std::string>(
      ReadUnifontFile(CONVCORR_UNIFONT_COMBINING));
  return *lines;
}

#define SKIP_WITHOUT_UNIFONT()                                               \
  if (UnifontHex().empty() || UnifontCombining().empty())                    \
  GTEST_SKIP() << "GNU Unifont's files are not readable ("                   \
               << CONVCORR_UNIFONT_HEX << ", " << CONVCORR_UNIFONT_COMBINING \
               << "): install the Debian package unifont"

// Width in pixels (8 or 16) of the glyph of `c`, from its hex digits.
int GlyphWidth(char32_t c) {
  return static_cast<int>(UnifontHex().at(c).size()) / 4;
}

// Whether pixel (x, y) of the glyph of `c` is set: 16 rows of 2 or 4 hex
// digits, most significant bit leftmost.
bool GlyphBit(char32_t c, int x, int y) {
  const std::string& hex = UnifontHex().at(c);
  const int width = GlyphWidth(c);
  const size_t digits = static_cast<size_t>(width) / 4;
  const unsigned long row =
      std::stoul(hex.substr(y * digits, digits), nullptr, 16);
  return (row >> (width - 1 - x)) & 1;
}

using Pixels = std::set<std::pair<int, int>>;  // (x, y)

// The pixels a run of glyphs sets at `scale`, each glyph's cell at its x,
// the top of the line at 0.
Pixels ExpectedText(const std::vector<std::pair<char32_t, int>>& cells,
                    int scale) {
  Pixels set;
  for (const auto& [c, x0] : cells) {
    for (int y = 0; y < 16; ++y) {
      for (int x = 0; x < GlyphWidth(c); ++x) {
        if (!GlyphBit(c, x, y)) continue;
        for (int dy = 0; dy < scale; ++dy) {
          for (int dx = 0; dx < scale; ++dx) {
            set.insert({x0 + x * scale + dx, y * scale + dy});
          }
        }
      }
    }
  }
  return set;
}

// The non-white pixels of `r`; every one must be the ink colour.
Pixels Inked(const Raster& r) {
  Pixels set;
  for (int y = 0; y < r.height; ++y) {
    for (int x = 0; x < r.width; ++x) {
      if (r.at(y, x) == kWhite) continue;
      EXPECT_EQ(r.at(y, x), kInk) << x << "," << y;
      set.insert({x, y});
    }
  }
  return set;
}

Pixels Shifted(const Pixels& p, int dx, int dy) {
  Pixels out;
  for (const auto& [x, y] : p) out.insert({x + dx, y + dy});
  return out;
}

// `text` drawn by the library at (x, top), as pixels.
Pixels Drawn(const std::string& text, int scale, int x = 0, int top = 0) {
  Raster r(x + TextWidth(text, scale) + 8, top + 16 * scale + 8, kWhite);
  DrawText(r, text, x, top, scale, kInk);
  return Inked(r);
}

TEST(PanelText, GlyphIsUnifontsBitmapAtEveryScale) {
  SKIP_WITHOUT_UNIFONT();
  for (int scale : {1, 2, 3}) {
    SCOPED_TRACE(scale);
    EXPECT_EQ(TextWidth("A", scale), 8 * scale);
    EXPECT_EQ(Drawn("A", scale, 3, 5),
              Shifted(ExpectedText({{U'A', 0}}, scale), 3, 5));
  }
  // Clipped at the raster's edges, not wrapped or dropped.
  Raster r(5, 9, kWhite);
  DrawText(r, "A", -2, -4, 1, kInk);
  Pixels clipped;
  for (const auto& [x, y] : ExpectedText({{U'A', 0}}, 1)) {
    if (x - 2 >= 0 && x - 2 < 5 && y - 4 >= 0 && y - 4 < 9) {
      clipped.insert({x - 2, y - 4});
    }
  }
  EXPECT_EQ(Inked(r), clipped);
}

TEST(PanelText, NonAsciiGlyphsWideOnesSixteenPixels) {
  SKIP_WITHOUT_UNIFONT();
  // U+00DF sharp s is narrow; U+6771 and U+4EAC are wide in the font.
  ASSERT_EQ(GlyphWidth(U'\u00DF'), 8);
  ASSERT_EQ(GlyphWidth(U'\u6771'), 16);
  ASSERT_EQ(GlyphWidth(U'\u4EAC'), 16);
  const std::string text = "Stra\u00DFe \u6771\u4EAC";
  EXPECT_EQ(TextWidth(text, 1), 7 * 8 + 2 * 16);
  EXPECT_EQ(TextWidth(text, 2), 2 * (7 * 8 + 2 * 16));
  const std::vector<std::pair<char32_t, int>> cells = {
      {U'S', 0},  {U't', 8},  {U'r', 16},      {U'a', 24},     {U'\u00DF', 32},
      {U'e', 40}, {U' ', 48}, {U'\u6771', 56}, {U'\u4EAC', 72}};
  EXPECT_EQ(Drawn(text, 1), ExpectedText(cells, 1));
}

TEST(PanelText, InvalidUtf8AndMissingGlyphsDrawTheReplacement) {
  SKIP_WITHOUT_UNIFONT();
  ASSERT_EQ(UnifontHex().count(U'\uE000'), 0u) << "private use has a glyph";
  const Pixels expected = ExpectedText(
      {{U'a', 0}, {U'\uFFFD', 8}, {U'b', 8 + GlyphWidth(U'\uFFFD')}}, 1);
  // An invalid byte, a sequence cut short, a private-use code point and
  // one beyond the Basic Multilingual Plane (not in unifont.hex).
  for (const std::string& text :
       {Bytes({'a', 0xFF, 'b'}), Bytes({'a', 0xE6, 0x9D, 'b'}),
        std::string("a\uE000b"), std::string("a\U0001F600b")}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(TextWidth(text, 1), 16 + GlyphWidth(U'\uFFFD'));
    EXPECT_EQ(Drawn(text, 1), expected);
  }
}

TEST(PanelText, CombiningMarkSitsOnItsLetter) {
  SKIP_WITHOUT_UNIFONT();
  // U+0301 (acute) has Unifont offset -8: drawn over the 8-pixel cell
  // before it, taking no room. NFD file names spell e-acute this way.
  ASSERT_EQ(UnifontCombining().at(U'\u0301'), "-8");
  EXPECT_EQ(internal::CombiningOffset(U'\u0301'), -8);
  EXPECT_EQ(internal::CombiningOffset(U'e'), 0);
  EXPECT_EQ(TextWidth("e\u0301x", 2), 2 * 16);
  EXPECT_EQ(Drawn("e\u0301x", 2),
            ExpectedText({{U'e', 0}, {U'\u0301', 0}, {U'x', 16}}, 2));
  // With no letter before it, a mark is an ordinary glyph.
  EXPECT_EQ(TextWidth("\u0301", 1), 8);
}

TEST(PanelText, EmptyTextDrawsNothing) {
  EXPECT_EQ(TextWidth("", 1), 0);
  Raster r(4, 4, kWhite);
  DrawText(r, "", 0, 0, 1, kInk);
  EXPECT_TRUE(Inked(r).empty());
}

// ------------------------------------------------------------------ PanelUtf8

TEST(PanelUtf8, WellFormedSequencesDecode) {
  EXPECT_EQ(DecodeUtf8(""), U"");
  EXPECT_EQ(DecodeUtf8("A\xC3\xA9"), U"A\u00E9");
  EXPECT_EQ(DecodeUtf8("\xE6\x9D\xB1\xE4\xBA\xAC"), U"\u6771\u4EAC");
  EXPECT_EQ(DecodeUtf8("\xF0\x9F\x98\x80"), U"\U0001F600");
  EXPECT_EQ(DecodeUtf8("\xF4\x8F\xBF\xBF"), U"\U0010FFFF");
  EXPECT_EQ(DecodeUtf8(std::string("\0", 1)), std::u32string(1, U'\0'));
}

// Unicode's "maximal subpart" practice (the examples of its section 3.9):
// each maximal prefix of a well-formed sequence, or else each byte, is one
// U+FFFD.
TEST(PanelUtf8, IllFormedSubsequencesBecomeOneReplacementEach) {
  const std::u32string r1 = U"\uFFFD";
  EXPECT_EQ(DecodeUtf8("\x80"), r1);
  EXPECT_EQ(DecodeUtf8("\xFF"), r1);
  EXPECT_EQ(DecodeUtf8("\xE6\x9D"), r1);                        // cut short
  EXPECT_EQ(DecodeUtf8("\xF0\x9F\x98"), r1);                    // cut short
  EXPECT_EQ(DecodeUtf8(Bytes({0xE6, 0x9D, 'A'})), U"\uFFFDA");  // then A
  EXPECT_EQ(DecodeUtf8("\xC0\xAF"), U"\uFFFD\uFFFD");           // overlong
  EXPECT_EQ(DecodeUtf8("\xE0\x80\xAF"), U"\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(DecodeUtf8("\xED\xA0\x80"), U"\uFFFD\uFFFD\uFFFD");  // surrogate
  EXPECT_EQ(DecodeUtf8("\xF4\x90\x80\x80"),                      // > 10FFFF
            U"\uFFFD\uFFFD\uFFFD\uFFFD");
  EXPECT_EQ(DecodeUtf8(Bytes({'a', 0x80, 0x80, 'b'})), U"a\uFFFD\uFFFDb");
  EXPECT_EQ(DecodeUtf8(Bytes({0xF1, 0x80, 0x80, 0xE1, 0x80, 0xC2, 'a'})),
            U"\uFFFD\uFFFD\uFFFDa");
}

// ---------------------------------------------------------------- PanelResize

Raster RandomRaster(int w, int h, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> byte(0, 255);
  Raster r(w, h);
  for (Bgr& p : r.pixels) {
    p = {static_cast<uint8_t>(byte(rng)), static_cast<uint8_t>(byte(rng)),
         static_cast<uint8_t>(byte(rng))};
  }
  return r;
}

TEST(PanelResize, TwoByTwoBlocksAreAveragedRoundingHalfUp) {
  // Blue: block means 2.5 -> 3, 0.25 -> 0, 0.75 -> 1, 255; green is
  // 255 - blue and red blue / 2 + 10.
  const int blue[4][4] = {
      {1, 2, 0, 1}, {3, 4, 0, 0}, {1, 1, 255, 255}, {0, 1, 255, 255}};
  Raster in(4, 4);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 4; ++x) {
      const int b = blue[y][x];
      in.at(y, x) = {static_cast<uint8_t>(b), static_cast<uint8_t>(255 - b),
                     static_cast<uint8_t>(b / 2 + 10)};
    }
  }
  const Raster out = internal::ShrinkArea(in, 2, 2);
  ASSERT_EQ(out.width, 2);
  ASSERT_EQ(out.height, 2);
  // Green: 252.5 -> 253, 254.75 -> 255, 254.25 -> 254, 0. Red (b / 2 + 10):
  // {10, 11, 11, 12} -> 11, then 10, 10 and 137.
  EXPECT_EQ(out.at(0, 0), (Bgr{3, 253, 11}));
  EXPECT_EQ(out.at(0, 1), (Bgr{0, 255, 10}));
  EXPECT_EQ(out.at(1, 0), (Bgr{1, 254, 10}));
  EXPECT_EQ(out.at(1, 1), (Bgr{255, 0, 137}));
}

TEST(PanelResize, PartlyCoveredPixelsCountByTheirFraction) {
  // 3 -> 2: an output pixel covers 1.5 inputs, so output 0 is all of input
  // 0 and half of input 1, (0 + 0.5 * 90) / 1.5 = 30, and output 1 is
  // (0.5 * 90 + 180) / 1.5 = 150.
  Raster in(3, 1);
  in.at(0, 0) = {0, 0, 0};
  in.at(0, 1) = {90, 90, 90};
  in.at(0, 2) = {180, 180, 180};
  const Raster out = internal::ShrinkArea(in, 2, 1);
  EXPECT_EQ(out.at(0, 0), (Bgr{30, 30, 30}));
  EXPECT_EQ(out.at(0, 1), (Bgr{150, 150, 150}));
}

TEST(PanelResize, ConstantStaysConstantAtAnyFactor) {
  const Bgr c{17, 128, 254};
  for (const auto& [w, h, to_w, to_h] :
       {std::tuple{7, 5, 3, 2}, std::tuple{1000, 3, 333, 1},
        std::tuple{5, 5, 4, 4}, std::tuple{13, 11, 13, 11},
        std::tuple{3000, 20, 1024, 7}, std::tuple{1, 1, 1, 1}}) {
    SCOPED_TRACE(testing::Message()
                 << w << "x" << h << " -> " << to_w << "x" << to_h);
    const Raster out = internal::ShrinkArea(Raster(w, h, c), to_w, to_h);
    ASSERT_EQ(out.width, to_w);
    ASSERT_EQ(out.height, to_h);
    EXPECT_EQ(std::count(out.pixels.begin(), out.pixels.end(), c),
              static_cast<std::ptrdiff_t>(to_w) * to_h);
  }
}

TEST(PanelResize, MatchesOpenCvInterArea) {
  static_assert(sizeof(Bgr) == 3, "a Raster row is a CV_8UC3 row");
  const Raster in = RandomRaster(997, 601, 7);
  cv::Mat mat(in.height, in.width, CV_8UC3, const_cast<Bgr*>(in.pixels.data()));
  // Whole factors: OpenCV sums blocks exactly and rounds as we do, so the
  // results are identical; otherwise its float weights allow 1 level.
  for (const auto& [w, h, tolerance] :
       {std::tuple{997, 601, 0}, std::tuple{512, 309, 1},
        std::tuple{100, 601, 1}, std::tuple{333, 77, 1}}) {
    SCOPED_TRACE(testing::Message() << w << "x" << h);
    const Raster ours = internal::ShrinkArea(in, w, h);
    cv::Mat theirs;
    cv::resize(mat, theirs, cv::Size(w, h), 0, 0, cv::INTER_AREA);
    int worst = 0;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const cv::Vec3b t = theirs.at<cv::Vec3b>(y, x);
        const Bgr o = ours.at(y, x);
        worst = std::max({worst, std::abs(o.b - t[0]), std::abs(o.g - t[1]),
                          std::abs(o.r - t[2])});
      }
    }
    EXPECT_LE(worst, tolerance);
  }
  // Whole factors 2 and 3 on sizes they divide.
  const Raster even = RandomRaster(600, 300, 11);
  cv::Mat even_mat(even.height, even.width, CV_8UC3,
                   const_cast<Bgr*>(even.pixels.data()));
  for (int f : {2, 3}) {
    SCOPED_TRACE(f);
    const Raster ours = internal::ShrinkArea(even, 600 / f, 300 / f);
    cv::Mat theirs;
    cv::resize(even_mat, theirs, cv::Size(600 / f, 300 / f), 0, 0,
               cv::INTER_AREA);
    ASSERT_TRUE(theirs.isContinuous());
    EXPECT_EQ(std::memcmp(theirs.data, ours.pixels.data(),
                          ours.pixels.size() * sizeof(Bgr)),
              0);
  }
}

TEST(PanelResize, EnlargeMakesEveryPixelASquare) {
  Raster in(2, 1);
  in.at(0, 0) = {1, 2, 3};
  in.at(0, 1) = {4, 5, 6};
  const Raster out = internal::EnlargeNearest(in, 3);
  ASSERT_EQ(out.width, 6);
  ASSERT_EQ(out.height, 3);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 6; ++x) {
      EXPECT_EQ(out.at(y, x), in.at(0, x / 3)) << x << "," << y;
    }
  }
  EXPECT_EQ(internal::EnlargeNearest(in, 1).pixels, in.pixels);
}

// -------------------------------------------------------------- Panel titles

// The pixels where `titled` and `plain` differ, all of them the text
// colour in `titled`.
Pixels TitlePixels(const core::Image& titled, const core::Image& plain) {
  EXPECT_EQ(titled.width, plain.width);
  EXPECT_EQ(titled.height, plain.height);
  Pixels set;
  for (int y = 0; y < titled.height; ++y) {
    for (int x = 0; x < titled.width; ++x) {
      const Bgr t = At(titled, x, y);
      if (t == At(plain, x, y)) continue;
      EXPECT_EQ(t, kInk) << x << "," << y;
      set.insert({x, y});
    }
  }
  return set;
}

// Whether `drawn` is `expected` moved by one offset (the title's origin,
// which the test does not assume), the offset being in the panel's top
// quarter.
void ExpectSameShape(const Pixels& drawn, const Pixels& expected,
                     int panel_height) {
  ASSERT_FALSE(drawn.empty());
  ASSERT_FALSE(expected.empty());
  int dx0 = std::numeric_limits<int>::max();
  int dy0 = dx0;
  int ex0 = dx0;
  int ey0 = dx0;
  for (const auto& [x, y] : drawn) {
    dx0 = std::min(dx0, x);
    dy0 = std::min(dy0, y);
  }
  for (const auto& [x, y] : expected) {
    ex0 = std::min(ex0, x);
    ey0 = std::min(ey0, y);
  }
  EXPECT_EQ(drawn, Shifted(expected, dx0 - ex0, dy0 - ey0));
  EXPECT_LT(dy0 - ey0, panel_height / 4) << "the title is on top";
}

TEST(Panel, TitleIsUnifontAtTheTilesScale) {
  SKIP_WITHOUT_UNIFONT();
  // Labels and title are 1:1 below 768-pixel tiles and doubled from there.
  for (const auto& [w, scale] : {std::pair{200, 1}, std::pair{800, 2}}) {
    SCOPED_TRACE(w);
    const core::Image in = Filled(w, 20, 1, 200.0f, Depth::kU8);
    const core::Image titled =
        Panel(in, in, in, ZeroHeat(w, 20), 0.0, 0.0, "A");
    const core::Image plain = Panel(in, in, in, ZeroHeat(w, 20), 0.0, 0.0, "");
    ExpectSameShape(TitlePixels(titled, plain),
                    ExpectedText({{U'A', 0}}, scale), titled.height);
  }
}

TEST(Panel, NonAsciiTitleDrawsEveryCodePoint) {
  SKIP_WITHOUT_UNIFONT();
  const core::Image in = Filled(200, 20, 1, 200.0f, Depth::kU8);
  // A wide character, a combining accent and an invalid byte as well.
  const core::Image titled = Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0,
                                   "Stra\u00DFe e\u0301 \u6771\u4EAC\xFF");
  const core::Image plain = Panel(in, in, in, ZeroHeat(200, 20), 0.0, 0.0, "");
  ExpectSameShape(TitlePixels(titled, plain),
                  ExpectedText({{U'S', 0},
                                {U't', 8},
                                {U'r', 16},
                                {U'a', 24},
                                {U'\u00DF', 32},
                                {U'e', 40},
                                {U' ', 48},
                                {U'e', 56},
                                {U'\u0301', 56},
                                {U' ', 64},
                                {U'\u6771', 72},
                                {U'\u4EAC', 88},
                                {U'\uFFFD', 104}},
                               1),
                  titled.height);
}

// ----------------------------------------------------------------- Thumbnail

TEST(Thumbnail, LongSideShrunkToTheLimitAspectKept) {
  const core::Image in = Filled(320, 200, 3, 10.0f, Depth::kU8);
  const core::Image t = Thumbnail(in, 160);
  EXPECT_EQ(t.width, 160);
  EXPECT_EQ(t.height, 100);
  EXPECT_EQ(t.depth, Depth::kU8);
  EXPECT_EQ(Count(t, 10, 10, 10), 160 * 100);
  const core::Image tall = Thumbnail(Filled(30, 900, 1, 0.0f, Depth::kU8), 160);
  EXPECT_EQ(tall.width, 5);
  EXPECT_EQ(tall.height, 160);
}

TEST(Thumbnail, SmallImagesAreNotEnlarged) {
  const core::Image t = Thumbnail(Filled(64, 48, 1, 7.0f, Depth::kU8), 160);
  EXPECT_EQ(t.width, 64);
  EXPECT_EQ(t.height, 48);
  EXPECT_EQ(Count(t, 7, 7, 7), 64 * 48);  // gray becomes BGR
}

TEST(Thumbnail, AreaAverageAndSixteenBitScaled) {
  // Columns alternate 0 and 65535: halved, each pixel is their mean.
  std::vector<float> stripes(400 * 4);
  for (size_t i = 0; i < stripes.size(); ++i) {
    stripes[i] = i % 2 == 0 ? 0.0f : 65535.0f;
  }
  const core::Image t = Thumbnail(Make(400, 4, {stripes}, Depth::kU16), 200);
  ASSERT_EQ(t.width, 200);
  ASSERT_EQ(t.height, 2);
  EXPECT_EQ(Count(t, 128, 128, 128), 200 * 2);  // 127.5 rounded half up
}

// The planar image of interleaved samples (gray, gray+alpha, B,G,R or
// B,G,R,A), as io::ToImage makes it: what Thumbnail takes.
template <typename T>
core::Image ImageOf(const std::vector<T>& samples, int w, int h, int channels,
                    Depth depth) {
  const bool alpha = channels == 2 || channels == 4;
  const int colour = channels - (alpha ? 1 : 0);
  core::Image img;
  img.width = w;
  img.height = h;
  img.depth = depth;
  img.color.assign(colour, core::Plane(w, h));
  if (alpha) img.alpha = core::Plane(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const T* p = &samples[(static_cast<size_t>(y) * w + x) * channels];
      for (int c = 0; c < colour; ++c) img.color[c].at(y, x) = p[c];
      if (alpha) img.alpha->at(y, x) = p[channels - 1];
    }
  }
  return img;
}

// Rows as a decoder gives them, in bands of every height, against the
// image held whole: the same pixels for 8- and 16-bit samples, gray and
// colour, with and without alpha (over the checkerboard), shrunk along
// one side, both or neither.
TEST(ThumbnailRows, SamePixelsAsTheImageHeldWhole) {
  std::mt19937 rng(7);
  const std::pair<int, int> sizes[] = {{320, 200}, {1000, 3}, {3, 1000},
                                       {161, 160}, {157, 9},  {64, 48},
                                       {480, 321}, {1, 1}};
  for (const auto& [w, h] : sizes) {
    for (int channels = 1; channels <= 4; ++channels) {
      for (const Depth depth : {Depth::kU8, Depth::kU16}) {
        SCOPED_TRACE(::testing::Message()
                     << w << "x" << h << "x" << channels
                     << (depth == Depth::kU8 ? " u8" : " u16"));
        const int max = depth == Depth::kU8 ? 255 : 65535;
        const size_t n = static_cast<size_t>(w) * h * channels;
        std::vector<uint16_t> samples(n);
        // Smooth ramps with noise, and some fully transparent and opaque
        // alpha.
        for (size_t i = 0; i < n; ++i) {
          const int v = static_cast<int>((i * 37 + rng() % 64) % (max + 1));
          samples[i] =
              static_cast<uint16_t>(rng() % 8 == 0 ? (rng() % 2) * max : v);
        }
        const core::Image img = ImageOf(samples, w, h, channels, depth);
        const core::Image want = Thumbnail(img, 160);

        // The rows in the decoder's layout, in bands of 1 to 40 rows.
        const size_t sample = depth == Depth::kU8 ? 1 : 2;
        const size_t row_bytes = static_cast<size_t>(w) * channels * sample;
        std::vector<std::byte> rows(row_bytes * h);
        for (size_t i = 0; i < n; ++i) {
          if (sample == 1) {
            rows[i] = static_cast<std::byte>(samples[i]);
          } else {
            std::memcpy(&rows[2 * i], &samples[i], 2);
          }
        }
        ThumbnailRows thumb(w, h, channels, depth, 160);
        for (int y = 0; y < h;) {
          const int band = std::min(h - y, 1 + static_cast<int>(rng() % 40));
          thumb.Add(rows.data() + row_bytes * y,
                    static_cast<std::ptrdiff_t>(row_bytes), band);
          y += band;
        }
        const core::Image got = thumb.Finish();
        ASSERT_EQ(got.width, want.width);
        ASSERT_EQ(got.height, want.height);
        ASSERT_EQ(got.color.size(), 3u);
        for (int c = 0; c < 3; ++c) {
          EXPECT_EQ(got.color[c].data, want.color[c].data) << "channel " << c;
        }
      }
    }
  }
}

// Float rows: their range from a first pass over the rows, then the same
// pixels as the image held whole (negative, tiny, NaN and infinite
// samples; alpha in [0, 1]; a constant image shown mid-grey).
TEST(ThumbnailRows, FloatRowsStretchTheirRangeAsTheWholeImage) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> u(-3.0f, 5.0f);
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{
           {320, 200}, {157, 9}, {64, 48}, {3, 1000}}) {
    for (int channels = 1; channels <= 4; ++channels) {
      for (const bool constant : {false, true}) {
        SCOPED_TRACE(::testing::Message() << w << "x" << h << "x" << channels
                                          << (constant ? " constant" : ""));
        const bool alpha = channels == 2 || channels == 4;
        const size_t n = static_cast<size_t>(w) * h * channels;
        std::vector<float> samples(n);
        for (size_t i = 0; i < n; ++i) {
          const bool is_alpha =
              alpha && i % channels == static_cast<size_t>(channels - 1);
          float v = constant ? 0.25f : u(rng);
          if (is_alpha) {
            v = static_cast<float>(rng() % 5) / 4.0f;
          } else if (!constant && rng() % 50 == 0) {
            const float odd[] = {std::numeric_limits<float>::quiet_NaN(),
                                 std::numeric_limits<float>::infinity(),
                                 -std::numeric_limits<float>::infinity(),
                                 1e-30f};
            v = odd[rng() % 4];
          }
          samples[i] = v;
        }
        const core::Image img = ImageOf(samples, w, h, channels, Depth::kF32);
        const core::Image want = Thumbnail(img, 160);

        const auto* bytes = reinterpret_cast<const std::byte*>(samples.data());
        const auto stride =
            static_cast<std::ptrdiff_t>(sizeof(float) * w * channels);
        core::Range range;
        bool first = true;
        for (int y = 0; y < h; y += 7) {
          ColorRangeOfRows(bytes + y * stride, stride, std::min(7, h - y), w,
                           channels, range, first);
        }
        const core::Range whole = core::ColorRange(img);
        EXPECT_EQ(range.lo, whole.lo);
        EXPECT_EQ(range.hi, whole.hi);
        ThumbnailRows thumb(w, h, channels, Depth::kF32, 160, range);
        for (int y = 0; y < h; y += 5) {
          thumb.Add(bytes + y * stride, stride, std::min(5, h - y));
        }
        const core::Image got = thumb.Finish();
        ASSERT_EQ(got.width, want.width);
        ASSERT_EQ(got.height, want.height);
        for (int c = 0; c < 3; ++c) {
          EXPECT_EQ(got.color[c].data, want.color[c].data) << "channel " << c;
        }
      }
    }
  }
}

}  // namespace
}  // namespace convcorr::diff
