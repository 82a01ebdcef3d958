// PairCorrelator (core/pair.cc), compare's engine, on every SIMD target:
// both results of every plan (mirror pairs, shared ring, symmetric, FFT,
// two passes) against the reference and the standalone commands, the
// difference written in the same pass, and non-finite samples.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/engine_util.h"
#include "core/filter.h"
#include "core/oracle.h"

namespace {

using convcorr::kernel::Kernel;
using namespace convcorr::core;  // NOLINT: the engine under test
using convcorr::testing::Agrees;
using convcorr::testing::Bound;
using convcorr::testing::FftBound;
using convcorr::testing::L1;
using convcorr::testing::RandomKernel;
using convcorr::testing::RandomPlane;
using convcorr::testing::SparseKernel;
using convcorr::testing::TypedImage;
namespace kernel = convcorr::kernel;

// compare's engine: both results of every plan against the reference for
// K and for rot180 K, over anchors (centred or not), sizes, borders and
// thread counts.
TEST_P(SimdTest, PairAgreesWithReference) {
  std::mt19937 rng(303);
  const std::pair<int, int> shapes[] = {{1, 2}, {3, 3}, {2, 4}, {5, 5},
                                        {4, 7}, {6, 6}, {9, 2}};
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kReflect,
                                BorderMode::kReplicate, BorderMode::kConstant,
                                BorderMode::kWrap};
  int fused = 0;
  for (int w : {1, 5, 16, 17, 40, 67}) {
    const int h = 1 + static_cast<int>(rng() % 9);
    const Plane in = RandomPlane(w, h, rng, -300.0f, 300.0f);
    for (auto [kh, kw] : shapes) {
      for (Method method :
           {Method::kAuto, Method::kDirect, Method::kSparse, Method::kFft}) {
        const Kernel k = SparseKernel(kh, kw, rng)
                             .WithAnchor(static_cast<int>(rng() % kw),
                                         static_cast<int>(rng() % kh));
        const Border border{borders[rng() % 5], -7.0f};
        // The fused sums pair taps (one more rounding per pair); the FFT
        // runs two passes.
        const double bound =
            method == Method::kFft
                ? FftBound(k, 300.0)
                : 2 * Bound(k, 300.0) + 3 * std::ldexp(1.0, -24) * L1(k) * 300;
        for (OutputSize size :
             {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
          const int threads = 1 + static_cast<int>(rng() % 3);
          const Extent e = OutputExtent(w, h, k, size);
          Plane corr(e.width, e.height), conv(e.width, e.height);
          EngineOptions opt;
          opt.border = border;
          opt.size = size;
          opt.threads = threads;
          const PairCorrelator pair(k, method, size);
          fused += pair.plan() == PairCorrelator::Plan::kFused ? 1 : 0;
          // The FFT shares each tile's forward transform between the two.
          if (method == Method::kFft) {
            EXPECT_NE(pair.plan(), PairCorrelator::Plan::kTwoPasses);
          }
          pair.Run(ViewOf(std::vector<const Plane*>{&in}),
                   ViewOf(std::vector<Plane*>{&corr}),
                   ViewOf(std::vector<Plane*>{&conv}), opt);
          const std::string what =
              std::string(MethodName(method)) + " " + PlanName(pair.plan()) +
              " kernel " + std::to_string(kh) + "x" + std::to_string(kw) +
              " anchor " + std::to_string(k.anchor_x()) + "," +
              std::to_string(k.anchor_y()) + " size " +
              std::to_string(static_cast<int>(size)) + " width " +
              std::to_string(w);
          EXPECT_TRUE(
              Agrees(corr, CorrelateReference(in, k, border, size, 1), bound))
              << "correlate " << what;
          EXPECT_TRUE(Agrees(
              conv,
              CorrelateReference(in, kernel::Rotate180(k), border, size, 1),
              bound))
              << "convolve " << what;
        }
      }
    }
  }
  EXPECT_GT(fused, 100);
}

// Purely antisymmetric kernels (Sobel, Scharr, shifts by symmetric pairs)
// take the paired path: one load pair and one FMA per mirror pair give both
// results. Against the reference for every size and anchor where the
// kernel stays antisymmetric about its window's centre.
TEST_P(SimdTest, AntisymmetricPairsAgreeWithReference) {
  std::mt19937 rng(707);
  const std::pair<int, int> shapes[] = {{1, 2}, {3, 3}, {2, 4},
                                        {5, 5}, {3, 7}, {6, 6}};
  for (int w : {3, 16, 41}) {
    const Plane in = RandomPlane(w, 9, rng, -300.0f, 300.0f);
    for (auto [kh, kw] : shapes) {
      const Kernel k0 = RandomKernel(kh, kw, rng);
      const Kernel r = kernel::Rotate180(k0);
      std::vector<double> anti;
      for (size_t t = 0; t < k0.weights().size(); ++t) {
        anti.push_back((k0.weights()[t] - r.weights()[t]) / 2);
      }
      const Kernel k(kh, kw, anti);
      // Odd sizes keep the centred anchor for same; even ones use valid
      // and full, whose window is the box.
      std::vector<OutputSize> sizes = {OutputSize::kValid, OutputSize::kFull};
      if (kh % 2 == 1 && kw % 2 == 1) sizes.push_back(OutputSize::kSame);
      for (OutputSize size : sizes) {
        for (Method method : {Method::kDirect, Method::kSparse}) {
          const PairCorrelator pair(k, method, size);
          ASSERT_EQ(pair.plan(), PairCorrelator::Plan::kFused);
          const Extent e = OutputExtent(w, 9, k, size);
          Plane corr(e.width, e.height), conv(e.width, e.height);
          EngineOptions opt;
          opt.size = size;
          opt.threads = 2;
          opt.border = {BorderMode::kReplicate, 0.0f};
          pair.Run(ViewOf(std::vector<const Plane*>{&in}),
                   ViewOf(std::vector<Plane*>{&corr}),
                   ViewOf(std::vector<Plane*>{&conv}), opt);
          const double bound =
              2 * Bound(k, 300.0) + 3 * std::ldexp(1.0, -24) * L1(k) * 300;
          EXPECT_TRUE(Agrees(
              corr, CorrelateReference(in, k, opt.border, size, 1), bound));
          EXPECT_TRUE(Agrees(
              conv,
              CorrelateReference(in, kernel::Rotate180(k), opt.border, size, 1),
              bound));
        }
      }
    }
  }
}

// With both halves non-zero, the fused pass runs K and rot180 K over one
// shared ring: the same sums as the standalone commands, bit for bit.
TEST_P(SimdTest, DualPassEqualsStandaloneBitForBit) {
  std::mt19937 rng(808);
  const Plane in = RandomPlane(57, 21, rng);
  for (Method method : {Method::kDirect, Method::kSparse}) {
    for (const Kernel& k : {RandomKernel(5, 5, rng), SparseKernel(3, 7, rng),
                            RandomKernel(4, 3, rng).WithAnchor(0, 3)}) {
      const PairCorrelator pair(k, method, OutputSize::kSame);
      ASSERT_EQ(pair.plan(), PairCorrelator::Plan::kFused);
      Plane corr(57, 21), conv(57, 21);
      EngineOptions opt;
      opt.threads = 3;
      pair.Run(ViewOf(std::vector<const Plane*>{&in}),
               ViewOf(std::vector<Plane*>{&corr}),
               ViewOf(std::vector<Plane*>{&conv}), opt);
      EXPECT_EQ(corr, CorrelateFast(in, k, {}, OutputSize::kSame, 1, method));
      EXPECT_EQ(conv, CorrelateFast(in, kernel::Rotate180(k), {},
                                    OutputSize::kSame, 1, method));
    }
  }
}

// The difference written in the same pass equals |convolve - correlate|
// of the stored outputs exactly, for every plan and layout.
TEST_P(SimdTest, PairDiffIsTheDifferenceOfTheOutputs) {
  std::mt19937 rng(909);
  const int w = 45, h = 17;
  const Kernel sobel(3, 3, {-1, 0, 1, -2, 0, 2, -1, 0, 1});
  const Kernel gauss(3, 3, {1, 2, 1, 2, 4, 2, 1, 2, 1});
  const Kernel outer(3, 3, {2, -4, 6, 1, -2, 3, -3, 6, -9});  // rank 1
  const std::pair<Kernel, Method> cases[] = {
      {sobel, Method::kSparse},
      {RandomKernel(5, 4, rng), Method::kDirect},
      {gauss, Method::kAuto},
      {outer, Method::kSeparable},
      {RandomKernel(7, 7, rng), Method::kFft}};
  for (Depth type : {Depth::kU8, Depth::kF32}) {
    for (bool inter : {false, true}) {
      TypedImage in(type, inter, w, h);
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < h; ++y) {
          for (int x = 0; x < w; ++x) in.Set(c, y, x, float(rng() % 256));
        }
      }
      for (const auto& [k, method] : cases) {
        TypedImage corr(type, inter, w, h), conv(type, inter, w, h),
            diff(type, inter, w, h);
        const PairCorrelator pair(k, method, OutputSize::kSame);
        EngineOptions opt;
        opt.bias = 100.0f;
        opt.threads = 2;
        const ImageView dv = diff.View();
        pair.Run(in.ConstView(), corr.View(), conv.View(), opt, &dv);
        for (int c = 0; c < 3; ++c) {
          for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
              ASSERT_EQ(diff.Get(c, y, x),
                        std::fabs(conv.Get(c, y, x) - corr.Get(c, y, x)))
                  << PlanName(pair.plan()) << " type " << int(type)
                  << (inter ? " interleaved" : "") << " c " << c << " x " << x
                  << " y " << y;
            }
          }
        }
      }
    }
  }
}

// NaN and infinity in a float input reach the same outputs in compare as in
// the standalone commands, whatever the plan would have been (centring
// zeros, skipped zero pairs and the FFT would otherwise move them).
TEST_P(SimdTest, PairKeepsNonFiniteSamplesWhereTheStandaloneCommandsDo) {
  std::mt19937 rng(1001);
  Plane in = RandomPlane(23, 9, rng);
  in.at(4, 0) = std::numeric_limits<float>::quiet_NaN();
  in.at(2, 11) = std::numeric_limits<float>::infinity();
  in.at(7, 22) = -std::numeric_limits<float>::infinity();
  const auto same = [](const Plane& a, const Plane& b) {
    for (size_t i = 0; i < a.data.size(); ++i) {
      const float x = a.data[i], y = b.data[i];
      if (!(x == y || (std::isnan(x) && std::isnan(y)))) return false;
    }
    return a.width == b.width && a.height == b.height;
  };
  const Kernel sobel(3, 3, {-1, 0, 1, -2, 0, 2, -1, 0, 1});
  const std::pair<Kernel, Method> cases[] = {
      {Kernel(1, 2, {1, 2}).WithAnchor(0, 0), Method::kDirect},
      {Kernel(1, 4, {1, 2, 1, 0}).WithAnchor(1, 0), Method::kDirect},
      {sobel, Method::kSparse},
      {RandomKernel(5, 5, rng), Method::kFft}};
  for (const auto& [k, method] : cases) {
    const PairCorrelator pair(k, method, OutputSize::kSame);
    Plane corr(23, 9), conv(23, 9);
    pair.Run(ViewOf(std::vector<const Plane*>{&in}),
             ViewOf(std::vector<Plane*>{&corr}),
             ViewOf(std::vector<Plane*>{&conv}), EngineOptions{});
    const Method m = method == Method::kFft ? Method::kDirect : method;
    EXPECT_TRUE(same(corr, CorrelateFast(in, k, {}, OutputSize::kSame, 1, m)))
        << PlanName(pair.plan()) << " " << k.cols();
    EXPECT_TRUE(same(conv, CorrelateFast(in, kernel::Rotate180(k), {},
                                         OutputSize::kSame, 1, m)))
        << PlanName(pair.plan()) << " " << k.cols();
  }
}

// A kernel equal to its rotation about a centred anchor needs one
// correlation: both outputs are the same samples, the difference exactly 0.
TEST_P(SimdTest, SymmetricPairIsOneCorrelation) {
  std::mt19937 rng(404);
  const Plane in = RandomPlane(45, 23, rng);
  const Kernel gauss(3, 3, {1, 2, 1, 2, 4, 2, 1, 2, 1});
  const Kernel laplacian(3, 3, {0, 1, 0, 1, -4, 1, 0, 1, 0});
  for (const Kernel& k : {gauss, laplacian}) {
    for (OutputSize size :
         {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
      const PairCorrelator pair(k, Method::kAuto, size);
      EXPECT_EQ(pair.plan(), PairCorrelator::Plan::kSymmetric);
      const Extent e = OutputExtent(45, 23, k, size);
      Plane corr(e.width, e.height), conv(e.width, e.height);
      EngineOptions opt;
      opt.size = size;
      pair.Run(ViewOf(std::vector<const Plane*>{&in}),
               ViewOf(std::vector<Plane*>{&corr}),
               ViewOf(std::vector<Plane*>{&conv}), opt);
      EXPECT_EQ(corr, conv);
      EXPECT_EQ(corr, CorrelateFast(in, k, {}, size, 0, Method::kAuto));
    }
  }
  // Symmetric weights but an off-centre anchor: the two windows differ by
  // a shift, so the results differ and the pass is fused.
  const Kernel pair_sum = Kernel(1, 2, {1, 1}).WithAnchor(0, 0);
  EXPECT_EQ(PairCorrelator(pair_sum, Method::kAuto, OutputSize::kSame).plan(),
            PairCorrelator::Plan::kFused);
  // In valid and full the window is the kernel's box: symmetric again.
  EXPECT_EQ(PairCorrelator(pair_sum, Method::kAuto, OutputSize::kFull).plan(),
            PairCorrelator::Plan::kSymmetric);
}

// The fused pass on interleaved 8-bit data, as compare runs on decoded
// photos: within one unit of the standalone correlate and convolve, with
// the threads not changing a sample.
TEST_P(SimdTest, PairOnTypedViews) {
  std::mt19937 rng(505);
  const int w = 61, h = 19;
  TypedImage in(Depth::kU8, true, w, h);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) in.Set(c, y, x, float(rng() % 256));
    }
  }
  const Kernel k = RandomKernel(5, 4, rng).WithAnchor(1, 3);
  EngineOptions opt;
  opt.scale = 0.5f;
  opt.bias = 128.0f;
  TypedImage corr1(Depth::kU8, true, w, h), conv1(Depth::kU8, true, w, h);
  const PairCorrelator pair(k, Method::kDirect, OutputSize::kSame);
  ASSERT_EQ(pair.plan(), PairCorrelator::Plan::kFused);
  opt.threads = 1;
  pair.Run(in.ConstView(), corr1.View(), conv1.View(), opt);
  TypedImage corr3(Depth::kU8, true, w, h), conv3(Depth::kU8, true, w, h);
  opt.threads = 3;
  pair.Run(in.ConstView(), corr3.View(), conv3.View(), opt);
  EXPECT_EQ(corr1.buffers, corr3.buffers);
  EXPECT_EQ(conv1.buffers, conv3.buffers);
  TypedImage corr(Depth::kU8, true, w, h), conv(Depth::kU8, true, w, h);
  Correlator(k, Method::kDirect).Run(in.ConstView(), corr.View(), opt);
  Correlator(kernel::Rotate180(k), Method::kDirect)
      .Run(in.ConstView(), conv.View(), opt);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        ASSERT_LE(std::fabs(corr1.Get(c, y, x) - corr.Get(c, y, x)), 1.0f);
        ASSERT_LE(std::fabs(conv1.Get(c, y, x) - conv.Get(c, y, x)), 1.0f);
      }
    }
  }
}

}  // namespace
