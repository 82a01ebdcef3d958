// The separable strategy (core/separable.cc) against the reference on
// every SIMD target: rank-1 kernels, sums of two to four rank-1 passes, a
// rank-2 kernel on interleaved 8-bit samples, and symmetric rank-1 kernels
// (SymRow and SymColumn, mirror pairs added before the multiply).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/engine_util.h"
#include "core/filter.h"
#include "core/oracle.h"

namespace {

using convcorr::kernel::Kernel;
using namespace convcorr::core;  // NOLINT: the engine under test
using convcorr::testing::Agrees;
using convcorr::testing::Bound;
using convcorr::testing::L1;
using convcorr::testing::OuterProduct;
using convcorr::testing::RandomPlane;
using convcorr::testing::SumOfOuterProducts;
using convcorr::testing::TypedImage;
namespace kernel = convcorr::kernel;

// Every border, for the tests to draw from.
constexpr BorderMode kBorders[] = {BorderMode::kReflect101,
                                   BorderMode::kReflect, BorderMode::kReplicate,
                                   BorderMode::kConstant, BorderMode::kWrap};

TEST_P(SimdTest, SeparableAgreesWithReference) {
  std::mt19937 rng(77);
  const int widths[] = {1, 5, 8, 17, 33, 64, 67, 129};
  const std::pair<int, int> shapes[] = {{1, 3}, {3, 1}, {2, 2},  {3, 5},
                                        {7, 7}, {6, 9}, {13, 13}};
  for (int w : widths) {
    const int h = 1 + static_cast<int>(rng() % 11);
    const Plane in = RandomPlane(w, h, rng, -300.0f, 300.0f);
    for (auto [kh, kw] : shapes) {
      const Kernel k = OuterProduct(kh, kw, rng)
                           .WithAnchor(static_cast<int>(rng() % kw),
                                       static_cast<int>(rng() % kh));
      const kernel::RankOneFactors f = kernel::FactorRankOne(k);
      ASSERT_LE(f.residual, kSeparableResidual);
      const Border border{kBorders[rng() % 5], -2.0f};
      // Each 1-D pass rounds kw (then kh) times, the float32 factors add two
      // roundings, the reference one.
      const double bound = (kh + kw + 3) * std::ldexp(1.0, -24) * L1(k) * 300.0;
      for (OutputSize size :
           {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
        const int threads = 1 + static_cast<int>(rng() % 3);
        EXPECT_TRUE(Agrees(
            CorrelateFast(in, k, border, size, threads, Method::kSeparable),
            CorrelateReference(in, k, border, size, 1), bound))
            << "width " << w << " height " << h << " kernel " << kh << "x" << kw
            << " size " << static_cast<int>(size);
      }
    }
  }
}

// A kernel whose row and column factors are both symmetric, of random
// weights: each mirror pair is added before its multiply (SymRow,
// SymColumn), for every centre-row size the two kernels unroll (m = 0 to
// 4) and one beyond.
Kernel SymmetricOuterProduct(int kh, int kw, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.1, 1.0);
  const auto symmetric = [&](int n) {
    std::vector<double> v(n);
    for (int j = 0; j <= n / 2; ++j) v[j] = v[n - 1 - j] = u(rng);
    return v;
  };
  const std::vector<double> col = symmetric(kh);
  const std::vector<double> row = symmetric(kw);
  std::vector<double> w;
  for (int i = 0; i < kh; ++i) {
    for (int j = 0; j < kw; ++j) w.push_back(col[i] * row[j]);
  }
  return Kernel(kh, kw, w);
}

// Plane mirrored left to right, or top to bottom.
Plane Mirrored(const Plane& p, bool across) {
  Plane m(p.width, p.height);
  for (int y = 0; y < p.height; ++y) {
    for (int x = 0; x < p.width; ++x) {
      m.at(y, x) =
          across ? p.at(y, p.width - 1 - x) : p.at(p.height - 1 - y, x);
    }
  }
  return m;
}

TEST_P(SimdTest, SymmetricSeparableAgreesWithReferenceAndMirrorsExactly) {
  std::mt19937 rng(80);
  const int widths[] = {1, 6, 16, 31, 67, 130};
  const std::pair<int, int> shapes[] = {{1, 3}, {3, 1}, {3, 3}, {5, 5},  {7, 7},
                                        {9, 9}, {3, 7}, {7, 3}, {11, 13}};
  for (int w : widths) {
    const int h = 1 + static_cast<int>(rng() % 14);
    const Plane in = RandomPlane(w, h, rng, -300.0f, 300.0f);
    for (auto [kh, kw] : shapes) {
      const Kernel centred = SymmetricOuterProduct(kh, kw, rng);
      ASSERT_EQ(Correlator(centred, Method::kSeparable).terms(), 1);
      const Kernel k = centred.WithAnchor(static_cast<int>(rng() % kw),
                                          static_cast<int>(rng() % kh));
      const Border border{kBorders[rng() % 5], -2.0f};
      // As for any rank-1 kernel: the pairs' additions round once more per
      // pair, within the bound's (kh + kw) roundings.
      const double bound = (kh + kw + 3) * std::ldexp(1.0, -24) * L1(k) * 300.0;
      for (OutputSize size :
           {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
        const Plane one =
            CorrelateFast(in, k, border, size, 1, Method::kSeparable);
        EXPECT_TRUE(
            Agrees(one, CorrelateReference(in, k, border, size, 1), bound))
            << "width " << w << " height " << h << " kernel " << kh << "x" << kw
            << " size " << static_cast<int>(size);
        EXPECT_EQ(CorrelateFast(in, k, border, size, 3, Method::kSeparable),
                  one);
      }
      // With the anchor at the centre and a border that mirrors too, a
      // mirrored input gives the mirrored output bit for bit: each pair's
      // two samples are added before the multiply, whichever side they
      // come from. Taps summed one by one, left to right, would round
      // differently on the two sides.
      const Border mirror{BorderMode::kReflect101, 0.0f};
      const Plane out = CorrelateFast(in, centred, mirror, OutputSize::kSame, 2,
                                      Method::kSeparable);
      for (const bool across : {true, false}) {
        EXPECT_EQ(CorrelateFast(Mirrored(in, across), centred, mirror,
                                OutputSize::kSame, 2, Method::kSeparable),
                  Mirrored(out, across))
            << "width " << w << " height " << h << " kernel " << kh << "x" << kw
            << (across ? " mirrored across" : " mirrored down");
      }
    }
  }
}

// Bound for a sum of r rank-1 passes: each term's row pass rounds kw times
// and the column pass kh * r times, on partial sums no larger than
// sum_t |c_t|_1 |r_t|_1 max|I| (the terms of an SVD can cancel, so this is
// at least sum|K| max|I|); the float32 factors add two roundings per term,
// the reference one; the terms left out are within kSeparableResidual of K
// in Frobenius norm, so at most sqrt(kh kw) times that in L1.
double LowRankBound(const Kernel& k, double max_input) {
  const std::vector<kernel::RankOneFactors> terms =
      kernel::FactorTerms(k, kMaxSeparableTerms);
  const int r = SeparableTerms(terms);
  double l1 = 0;
  double frobenius = 0;
  for (int t = 0; t < r; ++t) {
    double c = 0, w = 0;
    for (double v : terms[t].column) c += std::fabs(v);
    for (double v : terms[t].row) w += std::fabs(v);
    l1 += c * w;
  }
  for (double v : k.weights()) frobenius += v * v;
  const double u = std::ldexp(1.0, -24);
  return ((k.cols() + k.rows() * r + 2 * r + 1) * u * l1 +
          std::sqrt(k.rows() * k.cols() * frobenius) * kSeparableResidual) *
         max_input;
}

// Kernels of rank 2 to 4 as sums of rank-1 passes, against the reference,
// over widths, borders, sizes, anchors and thread counts; TapRows4 and
// TapRow (the rows left at the end of a band) must give the same samples,
// so the thread count cannot change them.
TEST_P(SimdTest, LowRankSeparableAgreesWithReference) {
  std::mt19937 rng(78);
  const int widths[] = {1, 7, 16, 33, 67, 130};
  const std::pair<int, int> shapes[] = {{2, 2}, {3, 5}, {5, 3},
                                        {7, 7}, {6, 9}, {13, 11}};
  int cases = 0;
  for (int w : widths) {
    const int h = 1 + static_cast<int>(rng() % 13);
    const Plane in = RandomPlane(w, h, rng, -300.0f, 300.0f);
    for (auto [kh, kw] : shapes) {
      for (int rank = 2; rank <= std::min({4, kh, kw}); ++rank) {
        const Kernel k = SumOfOuterProducts(kh, kw, rank, rng)
                             .WithAnchor(static_cast<int>(rng() % kw),
                                         static_cast<int>(rng() % kh));
        ASSERT_EQ(SeparableTerms(kernel::FactorTerms(k, kMaxSeparableTerms)),
                  rank);
        ASSERT_EQ(Correlator(k, Method::kSeparable).terms(), rank);
        const Border border{kBorders[rng() % 5], 3.0f};
        const double bound = LowRankBound(k, 300.0);
        for (OutputSize size :
             {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
          const Plane one =
              CorrelateFast(in, k, border, size, 1, Method::kSeparable);
          EXPECT_TRUE(
              Agrees(one, CorrelateReference(in, k, border, size, 1), bound))
              << "width " << w << " height " << h << " kernel " << kh << "x"
              << kw << " rank " << rank << " size " << static_cast<int>(size);
          EXPECT_EQ(CorrelateFast(in, k, border, size, 3, Method::kSeparable),
                    one);
          ++cases;
        }
      }
    }
  }
  EXPECT_GT(cases, 150);
}

// Random interleaved 8-bit RGB samples, and the same as three float
// planes for the reference.
TypedImage RandomInterleavedU8(int w, int h, std::mt19937& rng,
                               std::vector<Plane>& planes) {
  TypedImage in(Depth::kU8, true, w, h);
  planes.assign(3, Plane(w, h));
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const auto v = static_cast<float>(rng() % 256);
        in.Set(c, y, x, v);
        planes[c].at(y, x) = v;
      }
    }
  }
  return in;
}

// Interleaved 8-bit samples through a rank-2 kernel (the packed ring rows
// hold both terms side by side): within one unit of the reference rounded,
// whatever the thread count.
TEST_P(SimdTest, LowRankSeparableOnInterleavedSamples) {
  std::mt19937 rng(79);
  const int w = 61, h = 23;
  std::vector<Plane> planes;
  TypedImage in = RandomInterleavedU8(w, h, rng, planes);
  // A difference of Gaussians, normalised to keep results in range.
  std::vector<double> dog;
  for (int i = -6; i <= 6; ++i) {
    for (int j = -5; j <= 5; ++j) {
      dog.push_back(std::exp(-(i * i + j * j) / 2.0) -
                    0.2 * std::exp(-(i * i + j * j) / 8.0));
    }
  }
  double sum = 0;
  for (double v : dog) sum += v;
  for (double& v : dog) v /= sum;
  const Kernel k = Kernel(13, 11, dog).WithAnchor(3, 8);
  ASSERT_EQ(Correlator(k, Method::kAuto).method(), Method::kSeparable);
  EngineOptions opt;
  opt.border = {BorderMode::kReflect101, 0.0f};
  opt.threads = 2;
  TypedImage out(Depth::kU8, true, w, h);
  const uint64_t saturated =
      Correlator(k, Method::kAuto).Run(in.ConstView(), out.View(), opt);
  uint64_t ref_saturated = 0;
  for (int c = 0; c < 3; ++c) {
    Plane ref =
        CorrelateReference(planes[c], k, opt.border, OutputSize::kSame, 1);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const double r = std::nearbyint(ref.at(y, x));
        const double clamped = std::clamp(r, 0.0, 255.0);
        ref_saturated += clamped != r;
        ASSERT_LE(std::fabs(out.Get(c, y, x) - clamped), 1.0)
            << "c " << c << " x " << x << " y " << y;
      }
    }
  }
  // Sums that land within a rounding of -0.5 or 255.5 may count either way.
  EXPECT_LE(saturated > ref_saturated ? saturated - ref_saturated
                                      : ref_saturated - saturated,
            3u);
  // One thread (every band ends in TapRow rows) gives the same samples.
  TypedImage one(Depth::kU8, true, w, h);
  opt.threads = 1;
  Correlator(k, Method::kAuto).Run(in.ConstView(), one.View(), opt);
  EXPECT_EQ(one.buffers, out.buffers);
}

// A 7x7 Gaussian on interleaved 8-bit samples (the symmetric passes over
// the packed rows, three samples a pixel apart, the column pass rounding
// and storing its sums itself): every sample is the reference's rounded,
// but where the exact sum lies within float rounding of a half, whatever
// the thread count; so is the Gaussian times 3 (saturating at 255),
// times -1 (saturating at 0), and times -1 with |sum|; and the saturated
// samples are counted as the reference's.
TEST_P(SimdTest, SymmetricSeparableOnInterleavedSamples) {
  std::mt19937 rng(81);
  const int w = 83, h = 29;
  std::vector<Plane> planes;
  TypedImage in = RandomInterleavedU8(w, h, rng, planes);
  struct Case {
    double gain;
    bool abs;
  };
  for (const Case& kase :
       {Case{1, false}, Case{3, false}, Case{-1, false}, Case{-1, true}}) {
    std::vector<double> g;
    double sum = 0;
    for (int i = -3; i <= 3; ++i) {
      for (int j = -3; j <= 3; ++j) {
        g.push_back(std::exp(-(i * i + j * j) / (2 * 1.5 * 1.5)));
        sum += g.back();
      }
    }
    for (double& v : g) v *= kase.gain / sum;
    const Kernel k(7, 7, g);
    ASSERT_EQ(Correlator(k, Method::kAuto).method(), Method::kSeparable);
    EngineOptions opt;
    opt.border = {BorderMode::kReflect101, 0.0f};
    opt.abs = kase.abs;
    for (const int threads : {1, 2, 3}) {
      SCOPED_TRACE("gain " + std::to_string(kase.gain) + " abs " +
                   std::to_string(kase.abs) + ", " + std::to_string(threads) +
                   " threads");
      opt.threads = threads;
      TypedImage out(Depth::kU8, true, w, h);
      const uint64_t saturated =
          Correlator(k, Method::kAuto).Run(in.ConstView(), out.View(), opt);
      int off = 0;
      uint64_t ref_saturated = 0;
      for (int c = 0; c < 3; ++c) {
        const Plane ref =
            CorrelateReference(planes[c], k, opt.border, OutputSize::kSame, 1);
        for (int y = 0; y < h; ++y) {
          for (int x = 0; x < w; ++x) {
            const double r = kase.abs ? std::fabs(ref.at(y, x)) : ref.at(y, x);
            const double rounded = std::nearbyint(r);
            const double clamped = std::clamp(rounded, 0.0, 255.0);
            ref_saturated += clamped != rounded;
            const float got = out.Get(c, y, x);
            ASSERT_LE(std::fabs(got - clamped), 1.0);
            if (got != clamped) {
              // Only a sum this close to a half may round the other way.
              EXPECT_LT(std::fabs(std::fabs(r - std::trunc(r)) - 0.5), 1e-4)
                  << "c " << c << " x " << x << " y " << y << " sum " << r;
              ++off;
            }
          }
        }
      }
      EXPECT_LE(off, 2);
      // Sums within a rounding of -0.5 or 255.5 may count either way.
      EXPECT_LE(saturated > ref_saturated ? saturated - ref_saturated
                                          : ref_saturated - saturated,
                2u);
      if (kase.gain != 1 && !kase.abs) {
        EXPECT_GT(saturated, 1000u);
      }
    }
  }
}

}  // namespace
