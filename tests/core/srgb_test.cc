// Filtering in linear light (core/srgb.h, --linear): the sRGB curve
// against the values IEC 61966-2-1 gives, the table-driven encoder
// against the exact formula, every 8- and 16-bit level through the round
// trip, and filtered results against a reference written here in double
// precision (the curve's formula decoded, summed and encoded with no code
// of the engine's), within one level.
#include "core/srgb.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "core/filter.h"
#include "core/image.h"
#include "kernel/kernel.h"

namespace convcorr::core {
namespace {

// The standard's formulas, written again for the reference.
double Decode01(double e) {
  return e <= 0.04045 ? e / 12.92 : std::pow((e + 0.055) / 1.055, 2.4);
}
double Encode01(double l) {
  return l <= 0.0031308 ? 12.92 * l : 1.055 * std::pow(l, 1 / 2.4) - 0.055;
}

TEST(Srgb, CurveHasTheStandardsValues) {
  EXPECT_EQ(SrgbToLinear(0.0), 0.0);
  EXPECT_DOUBLE_EQ(SrgbToLinear(1.0), 1.0);
  EXPECT_DOUBLE_EQ(LinearToSrgb(1.0), 1.0);
  // Mid grey: encoded 0.5 is 21.4% of the light; half the light encodes
  // as 73.5%.
  EXPECT_NEAR(SrgbToLinear(0.5), 0.214041, 1e-6);
  EXPECT_NEAR(LinearToSrgb(0.5), 0.735357, 1e-6);
  // The linear segment and its end.
  EXPECT_DOUBLE_EQ(SrgbToLinear(0.04), 0.04 / 12.92);
  EXPECT_DOUBLE_EQ(LinearToSrgb(0.003), 12.92 * 0.003);
  EXPECT_NEAR(SrgbToLinear(0.04045), 0.0031308, 1e-7);
  // Odd extension below 0.
  EXPECT_DOUBLE_EQ(SrgbToLinear(-0.5), -SrgbToLinear(0.5));
  EXPECT_DOUBLE_EQ(LinearToSrgb(-0.25), -LinearToSrgb(0.25));
  for (double x = 0; x <= 1.0; x += 1.0 / 1024) {
    EXPECT_NEAR(LinearToSrgb(SrgbToLinear(x)), x, 1e-12);
  }
}

TEST(Srgb, TableEncoderIsWithinAMillionthOfTheCurve) {
  const float maxes[] = {255.0f, 65535.0f};
  for (const float max : maxes) {
    std::vector<float> row;
    for (int i = -100; i <= 300000; ++i) {
      row.push_back(max * static_cast<float>(i) / 250000.0f);
    }
    std::vector<float> got = row;
    RowToSrgb(got.data(), got.size(), max, 1, -1);
    for (size_t i = 0; i < row.size(); ++i) {
      const double l = double{row[i]} / max;
      const double want =
          max * (l < 0 ? -Encode01(-l) : Encode01(l));  // beyond 1 too
      ASSERT_NEAR(got[i], want, 1e-6 * max) << "linear " << l;
    }
  }
}

TEST(Srgb, EveryLevelComesBack) {
  for (const int max : {255, 65535}) {
    std::vector<float> v(max + 1);
    for (int i = 0; i <= max; ++i) v[i] = static_cast<float>(i);
    RowToLinear(v.data(), v.size(), static_cast<float>(max), 1, -1);
    for (int i = 0; i <= max; i += max == 255 ? 1 : 97) {
      ASSERT_NEAR(v[i], max * Decode01(double{1} * i / max), 1e-6 * max) << i;
    }
    RowToSrgb(v.data(), v.size(), static_cast<float>(max), 1, -1);
    for (int i = 0; i <= max; ++i) ASSERT_EQ(std::nearbyint(v[i]), i) << i;
  }
}

TEST(Srgb, AlphaLanesAreLeftAsTheyAre) {
  std::vector<float> v = {128, 128, 128, 128, 64, 64, 64, 64};
  RowToLinear(v.data(), v.size(), 255.0f, 4, 3);
  EXPECT_EQ(v[3], 128.0f);
  EXPECT_EQ(v[7], 64.0f);
  EXPECT_NEAR(v[0], 255 * Decode01(128.0 / 255), 1e-4);
  RowToSrgb(v.data(), v.size(), 255.0f, 4, 3);
  EXPECT_EQ(v[3], 128.0f);
  EXPECT_NEAR(v[0], 128.0f, 1e-3);
}

Image RandomImage(int w, int h, int colour, bool alpha, Depth depth,
                  std::mt19937& rng) {
  Image img;
  img.width = w;
  img.height = h;
  img.depth = depth;
  const uint32_t levels = depth == Depth::kU8 ? 256 : 65536;
  const auto plane = [&] {
    Plane p(w, h);
    for (float& v : p.data) v = static_cast<float>(rng() % levels);
    return p;
  };
  for (int c = 0; c < colour; ++c) img.color.push_back(plane());
  if (alpha) img.alpha = plane();
  return img;
}

// The reference: every colour sample decoded by the formula, correlated in
// double with a reflect-101 border (same size, kernel centred), encoded,
// rounded half to even and saturated.
std::vector<double> Reference(const Plane& p, const kernel::Kernel& k,
                              double max) {
  const auto reflect = [](int i, int n) {
    if (n == 1) return 0;
    while (i < 0 || i >= n) i = i < 0 ? -i : 2 * (n - 1) - i;
    return i;
  };
  std::vector<double> out;
  for (int y = 0; y < p.height; ++y) {
    for (int x = 0; x < p.width; ++x) {
      double sum = 0;
      for (int i = 0; i < k.rows(); ++i) {
        for (int j = 0; j < k.cols(); ++j) {
          const int yy = reflect(y + i - k.anchor_y(), p.height);
          const int xx = reflect(x + j - k.anchor_x(), p.width);
          sum += k.at(i, j) * Decode01(p.at(yy, xx) / max);
        }
      }
      const double e = sum < 0 ? 0 : Encode01(sum);
      out.push_back(std::clamp(std::nearbyint(max * e), 0.0, max));
    }
  }
  return out;
}

TEST(Srgb, LinearFilterAgreesWithTheReferenceWithinOneLevel) {
  std::mt19937 rng(61);
  const kernel::Kernel kernels[] = {
      kernel::Kernel(5, 5, std::vector<double>(25, 1.0 / 25)),
      kernel::Kernel(1, 2, {0.5, 0.5}, 0, 0),
      kernel::Kernel(3, 3, {0.5, 0.2, 0, 0.1, 0.1, 0, 0, 0.05, 0.05})};
  for (const Depth depth : {Depth::kU8, Depth::kU16}) {
    const double max = DepthMax(depth);
    for (const kernel::Kernel& k : kernels) {
      for (const bool simd : {true, false}) {
        const Image in = RandomImage(23, 17, 3, true, depth, rng);
        FilterParams params;
        params.linear = true;
        params.simd = simd;
        Image out = Filter(in, k, params);
        Quantize(out, depth);
        for (int c = 0; c < 3; ++c) {
          const std::vector<double> ref = Reference(in.color[c], k, max);
          for (size_t i = 0; i < ref.size(); ++i) {
            ASSERT_LE(std::abs(out.color[c].data[i] - ref[i]),
                      depth == Depth::kU8 ? 1.0 : 257.0)
                << "sample " << i << " channel " << c;
          }
        }
        // Alpha is carried, never through the curve.
        EXPECT_TRUE(out.alpha->data == in.alpha->data);
      }
    }
  }
}

// The fact --linear exists for: black and white averaged in linear light
// is half the light, encoded 188 (0.7354 x 255), not 128.
TEST(Srgb, HalfOfBlackAndWhiteIsEncoded188) {
  Image in;
  in.width = 2;
  in.height = 1;
  in.depth = Depth::kU8;
  Plane p(2, 1);
  p.at(0, 0) = 0;
  p.at(0, 1) = 255;
  in.color.push_back(p);
  const kernel::Kernel avg(1, 2, {0.5, 0.5}, 0, 0);
  FilterParams params;
  Image encoded = Filter(in, avg, params);
  Quantize(encoded, Depth::kU8);
  params.linear = true;
  Image linear = Filter(in, avg, params);
  Quantize(linear, Depth::kU8);
  EXPECT_EQ(encoded.color[0].at(0, 0), 128.0f);
  EXPECT_EQ(linear.color[0].at(0, 0), 188.0f);
}

TEST(Srgb, FloatImagesAreTakenAsLinear) {
  std::mt19937 rng(5);
  Image in = RandomImage(19, 11, 3, false, Depth::kU8, rng);
  in.depth = Depth::kF32;
  const kernel::Kernel k(3, 3, {1, 2, 1, 2, 4, 2, 1, 2, 1});
  FilterParams params;
  const Image plain = Filter(in, k, params);
  params.linear = true;
  const Image linear = Filter(in, k, params);
  for (int c = 0; c < 3; ++c) {
    EXPECT_TRUE(plain.color[c].data == linear.color[c].data);
  }
}

}  // namespace
}  // namespace convcorr::core
