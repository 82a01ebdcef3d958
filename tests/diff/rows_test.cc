// The row functions of diff/rows.h on every SIMD target compiled in that
// this CPU runs (DiffSimdTest, Highway's per-target tests, as SimdTest in
// tests/core), each against its scalar twin, and the whole-image functions
// against the scalar code they replaced, kept here as the oracle
// (namespace oracle: ComputeStats, SignedDiff, RawDiff, DivergingColor,
// HeatMap and ChooseRange as they were before rows.h).
#include "diff/rows.h"

#include <gtest/gtest.h>
#include <hwy/targets.h>
#include <hwy/tests/hwy_gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "diff/diff.h"

// Outside namespace convcorr: Highway's instantiation macro names
// ::testing unqualified.
class DiffSimdTest : public hwy::TestWithParamTarget {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(DiffSimdTest);

namespace convcorr::diff {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

// ------------------------------------------------------------------ oracle

namespace oracle {

DiffStats ComputeStats(const core::Image& convolved,
                       const core::Image& correlated, double threshold,
                       double peak) {
  DiffStats s;
  s.threshold = threshold;
  s.peak = peak;
  const int channels = static_cast<int>(convolved.color.size());
  double sum_abs = 0;
  double sum_sq = 0;
  uint64_t above = 0;
  bool have_max = false;
  for (int y = 0; y < convolved.height; ++y) {
    for (int x = 0; x < convolved.width; ++x) {
      for (int c = 0; c < channels; ++c) {
        const double d = static_cast<double>(convolved.color[c].at(y, x)) -
                         correlated.color[c].at(y, x);
        const double a = std::fabs(d);
        // sum += t as the compiled loop ran it (GCC 12 -O3: addsd with the
        // sum as the first operand, which x86 returns when both are NaN).
        sum_abs = std::isnan(sum_abs) ? sum_abs : sum_abs + a;
        sum_sq = std::isnan(sum_sq) ? sum_sq : sum_sq + d * d;
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
  const double mse =
      s.samples > 0 ? sum_sq / static_cast<double>(s.samples) : 0;
  // Identical results have an infinite PSNR; a NaN difference (from a
  // NaN in a float input) makes it NaN, as it makes the mean and rms.
  s.psnr = mse > 0    ? 10.0 * std::log10(peak * peak / mse)
           : mse == 0 ? std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::quiet_NaN();
  return s;
}

core::Plane SignedDiff(const core::Image& convolved,
                       const core::Image& correlated) {
  core::Plane out(convolved.width, convolved.height);
  for (size_t c = 0; c < convolved.color.size(); ++c) {
    const auto& a = convolved.color[c].data;
    const auto& b = correlated.color[c].data;
    for (size_t i = 0; i < out.data.size(); ++i) {
      const float d = a[i] - b[i];
      if (c == 0 || std::fabs(d) > std::fabs(out.data[i])) out.data[i] = d;
    }
  }
  return out;
}

core::Image RawDiff(const core::Image& convolved,
                    const core::Image& correlated) {
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

struct Stop {
  double t;
  double r, g, b;
};
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

// ChooseRange as it was. With NaN in d its percentile was std::nth_element's
// pick among unordered values; the tests give it NaN-free planes only.
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
  const double rank = std::ceil(choice.value / 100.0 * mags.size());
  const size_t k =
      static_cast<size_t>(std::clamp(rank, 1.0, double(mags.size()))) - 1;
  std::nth_element(mags.begin(), mags.begin() + static_cast<ptrdiff_t>(k),
                   mags.end());
  return mags[k];
}

}  // namespace oracle

// ----------------------------------------------------------------- helpers

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
uint32_t Bits(float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}
float FromBits(uint32_t b) {
  float v;
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// Equal bit for bit (so NaN equals the same NaN, and 0 is not -0).
::testing::AssertionResult Same(double a, double b) {
  if (Bits(a) == Bits(b)) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << std::hexfloat << a << " != " << b << std::defaultfloat;
}

::testing::AssertionResult SameStats(const DiffStats& a, const DiffStats& b) {
  std::string bad;
  const auto field = [&](const char* name, double x, double y) {
    if (Bits(x) != Bits(y)) {
      bad += std::string(" ") + name + " " + std::to_string(x) + " vs " +
             std::to_string(y);
    }
  };
  field("max_abs", a.max_abs, b.max_abs);
  field("mean_abs", a.mean_abs, b.mean_abs);
  field("rms", a.rms, b.rms);
  field("peak", a.peak, b.peak);
  field("psnr", a.psnr, b.psnr);
  field("threshold", a.threshold, b.threshold);
  field("share_above", a.share_above, b.share_above);
  if (a.samples != b.samples) bad += " samples";
  if (a.max_x != b.max_x || a.max_y != b.max_y ||
      a.max_channel != b.max_channel) {
    bad += " max at (" + std::to_string(a.max_x) + "," +
           std::to_string(a.max_y) + "," + std::to_string(a.max_channel) +
           ") vs (" + std::to_string(b.max_x) + "," + std::to_string(b.max_y) +
           "," + std::to_string(b.max_channel) + ")";
  }
  if (a.identical != b.identical) bad += " identical";
  if (bad.empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << bad;
}

core::Image Blank(int w, int h, int channels) {
  core::Image img;
  img.width = w;
  img.height = h;
  img.depth = core::Depth::kF32;
  img.color.assign(static_cast<size_t>(channels), core::Plane(w, h));
  return img;
}

// What the samples of a random pair look like.
struct Mix {
  double zero = 0.2;     // d exactly 0
  double special = 0.0;  // NaN, infinities, huge, denormals
  double tie = 0.05;     // one of a few repeated magnitudes
  double scale = 1.0;    // typical |d|
};

// conv and corr of w x h x channels: corr in [0, 255], conv = corr + d.
std::pair<core::Image, core::Image> RandomPair(int w, int h, int channels,
                                               const Mix& mix,
                                               std::mt19937& rng) {
  core::Image conv = Blank(w, h, channels);
  core::Image corr = Blank(w, h, channels);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const float specials[] = {kNaN,   -kNaN,  kInf,    -kInf,  3e38f,
                            -3e38f, 1e-40f, -1e-45f, 1e-30f, 65504.0f};
  const float ties[] = {0.5f, 1.0f, 2.0f, 0.125f};
  for (int c = 0; c < channels; ++c) {
    for (size_t i = 0; i < conv.color[c].data.size(); ++i) {
      const float base = static_cast<float>(u(rng) * 255.0);
      float a = base;
      float b = base;
      const double r = u(rng);
      if (r < mix.zero) {
        // d = 0, sometimes as -0 - +0.
        if (u(rng) < 0.1) {
          a = -0.0f;
          b = 0.0f;
        }
      } else if (r < mix.zero + mix.special) {
        a = specials[rng() % std::size(specials)];
        if (u(rng) < 0.3) b = specials[rng() % std::size(specials)];
      } else if (r < mix.zero + mix.special + mix.tie) {
        b = 0.0f;
        a = (u(rng) < 0.5 ? -1.0f : 1.0f) * ties[rng() % std::size(ties)];
      } else {
        const double d =
            (u(rng) - 0.5) * 2.0 * mix.scale * std::pow(10.0, -3.0 * u(rng));
        a = static_cast<float>(base + d);
      }
      conv.color[c].data[i] = a;
      corr.color[c].data[i] = b;
    }
  }
  return {std::move(conv), std::move(corr)};
}

std::vector<const float*> RowsOf(const core::Image& img, int y) {
  std::vector<const float*> rows;
  for (const core::Plane& p : img.color) {
    rows.push_back(p.data.data() + static_cast<size_t>(y) * img.width);
  }
  return rows;
}

DiffStats Accumulate(const core::Image& conv, const core::Image& corr,
                     double threshold, double peak, RowCode code) {
  DiffAccumulator acc(conv.width, static_cast<int>(conv.color.size()),
                      threshold, code);
  for (int y = 0; y < conv.height; ++y) {
    acc.AddRow(RowsOf(conv, y).data(), RowsOf(corr, y).data());
  }
  return acc.Finish(peak);
}

// Widths around every vector length (4 to 16 floats, 2 to 8 doubles, 16 to
// 64 bytes) and a long row.
const std::vector<int> kWidths = {1,  2,  3,  4,  5,  7,  8,  9,   15,  16,
                                  17, 31, 32, 33, 63, 64, 65, 100, 257, 600};

// ---------------------------------------------------------------- dispatch

TEST_P(DiffSimdTest, DispatchRunsTheTargetUnderTest) {
  EXPECT_EQ(std::string(DiffSimdTargetName()), hwy::TargetName(GetParam()));
}

// ------------------------------------------------------------ DiffAccumulator

TEST_P(DiffSimdTest, StatsMatchTheScalarTwinAndTheOldComputeStats) {
  std::mt19937 rng(17);
  const Mix mixes[] = {{0.2, 0.0, 0.05, 1.0},
                       {0.5, 0.02, 0.2, 100.0},
                       {0.0, 0.0, 0.0, 1e-6},
                       {0.9, 0.0, 0.0, 1.0}};
  for (const Mix& mix : mixes) {
    for (int channels = 1; channels <= 4; ++channels) {
      for (int w : kWidths) {
        const int h = 1 + static_cast<int>(rng() % 5);
        const auto [conv, corr] = RandomPair(w, h, channels, mix, rng);
        for (double threshold : {0.0, 0.5, 1.0, -1.0, 1e-4}) {
          const DiffStats want =
              oracle::ComputeStats(conv, corr, threshold, 255.0);
          const DiffStats simd =
              Accumulate(conv, corr, threshold, 255.0, RowCode::kSimd);
          const DiffStats twin =
              Accumulate(conv, corr, threshold, 255.0, RowCode::kScalar);
          EXPECT_TRUE(SameStats(simd, want))
              << w << "x" << h << "x" << channels << " t " << threshold;
          EXPECT_TRUE(SameStats(twin, want))
              << w << "x" << h << "x" << channels << " t " << threshold;
          EXPECT_TRUE(
              SameStats(ComputeStats(conv, corr, threshold, 255.0), want));
        }
      }
    }
  }
}

TEST_P(DiffSimdTest, StatsOfAFourKFrameAreTheOldOnesBitForBit) {
  // A frame of small differences, the sums long sequential chains: the
  // printed mean and rms depend on their exact rounding.
  std::mt19937 rng(4);
  const auto [conv, corr] = RandomPair(3840, 24, 3, {0.1, 0.0, 0.01, 0.5}, rng);
  EXPECT_TRUE(SameStats(ComputeStats(conv, corr, 0.25, 255.0),
                        oracle::ComputeStats(conv, corr, 0.25, 255.0)));
}

// Sums through many binades, of terms coarse beside the running sum (so
// that many additions round, half of them as ties), with jumps across
// binades inside a row, over many rows; every channel count.
TEST_P(DiffSimdTest, StatsSumsThroughTiesAndBinades) {
  std::mt19937 rng(21);
  for (int trial = 0; trial < 60; ++trial) {
    const int channels = 1 + trial % 4;
    const int w = kWidths[rng() % kWidths.size()];
    const int h = 20 + static_cast<int>(rng() % 60);
    core::Image conv = Blank(w, h, channels);
    core::Image corr = Blank(w, h, channels);
    // Magnitudes 2^lo .. 2^hi with few significant bits.
    const int lo = -30 + static_cast<int>(rng() % 40);
    const int hi = lo + static_cast<int>(rng() % 12);
    const int bits = 1 + static_cast<int>(rng() % 6);
    for (int c = 0; c < channels; ++c) {
      for (float& v : conv.color[c].data) {
        const int e = lo + static_cast<int>(rng() % (hi - lo + 1));
        const double k = static_cast<double>(rng() % (1u << bits));
        v = static_cast<float>(std::ldexp(k, e - bits));
        if (rng() % 2) v = -v;
        if (rng() % 500 == 0) v *= 0x1p40f;  // a jump across binades
      }
      for (float& v : corr.color[c].data) {
        v = rng() % 3 ? 0.0f : static_cast<float>(std::ldexp(1.0, lo));
      }
    }
    const DiffStats want = oracle::ComputeStats(conv, corr, 0.0, 1.0);
    for (RowCode code : {RowCode::kSimd, RowCode::kScalar}) {
      EXPECT_TRUE(SameStats(Accumulate(conv, corr, 0.0, 1.0, code), want))
          << "trial " << trial << ": " << w << "x" << h << "x" << channels;
    }
  }
}

TEST_P(DiffSimdTest, StatsSumsOfDenormalAndHugeTerms) {
  std::mt19937 rng(22);
  const float values[] = {1e-45f, 3e-39f,   1e-30f,   1.0f,
                          3e38f,  65504.0f, 0x1p-20f, 0x1.8p-20f};
  for (int trial = 0; trial < 20; ++trial) {
    const int channels = 1 + trial % 4;
    core::Image conv = Blank(33, 30, channels);
    core::Image corr = Blank(33, 30, channels);
    for (int c = 0; c < channels; ++c) {
      for (float& v : conv.color[c].data) {
        v = rng() % 4 ? values[rng() % 3] : values[rng() % std::size(values)];
      }
    }
    const DiffStats want = oracle::ComputeStats(conv, corr, 0.0, 1.0);
    EXPECT_TRUE(
        SameStats(Accumulate(conv, corr, 0.0, 1.0, RowCode::kSimd), want))
        << trial;
  }
}

TEST_P(DiffSimdTest, StatsWithNaNAndInfinity) {
  // NaN first: it is the maximum and stays (nothing is greater).
  core::Image conv = Blank(9, 2, 3);
  core::Image corr = Blank(9, 2, 3);
  conv.color[0].data[0] = kNaN;
  conv.color[2].data[5] = 7.0f;
  for (RowCode code : {RowCode::kSimd, RowCode::kScalar}) {
    const DiffStats s = Accumulate(conv, corr, 0.0, 1.0, code);
    EXPECT_TRUE(SameStats(s, oracle::ComputeStats(conv, corr, 0.0, 1.0)));
    EXPECT_TRUE(std::isnan(s.max_abs));
    EXPECT_EQ(s.max_x, 0);
    EXPECT_FALSE(s.identical);
  }
  // NaN later is passed over; infinity is the maximum; inf - inf is NaN.
  conv.color[0].data[0] = 0.0f;
  conv.color[1].data[3] = kNaN;
  conv.color[1].data[12] = kInf;
  corr.color[0].data[14] = kInf;
  conv.color[0].data[14] = kInf;
  for (RowCode code : {RowCode::kSimd, RowCode::kScalar}) {
    const DiffStats s = Accumulate(conv, corr, 0.0, 1.0, code);
    EXPECT_TRUE(SameStats(s, oracle::ComputeStats(conv, corr, 0.0, 1.0)));
    EXPECT_EQ(s.max_abs, std::numeric_limits<double>::infinity());
    EXPECT_EQ(s.max_x, 3);
    EXPECT_EQ(s.max_y, 1);
    EXPECT_EQ(s.max_channel, 1);
  }
}

TEST_P(DiffSimdTest, StatsFirstMaximumOnTies) {
  // The same largest |d| in several places: the first in (y, x, channel)
  // order wins, whichever lane or channel plane it is in.
  for (int w : kWidths) {
    for (int channels = 1; channels <= 4; ++channels) {
      core::Image conv = Blank(w, 3, channels);
      core::Image corr = Blank(w, 3, channels);
      std::mt19937 rng(static_cast<uint32_t>(w * 8 + channels));
      for (int k = 0; k < 4; ++k) {
        const int c = static_cast<int>(rng() % channels);
        const size_t i = rng() % conv.color[c].data.size();
        conv.color[c].data[i] = (k % 2 ? 5.0f : -5.0f);
      }
      // A smaller maximum in row 0 first, so the tie row raises it.
      conv.color[channels - 1].data[static_cast<size_t>(w - 1)] = 1.0f;
      const DiffStats want = oracle::ComputeStats(conv, corr, 0.0, 1.0);
      for (RowCode code : {RowCode::kSimd, RowCode::kScalar}) {
        EXPECT_TRUE(SameStats(Accumulate(conv, corr, 0.0, 1.0, code), want))
            << w << " x " << channels;
      }
    }
  }
}

TEST_P(DiffSimdTest, StatsThresholdEdges) {
  // |d| exactly at the threshold does not count; just above does.
  core::Image conv = Blank(19, 1, 2);
  core::Image corr = Blank(19, 1, 2);
  for (int x = 0; x < 19; ++x) {
    conv.color[0].data[x] = 0.5f;
    conv.color[1].data[x] = std::nextafter(0.5f, 1.0f) * (x % 2 ? 1 : -1);
  }
  for (double threshold : {0.5, std::nextafter(0.5, 1.0), 0.0, -0.0, -1.0,
                           1e300, std::numeric_limits<double>::infinity(),
                           -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()}) {
    const DiffStats want = oracle::ComputeStats(conv, corr, threshold, 1.0);
    for (RowCode code : {RowCode::kSimd, RowCode::kScalar}) {
      EXPECT_TRUE(SameStats(Accumulate(conv, corr, threshold, 1.0, code), want))
          << threshold;
    }
  }
  EXPECT_EQ(Accumulate(conv, corr, 0.5, 1.0, RowCode::kSimd).share_above, 0.5);
}

TEST_P(DiffSimdTest, StatsOfIdenticalAndEmptyImages) {
  for (int w : {0, 1, 17}) {
    for (int h : {0, 1, 3}) {
      const core::Image a = Blank(w, h, 3);
      for (RowCode code : {RowCode::kSimd, RowCode::kScalar}) {
        EXPECT_TRUE(SameStats(Accumulate(a, a, 0.0, 255.0, code),
                              oracle::ComputeStats(a, a, 0.0, 255.0)));
      }
    }
  }
}

// ------------------------------------------------------ SignedDiff, RawDiff

TEST_P(DiffSimdTest, SignedDiffRowMatchesTheScalarTwinBitForBit) {
  std::mt19937 rng(5);
  for (int channels = 1; channels <= 4; ++channels) {
    for (int w : kWidths) {
      const auto [conv, corr] =
          RandomPair(w, 2, channels, {0.3, 0.05, 0.3, 1.0}, rng);
      const core::Plane want = oracle::SignedDiff(conv, corr);
      const core::Plane got = SignedDiff(conv, corr);
      for (int y = 0; y < 2; ++y) {
        std::vector<float> simd(w), twin(w);
        SignedDiffRow(RowsOf(conv, y).data(), RowsOf(corr, y).data(), channels,
                      w, simd.data(), RowCode::kSimd);
        SignedDiffRow(RowsOf(conv, y).data(), RowsOf(corr, y).data(), channels,
                      w, twin.data(), RowCode::kScalar);
        for (int x = 0; x < w; ++x) {
          const size_t i = static_cast<size_t>(y) * w + x;
          ASSERT_EQ(Bits(simd[x]), Bits(want.data[i]))
              << w << " x " << channels << " at " << x;
          ASSERT_EQ(Bits(twin[x]), Bits(want.data[i]));
          ASSERT_EQ(Bits(got.data[i]), Bits(want.data[i]));
        }
      }
    }
  }
}

TEST_P(DiffSimdTest, RawDiffRowMatchesTheScalarTwinBitForBit) {
  std::mt19937 rng(6);
  for (int channels = 1; channels <= 4; ++channels) {
    for (int w : kWidths) {
      const auto [conv, corr] =
          RandomPair(w, 2, channels, {0.3, 0.05, 0.1, 10.0}, rng);
      const core::Image want = oracle::RawDiff(conv, corr);
      const core::Image got = RawDiff(conv, corr);
      ASSERT_EQ(got.color.size(), want.color.size());
      EXPECT_EQ(got.depth, core::Depth::kF32);
      for (int y = 0; y < 2; ++y) {
        std::vector<std::vector<float>> simd(channels, std::vector<float>(w));
        std::vector<std::vector<float>> twin = simd;
        std::vector<float*> ps, pt;
        for (int c = 0; c < channels; ++c) {
          ps.push_back(simd[c].data());
          pt.push_back(twin[c].data());
        }
        RawDiffRow(RowsOf(conv, y).data(), RowsOf(corr, y).data(), channels, w,
                   ps.data(), RowCode::kSimd);
        RawDiffRow(RowsOf(conv, y).data(), RowsOf(corr, y).data(), channels, w,
                   pt.data(), RowCode::kScalar);
        for (int c = 0; c < channels; ++c) {
          for (int x = 0; x < w; ++x) {
            const size_t i = static_cast<size_t>(y) * w + x;
            ASSERT_EQ(Bits(simd[c][x]), Bits(want.color[c].data[i]));
            ASSERT_EQ(Bits(twin[c][x]), Bits(want.color[c].data[i]));
            ASSERT_EQ(Bits(got.color[c].data[i]), Bits(want.color[c].data[i]));
          }
        }
      }
    }
  }
}

// ----------------------------------------------------------------- HeatMap

// HeatMapRow (SIMD and scalar twin) against the old DivergingColor for
// every value of `d`, as one row and in pieces of every width.
void CheckHeatValues(const std::vector<float>& d, double range) {
  const int n = static_cast<int>(d.size());
  std::vector<uint8_t> simd(3 * d.size()), twin(3 * d.size());
  HeatMapRow(d.data(), n, range, simd.data(), RowCode::kSimd);
  HeatMapRow(d.data(), n, range, twin.data(), RowCode::kScalar);
  for (int x = 0; x < n; ++x) {
    const Bgr want = oracle::DivergingColor(range > 0 ? d[x] / range : 0.0);
    const Bgr got{simd[3 * x], simd[3 * x + 1], simd[3 * x + 2]};
    const Bgr got_twin{twin[3 * x], twin[3 * x + 1], twin[3 * x + 2]};
    ASSERT_EQ(got, want) << std::hexfloat << "d " << d[x] << " range " << range
                         << " t " << d[x] / range;
    ASSERT_EQ(got_twin, want);
  }
}

TEST_P(DiffSimdTest, HeatMapRowOnADenseGridOfTies) {
  // For a power-of-two range, d = range * j / 2^14 makes t = j / 2^14
  // exactly; lo + f (hi - lo) then hits many halves k + 1/2 exactly, where
  // lround (away from zero) and round-half-even differ. Count them.
  int ties = 0;
  for (double range : {1.0, 0.5, 4.0, 1024.0, 0x1p-20}) {
    std::vector<float> d;
    for (int j = -(1 << 14) - 64; j <= (1 << 14) + 64; ++j) {
      d.push_back(static_cast<float>(range * j / 16384.0));
      const double a = std::fabs(j / 16384.0);
      if (a > 1) continue;
      const oracle::Stop* stops =
          j >= 0 ? oracle::kPositive : oracle::kNegative;
      int i = 0;
      while (i < 3 && a > stops[i + 1].t) ++i;
      const double f = (a - stops[i].t) / 0.25;
      for (double oracle::Stop::*m :
           {&oracle::Stop::b, &oracle::Stop::g, &oracle::Stop::r}) {
        const double v = stops[i].*m + f * (stops[i + 1].*m - stops[i].*m);
        if (v - std::floor(v) == 0.5) ++ties;
      }
    }
    CheckHeatValues(d, range);
  }
  EXPECT_GT(ties, 100);
}

TEST_P(DiffSimdTest, HeatMapRowAtTheStopsAndEveryHalfStep) {
  // t at the stop positions and a few ulps either side, and at every t
  // where a channel's value lo + f (hi - lo) is a half k + 1/2, and its
  // float neighbours, for several ranges (not powers of two too).
  std::vector<float> d;
  const double ranges[] = {1.0, 3.0, 0.1, 255.0, 7.25, 1e-3, 65535.0};
  for (double range : ranges) {
    d.clear();
    const auto around = [&](double t) {
      float v = static_cast<float>(t * range);
      for (int k = 0; k < 4; ++k) v = std::nextafter(v, -kInf);
      for (int k = 0; k < 9; ++k) {
        d.push_back(v);
        d.push_back(-v);
        v = std::nextafter(v, kInf);
      }
    };
    for (double t : {0.0, 0.25, 0.5, 0.75, 1.0}) around(t);
    for (const oracle::Stop* stops : {oracle::kPositive, oracle::kNegative}) {
      for (int i = 0; i < 4; ++i) {
        for (double oracle::Stop::*m :
             {&oracle::Stop::b, &oracle::Stop::g, &oracle::Stop::r}) {
          const double lo = stops[i].*m;
          const double hi = stops[i + 1].*m;
          if (lo == hi) continue;
          for (double k = std::min(lo, hi); k < std::max(lo, hi); k += 1) {
            const double f = (k + 0.5 - lo) / (hi - lo);
            around(stops[i].t + f * 0.25);
          }
        }
      }
    }
    CheckHeatValues(d, range);
  }
}

TEST_P(DiffSimdTest, HeatMapRowOverASweepOfFloats) {
  // Every 251st float from 0 to past 1 (and the negatives), for range 1,
  // and random values for random ranges.
  std::vector<float> d;
  for (uint32_t b = 0; b <= Bits(1.25f); b += 251) {
    d.push_back(FromBits(b));
    d.push_back(-FromBits(b));
  }
  CheckHeatValues(d, 1.0);
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  for (int k = 0; k < 20; ++k) {
    const double range = std::exp(u(rng) * 10.0);
    d.assign(4099, 0.0f);
    for (float& v : d) v = static_cast<float>(u(rng) * range);
    CheckHeatValues(d, range);
  }
}

TEST_P(DiffSimdTest, HeatMapRowSpecialValuesAndRanges) {
  const std::vector<float> specials = {0.0f,   -0.0f, kNaN,   -kNaN,  kInf,
                                       -kInf,  3e38f, -3e38f, 1e-45f, -1e-45f,
                                       1e-38f, 1.0f,  -1.0f,  2.0f};
  for (double range : {1.0, 0.0, -1.0, -0.0, 1e-300, 1e300, 4.9e-324,
                       std::numeric_limits<double>::infinity(),
                       std::numeric_limits<double>::quiet_NaN()}) {
    CheckHeatValues(specials, range);
  }
}

TEST_P(DiffSimdTest, HeatMapRowEveryWidth) {
  std::mt19937 rng(10);
  std::uniform_real_distribution<float> u(-2.0f, 2.0f);
  for (int w = 0; w < 700; w += (w < 70 ? 1 : 37)) {
    std::vector<float> d(static_cast<size_t>(w));
    for (float& v : d) v = u(rng);
    // Untouched bytes past the row stay as they were.
    std::vector<uint8_t> simd(3 * d.size() + 8, 7);
    HeatMapRow(d.data(), w, 1.5, simd.data(), RowCode::kSimd);
    for (size_t i = 3 * d.size(); i < simd.size(); ++i) ASSERT_EQ(simd[i], 7);
    CheckHeatValues(d, 1.5);
  }
}

TEST_P(DiffSimdTest, HeatMapIsTheOldHeatMap) {
  std::mt19937 rng(11);
  const auto [conv, corr] = RandomPair(97, 13, 3, {0.3, 0.02, 0.1, 3.0}, rng);
  const core::Plane d = SignedDiff(conv, corr);
  for (double range : {0.0, 0.7, 3.0}) {
    const core::Image got = HeatMap(d, range);
    const core::Image want = oracle::HeatMap(d, range);
    EXPECT_EQ(got.depth, want.depth);
    ASSERT_EQ(got.color.size(), 3u);
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(got.color[c].data, want.color[c].data) << c;
    }
  }
}

// ------------------------------------------------------------ RangeChooser

double Choose(const core::Plane& d, const DiffRange& choice, RowCode code) {
  RangeChooser chooser(choice, code);
  for (int y = 0; y < d.height; ++y) {
    chooser.AddRow(d.data.data() + static_cast<size_t>(y) * d.width, d.width);
  }
  if (chooser.NeedsSecondPass()) {
    for (int y = 0; y < d.height; ++y) {
      chooser.AddRowSecond(d.data.data() + static_cast<size_t>(y) * d.width,
                           d.width);
    }
  }
  return chooser.Result();
}

const std::vector<DiffRange> kChoices = {
    {DiffRange::Kind::kMax, 0},
    {DiffRange::Kind::kValue, 7.25},
    {DiffRange::Kind::kPercentile, 99.5},
    {DiffRange::Kind::kPercentile, 100},
    {DiffRange::Kind::kPercentile, 150},
    {DiffRange::Kind::kPercentile, 0.001},
    {DiffRange::Kind::kPercentile, 1},
    {DiffRange::Kind::kPercentile, 25},
    {DiffRange::Kind::kPercentile, 50},
    {DiffRange::Kind::kPercentile, 99},
    {DiffRange::Kind::kPercentile, 99.9},
    {DiffRange::Kind::kPercentile, 99.99},
    {DiffRange::Kind::kPercentile, 33.3333}};

void CheckChoices(const core::Plane& d, const std::string& what) {
  for (const DiffRange& choice : kChoices) {
    const double want = oracle::ChooseRange(d, choice);
    EXPECT_TRUE(Same(Choose(d, choice, RowCode::kSimd), want))
        << what << " " << DiffRangeName(choice);
    EXPECT_TRUE(Same(Choose(d, choice, RowCode::kScalar), want))
        << what << " " << DiffRangeName(choice);
    EXPECT_TRUE(Same(ChooseRange(d, choice), want))
        << what << " " << DiffRangeName(choice);
  }
}

TEST_P(DiffSimdTest, RangeOfAZeroPlaneAndOfASingleValue) {
  for (int w : kWidths) {
    core::Plane d(w, 3);
    CheckChoices(d, "zeros");
    d.data[d.data.size() / 2] = -0.0f;
    CheckChoices(d, "-0");
    d.data[d.data.size() - 1] = -3.5f;
    CheckChoices(d, "one value");
    d.data[0] = 1e-45f;
    CheckChoices(d, "two values");
  }
}

TEST_P(DiffSimdTest, RangeOverManyBucketsAndWithinOne) {
  std::mt19937 rng(12);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (int w : kWidths) {
    const int h = 1 + static_cast<int>(rng() % 9);
    core::Plane spread(w, h);   // magnitudes over 60 binades
    core::Plane one(w, h);      // all in one bucket: 1 + k ulps
    core::Plane dup(w, h);      // few distinct values, many repeats
    core::Plane zeroish(w, h);  // mostly zero
    for (size_t i = 0; i < spread.data.size(); ++i) {
      const float sign = u(rng) < 0.5 ? -1.0f : 1.0f;
      spread.data[i] =
          sign * static_cast<float>(std::pow(2.0, u(rng) * 60 - 30));
      one.data[i] =
          sign * FromBits(Bits(1.0f) + static_cast<uint32_t>(rng() % 65536));
      dup.data[i] = sign * static_cast<float>(rng() % 4);
      zeroish.data[i] = u(rng) < 0.9 ? 0.0f : sign * static_cast<float>(u(rng));
    }
    CheckChoices(spread, "spread " + std::to_string(w));
    CheckChoices(one, "one bucket " + std::to_string(w));
    CheckChoices(dup, "repeats " + std::to_string(w));
    CheckChoices(zeroish, "mostly zero " + std::to_string(w));
  }
}

TEST_P(DiffSimdTest, RangeWithInfinityDenormalsAndHugeValues) {
  core::Plane d(37, 2);
  const float values[] = {kInf, -kInf, 1e-45f, 1e-40f, 3e38f, -2.0f, 0.5f};
  for (size_t i = 0; i < d.data.size(); ++i) {
    d.data[i] = i % 3 == 0 ? 0.0f : values[i % std::size(values)];
  }
  CheckChoices(d, "specials");
}

TEST_P(DiffSimdTest, RangeLeavesNaNOut) {
  // NaN neither counts nor ranks: the result is that of the plane without
  // them (for kMax it always was).
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> u(-10.0f, 10.0f);
  core::Plane with(101, 7);
  for (float& v : with.data) v = u(rng);
  core::Plane without = with;
  for (size_t i = 0; i < with.data.size(); i += 9) {
    with.data[i] = i % 2 ? kNaN : -kNaN;
    without.data[i] = 0.0f;
  }
  for (const DiffRange& choice : kChoices) {
    const double want = oracle::ChooseRange(without, choice);
    EXPECT_TRUE(Same(Choose(with, choice, RowCode::kSimd), want));
    EXPECT_TRUE(Same(Choose(with, choice, RowCode::kScalar), want));
    EXPECT_TRUE(Same(ChooseRange(with, choice), want));
  }
  core::Plane all_nan(5, 1, kNaN);
  EXPECT_EQ(ChooseRange(all_nan, DiffRange{}), 0.0);
  EXPECT_EQ(ChooseRange(all_nan, {DiffRange::Kind::kMax, 0}), 0.0);
}

TEST_P(DiffSimdTest, RangeNeedsASecondPassOnlyInside) {
  core::Plane d(100, 1);
  for (int i = 0; i < 100; ++i) d.data[i] = static_cast<float>(i + 1);
  const auto needs = [&](const DiffRange& choice) {
    RangeChooser chooser(choice);
    chooser.AddRow(d.data.data(), d.width);
    return chooser.NeedsSecondPass();
  };
  EXPECT_TRUE(needs({DiffRange::Kind::kPercentile, 50}));
  EXPECT_FALSE(needs({DiffRange::Kind::kPercentile, 1}));     // the smallest
  EXPECT_FALSE(needs({DiffRange::Kind::kPercentile, 99.5}));  // the largest
  EXPECT_FALSE(needs({DiffRange::Kind::kPercentile, 100}));
  EXPECT_FALSE(needs({DiffRange::Kind::kMax, 0}));
  EXPECT_FALSE(needs({DiffRange::Kind::kValue, 3}));
}

TEST_P(DiffSimdTest, RangeOfASignedDifferenceIsTheOldOne) {
  std::mt19937 rng(14);
  const auto [conv, corr] = RandomPair(640, 48, 3, {0.2, 0.0, 0.05, 2.0}, rng);
  CheckChoices(SignedDiff(conv, corr), "signed diff");
}

}  // namespace
}  // namespace convcorr::diff
