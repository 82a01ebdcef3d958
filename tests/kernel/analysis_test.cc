// Tests of Analyze, Rotate180 and NormalizeScale (src/kernel/kernel.h) on
// kernels whose properties are known by hand.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/spec.h"

namespace convcorr::kernel {
namespace {

TEST(AnalyzeTest, SobelIsAntisymmetricAndSeparable) {
  const Kernel k = ParseSpec("sobel-x");
  const Analysis a = Analyze(k);
  EXPECT_EQ(a.sum, 0);
  EXPECT_EQ(a.positive_sum, 4);
  EXPECT_EQ(a.negative_sum, -4);
  EXPECT_EQ(a.rotated, Kernel(3, 3, {1, 0, -1, 2, 0, -2, 1, 0, -1}));
  EXPECT_EQ(a.symmetric, Kernel(3, 3, std::vector<double>(9, 0.0)));
  EXPECT_EQ(a.antisymmetric, k);
  EXPECT_DOUBLE_EQ(a.asymmetry, 1.0);
  EXPECT_EQ(a.rank, 1);
  EXPECT_TRUE(a.separable);
  EXPECT_FALSE(a.centro_symmetric);
  EXPECT_FALSE(a.convolve_equals_correlate);
}

TEST(AnalyzeTest, GaussianIsSymmetricAndSeparable) {
  for (const char* spec : {"gaussian", "gaussian:2.5", "gaussian:1,5"}) {
    SCOPED_TRACE(spec);
    const Kernel k = ParseSpec(spec);
    const Analysis a = Analyze(k);
    EXPECT_NEAR(a.sum, 1.0, 1e-12);
    EXPECT_NEAR(a.positive_sum, 1.0, 1e-12);
    EXPECT_EQ(a.negative_sum, 0);
    EXPECT_EQ(a.rotated, k);
    EXPECT_EQ(a.symmetric, k);
    EXPECT_EQ(a.asymmetry, 0);
    // Rounded samples are not exactly rank 1: the tolerance must absorb it.
    EXPECT_EQ(a.rank, 1);
    EXPECT_TRUE(a.separable);
    EXPECT_TRUE(a.centro_symmetric);
    EXPECT_TRUE(a.convolve_equals_correlate);
  }
}

TEST(AnalyzeTest, LaplacianHasRankTwo) {
  for (const char* spec : {"laplacian", "laplacian:8"}) {
    SCOPED_TRACE(spec);
    const Analysis a = Analyze(ParseSpec(spec));
    EXPECT_EQ(a.sum, 0);
    EXPECT_EQ(a.rank, 2);
    EXPECT_FALSE(a.separable);
    EXPECT_TRUE(a.centro_symmetric);
    EXPECT_TRUE(a.convolve_equals_correlate);
    EXPECT_EQ(a.asymmetry, 0);
  }
}

TEST(AnalyzeTest, EvenBoxIsCentroSymmetricButShiftsUnderSame) {
  const Analysis a = Analyze(ParseSpec("box:2"));
  EXPECT_TRUE(a.centro_symmetric);
  // Anchor (1,1): the tap at offset (-1,-1) has no partner at (+1,+1).
  EXPECT_FALSE(a.convolve_equals_correlate);
  EXPECT_EQ(a.rank, 1);
  EXPECT_EQ(a.asymmetry, 0);
  EXPECT_EQ(a.rotated.anchor_x(), 0);
  EXPECT_EQ(a.rotated.anchor_y(), 0);
  EXPECT_TRUE(Analyze(ParseSpec("box")).convolve_equals_correlate);
}

TEST(AnalyzeTest, ConvolveEqualsCorrelateDependsOnTheAnchor) {
  // 0,1,2,1 with the anchor on the 2: taps 1,2,1 around it, 0 opposite an
  // absent tap.
  const Analysis a = Analyze(Kernel(1, 4, {0, 1, 2, 1}, 2, 0));
  EXPECT_TRUE(a.convolve_equals_correlate);
  EXPECT_FALSE(a.centro_symmetric);
  EXPECT_TRUE(Analyze(ParseSpec("0,1,2,1")).convolve_equals_correlate);
  EXPECT_TRUE(Analyze(ParseSpec("4x1+2+0:0,1,2,1")).convolve_equals_correlate);
  EXPECT_FALSE(Analyze(ParseSpec("1,2,1,0")).convolve_equals_correlate);
  EXPECT_TRUE(
      Analyze(Kernel(1, 4, {1, 2, 1, 0}, 1, 0)).convolve_equals_correlate);
  // A symmetric 3-tap kernel anchored off centre is not.
  EXPECT_FALSE(
      Analyze(Kernel(1, 3, {1, 2, 1}, 0, 0)).convolve_equals_correlate);
  EXPECT_TRUE(Analyze(Kernel(1, 3, {1, 2, 1}, 0, 0)).centro_symmetric);
}

TEST(AnalyzeTest, EmbossSplitsIntoDeltaAndGradient) {
  const Kernel k = ParseSpec("emboss");
  const Analysis a = Analyze(k);
  EXPECT_EQ(a.sum, 1);
  EXPECT_EQ(a.positive_sum, 5);
  EXPECT_EQ(a.negative_sum, -4);
  EXPECT_EQ(a.rotated, Kernel(3, 3, {2, 1, 0, 1, 1, -1, 0, -1, -2}));
  EXPECT_EQ(a.symmetric, Kernel(3, 3, {0, 0, 0, 0, 1, 0, 0, 0, 0}));
  EXPECT_EQ(a.antisymmetric, Kernel(3, 3, {-2, -1, 0, -1, 0, 1, 0, 1, 2}));
  // ||K - rot K|| = 2 ||A|| = 2 sqrt(12), ||K|| = sqrt(13).
  EXPECT_DOUBLE_EQ(a.asymmetry, std::sqrt(12.0 / 13.0));
  EXPECT_EQ(a.rank, 3);  // det = -4
  EXPECT_FALSE(a.separable);
  EXPECT_FALSE(a.centro_symmetric);
  EXPECT_FALSE(a.convolve_equals_correlate);
}

TEST(AnalyzeTest, MotionAndShiftAreAsymmetric) {
  const Analysis motion = Analyze(ParseSpec("motion:5"));
  // K - rot K = .2 * [-1 -1 -1 -1 0 1 1 1 1]: sqrt(.32) / (2 sqrt(.2)).
  EXPECT_DOUBLE_EQ(motion.asymmetry, std::sqrt(0.32) / (2 * std::sqrt(0.2)));
  EXPECT_EQ(motion.rank, 1);
  EXPECT_FALSE(motion.centro_symmetric);
  EXPECT_FALSE(motion.convolve_equals_correlate);

  const Analysis shift = Analyze(ParseSpec("shift:1,0"));
  EXPECT_EQ(shift.rotated, Kernel(1, 3, {1, 0, 0}));
  // K - rot K = [-1 0 1]: sqrt(2) / 2.
  EXPECT_DOUBLE_EQ(shift.asymmetry, std::sqrt(2.0) / 2);
  EXPECT_FALSE(shift.convolve_equals_correlate);
}

TEST(AnalyzeTest, RankUsesARelativeTolerance) {
  EXPECT_EQ(Analyze(ParseSpec("1,2,3;2,4,6")).rank, 1);
  EXPECT_EQ(Analyze(ParseSpec("1,2;3,4")).rank, 2);
  EXPECT_EQ(Analyze(ParseSpec("1,1;1,1.001")).rank, 2);
  // 1e-12 is far below 1e-9 * sigma_max * 2: noise, not structure.
  EXPECT_EQ(Analyze(ParseSpec("1,1;1,1.000000000001")).rank, 1);
  // Scale does not matter.
  EXPECT_EQ(Analyze(ParseSpec("1e-200,2e-200;3e-200,4e-200")).rank, 2);
  EXPECT_EQ(Analyze(ParseSpec("1e300,1e300;1e300,1e300")).rank, 1);
  EXPECT_EQ(Analyze(ParseSpec("1e150,0;0,1e150")).rank, 2);
}

TEST(AnalyzeTest, ZeroKernelHasRankZero) {
  const Analysis a = Analyze(ParseSpec("0,0;0,0"));
  EXPECT_EQ(a.rank, 0);
  EXPECT_TRUE(a.separable);
  EXPECT_EQ(a.asymmetry, 0);
  EXPECT_TRUE(a.centro_symmetric);
  EXPECT_TRUE(a.convolve_equals_correlate);
}

TEST(AnalyzeTest, SymmetricAndAntisymmetricKeepTheAnchor) {
  const Kernel k = ParseSpec("3x2+0+1:1,2,3,4,5,6");
  const Analysis a = Analyze(k);
  EXPECT_EQ(a.rotated, Kernel(2, 3, {6, 5, 4, 3, 2, 1}, 2, 0));
  EXPECT_EQ(a.symmetric, Kernel(2, 3, {3.5, 3.5, 3.5, 3.5, 3.5, 3.5}, 0, 1));
  EXPECT_EQ(a.antisymmetric,
            Kernel(2, 3, {-2.5, -1.5, -0.5, 0.5, 1.5, 2.5}, 0, 1));
}

TEST(NormalizeScaleTest, UsesTheSumOrThePositiveSum) {
  const Normalization box = NormalizeScale(ParseSpec("1,2,1"));
  EXPECT_EQ(box.scale, 0.25);
  EXPECT_FALSE(box.used_positive_sum);
  EXPECT_FALSE(box.all_zero);

  // Sobel sums to 0: the positive sum 4 is used.
  const Normalization sobel = NormalizeScale(ParseSpec("sobel-x"));
  EXPECT_EQ(sobel.scale, 0.25);
  EXPECT_TRUE(sobel.used_positive_sum);
  EXPECT_FALSE(sobel.all_zero);

  // The LoG is made exactly zero-sum, so no 1e-17 leftover is divided by.
  const Normalization log = NormalizeScale(ParseSpec("log:1.3"));
  EXPECT_TRUE(log.used_positive_sum);
  EXPECT_GT(log.scale, 0);

  const Normalization negative = NormalizeScale(ParseSpec("-1,-1"));
  EXPECT_EQ(negative.scale, -0.5);
  EXPECT_FALSE(negative.used_positive_sum);

  const Normalization zero = NormalizeScale(ParseSpec("0,0"));
  EXPECT_EQ(zero.scale, 1);
  EXPECT_TRUE(zero.all_zero);
  EXPECT_FALSE(zero.used_positive_sum);
}

TEST(Rotate180Test, MirrorsWeightsAndAnchor) {
  const Kernel k(2, 3, {1, 2, 3, 4, 5, 6}, 0, 1);
  const Kernel r = Rotate180(k);
  EXPECT_EQ(r, Kernel(2, 3, {6, 5, 4, 3, 2, 1}, 2, 0));
  EXPECT_EQ(Rotate180(r), k);
}

}  // namespace
}  // namespace convcorr::kernel

namespace convcorr::kernel {
namespace {

TEST(FactorRankOne, ReconstructsAnOuterProduct) {
  // [1,2,1]^T x [-1,0,1] is sobel-x.
  const Kernel sobel(3, 3, {-1, 0, 1, -2, 0, 2, -1, 0, 1});
  const RankOneFactors f = FactorRankOne(sobel);
  EXPECT_LE(f.residual, 1e-12);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(f.column[r] * f.row[c], sobel.at(r, c), 1e-12);
    }
  }
  // Proportional to the textbook factors.
  EXPECT_NEAR(f.column[1] / f.column[0], 2.0, 1e-12);
  EXPECT_NEAR(f.row[1], 0.0, 1e-12);
}

TEST(FactorRankOne, ResidualOfARankTwoKernelIsLarge) {
  const Kernel laplacian(3, 3, {0, 1, 0, 1, -4, 1, 0, 1, 0});
  EXPECT_GT(FactorRankOne(laplacian).residual, 0.1);
}

TEST(FactorTerms, SumOfTermsReconstructsARankTwoKernel) {
  // laplacian:4 = [0 1 0; 1 -4 1; 0 1 0] has rank 2.
  const Kernel laplacian(3, 3, {0, 1, 0, 1, -4, 1, 0, 1, 0});
  const std::vector<RankOneFactors> terms = FactorTerms(laplacian, 4);
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_GT(terms[0].residual, 0.1);
  EXPECT_LT(terms[1].residual, 1e-12);
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) {
      const double sum = terms[0].column[r] * terms[0].row[c] +
                         terms[1].column[r] * terms[1].row[c];
      EXPECT_NEAR(sum, laplacian.at(r, c), 1e-12) << r << "," << c;
    }
  }
  // The first term is the best rank-1 factorisation.
  EXPECT_NEAR(terms[0].residual, FactorRankOne(laplacian).residual, 1e-12);
}

TEST(FactorTerms, StopsAtMaxTermsWithShrinkingResiduals) {
  // diag(1..5): five equal-energy directions, residual sqrt of what is left.
  std::vector<double> w(25, 0.0);
  for (int i = 0; i < 5; ++i) w[i * 5 + i] = i + 1;
  const std::vector<RankOneFactors> terms = FactorTerms(Kernel(5, 5, w), 3);
  ASSERT_EQ(terms.size(), 3u);
  // ||K||^2 = 55; after the 5, 4 and 3 terms, 2^2 + 1^2 = 5 is left.
  EXPECT_NEAR(terms[0].residual, std::sqrt(30.0 / 55), 1e-12);
  EXPECT_NEAR(terms[1].residual, std::sqrt(14.0 / 55), 1e-12);
  EXPECT_NEAR(terms[2].residual, std::sqrt(5.0 / 55), 1e-12);
  EXPECT_TRUE(FactorTerms(Kernel(5, 5, w), 0).empty());
}

TEST(FactorTerms, ZeroKernelHasOneZeroTerm) {
  const std::vector<RankOneFactors> terms =
      FactorTerms(Kernel(2, 3, std::vector<double>(6)), 4);
  ASSERT_EQ(terms.size(), 1u);
  EXPECT_EQ(terms[0].residual, 0.0);
  EXPECT_EQ(terms[0].column, std::vector<double>(2, 0.0));
  EXPECT_EQ(terms[0].row, std::vector<double>(3, 0.0));
}

TEST(FactorRankOne, ZeroKernelHasZeroFactors) {
  const RankOneFactors f = FactorRankOne(Kernel(2, 3, std::vector<double>(6)));
  EXPECT_EQ(f.residual, 0.0);
  EXPECT_EQ(f.column, std::vector<double>(2, 0.0));
  EXPECT_EQ(f.row, std::vector<double>(3, 0.0));
}

// --dilation: taps spread apart with zeros between, the anchor moved with
// its tap; rotating and dilating commute (so convolve with dilation is the
// dilated kernel convolved).
TEST(DilateTest, SpreadsTapsAndMovesTheAnchor) {
  const Kernel k(2, 3, {1, 2, 3, 4, 5, 6}, 2, 1);
  const Kernel d = Dilate(k, 2, 3);
  EXPECT_EQ(d.rows(), 3);
  EXPECT_EQ(d.cols(), 7);
  EXPECT_EQ(d.anchor_x(), 6);
  EXPECT_EQ(d.anchor_y(), 2);
  EXPECT_EQ(d.weights(), (std::vector<double>{1, 0, 0, 2, 0, 0, 3,  //
                                              0, 0, 0, 0, 0, 0, 0,  //
                                              4, 0, 0, 5, 0, 0, 6}));
  EXPECT_EQ(Dilate(k, 1, 1), k);
  for (const Kernel& any : {k, ParseSpec("emboss"), ParseSpec("motion:7,30"),
                            ParseSpec("1,2,3,4").WithAnchor(1, 0)}) {
    EXPECT_EQ(Rotate180(Dilate(any, 3, 2)), Dilate(Rotate180(any), 3, 2));
  }
}

}  // namespace
}  // namespace convcorr::kernel
