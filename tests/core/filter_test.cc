// The reference engine against independent oracles: OpenCV's filter2D for
// same-size correlation, and the defining formula (docs/semantics.md)
// evaluated tap by tap for every size, border, anchor and kernel shape.
#include "core/filter.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/oracle.h"

namespace convcorr::core {
namespace {

using testing::BruteCorrelate;
using testing::L1;
using testing::RandomKernel;
using testing::RandomPlane;

// Tolerance for comparing a float32 result with a double or float32 oracle:
// the reference accumulates in double and rounds once, so its own error is
// half an ulp of the result; OpenCV accumulates in float32 (and in its DFT
// path for kernels of 11x11 and more, with errors of order 1e-6 of the
// largest term). Both are bounded by a small fraction of the largest
// possible sum |K|_1 * max|I|.
double Tolerance(const kernel::Kernel& k, double max_input) {
  return 1e-5 * L1(k) * max_input + 1e-6;
}

struct Shape {
  int rows;
  int cols;
};

const Shape kShapes[] = {{1, 1},  {1, 2},   {2, 1},  {2, 2},   {3, 3},  {1, 5},
                         {4, 3},  {3, 6},   {5, 5},  {7, 2},   {8, 8},  {9, 9},
                         {11, 4}, {13, 13}, {2, 17}, {15, 15}, {21, 21}};

const BorderMode kCvBorders[] = {BorderMode::kReflect101, BorderMode::kReflect,
                                 BorderMode::kReplicate, BorderMode::kConstant};

int ToCvBorder(BorderMode mode) {
  switch (mode) {
    case BorderMode::kReflect101:
      return cv::BORDER_REFLECT_101;
    case BorderMode::kReflect:
      return cv::BORDER_REFLECT;
    case BorderMode::kReplicate:
      return cv::BORDER_REPLICATE;
    case BorderMode::kConstant:
      return cv::BORDER_CONSTANT;
    case BorderMode::kWrap:
      return cv::BORDER_WRAP;
  }
  return -1;
}

cv::Mat ToMat(const Plane& p) {
  cv::Mat m(p.height, p.width, CV_32F);
  for (int y = 0; y < p.height; ++y) {
    for (int x = 0; x < p.width; ++x) m.at<float>(y, x) = p.at(y, x);
  }
  return m;
}

cv::Mat KernelMat(const kernel::Kernel& k) {
  cv::Mat m(k.rows(), k.cols(), CV_64F);
  for (int i = 0; i < k.rows(); ++i) {
    for (int j = 0; j < k.cols(); ++j) m.at<double>(i, j) = k.at(i, j);
  }
  return m;
}

std::string Describe(const kernel::Kernel& k, int w, int h, BorderMode mode) {
  return "kernel " + std::to_string(k.rows()) + "x" + std::to_string(k.cols()) +
         " anchor (" + std::to_string(k.anchor_x()) + "," +
         std::to_string(k.anchor_y()) + ") image " + std::to_string(w) + "x" +
         std::to_string(h) + " border " +
         std::to_string(static_cast<int>(mode));
}

// Compares a plane with oracle values and reports the first bad pixel.
void ExpectNear(const Plane& got, const std::vector<double>& want, int w, int h,
                double tol, const std::string& what) {
  ASSERT_EQ(got.width, w) << what;
  ASSERT_EQ(got.height, h) << what;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const double expected = want[static_cast<size_t>(y) * w + x];
      ASSERT_NEAR(got.at(y, x), expected, tol)
          << what << " first bad pixel at (x=" << x << ", y=" << y << ")";
    }
  }
}

TEST(CorrelateReference, MatchesOpenCvFilter2D) {
  std::mt19937 rng(1234);
  int cases = 0;
  for (const Shape& s : kShapes) {
    for (BorderMode mode : kCvBorders) {
      // Image sizes at least the kernel's (filter2D's own limit), with tails.
      const int w = s.cols + 3 + static_cast<int>(rng() % 29);
      const int h = s.rows + 2 + static_cast<int>(rng() % 19);
      const Plane in = RandomPlane(w, h, rng);
      kernel::Kernel k = RandomKernel(s.rows, s.cols, rng);
      // Default anchor, and a random one.
      for (int pass = 0; pass < 2; ++pass) {
        if (pass == 1) {
          k = k.WithAnchor(static_cast<int>(rng() % s.cols),
                           static_cast<int>(rng() % s.rows));
        }
        cv::Mat want;
        cv::filter2D(ToMat(in), want, CV_32F, KernelMat(k),
                     cv::Point(k.anchor_x(), k.anchor_y()), 0.0,
                     ToCvBorder(mode));
        const Plane got =
            CorrelateReference(in, k, {mode, 0.0f}, OutputSize::kSame, 1);
        std::vector<double> want_d(want.begin<float>(), want.end<float>());
        ExpectNear(got, want_d, w, h, Tolerance(k, 255.0),
                   Describe(k, w, h, mode));
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 17 * 4 * 2);
}

TEST(CorrelateReference, MatchesFormulaForEverySizeBorderAndAnchor) {
  std::mt19937 rng(99);
  const BorderMode modes[] = {BorderMode::kReflect101, BorderMode::kReflect,
                              BorderMode::kReplicate, BorderMode::kConstant,
                              BorderMode::kWrap};
  for (const Shape& s : kShapes) {
    for (BorderMode mode : modes) {
      const int w = 1 + static_cast<int>(rng() % 23);
      const int h = 1 + static_cast<int>(rng() % 17);
      const Plane in = RandomPlane(w, h, rng, -100.0f, 100.0f);
      const kernel::Kernel k =
          RandomKernel(s.rows, s.cols, rng)
              .WithAnchor(static_cast<int>(rng() % s.cols),
                          static_cast<int>(rng() % s.rows));
      const float value = mode == BorderMode::kConstant ? 7.5f : 0.0f;
      const Border border{mode, value};
      const std::string what = Describe(k, w, h, mode);
      const double tol = Tolerance(k, 100.0);

      ExpectNear(CorrelateReference(in, k, border, OutputSize::kSame, 2),
                 BruteCorrelate(in, k, mode, value, w, h, -k.anchor_x(),
                                -k.anchor_y()),
                 w, h, tol, "same " + what);
      const int fw = w + s.cols - 1;
      const int fh = h + s.rows - 1;
      ExpectNear(CorrelateReference(in, k, border, OutputSize::kFull, 2),
                 BruteCorrelate(in, k, mode, value, fw, fh, -(s.cols - 1),
                                -(s.rows - 1)),
                 fw, fh, tol, "full " + what);
      const Plane valid =
          CorrelateReference(in, k, border, OutputSize::kValid, 2);
      if (s.cols > w || s.rows > h) {
        EXPECT_EQ(valid.width * valid.height, 0) << what;
      } else {
        const int vw = w - s.cols + 1;
        const int vh = h - s.rows + 1;
        ExpectNear(valid, BruteCorrelate(in, k, mode, value, vw, vh, 0, 0), vw,
                   vh, tol, "valid " + what);
      }
    }
  }
}

TEST(CorrelateReference, KernelLargerThanImageExtendsRepeatedly) {
  std::mt19937 rng(5);
  const Plane in = RandomPlane(3, 2, rng);
  const kernel::Kernel k = RandomKernel(9, 11, rng);
  for (BorderMode mode : {BorderMode::kReflect101, BorderMode::kReflect,
                          BorderMode::kWrap, BorderMode::kReplicate}) {
    ExpectNear(
        CorrelateReference(in, k, {mode, 0}, OutputSize::kSame, 1),
        BruteCorrelate(in, k, mode, 0, 3, 2, -k.anchor_x(), -k.anchor_y()), 3,
        2, Tolerance(k, 255), Describe(k, 3, 2, mode));
  }
}

// A hand-computed 1-D case for each border: row [1,2,3,4], kernel [1,10,100]
// (anchor 1): out(x) = I(x-1) + 10 I(x) + 100 I(x+1).
TEST(CorrelateReference, HandComputedBorders) {
  Plane in(4, 1);
  in.data = {1, 2, 3, 4};
  const kernel::Kernel k(1, 3, {1, 10, 100});
  const auto run = [&](BorderMode mode, float value = 0) {
    return CorrelateReference(in, k, {mode, value}, OutputSize::kSame, 1).data;
  };
  // reflect101: left neighbour of 1 is 2, right of 4 is 3.
  EXPECT_EQ(run(BorderMode::kReflect101),
            (std::vector<float>{212, 321, 432, 343}));
  // reflect: left of 1 is 1, right of 4 is 4.
  EXPECT_EQ(run(BorderMode::kReflect),
            (std::vector<float>{211, 321, 432, 443}));
  EXPECT_EQ(run(BorderMode::kReplicate),
            (std::vector<float>{211, 321, 432, 443}));
  EXPECT_EQ(run(BorderMode::kConstant, 5),
            (std::vector<float>{215, 321, 432, 543}));
  // wrap: left of 1 is 4, right of 4 is 1.
  EXPECT_EQ(run(BorderMode::kWrap), (std::vector<float>{214, 321, 432, 143}));
}

TEST(CorrelateReference, ResultDoesNotDependOnThreadCount) {
  std::mt19937 rng(7);
  const Plane in = RandomPlane(37, 29, rng);
  const kernel::Kernel k = RandomKernel(5, 4, rng);
  const Plane one = CorrelateReference(in, k, {}, OutputSize::kFull, 1);
  for (int threads : {2, 3, 7, 64, 0}) {
    EXPECT_EQ(CorrelateReference(in, k, {}, OutputSize::kFull, threads), one)
        << threads << " threads";
  }
}

TEST(OutputExtent, SameValidFull) {
  const kernel::Kernel k(3, 5, std::vector<double>(15, 1.0));
  EXPECT_EQ(OutputExtent(10, 8, k, OutputSize::kSame).width, 10);
  EXPECT_EQ(OutputExtent(10, 8, k, OutputSize::kValid).width, 6);
  EXPECT_EQ(OutputExtent(10, 8, k, OutputSize::kValid).height, 6);
  EXPECT_EQ(OutputExtent(10, 8, k, OutputSize::kFull).width, 14);
  EXPECT_EQ(OutputExtent(10, 8, k, OutputSize::kFull).height, 10);
  EXPECT_EQ(OutputExtent(4, 8, k, OutputSize::kValid).width, 0);
}

// Alpha weighting on a hand-computed row (the arithmetic written out, not
// computed by the code under test). Gray C = 10, 200, 50 under alpha 255,
// 0, 51; kernel 1,2,1 (sum 4, so |K| sums to 4), constant:0 border, same.
// x=0: num = 2*255*10 = 5100, den = 2*255 = 510, 5100*4/510 = 40;
// x=1: num = 255*10 + 51*50 = 5100, den = 255 + 51 = 306, 5100*4/306 =
// 66.666...; x=2: num = 2*51*50 = 5100, den = 102, 5100*4/102 = 200.
// With scale 1/4: 10, 16.666..., 50: the opaque neighbours' mean, colour
// 200 under alpha 0 not counted. Unweighted: 55, 115, 75.
Image HandRow(std::vector<float> colour, std::vector<float> alpha) {
  Image img;
  img.width = static_cast<int>(colour.size());
  img.height = 1;
  img.color.emplace_back(img.width, 1);
  img.color[0].data = std::move(colour);
  img.alpha = Plane(img.width, 1);
  img.alpha->data = std::move(alpha);
  return img;
}

TEST(AlphaWeighted, HandComputedRow) {
  const Image in = HandRow({10, 200, 50}, {255, 0, 51});
  const kernel::Kernel k(1, 3, {1, 2, 1});
  for (const bool simd : {true, false}) {
    FilterParams p;
    p.border = Border{BorderMode::kConstant, 0};
    p.scale = 0.25;
    p.simd = simd;
    p.alpha_weighted = true;
    const Image got = Filter(in, k, p);
    EXPECT_NEAR(got.color[0].at(0, 0), 10.0, 1e-4);
    EXPECT_NEAR(got.color[0].at(0, 1), 5100.0 / 306.0, 1e-4);
    EXPECT_NEAR(got.color[0].at(0, 2), 50.0, 1e-4);
    // Alpha carried unchanged.
    EXPECT_EQ(got.alpha->data, (std::vector<float>{255, 0, 51}));
    // The off switch keeps the old, unweighted sums.
    p.alpha_weighted = false;
    const Image old = Filter(in, k, p);
    EXPECT_NEAR(old.color[0].at(0, 0), 55.0, 1e-4);
    EXPECT_NEAR(old.color[0].at(0, 1), 115.0, 1e-4);
    EXPECT_NEAR(old.color[0].at(0, 2), 75.0, 1e-4);
    EXPECT_EQ(old.alpha->data, (std::vector<float>{255, 0, 51}));
  }
}

// A kernel with negative weights divides by the |K|-weighted mean alpha:
// C = 10, 200, 90 under alpha 255, 0, 51, kernel -1,0,1, constant:0.
// x=1: num = -255*10 + 51*90 = 2040, den = 255 + 51 = 306, sum|K| = 2,
// 2040*2/306 = 13.333...; x=0 and x=2: every alpha under the taps that
// weigh (x-1, x+1) is 0, so den = 0 and the colour is 0, then + bias.
TEST(AlphaWeighted, SignedKernelAndZeroAlpha) {
  const Image in = HandRow({10, 200, 90}, {255, 0, 51});
  const kernel::Kernel k(1, 3, {-1, 0, 1});
  for (const bool simd : {true, false}) {
    FilterParams p;
    p.border = Border{BorderMode::kConstant, 0};
    p.bias = 7;
    p.simd = simd;
    p.alpha_weighted = true;
    const Image got = Filter(in, k, p);
    EXPECT_NEAR(got.color[0].at(0, 0), 7.0, 1e-4);
    EXPECT_NEAR(got.color[0].at(0, 1), 7.0 + 2040.0 * 2.0 / 306.0, 1e-3);
    EXPECT_NEAR(got.color[0].at(0, 2), 7.0, 1e-4);
  }
}

// On an opaque image weighting changes nothing (but rounding); on a
// transparent one every colour is 0 (+ bias); images without alpha are
// not touched.
TEST(AlphaWeighted, OpaqueIsUnweightedTransparentIsZero) {
  std::mt19937 rng(3);
  Image in;
  in.width = 19;
  in.height = 13;
  for (int c = 0; c < 3; ++c) in.color.push_back(RandomPlane(19, 13, rng));
  in.alpha = Plane(19, 13, 255.0f);
  const kernel::Kernel k = RandomKernel(5, 3, rng);
  FilterParams p;
  p.alpha_weighted = true;
  p.filter_alpha = true;
  FilterParams off = p;
  off.alpha_weighted = false;
  const Image a = Filter(in, k, p);
  const Image b = Filter(in, k, off);
  EXPECT_EQ(a.alpha->data, b.alpha->data);
  for (int c = 0; c < 3; ++c) {
    for (size_t i = 0; i < a.color[c].data.size(); ++i) {
      ASSERT_NEAR(a.color[c].data[i], b.color[c].data[i], 1e-3);
    }
  }
  in.alpha = Plane(19, 13, 0.0f);
  p.bias = 3;
  const Image t = Filter(in, k, p);
  for (const Plane& pl : t.color) {
    for (const float v : pl.data) ASSERT_EQ(v, 3.0f);
  }
  in.alpha.reset();
  off.bias = 3;
  EXPECT_EQ(Filter(in, k, p).color[0].data, Filter(in, k, off).color[0].data);
}

// compare's pair is the two single filters.
TEST(AlphaWeighted, PairIsBothFilters) {
  std::mt19937 rng(5);
  Image in;
  in.width = 23;
  in.height = 17;
  in.color.push_back(RandomPlane(23, 17, rng));
  in.alpha = RandomPlane(23, 17, rng, 0.0f, 255.0f);
  for (const bool signed_k : {false, true}) {
    std::vector<double> w = {1, 2, 3, 4, 0, 1};
    if (signed_k) w[2] = -3;
    const kernel::Kernel k(2, 3, w);
    FilterParams p;
    p.alpha_weighted = true;
    const FilterPairResult pair = FilterPair(in, k, p);
    p.mode = Mode::kCorrelate;
    const Image corr = Filter(in, k, p);
    p.mode = Mode::kConvolve;
    const Image conv = Filter(in, k, p);
    for (size_t i = 0; i < corr.color[0].data.size(); ++i) {
      ASSERT_NEAR(pair.correlate.color[0].data[i], corr.color[0].data[i], 1e-3);
      ASSERT_NEAR(pair.convolve.color[0].data[i], conv.color[0].data[i], 1e-3);
    }
  }
}

}  // namespace
}  // namespace convcorr::core
