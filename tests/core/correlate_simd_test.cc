// The row kernels (core/correlate_simd.cc) and their dispatch. SimdTest,
// the fixture of every per-target test in tests/core, is instantiated here
// once for every target compiled in that this CPU runs, the scalar fallback
// included (the test build defines HWY_COMPILE_ALL_ATTAINABLE: see
// CONVCORR_ALL_SIMD_TARGETS in CMakeLists.txt).
#include "core/correlate_simd.h"

#include <gtest/gtest.h>
#include <hwy/targets.h>
#include <hwy/tests/hwy_gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/engine.h"
#include "core/engine_util.h"

namespace {

using convcorr::core::SimdTargetName;

HWY_TARGET_INSTANTIATE_TEST_SUITE_P(SimdTest);

// The fallback for CPUs without SSSE3: HWY_EMU128, or HWY_SCALAR where
// Highway deems EMU128 miscompiled (GCC before 12.3, GCC bug 106322).
constexpr int64_t kScalarTargets = HWY_SCALAR | HWY_EMU128;

// Each instance runs the row kernels of its own target: the engine is
// compiled for every target the tests instantiate, so a target missing
// from the engine (dispatch falling back to another) fails here.
TEST_P(SimdTest, DispatchRunsTheTargetUnderTest) {
  EXPECT_EQ(std::string(SimdTargetName()), hwy::TargetName(GetParam()));
}

// Highway's default policy drops the scalar fallback once the compiler's
// baseline (-march) is above SSE2; the test build keeps it, so that the
// SimdTest instances above run it.
TEST(SimdTarget, ScalarFallbackIsCompiled) {
#if !defined(HWY_COMPILE_ALL_ATTAINABLE)
  if ((HWY_TARGETS & kScalarTargets) == 0) {
    GTEST_SKIP() << "built with CONVCORR_ALL_SIMD_TARGETS=OFF";
  }
#endif
  EXPECT_NE(HWY_TARGETS & kScalarTargets, 0);
}

TEST(SimdTarget, HasAName) {
  EXPECT_FALSE(std::string(SimdTargetName()).empty());
}

// SymRow (and SymColumn, on rows that hold the same samples) against the
// order they promise, computed here one sample at a time: w[0] c, then
// each pair (left + right) times w[j] added, j = 1..m; fused on the
// targets with FMA, a multiply and an addition on the others. Every
// (step, m) of AVX-512's window walk and ones beyond it, over widths that
// end inside and outside its last window, rows aligned or not.
TEST_P(SimdTest, SymmetricRowKernelsSumInTheirOrder) {
  namespace detail = convcorr::core::detail;
  const bool fma = (GetParam() & (HWY_AVX2 | HWY_AVX3 | HWY_AVX3_DL)) != 0;
  std::mt19937 rng(91);
  std::uniform_real_distribution<float> u(-100.0f, 100.0f);
  int checked = 0;
  for (const int step : {1, 3, 4, 5}) {
    for (int m = 0; m <= 6; ++m) {
      std::vector<float> w(m + 1);
      for (float& v : w) v = u(rng);
      for (const size_t width : {1u, 15u, 16u, 47u, 48u, 63u, 100u, 257u}) {
        for (const size_t shift : {0u, 1u, 7u}) {
          const size_t reach = 2 * static_cast<size_t>(m) * step;
          std::vector<float> buf(shift + width + reach + 64);
          for (float& v : buf) v = u(rng);
          const float* row = buf.data() + shift;
          std::vector<float> out(width + 16);
          detail::SymRow(row, w.data(), m, step, width, out.data());
          // The same kernel down 2m + 1 rows whose column x holds the
          // samples row[x + i * step].
          std::vector<std::vector<float>> rows(2 * m + 1);
          std::vector<const float*> pointers;
          for (int i = 0; i <= 2 * m; ++i) {
            rows[i].assign(row + static_cast<size_t>(i) * step,
                           row + static_cast<size_t>(i) * step + width + 16);
            pointers.push_back(rows[i].data());
          }
          std::vector<float> down(width + 16);
          float* down_rows[1] = {down.data()};
          detail::SymColumn(pointers.data(), w.data(), m, 1, width, down_rows);
          for (size_t x = 0; x < width; ++x) {
            const float* c = row + x + static_cast<size_t>(m) * step;
            float expect = w[0] * c[0];
            for (int j = 1; j <= m; ++j) {
              const size_t o = static_cast<size_t>(j) * step;
              const float pair = *(c - o) + c[o];
              if (fma) {
                expect = std::fma(w[j], pair, expect);
              } else {
                const float product = w[j] * pair;
                expect = expect + product;
              }
            }
            ASSERT_EQ(out[x], expect) << "step " << step << " m " << m
                                      << " width " << width << " x " << x;
            ASSERT_EQ(down[x], expect) << "step " << step << " m " << m
                                       << " width " << width << " x " << x;
            ++checked;
          }
        }
      }
    }
  }
  EXPECT_GT(checked, 10000);
}

}  // namespace
