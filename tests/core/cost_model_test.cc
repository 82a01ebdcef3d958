// The cost model (core/cost_model.cc): the strategy ChooseMethod picks for
// kernels whose costs are worked out by hand in the comments.
#include "core/cost_model.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "core/oracle.h"
#include "kernel/kernel.h"
#include "kernel/spec.h"

namespace {

using convcorr::kernel::Kernel;
using convcorr::testing::RandomKernel;
using namespace convcorr::core;  // NOLINT: the cost model under test
namespace kernel = convcorr::kernel;

TEST(ChooseMethod, CostModel) {
  const auto choose = [](const Kernel& k, Method requested = Method::kAuto) {
    return ChooseMethod(k, kernel::FactorTerms(k, kMaxSeparableTerms),
                        requested);
  };
  std::mt19937 rng(9);
  // Sobel: 6 non-zero taps of 9, sparse (6 + 1.5) beats direct (9 + 1.5)
  // and separable (1.25 (3 + 3) + 0.5 (3 + 1) + 7).
  const Kernel sobel(3, 3, {-1, 0, 1, -2, 0, 2, -1, 0, 1});
  EXPECT_EQ(choose(sobel), Method::kSparse);
  EXPECT_EQ(choose(sobel, Method::kSeparable), Method::kSeparable);
  EXPECT_EQ(choose(sobel, Method::kDirect), Method::kDirect);
  EXPECT_EQ(choose(sobel, Method::kFft), Method::kFft);
  // 5x5 of ones: separable with symmetric factors (1.25 (3 + 3) + 0.5 (5 +
  // 1) + 2) beats direct (25 + 2.5); so does 3x3 of ones (1.25 (2 + 2) +
  // 0.5 (3 + 1) + 2 against 9 + 1.5), but not a 3x3 rank-1 kernel whose
  // factors are not symmetric (1.25 (3 + 3) + 0.5 (3 + 1) + 7).
  const Kernel ones(5, 5, std::vector<double>(25, 1.0));
  EXPECT_EQ(choose(ones), Method::kSeparable);
  EXPECT_EQ(choose(ones, Method::kDirect), Method::kDirect);
  EXPECT_EQ(choose(Kernel(3, 3, std::vector<double>(9, 1.0))),
            Method::kSeparable);
  EXPECT_EQ(choose(Kernel(3, 3, {1, 2, 4, 1, 2, 4, 1, 2, 4})), Method::kDirect);
  // A rank-2 cross: its 9 taps of 25 go sparse (9 + 2.5) rather than two
  // rank-1 passes (1.25 * 2 (5 + 5) + 0.5 (2 * 5 + 1) + 2 * 7), which it can
  // run.
  std::vector<double> cross(25, 0.0);
  for (int i = 0; i < 5; ++i) {
    cross[2 * 5 + i] = 1;
    cross[i * 5 + 2] = 1;
  }
  EXPECT_EQ(choose(Kernel(5, 5, cross)), Method::kSparse);
  EXPECT_EQ(choose(Kernel(5, 5, cross), Method::kSeparable),
            Method::kSeparable);
  EXPECT_EQ(EstimateCosts(Kernel(5, 5, cross),
                          kernel::FactorTerms(Kernel(5, 5, cross), 4))
                .separable_terms,
            2);
  // A dense rank-2 15x15 (a difference of two Gaussians) runs as two rank-1
  // passes: 1.25 * 2 (15 + 15) + 0.5 (2 * 15 + 1) + 2 * 7 = 104.5 against
  // 232.5.
  std::vector<double> dog;
  for (int i = -7; i <= 7; ++i) {
    for (int j = -7; j <= 7; ++j) {
      dog.push_back(std::exp(-(i * i + j * j) / 8.0) -
                    0.5 * std::exp(-(i * i + j * j) / 32.0));
    }
  }
  EXPECT_EQ(choose(Kernel(15, 15, dog)), Method::kSeparable);
  // A rank-5 diagonal is past the four terms separable sums.
  std::vector<double> diag(25, 0.0);
  for (int i = 0; i < 5; ++i) diag[i * 5 + i] = i + 1;
  EXPECT_EQ(choose(Kernel(5, 5, diag), Method::kSeparable), Method::kDirect);
  EXPECT_EQ(EstimateCosts(Kernel(5, 5, diag),
                          kernel::FactorTerms(Kernel(5, 5, diag), 4))
                .separable_terms,
            0);
  // Dense random kernels: direct while small, the FFT once the taps
  // outweigh a tile's transforms.
  EXPECT_EQ(choose(RandomKernel(5, 5, rng)), Method::kDirect);
  EXPECT_EQ(choose(RandomKernel(15, 15, rng)), Method::kDirect);
  EXPECT_EQ(choose(RandomKernel(63, 63, rng)), Method::kFft);
  const Costs big = EstimateCosts(RandomKernel(63, 63, rng), {});
  EXPECT_LT(big.fft, big.direct / 3);
  // A 31-tap motion line in a 53x31 box goes sparse.
  std::vector<double> line(31 * 53, 0.0);
  for (int i = 0; i < 31; ++i) line[i * 53 + (i * 52) / 30] = 1.0 / 31;
  EXPECT_EQ(choose(Kernel(31, 53, line)), Method::kSparse);
  // 1x1 kernels other than identity (`-k 2`, box:1, shift:0,0) run
  // sparse, a row at a time, as every one-row kernel whose taps tie:
  // an FFT tile costs its transforms whatever the kernel (once priced at
  // 21 * 1 * log2(1) = 0, which sent them to a 6-second FFT).
  for (const double w : {2.0, 1.0, -0.5}) {
    const Kernel one(1, 1, {w});
    EXPECT_EQ(choose(one), Method::kSparse) << w;
    const Costs c = EstimateCosts(one, kernel::FactorTerms(one, 4));
    EXPECT_GT(c.fft, 50 * c.direct) << w;
  }
  // The shapes of bench/method_bench (docs/performance.md, "The cost
  // model: auto against every forced method"), where auto's pick is the
  // fastest forced method or within 1.25x of it.
  const std::pair<const char*, Method> shapes[] = {
      {"shift:40,25", Method::kSparse},
      {"motion:127,10", Method::kSparse},
      {"motion:63,45", Method::kSparse},
      {"box:31", Method::kSeparable},
      {"gaussian:20,121", Method::kSeparable},
      // Symmetric factors: the mirror pairs make a 3x3 box cheaper apart
      // than whole (method_bench at 1080p: 0.60 against direct's 0.84 ms).
      {"box:3", Method::kSeparable},
      {"laplacian", Method::kSparse}};
  for (const auto& [spec, method] : shapes) {
    EXPECT_EQ(choose(kernel::ParseSpec(spec)), method) << spec;
  }
  EXPECT_EQ(choose(RandomKernel(1, 3, rng)), Method::kSparse);
  EXPECT_EQ(choose(RandomKernel(1, 127, rng)), Method::kSparse);
  EXPECT_EQ(choose(RandomKernel(3, 1, rng)), Method::kDirect);
  EXPECT_EQ(choose(RandomKernel(127, 1, rng)), Method::kDirect);
  EXPECT_EQ(choose(RandomKernel(3, 127, rng)), Method::kDirect);
  EXPECT_EQ(choose(RandomKernel(2, 2, rng)), Method::kDirect);
  EXPECT_EQ(choose(RandomKernel(255, 255, rng)), Method::kFft);
  // auto factors the kernel only where separable could win, and the
  // choice is the same as with every term.
  for (const char* spec :
       {"shift:40,25", "shift:1,0", "sobel-x", "laplacian", "motion:63,45",
        "box:3", "box:9", "box:31", "gaussian:20,121", "identity", "2"}) {
    const Kernel k = kernel::ParseSpec(spec);
    EXPECT_EQ(ChooseMethod(k, FactorsFor(k, Method::kAuto), Method::kAuto),
              choose(k))
        << spec;
  }
  for (const Kernel& k : {RandomKernel(3, 3, rng), RandomKernel(15, 15, rng),
                          RandomKernel(1, 9, rng), RandomKernel(63, 63, rng),
                          Kernel(15, 15, dog), Kernel(5, 5, cross)}) {
    EXPECT_EQ(ChooseMethod(k, FactorsFor(k, Method::kAuto), Method::kAuto),
              choose(k));
  }
  EXPECT_TRUE(
      FactorsFor(kernel::ParseSpec("shift:40,25"), Method::kAuto).empty());
  EXPECT_TRUE(FactorsFor(kernel::ParseSpec("sobel-x"), Method::kAuto).empty());
  EXPECT_FALSE(FactorsFor(kernel::ParseSpec("box:9"), Method::kAuto).empty());
  EXPECT_FALSE(
      FactorsFor(kernel::ParseSpec("sobel-x"), Method::kSeparable).empty());
  // Symmetric factors, to the decomposition's rounding; odd sizes only.
  EXPECT_TRUE(SymmetricFactor({1.0, 2.0, 1.0}));
  EXPECT_TRUE(SymmetricFactor({3.0}));
  EXPECT_TRUE(SymmetricFactor({0.25, 0.5, 0.25 + 1e-17}));
  EXPECT_FALSE(SymmetricFactor({0.25, 0.5, 0.25 + 1e-9}));
  EXPECT_FALSE(SymmetricFactor({1.0, 1.0}));
  EXPECT_FALSE(SymmetricFactor({1.0, 2.0, -1.0}));
  {
    const Kernel box = kernel::ParseSpec("box:3");
    const Costs c = EstimateCosts(box, FactorsFor(box, Method::kAuto));
    EXPECT_LT(c.separable, c.direct);
  }
  // Every method has a name for -v.
  for (Method m : {Method::kAuto, Method::kDirect, Method::kSparse,
                   Method::kSeparable, Method::kFft}) {
    EXPECT_STRNE(MethodName(m), "?");
  }
}

}  // namespace
