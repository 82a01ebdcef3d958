// The SIMD correlation against the reference, on every SIMD target compiled
// into the binary that this CPU can run (Highway's per-target tests), over
// widths that exercise the 4-vector blocks, single vectors and scalar tails
// of every vector length, with all borders, sizes, anchors, kernel shapes
// and thread counts.
#include <gtest/gtest.h>
#include <hwy/tests/hwy_gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "core/filter.h"
#include "core/oracle.h"

// Outside namespace convcorr: Highway's instantiation macro names
// ::testing unqualified, which convcorr::testing would hide.
namespace {

using convcorr::kernel::Kernel;
using convcorr::testing::L1;
using convcorr::testing::RandomKernel;
using convcorr::testing::RandomPlane;
using namespace convcorr::core;  // NOLINT: the engine under test
namespace kernel = convcorr::kernel;

// Bound on |simd - reference|: the SIMD path accumulates kh*kw products in
// float32 with FMA, each step rounding by at most u = 2^-24 of a partial sum
// no larger than sum |K| max|I|; the reference adds one final rounding.
double Bound(const kernel::Kernel& k, double max_input) {
  const double u = std::ldexp(1.0, -24);
  return (k.rows() * k.cols() + 1) * u * L1(k) * max_input;
}

// Compares and reports the first bad pixel.
::testing::AssertionResult Agrees(const Plane& simd, const Plane& ref,
                                  double bound) {
  if (simd.width != ref.width || simd.height != ref.height) {
    return ::testing::AssertionFailure()
           << "size " << simd.width << "x" << simd.height << " vs "
           << ref.width << "x" << ref.height;
  }
  for (int y = 0; y < ref.height; ++y) {
    for (int x = 0; x < ref.width; ++x) {
      const double e = std::fabs(double(simd.at(y, x)) - ref.at(y, x));
      if (!(e <= bound)) {
        return ::testing::AssertionFailure()
               << "first bad pixel at x=" << x << " y=" << y << ": simd "
               << simd.at(y, x) << " reference " << ref.at(y, x)
               << " (bound " << bound << ")";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

class SimdTest : public hwy::TestWithParamTarget {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(SimdTest);

TEST_P(SimdTest, AgreesWithReference) {
  std::mt19937 rng(2026);
  const int widths[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33,
                        63, 64, 65, 67, 70, 129};
  const std::pair<int, int> shapes[] = {{1, 1}, {1, 2}, {2, 1}, {3, 3},
                                        {2, 4}, {5, 5}, {4, 7}, {9, 2},
                                        {8, 8}, {11, 11}};
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kReflect,
                                BorderMode::kReplicate, BorderMode::kConstant,
                                BorderMode::kWrap};
  int cases = 0;
  for (int w : widths) {
    const int h = 1 + static_cast<int>(rng() % 9);
    const Plane in = RandomPlane(w, h, rng, -300.0f, 300.0f);
    for (auto [kh, kw] : shapes) {
      const kernel::Kernel k =
          RandomKernel(kh, kw, rng)
              .WithAnchor(static_cast<int>(rng() % kw),
                          static_cast<int>(rng() % kh));
      const Border border{borders[rng() % 5], 4.5f};
      for (OutputSize size :
           {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
        const int threads = 1 + static_cast<int>(rng() % 3);
        const Plane ref = CorrelateReference(in, k, border, size, 1);
        const Plane simd = CorrelateSimd(in, k, border, size, threads);
        EXPECT_TRUE(Agrees(simd, ref, Bound(k, 300.0)))
            << "width " << w << " height " << h << " kernel " << kh << "x"
            << kw << " anchor (" << k.anchor_x() << "," << k.anchor_y()
            << ") border " << static_cast<int>(border.mode) << " size "
            << static_cast<int>(size) << " threads " << threads;
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 17 * 10 * 3);
}

TEST_P(SimdTest, ThreadCountDoesNotChangeTheResult) {
  std::mt19937 rng(5);
  const Plane in = RandomPlane(97, 41, rng);
  const kernel::Kernel k = RandomKernel(5, 6, rng);
  const Plane one = CorrelateSimd(in, k, {}, OutputSize::kSame, 1);
  for (int threads : {2, 3, 8}) {
    EXPECT_EQ(CorrelateSimd(in, k, {}, OutputSize::kSame, threads), one);
  }
}

TEST_P(SimdTest, FilterConvolveIsCorrelateOfRotatedKernelBitForBit) {
  std::mt19937 rng(6);
  Image img;
  img.width = 53;
  img.height = 17;
  img.depth = Depth::kF32;
  img.color.push_back(RandomPlane(53, 17, rng));
  const kernel::Kernel k = RandomKernel(4, 3, rng).WithAnchor(2, 0);
  FilterParams params;
  for (OutputSize size :
       {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
    params.size = size;
    params.mode = Mode::kConvolve;
    const Image conv = Filter(img, k, params);
    params.mode = Mode::kCorrelate;
    const Image corr = Filter(img, kernel::Rotate180(k), params);
    EXPECT_EQ(conv.color[0], corr.color[0]);
  }
}

// A random rank-1 kernel: the outer product of random column and row.
Kernel OuterProduct(int kh, int kw, std::mt19937& rng) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> c(kh), r(kw), w;
  for (double& v : c) v = dist(rng);
  for (double& v : r) v = dist(rng);
  for (int i = 0; i < kh; ++i) {
    for (int j = 0; j < kw; ++j) w.push_back(c[i] * r[j]);
  }
  return Kernel(kh, kw, w);
}

TEST_P(SimdTest, SeparableAgreesWithReference) {
  std::mt19937 rng(77);
  const int widths[] = {1, 5, 8, 17, 33, 64, 67, 129};
  const std::pair<int, int> shapes[] = {{1, 3}, {3, 1}, {2, 2}, {3, 5},
                                        {7, 7}, {6, 9}, {13, 13}};
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kReflect,
                                BorderMode::kReplicate, BorderMode::kConstant,
                                BorderMode::kWrap};
  for (int w : widths) {
    const int h = 1 + static_cast<int>(rng() % 11);
    const Plane in = RandomPlane(w, h, rng, -300.0f, 300.0f);
    for (auto [kh, kw] : shapes) {
      const Kernel k = OuterProduct(kh, kw, rng).WithAnchor(
          static_cast<int>(rng() % kw), static_cast<int>(rng() % kh));
      const kernel::RankOneFactors f = kernel::FactorRankOne(k);
      ASSERT_LE(f.residual, kSeparableResidual);
      const Border border{borders[rng() % 5], -2.0f};
      // Each 1-D pass rounds kw (then kh) times, the float32 factors add two
      // roundings, the reference one.
      const double bound = (kh + kw + 3) * std::ldexp(1.0, -24) * L1(k) * 300.0;
      for (OutputSize size :
           {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
        const int threads = 1 + static_cast<int>(rng() % 3);
        EXPECT_TRUE(Agrees(CorrelateSeparable(in, k, f, border, size, threads),
                           CorrelateReference(in, k, border, size, 1), bound))
            << "width " << w << " height " << h << " kernel " << kh << "x"
            << kw << " size " << static_cast<int>(size);
      }
    }
  }
}

TEST(ChooseMethod, CostModel) {
  const auto choose = [](const Kernel& k, Method requested = Method::kAuto) {
    return ChooseMethod(k, kernel::FactorRankOne(k), requested);
  };
  // 3x3 rank 1: 3 + 3 + 4 = 10 > 9 multiply-adds, direct is cheaper.
  const Kernel sobel(3, 3, {-1, 0, 1, -2, 0, 2, -1, 0, 1});
  EXPECT_EQ(choose(sobel), Method::kDirect);
  EXPECT_EQ(choose(sobel, Method::kSeparable), Method::kSeparable);
  // 5x5 of ones: 14 < 25.
  EXPECT_EQ(choose(Kernel(5, 5, std::vector<double>(25, 1.0))),
            Method::kSeparable);
  EXPECT_EQ(choose(Kernel(5, 5, std::vector<double>(25, 1.0)), Method::kDirect),
            Method::kDirect);
  // Rank 2 (a 5x5 Laplacian-like cross) is never separable.
  std::vector<double> cross(25, 0.0);
  for (int i = 0; i < 5; ++i) {
    cross[2 * 5 + i] = 1;
    cross[i * 5 + 2] = 1;
  }
  EXPECT_EQ(choose(Kernel(5, 5, cross)), Method::kDirect);
  EXPECT_EQ(choose(Kernel(5, 5, cross), Method::kSeparable), Method::kDirect);
}

TEST(SimdTarget, HasAName) {
  EXPECT_FALSE(std::string(SimdTargetName()).empty());
}

}  // namespace
