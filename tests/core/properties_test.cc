// Properties every correct engine has, checked on the SIMD engine and on
// the plain reference: impulse responses, identity, linearity,
// convolve(K) == correlate(rot180 K) bit for bit, zero difference for
// centro-symmetric kernels, the 1-D worked examples; then alpha and depth.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/filter.h"
#include "core/image.h"
#include "core/oracle.h"

namespace convcorr::core {
namespace {

using testing::L1;
using testing::RandomKernel;
using testing::RandomPlane;

Image OnePlane(Plane p) {
  Image img;
  img.width = p.width;
  img.height = p.height;
  img.depth = Depth::kF32;
  img.color.push_back(std::move(p));
  return img;
}

// The kernel rotated by hand (not with kernel::Rotate180), anchor mirrored.
kernel::Kernel RotateByHand(const kernel::Kernel& k) {
  std::vector<double> w;
  for (int i = k.rows() - 1; i >= 0; --i) {
    for (int j = k.cols() - 1; j >= 0; --j) w.push_back(k.at(i, j));
  }
  return kernel::Kernel(k.rows(), k.cols(), w, k.cols() - 1 - k.anchor_x(),
                        k.rows() - 1 - k.anchor_y());
}

// The engine the property tests run on: the SIMD engine, or the plain
// reference (simd = false); set by the fixture for each test.
bool g_simd = true;

class Properties : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override { g_simd = GetParam(); }
  void TearDown() override { g_simd = true; }
};

Plane FilterPlane(const Plane& in, const kernel::Kernel& k, Mode mode,
                  OutputSize size = OutputSize::kSame, Border border = {}) {
  FilterParams params;
  params.simd = g_simd;
  params.mode = mode;
  params.size = size;
  params.border = border;
  params.threads = 2;
  return Filter(OnePlane(in), k, params).color[0];
}

TEST_P(Properties, ImpulseResponses) {
  std::mt19937 rng(11);
  for (auto [rows, cols] : {std::pair{3, 3}, {2, 5}, {4, 4}, {1, 6}, {7, 3}}) {
    const kernel::Kernel k = RandomKernel(rows, cols, rng)
                                 .WithAnchor(static_cast<int>(rng() % cols),
                                             static_cast<int>(rng() % rows));
    const int w = 3 * cols + 4;
    const int h = 3 * rows + 4;
    const int cx = w / 2;
    const int cy = h / 2;
    Plane impulse(w, h);
    impulse.at(cy, cx) = 1.0f;
    const Border zero{BorderMode::kConstant, 0.0f};
    const Plane conv =
        FilterPlane(impulse, k, Mode::kConvolve, OutputSize::kSame, zero);
    const Plane corr =
        FilterPlane(impulse, k, Mode::kCorrelate, OutputSize::kSame, zero);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        // Convolve reproduces K with its anchor on the impulse.
        const int i = y - cy + k.anchor_y();
        const int j = x - cx + k.anchor_x();
        const bool in_k = i >= 0 && i < rows && j >= 0 && j < cols;
        EXPECT_EQ(conv.at(y, x), in_k ? static_cast<float>(k.at(i, j)) : 0.0f)
            << "convolve at " << x << "," << y;
        // Correlate reproduces K rotated by 180 degrees about the anchor.
        const int ri = cy - y + k.anchor_y();
        const int rj = cx - x + k.anchor_x();
        const bool in_r = ri >= 0 && ri < rows && rj >= 0 && rj < cols;
        EXPECT_EQ(corr.at(y, x), in_r ? static_cast<float>(k.at(ri, rj)) : 0.0f)
            << "correlate at " << x << "," << y;
      }
    }
  }
}

TEST_P(Properties, IdentityReturnsInput) {
  std::mt19937 rng(3);
  const Plane in = RandomPlane(17, 9, rng);
  const kernel::Kernel delta(3, 3, {0, 0, 0, 0, 1, 0, 0, 0, 0});
  for (BorderMode mode :
       {BorderMode::kReflect101, BorderMode::kReflect, BorderMode::kReplicate,
        BorderMode::kConstant, BorderMode::kWrap}) {
    EXPECT_EQ(
        FilterPlane(in, delta, Mode::kConvolve, OutputSize::kSame, {mode, 0}),
        in);
    EXPECT_EQ(
        FilterPlane(in, delta, Mode::kCorrelate, OutputSize::kSame, {mode, 0}),
        in);
  }
}

TEST_P(Properties, Linearity) {
  std::mt19937 rng(4);
  const Plane a = RandomPlane(23, 19, rng);
  const Plane b = RandomPlane(23, 19, rng);
  const kernel::Kernel k = RandomKernel(4, 5, rng);
  Plane mix(23, 19);
  for (size_t i = 0; i < mix.data.size(); ++i) {
    mix.data[i] = 0.5f * a.data[i] - 2.0f * b.data[i];
  }
  for (Mode mode : {Mode::kCorrelate, Mode::kConvolve}) {
    const Plane fa = FilterPlane(a, k, mode);
    const Plane fb = FilterPlane(b, k, mode);
    const Plane fm = FilterPlane(mix, k, mode);
    // Each side is exact to float rounding of sums bounded by |K|_1 * 510.
    const double tol = 1e-5 * L1(k) * 2.5 * 255;
    for (size_t i = 0; i < fm.data.size(); ++i) {
      ASSERT_NEAR(fm.data[i], 0.5 * fa.data[i] - 2.0 * fb.data[i], tol) << i;
    }
  }
}

TEST_P(Properties, ConvolveIsCorrelateOfRotatedKernelBitForBit) {
  std::mt19937 rng(8);
  for (auto [rows, cols] : {std::pair{3, 3}, {2, 2}, {4, 7}, {1, 4}, {6, 1}}) {
    const Plane in = RandomPlane(15, 13, rng);
    const kernel::Kernel k = RandomKernel(rows, cols, rng)
                                 .WithAnchor(static_cast<int>(rng() % cols),
                                             static_cast<int>(rng() % rows));
    for (OutputSize size :
         {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
      for (BorderMode mode :
           {BorderMode::kReflect101, BorderMode::kReflect,
            BorderMode::kReplicate, BorderMode::kConstant, BorderMode::kWrap}) {
        const Border border{mode, 3.0f};
        EXPECT_EQ(
            FilterPlane(in, k, Mode::kConvolve, size, border),
            FilterPlane(in, RotateByHand(k), Mode::kCorrelate, size, border))
            << rows << "x" << cols << " size " << static_cast<int>(size)
            << " border " << static_cast<int>(mode);
      }
    }
  }
}

TEST_P(Properties, CentroSymmetricOddKernelGivesZeroDifference) {
  std::mt19937 rng(9);
  const Plane in = RandomPlane(31, 20, rng);
  // A random centro-symmetric 5x5: w(i,j) == w(4-i,4-j).
  std::vector<double> w(25);
  for (int i = 0; i < 13; ++i) {
    w[i] = std::uniform_real_distribution<double>(-1, 1)(rng);
    w[24 - i] = w[i];
  }
  const kernel::Kernel k(5, 5, w);
  for (OutputSize size :
       {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
    EXPECT_EQ(FilterPlane(in, k, Mode::kConvolve, size),
              FilterPlane(in, k, Mode::kCorrelate, size));
  }
}

TEST_P(Properties, EvenSymmetricKernelStillShiftsInSameMode) {
  // box 2x2 is centro-symmetric as a matrix, but its anchor (1,1) mirrors to
  // (0,0): in `same` mode convolve and correlate differ by a one-pixel shift.
  Plane in(4, 1);
  in.data = {0, 0, 8, 0};
  const kernel::Kernel k(1, 2, {0.5, 0.5});
  EXPECT_EQ(FilterPlane(in, k, Mode::kCorrelate, OutputSize::kSame,
                        {BorderMode::kConstant, 0})
                .data,
            (std::vector<float>{0, 0, 4, 4}));
  EXPECT_EQ(FilterPlane(in, k, Mode::kConvolve, OutputSize::kSame,
                        {BorderMode::kConstant, 0})
                .data,
            (std::vector<float>{0, 4, 4, 0}));
  EXPECT_EQ(FilterPlane(in, k, Mode::kConvolve, OutputSize::kValid),
            FilterPlane(in, k, Mode::kCorrelate, OutputSize::kValid));
}

Plane Row(std::vector<float> v) {
  Plane p(static_cast<int>(v.size()), 1);
  p.data = std::move(v);
  return p;
}

// The worked examples of the SPEC and issue, and NumPy's full mode.
TEST_P(Properties, SignalExamples) {
  const Plane f = Row({2, 1, 3, 5, 4});
  const kernel::Kernel diff(1, 2, {1, -1});
  const Border zero{BorderMode::kConstant, 0};
  EXPECT_EQ(
      FilterPlane(f, diff, Mode::kConvolve, OutputSize::kValid, zero).data,
      (std::vector<float>{-1, 2, 2, -1}));
  EXPECT_EQ(
      FilterPlane(f, diff, Mode::kCorrelate, OutputSize::kValid, zero).data,
      (std::vector<float>{1, -2, -2, 1}));
  // numpy.convolve([2,1,3,5,4], [1,-1]) and numpy.correlate(..., 'full').
  EXPECT_EQ(FilterPlane(f, diff, Mode::kConvolve, OutputSize::kFull, zero).data,
            (std::vector<float>{2, -1, 2, 2, -1, -4}));
  EXPECT_EQ(
      FilterPlane(f, diff, Mode::kCorrelate, OutputSize::kFull, zero).data,
      (std::vector<float>{-2, 1, -2, -2, 1, 4}));
  const kernel::Kernel sym(1, 3, {-1, 2, -1});
  EXPECT_EQ(FilterPlane(f, sym, Mode::kConvolve, OutputSize::kValid, zero).data,
            (std::vector<float>{-3, 0, 3}));
  EXPECT_EQ(
      FilterPlane(f, sym, Mode::kCorrelate, OutputSize::kValid, zero).data,
      (std::vector<float>{-3, 0, 3}));
}

INSTANTIATE_TEST_SUITE_P(Engines, Properties, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "simd" : "reference";
                         });

TEST(Filter, ScaleBiasAbs) {
  const kernel::Kernel k(1, 2, {1, -1});
  Image img = OnePlane(Row({2, 1, 3, 5, 4}));
  FilterParams params;
  params.size = OutputSize::kValid;
  params.scale = 2.0;
  params.bias = -1.0;
  EXPECT_EQ(Filter(img, k, params).color[0].data,
            (std::vector<float>{1, -5, -5, 1}));
  params.abs = true;
  EXPECT_EQ(Filter(img, k, params).color[0].data,
            (std::vector<float>{1, 5, 5, 1}));
}

TEST(Filter, AlphaIsCarriedAroundTheKernelCentre) {
  std::mt19937 rng(12);
  Image img = OnePlane(RandomPlane(6, 5, rng));
  img.alpha = RandomPlane(6, 5, rng);
  // 3 rows x 2 columns: centre ((2-1)/2, (3-1)/2) = (0, 1).
  const kernel::Kernel k = RandomKernel(3, 2, rng);
  FilterParams params;
  for (const auto& anchor : {std::pair{1, 1}, std::pair{0, 2}}) {
    const kernel::Kernel ka = k.WithAnchor(anchor.first, anchor.second);
    for (Mode mode : {Mode::kCorrelate, Mode::kConvolve}) {
      params.mode = mode;
      params.border = {};
      // same: alpha unchanged.
      params.size = OutputSize::kSame;
      EXPECT_EQ(*Filter(img, ka, params).alpha, *img.alpha);
      // valid: output (y, x) sits over input (y + 1, x + 0).
      params.size = OutputSize::kValid;
      const Image valid = Filter(img, ka, params);
      ASSERT_EQ(valid.alpha->width, 5);
      ASSERT_EQ(valid.alpha->height, 3);
      for (int y = 0; y < 3; ++y) {
        for (int x = 0; x < 5; ++x) {
          EXPECT_EQ(valid.alpha->at(y, x), img.alpha->at(y + 1, x));
        }
      }
      // full with constant 0: input (y - 1, x - 1), zero outside.
      params.size = OutputSize::kFull;
      params.border = {BorderMode::kConstant, 0};
      const Image full = Filter(img, ka, params);
      ASSERT_EQ(full.alpha->width, 7);
      ASSERT_EQ(full.alpha->height, 7);
      EXPECT_EQ(full.alpha->at(0, 0), 0.0f);
      EXPECT_EQ(full.alpha->at(1, 1), img.alpha->at(0, 0));
      EXPECT_EQ(full.alpha->at(5, 6), img.alpha->at(4, 5));
      EXPECT_EQ(full.alpha->at(6, 6), 0.0f);
    }
  }
  // --filter-alpha filters it like a colour plane.
  params.filter_alpha = true;
  EXPECT_EQ(*Filter(img, k, params).alpha,
            Filter(OnePlane(*img.alpha), k, params).color[0]);
}

TEST(Quantize, RoundsHalfToEvenSaturatesAndCounts) {
  Image img = OnePlane(Row(
      {-0.4f, 0.5f, 1.5f, 2.5f, 254.6f, 255.4f, 255.6f, -3.0f, std::nanf("")}));
  EXPECT_EQ(Quantize(img, Depth::kU8), 3u);
  EXPECT_EQ(img.color[0].data,
            (std::vector<float>{0, 0, 2, 2, 255, 255, 255, 0, 0}));
  EXPECT_EQ(img.depth, Depth::kU8);
  Image wide = OnePlane(Row({70000.0f, 65534.5f, -1.0f}));
  EXPECT_EQ(Quantize(wide, Depth::kU16), 2u);
  EXPECT_EQ(wide.color[0].data, (std::vector<float>{65535, 65534, 0}));
  Image f = OnePlane(Row({-7.25f, 1e9f}));
  EXPECT_EQ(Quantize(f, Depth::kF32), 0u);
  EXPECT_EQ(f.color[0].data, (std::vector<float>{-7.25f, 1e9f}));
}

// --compat scipy: a C cast, as scipy.ndimage stores into uint8/uint16 (the
// values below are what scipy.ndimage.correlate gave for them: 470 -> 214,
// -5 -> 251, 2.5 -> 2).
TEST(Quantize, WrapTruncatesAndKeepsTheLowBits) {
  Image img = OnePlane(
      Row({470.0f, -5.0f, 2.5f, 2.99f, -2.5f, 255.0f, 256.0f, std::nanf("")}));
  EXPECT_EQ(Quantize(img, Depth::kU8, Rounding::kWrap), 4u);
  EXPECT_EQ(img.color[0].data,
            (std::vector<float>{214, 251, 2, 2, 254, 255, 0, 0}));
  Image wide = OnePlane(Row({65536.0f + 7.0f, -1.0f}));
  EXPECT_EQ(Quantize(wide, Depth::kU16, Rounding::kWrap), 2u);
  EXPECT_EQ(wide.color[0].data, (std::vector<float>{7, 65535}));
}

// --compat imagemagick: ImageMagick 6 Q16. An 8-bit result v is the quantum
// round(257 v) (half up) scaled back by ScaleQuantumToChar:
// ((q + 128) - ((q + 128) >> 8)) >> 8, so 2.5 -> 643 -> 3 where OpenCV's
// half-to-even gives 2, and 2.498 -> 642 -> 2.
TEST(Quantize, ImageMagickRoundsThroughSixteenBitQuanta) {
  Image img = OnePlane(Row({2.5f, 2.498f, 3.5f, -1.0f, 255.2f, 254.6f}));
  EXPECT_EQ(Quantize(img, Depth::kU8, Rounding::kImageMagick), 2u);
  EXPECT_EQ(img.color[0].data, (std::vector<float>{3, 2, 4, 0, 255, 255}));
  Image wide = OnePlane(Row({1.5f, 2.5f, 70000.0f, 65534.4f}));
  EXPECT_EQ(Quantize(wide, Depth::kU16, Rounding::kImageMagick), 1u);
  EXPECT_EQ(wide.color[0].data, (std::vector<float>{2, 3, 65535, 65534}));
}

}  // namespace
}  // namespace convcorr::core
