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

}  // namespace
}  // namespace convcorr::core
