// The row kernels (core/correlate_simd.cc) and their dispatch. SimdTest,
// the fixture of every per-target test in tests/core, is instantiated here
// once for every target compiled in that this CPU runs, the scalar fallback
// included (the test build defines HWY_COMPILE_ALL_ATTAINABLE: see
// CONVCORR_ALL_SIMD_TARGETS in CMakeLists.txt).
#include <gtest/gtest.h>
#include <hwy/targets.h>
#include <hwy/tests/hwy_gtest.h>

#include <cstdint>
#include <string>

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

}  // namespace
