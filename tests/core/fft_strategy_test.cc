// The FFT strategy (core/fft_strategy.cc) against the reference on every
// SIMD target: small kernels over every size, border and anchor, large
// kernels over several partial tiles, and non-finite samples kept local.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <complex>
#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "core/engine_util.h"
#include "core/fft.h"
#include "core/filter.h"
#include "core/oracle.h"

namespace {

using convcorr::kernel::Kernel;
using namespace convcorr::core;  // NOLINT: the engine under test
using convcorr::testing::Agrees;
using convcorr::testing::CheckMethodAgainstReference;
using convcorr::testing::FftBound;
using convcorr::testing::RandomKernel;
using convcorr::testing::RandomPlane;

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

// The transform arrays: 32-byte aligned (fftwf_malloc's alignment for
// AVX), small ones from fftwf_malloc and
// those of a megabyte or more in huge pages, each of those starting on
// cache sets of its own (the offset into its block, modulo the 64 KiB an
// L2 way spans, differs from the arrays' before it), and a transform
// through them still gives its input back.
TEST(FftArrays, AlignedStaggeredAndTransformable) {
  using convcorr::core::detail::AllocateComplex;
  using convcorr::core::detail::AllocateReal;
  using convcorr::core::detail::Fft2d;
  const auto offset = [](const void* p) {
    return reinterpret_cast<uintptr_t>(p) % 32;
  };
  const auto small = AllocateReal(1000);
  EXPECT_EQ(offset(small.get()), 0u);
  std::vector<convcorr::core::detail::FftArray<float>> large;
  std::set<uintptr_t> sets;
  for (int i = 0; i < 6; ++i) {
    large.push_back(AllocateReal(512 * 512));
    EXPECT_EQ(offset(large.back().get()), 0u);
    sets.insert(reinterpret_cast<uintptr_t>(large.back().get()) % 65536);
  }
  EXPECT_EQ(sets.size(), large.size());

  const Fft2d fft(512, 512);
  const auto in = AllocateReal(fft.real_size());
  const auto spectrum = AllocateComplex(fft.spectrum_size());
  const auto out = AllocateReal(fft.real_size());
  std::mt19937 rng(66);
  std::uniform_real_distribution<float> sample(-1.0f, 1.0f);
  for (size_t i = 0; i < fft.real_size(); ++i) in[i] = sample(rng);
  fft.Forward(in.get(), spectrum.get());
  fft.Inverse(spectrum.get(), out.get());
  const float n = static_cast<float>(fft.real_size());
  for (size_t i = 0; i < fft.real_size(); i += 997) {
    ASSERT_NEAR(out[i] / n, in[i], 1e-5f) << "sample " << i;
  }
}

}  // namespace
