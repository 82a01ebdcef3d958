// The fast engine against the reference, on every SIMD target compiled into
// the binary that this CPU can run (Highway's per-target tests): every
// strategy, over widths that exercise the 4-vector blocks and the single
// vectors of every vector length, with all borders, sizes, anchors, kernel
// shapes and thread counts; then 8- and 16-bit, planar and interleaved
// views with the fused store.
#include <gtest/gtest.h>
#include <hwy/tests/hwy_gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
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
           << "size " << simd.width << "x" << simd.height << " vs " << ref.width
           << "x" << ref.height;
  }
  for (int y = 0; y < ref.height; ++y) {
    for (int x = 0; x < ref.width; ++x) {
      const double e = std::fabs(double(simd.at(y, x)) - ref.at(y, x));
      if (!(e <= bound)) {
        return ::testing::AssertionFailure()
               << "first bad pixel at x=" << x << " y=" << y << ": simd "
               << simd.at(y, x) << " reference " << ref.at(y, x) << " (bound "
               << bound << ")";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

class SimdTest : public hwy::TestWithParamTarget {};
HWY_TARGET_INSTANTIATE_TEST_SUITE_P(SimdTest);

// A random kernel with about a third of its taps zero, so that the sparse
// strategy has zeros to skip.
Kernel SparseKernel(int kh, int kw, std::mt19937& rng) {
  Kernel k = RandomKernel(kh, kw, rng);
  std::vector<double> w(k.weights().begin(), k.weights().end());
  for (double& v : w) {
    if (rng() % 3 == 0) v = 0.0;
  }
  return Kernel(kh, kw, w);
}

// Bound on |fft - reference|: the float32 transforms round in each of their
// log2(nh*nw) stages (at most 21 for the tile sizes the engine picks, so 24
// here) by about 2^-24 of a magnitude no larger than sum|K| max|I| per
// output; the factor 8 covers the forward and inverse transforms and the
// spectrum product. Observed errors stay below a tenth of this bound.
double FftBound(const kernel::Kernel& k, double max_input) {
  return 8 * 24 * std::ldexp(1.0, -24) * L1(k) * max_input;
}

void CheckMethodAgainstReference(Method method, uint32_t seed) {
  std::mt19937 rng(seed);
  const int widths[] = {1,  2,  3,  7,  8,  9,  15, 16, 17,
                        31, 33, 63, 64, 65, 67, 70, 129};
  const std::pair<int, int> shapes[] = {{1, 1}, {1, 2},  {2, 1}, {3, 3},
                                        {2, 4}, {5, 5},  {4, 7}, {9, 2},
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
          (method == Method::kSparse ? SparseKernel(kh, kw, rng)
                                     : RandomKernel(kh, kw, rng))
              .WithAnchor(static_cast<int>(rng() % kw),
                          static_cast<int>(rng() % kh));
      const Border border{borders[rng() % 5], 4.5f};
      const double bound =
          method == Method::kFft ? FftBound(k, 300.0) : Bound(k, 300.0);
      for (OutputSize size :
           {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
        const int threads = 1 + static_cast<int>(rng() % 3);
        const Plane ref = CorrelateReference(in, k, border, size, 1);
        const Plane fast = CorrelateFast(in, k, border, size, threads, method);
        EXPECT_TRUE(Agrees(fast, ref, bound))
            << MethodName(method) << " width " << w << " height " << h
            << " kernel " << kh << "x" << kw << " anchor (" << k.anchor_x()
            << "," << k.anchor_y() << ") border "
            << static_cast<int>(border.mode) << " size "
            << static_cast<int>(size) << " threads " << threads;
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 17 * 10 * 3);
}

TEST_P(SimdTest, DirectAgreesWithReference) {
  CheckMethodAgainstReference(Method::kDirect, 2026);
}

TEST_P(SimdTest, SparseAgreesWithReference) {
  CheckMethodAgainstReference(Method::kSparse, 31);
}

TEST_P(SimdTest, FftAgreesWithReference) {
  CheckMethodAgainstReference(Method::kFft, 63);
}

// Larger kernels and images, where the FFT runs several tiles each way and
// the last tiles are partial.
TEST_P(SimdTest, FftTilesAgreeWithReference) {
  std::mt19937 rng(64);
  for (auto [kh, kw, w, h] : {std::array<int, 4>{17, 23, 301, 190},
                              std::array<int, 4>{40, 9, 150, 260},
                              std::array<int, 4>{63, 63, 200, 130}}) {
    const Plane in = RandomPlane(w, h, rng, 0.0f, 255.0f);
    const Kernel k = RandomKernel(kh, kw, rng)
                         .WithAnchor(static_cast<int>(rng() % kw),
                                     static_cast<int>(rng() % kh));
    for (OutputSize size : {OutputSize::kSame, OutputSize::kFull}) {
      const Border border{BorderMode::kReflect101, 0.0f};
      EXPECT_TRUE(Agrees(CorrelateFast(in, k, border, size, 2, Method::kFft),
                         CorrelateReference(in, k, border, size, 2),
                         FftBound(k, 255.0)))
          << "kernel " << kh << "x" << kw << " image " << w << "x" << h;
    }
  }
}

// NaN and infinity would spread over a whole FFT tile: such planes are
// filtered directly, so they reach exactly the outputs they touch.
TEST_P(SimdTest, FftKeepsNonFiniteSamplesLocal) {
  std::mt19937 rng(65);
  Plane in = RandomPlane(90, 70, rng);
  in.at(10, 10) = std::numeric_limits<float>::quiet_NaN();
  in.at(50, 60) = std::numeric_limits<float>::infinity();
  const Kernel k = RandomKernel(9, 9, rng);
  const Plane fast =
      CorrelateFast(in, k, {}, OutputSize::kSame, 1, Method::kFft);
  const Plane ref = CorrelateReference(in, k, {}, OutputSize::kSame, 1);
  for (int y = 0; y < 70; ++y) {
    for (int x = 0; x < 90; ++x) {
      ASSERT_EQ(std::isfinite(fast.at(y, x)), std::isfinite(ref.at(y, x)))
          << "x=" << x << " y=" << y;
    }
  }
  EXPECT_TRUE(std::isfinite(fast.at(30, 30)));
  EXPECT_FALSE(std::isfinite(fast.at(10, 10)));
}

TEST_P(SimdTest, ThreadCountDoesNotChangeTheResult) {
  std::mt19937 rng(5);
  const Plane in = RandomPlane(97, 41, rng);
  const kernel::Kernel k = SparseKernel(5, 6, rng);
  for (Method method : {Method::kDirect, Method::kSparse, Method::kFft}) {
    const Plane one = CorrelateFast(in, k, {}, OutputSize::kSame, 1, method);
    for (int threads : {2, 3, 8}) {
      EXPECT_EQ(CorrelateFast(in, k, {}, OutputSize::kSame, threads, method),
                one)
          << MethodName(method) << " threads " << threads;
    }
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
  const std::pair<int, int> shapes[] = {{1, 3}, {3, 1}, {2, 2},  {3, 5},
                                        {7, 7}, {6, 9}, {13, 13}};
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kReflect,
                                BorderMode::kReplicate, BorderMode::kConstant,
                                BorderMode::kWrap};
  for (int w : widths) {
    const int h = 1 + static_cast<int>(rng() % 11);
    const Plane in = RandomPlane(w, h, rng, -300.0f, 300.0f);
    for (auto [kh, kw] : shapes) {
      const Kernel k = OuterProduct(kh, kw, rng)
                           .WithAnchor(static_cast<int>(rng() % kw),
                                       static_cast<int>(rng() % kh));
      const kernel::RankOneFactors f = kernel::FactorRankOne(k);
      ASSERT_LE(f.residual, kSeparableResidual);
      const Border border{borders[rng() % 5], -2.0f};
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

// Samples of one type in memory, planar (one buffer per channel) or
// interleaved (one buffer, step 3), and the views of them.
struct TypedImage {
  Depth type;
  bool interleaved;
  int width, height;
  std::vector<std::vector<std::byte>> buffers;

  TypedImage(Depth t, bool inter, int w, int h)
      : type(t), interleaved(inter), width(w), height(h) {
    const size_t bytes = static_cast<size_t>(w) * h * SampleBytes(t);
    buffers.assign(inter ? 1 : 3,
                   std::vector<std::byte>(inter ? 3 * bytes : bytes));
  }
  std::byte* At(int c, int y, int x) {
    const size_t s = SampleBytes(type);
    if (interleaved) {
      return buffers[0].data() +
             ((static_cast<size_t>(y) * width + x) * 3 + c) * s;
    }
    return buffers[c].data() + (static_cast<size_t>(y) * width + x) * s;
  }
  void Set(int c, int y, int x, float v) {
    std::byte* p = At(c, y, x);
    if (type == Depth::kU8) {
      *reinterpret_cast<uint8_t*>(p) = static_cast<uint8_t>(v);
    } else if (type == Depth::kU16) {
      const auto u = static_cast<uint16_t>(v);
      std::memcpy(p, &u, 2);
    } else {
      std::memcpy(p, &v, 4);
    }
  }
  float Get(int c, int y, int x) {
    const std::byte* p = At(c, y, x);
    if (type == Depth::kU8) return *reinterpret_cast<const uint8_t*>(p);
    if (type == Depth::kU16) {
      uint16_t u;
      std::memcpy(&u, p, 2);
      return u;
    }
    float f;
    std::memcpy(&f, p, 4);
    return f;
  }
  ImageView View() {
    ImageView v;
    v.channels = 3;
    v.width = width;
    v.height = height;
    v.type = type;
    const size_t s = SampleBytes(type);
    v.step = interleaved ? 3 : 1;
    v.row_bytes = static_cast<std::ptrdiff_t>(width * v.step * s);
    for (int c = 0; c < 3; ++c) v.base[c] = At(c, 0, 0);
    return v;
  }
  ConstImageView ConstView() {
    const ImageView m = View();
    ConstImageView v;
    v.channels = m.channels;
    v.width = m.width;
    v.height = m.height;
    v.type = m.type;
    v.row_bytes = m.row_bytes;
    v.step = m.step;
    for (int c = 0; c < 3; ++c) v.base[c] = m.base[c];
    return v;
  }
};

// A random kernel of rank `rank`: a sum of that many random outer products.
Kernel SumOfOuterProducts(int kh, int kw, int rank, std::mt19937& rng) {
  std::vector<double> w(static_cast<size_t>(kh) * kw, 0.0);
  for (int t = 0; t < rank; ++t) {
    const Kernel term = OuterProduct(kh, kw, rng);
    for (size_t i = 0; i < w.size(); ++i) w[i] += term.weights()[i];
  }
  return Kernel(kh, kw, w);
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
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kReflect,
                                BorderMode::kReplicate, BorderMode::kConstant,
                                BorderMode::kWrap};
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
        const Border border{borders[rng() % 5], 3.0f};
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

// Frames whose ring would not fit the cache budget are filtered in strips
// of at least 64 output columns: the samples must not change, for every
// row-streaming strategy, layout, border and size, with a last strip of
// any width.
TEST_P(SimdTest, StripsGiveTheSameSamples) {
  std::mt19937 rng(80);
  const Kernel dense = RandomKernel(5, 7, rng).WithAnchor(1, 3);
  const Kernel sparse = SparseKernel(4, 9, rng).WithAnchor(6, 0);
  const Kernel rank2 = SumOfOuterProducts(5, 6, 2, rng).WithAnchor(2, 4);
  const std::pair<const Kernel*, Method> cases[] = {
      {&dense, Method::kDirect},
      {&sparse, Method::kSparse},
      {&rank2, Method::kSeparable},
      {&dense, Method::kDirect}};
  int compared = 0;
  for (int w : {65, 130, 200, 257}) {
    const int h = 9 + static_cast<int>(rng() % 7);
    for (bool inter : {false, true}) {
      TypedImage in(Depth::kU8, inter, w, h);
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < h; ++y) {
          for (int x = 0; x < w; ++x) in.Set(c, y, x, float(rng() % 256));
        }
      }
      for (const auto& [k, method] : cases) {
        for (OutputSize size :
             {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
          const Extent e = OutputExtent(w, h, *k, size);
          TypedImage whole(Depth::kF32, inter, e.width, e.height);
          TypedImage strips(Depth::kF32, inter, e.width, e.height);
          EngineOptions opt;
          opt.border = {static_cast<BorderMode>(rng() % 5), 7.0f};
          opt.size = size;
          opt.threads = 1 + static_cast<int>(rng() % 2);
          const Correlator corr(*k, method);
          corr.Run(in.ConstView(), whole.View(), opt);
          opt.ring_bytes = 1;  // strips of 64 columns
          corr.Run(in.ConstView(), strips.View(), opt);
          EXPECT_EQ(strips.buffers, whole.buffers)
              << MethodName(method) << " width " << w << " size "
              << static_cast<int>(size) << " interleaved " << inter;
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(compared, 4 * 2 * 4 * 3);
}

// Interleaved 8-bit samples through a rank-2 kernel (the packed ring rows
// hold both terms side by side): within one unit of the reference rounded,
// whatever the thread count.
TEST_P(SimdTest, LowRankSeparableOnInterleavedSamples) {
  std::mt19937 rng(79);
  const int w = 61, h = 23;
  TypedImage in(Depth::kU8, true, w, h);
  std::vector<Plane> planes(3, Plane(w, h));
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const auto v = static_cast<float>(rng() % 256);
        in.Set(c, y, x, v);
        planes[c].at(y, x) = v;
      }
    }
  }
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

// 8-bit, 16-bit and float inputs, planar and interleaved, into every output
// type. With integer weights on integer samples every sum is exact in
// float32, so direct and sparse must equal the reference passed through
// the same scale and bias and core::Quantize exactly, ties to even and the
// saturation count included; separable and fft (rounded factors and
// transforms) within one unit.
TEST_P(SimdTest, TypedViewsMatchTheQuantizedReference) {
  std::mt19937 rng(8);
  const Kernel ints(3, 3, {-3, 1, 2, 0, 3, -1, 2, -2, 1});
  const Kernel outer(3, 3, {2, -4, 2, 1, -2, 1, -3, 6, -3});
  struct Store {
    float scale, bias;
    bool abs;
  };
  const Store stores[] = {{1.0f, 0.0f, false},
                          {0.5f, 0.0f, false},
                          {0.5f, 0.25f, true},
                          {0.25f, -100.0f, false}};
  const Depth types[] = {Depth::kU8, Depth::kU16, Depth::kF32};
  const int w = 37, h = 11;
  int cases = 0;
  for (Depth in_type : types) {
    const float max_in = in_type == Depth::kU16 ? 65535.0f : 255.0f;
    for (bool in_inter : {false, true}) {
      TypedImage in(in_type, in_inter, w, h);
      std::vector<Plane> planes(3, Plane(w, h));
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < h; ++y) {
          for (int x = 0; x < w; ++x) {
            const auto v = static_cast<float>(rng() % (int(max_in) + 1));
            in.Set(c, y, x, v);
            planes[c].at(y, x) = v;
          }
        }
      }
      for (Depth out_type : types) {
        for (bool out_inter : {false, true}) {
          for (Method method : {Method::kDirect, Method::kSparse,
                                Method::kSeparable, Method::kFft}) {
            const Kernel& k = method == Method::kSeparable ? outer : ints;
            const bool exact =
                method == Method::kDirect || method == Method::kSparse;
            const Store& st = stores[rng() % 4];
            EngineOptions opt;
            opt.border = {BorderMode::kReflect, 0.0f};
            opt.scale = st.scale;
            opt.bias = st.bias;
            opt.abs = st.abs;
            opt.threads = 1 + static_cast<int>(rng() % 2);
            TypedImage out(out_type, out_inter, w, h);
            const uint64_t saturated =
                Correlator(k, method).Run(in.ConstView(), out.View(), opt);
            Image ref;
            ref.width = w;
            ref.height = h;
            for (int c = 0; c < 3; ++c) {
              Plane p = CorrelateReference(planes[c], k, opt.border,
                                           OutputSize::kSame, 1);
              for (float& v : p.data) {
                v = static_cast<float>(double(st.scale) * v + st.bias);
                if (st.abs) v = std::fabs(v);
              }
              ref.color.push_back(std::move(p));
            }
            const uint64_t ref_saturated = Quantize(ref, out_type);
            const double tolerance =
                exact ? 0.0 : (out_type == Depth::kF32 ? 1e-3 * max_in : 1.0);
            const std::string what = std::string(MethodName(method)) + " in " +
                                     std::to_string(int(in_type)) +
                                     (in_inter ? " interleaved" : "") +
                                     " out " + std::to_string(int(out_type)) +
                                     (out_inter ? " interleaved" : "") +
                                     " scale " + std::to_string(st.scale) +
                                     " bias " + std::to_string(st.bias);
            for (int c = 0; c < 3; ++c) {
              for (int y = 0; y < h; ++y) {
                for (int x = 0; x < w; ++x) {
                  ASSERT_LE(std::fabs(out.Get(c, y, x) - ref.color[c].at(y, x)),
                            tolerance)
                      << what << " at c=" << c << " x=" << x << " y=" << y;
                }
              }
            }
            if (exact) {
              EXPECT_EQ(saturated, ref_saturated) << what;
            }
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 3 * 2 * 3 * 2 * 4);
}

// Interleaved images of 1, 2 and 4 channels (gray, gray+alpha, BGRA
// filtered whole): packed rows with taps scaled by the channel count, for
// every strategy, against the reference on each channel.
TEST_P(SimdTest, InterleavedChannelCounts) {
  std::mt19937 rng(606);
  const int w = 29, h = 13;
  for (int channels : {1, 2, 4}) {
    std::vector<float> data(static_cast<size_t>(w) * h * channels);
    for (float& v : data) v = static_cast<float>(rng() % 256);
    std::vector<Plane> planes(channels, Plane(w, h));
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < channels; ++c) {
          planes[c].at(y, x) =
              data[(static_cast<size_t>(y) * w + x) * channels + c];
        }
      }
    }
    for (Method method :
         {Method::kDirect, Method::kSparse, Method::kSeparable, Method::kFft}) {
      const Kernel k = method == Method::kSeparable
                           ? OuterProduct(3, 5, rng).WithAnchor(1, 2)
                           : SparseKernel(4, 3, rng).WithAnchor(2, 1);
      std::vector<float> out(data.size());
      ConstImageView in_view;
      ImageView out_view;
      in_view.channels = out_view.channels = channels;
      in_view.width = out_view.width = w;
      in_view.height = out_view.height = h;
      in_view.type = out_view.type = Depth::kF32;
      in_view.row_bytes = out_view.row_bytes =
          static_cast<std::ptrdiff_t>(w) * channels * 4;
      in_view.step = out_view.step = channels;
      for (int c = 0; c < channels; ++c) {
        in_view.base[c] = reinterpret_cast<const std::byte*>(data.data() + c);
        out_view.base[c] = reinterpret_cast<std::byte*>(out.data() + c);
      }
      EngineOptions opt;
      opt.border = {BorderMode::kWrap, 0.0f};
      opt.threads = 2;
      Correlator(k, method).Run(in_view, out_view, opt);
      const double bound =
          method == Method::kFft ? FftBound(k, 255.0) : 2 * Bound(k, 255.0);
      for (int c = 0; c < channels; ++c) {
        const Plane ref =
            CorrelateReference(planes[c], k, opt.border, OutputSize::kSame, 1);
        for (int y = 0; y < h; ++y) {
          for (int x = 0; x < w; ++x) {
            ASSERT_LE(
                std::fabs(out[(static_cast<size_t>(y) * w + x) * channels + c] -
                          ref.at(y, x)),
                bound)
                << MethodName(method) << " channels " << channels << " c " << c
                << " x " << x << " y " << y;
          }
        }
      }
    }
  }
}

// core::Quantize on hand-worked values: ties go to even, -0.5 rounds to 0
// unclamped, anything that rounds outside [0, 255] is clamped and counted,
// NaN becomes 0 and counts.
TEST_P(SimdTest, QuantizeOnWorkedValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::pair<float, float>> cases = {
      {0.0f, 0},        {0.5f, 0},      {1.5f, 2},     {2.5f, 2},
      {3.5f, 4},        {-0.5f, 0},     {-0.51f, 0},   {-7.0f, 0},
      {254.5f, 254},    {255.49f, 255}, {255.5f, 255}, {300.0f, 255},
      {1e30f, 255},     {inf, 255},     {-inf, 0},     {nan, 0},
      {127.5f, 128},    {100.2f, 100},  {99.7f, 100},  {0.49999997f, 0},
      {254.49998f, 254}};
  // Clamped: -0.51, -7, 255.5, 300, 1e30, inf, -inf, nan.
  for (int repeat : {1, 3, 7}) {  // vectors and tails of every width
    Image img;
    img.width = static_cast<int>(cases.size()) * repeat;
    img.height = 1;
    img.color.emplace_back(img.width, 1);
    for (int r = 0; r < repeat; ++r) {
      for (size_t i = 0; i < cases.size(); ++i) {
        img.color[0].data[r * cases.size() + i] = cases[i].first;
      }
    }
    EXPECT_EQ(Quantize(img, Depth::kU8), 8u * repeat);
    for (int r = 0; r < repeat; ++r) {
      for (size_t i = 0; i < cases.size(); ++i) {
        EXPECT_EQ(img.color[0].data[r * cases.size() + i], cases[i].second)
            << "value " << cases[i].first;
      }
    }
  }
}

// The store gives every sample of a row the same arithmetic, whether it
// falls in a whole vector or in the row's last partial one: a constant row
// stays constant for every width, with scale and bias where a separate
// multiply and add would round differently from a fused one.
TEST_P(SimdTest, StoreIsTheSameForEveryPositionInARow) {
  const Kernel identity(1, 1, {1.0});
  EngineOptions opt;
  opt.scale = 3.0f;
  opt.bias = -2.0f;
  for (int w = 1; w <= 40; ++w) {
    Plane in(w, 1, 0.83333337f);
    Plane f(w, 1);
    Correlator(identity, Method::kDirect)
        .Run(ViewOf(std::vector<const Plane*>{&in}),
             ViewOf(std::vector<Plane*>{&f}), opt);
    TypedImage u8(Depth::kU8, false, w, 1);
    ImageView view = u8.View();
    view.channels = 1;
    Correlator(identity, Method::kDirect)
        .Run(ViewOf(std::vector<const Plane*>{&in}), view, opt);
    for (int x = 1; x < w; ++x) {
      ASSERT_EQ(f.at(0, x), f.at(0, 0)) << "width " << w << " x " << x;
      ASSERT_EQ(u8.Get(0, 0, x), u8.Get(0, 0, 0))
          << "width " << w << " x " << x;
    }
  }
}

// The fused store on the values where rounding and saturation are subtle:
// ties, the edges of the range, infinities, NaN and values too large for
// an int32, into 8 and 16 bits, equal to core::Quantize sample for sample.
TEST_P(SimdTest, StoreRoundsAndSaturatesLikeQuantize) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> values = {0.0f,     -0.0f,  0.5f,   1.5f,     2.5f,
                               -0.5f,    -0.51f, -1.0f,  254.5f,   255.0f,
                               255.49f,  255.5f, 256.0f, 65534.5f, 65535.0f,
                               65535.5f, 1e9f,   -1e9f,  3e38f,    -3e38f,
                               inf,      -inf,   nan,    127.5f,   128.5f};
  // Enough samples for whole vectors and a tail on every target.
  while (values.size() < 77)
    values.push_back(values[values.size() % 25] + 0.25f);
  Plane in(static_cast<int>(values.size()), 1);
  in.data = values;
  const Kernel identity(1, 1, {1.0});
  for (Depth type : {Depth::kU8, Depth::kU16}) {
    TypedImage out(type, false, in.width, 1);
    ImageView view = out.View();
    view.channels = 1;
    const uint64_t saturated =
        Correlator(identity, Method::kDirect)
            .Run(ViewOf(std::vector<const Plane*>{&in}), view, EngineOptions{});
    Image ref;
    ref.width = in.width;
    ref.height = 1;
    ref.color.push_back(in);
    const uint64_t ref_saturated = Quantize(ref, type);
    for (int x = 0; x < in.width; ++x) {
      EXPECT_EQ(out.Get(0, 0, x), ref.color[0].at(0, x))
          << "value " << values[x] << " depth " << static_cast<int>(type);
    }
    EXPECT_EQ(saturated, ref_saturated);
  }
}

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
  // 5x5 of ones: separable (1.25 (5 + 5) + 0.5 (5 + 1) + 7) beats direct
  // (25 + 2.5); 3x3 of ones does not (7.5 + 2 + 7 against 9 + 1.5).
  const Kernel ones(5, 5, std::vector<double>(25, 1.0));
  EXPECT_EQ(choose(ones), Method::kSeparable);
  EXPECT_EQ(choose(ones, Method::kDirect), Method::kDirect);
  EXPECT_EQ(choose(Kernel(3, 3, std::vector<double>(9, 1.0))), Method::kDirect);
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
  // Every method has a name for -v.
  for (Method m : {Method::kAuto, Method::kDirect, Method::kSparse,
                   Method::kSeparable, Method::kFft}) {
    EXPECT_STRNE(MethodName(m), "?");
  }
}

TEST(SimdTarget, HasAName) {
  EXPECT_FALSE(std::string(SimdTargetName()).empty());
}

}  // namespace
