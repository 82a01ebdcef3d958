// The binary's Highway runtime (src/core/hwy_runtime.cc) picks the targets
// libhwy itself would pick on this machine.
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstdint>

namespace {

// The x86 targets the engine can be compiled for.
constexpr int64_t kSimdTargets =
    HWY_SSSE3 | HWY_SSE4 | HWY_AVX2 | HWY_AVX3 | HWY_AVX3_DL;

TEST(HwyRuntime, SameTargetsAsLibhwy) {
  void* lib = dlopen("libhwy.so.1", RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) GTEST_SKIP() << "libhwy.so.1 is not installed";
  using Fn = int64_t (*)();
  const auto theirs =
      reinterpret_cast<Fn>(dlsym(lib, "_ZN3hwy16SupportedTargetsEv"));
  ASSERT_NE(theirs, nullptr);
  const int64_t want = theirs() & kSimdTargets;
  const int64_t got = hwy::SupportedTargets() & kSimdTargets;
  EXPECT_EQ(got, want) << "ours " << std::hex << got << ", libhwy's " << want;
  EXPECT_NE(got, 0) << "an x86-64 CPU runs SSSE3 at least";
  dlclose(lib);
}

TEST(HwyRuntime, ChosenTargetIsOneObject) {
  EXPECT_EQ(&hwy::GetChosenTarget(), &hwy::GetChosenTarget());
  hwy::GetChosenTarget().Update(hwy::SupportedTargets());
  EXPECT_TRUE(hwy::GetChosenTarget().IsInitialized());
}

}  // namespace
