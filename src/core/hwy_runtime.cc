// Highway's target selection for the convcorr binary, in place of
// libhwy.so. Debian's libhwy 1.0.3 runs a static constructor that measures
// the timer's resolution (nanobenchmark's TimerResolution) every time a
// process loads it, about 3.5 ms of a 10 ms start-up budget, although the
// engine needs only the two functions below (docs/performance.md). They
// detect the same targets the same way (CPUID and the XCR0 register the OS
// sets), and tests/core/hwy_runtime_test.cc checks the result against
// libhwy's own SupportedTargets. The unit tests link libhwy itself, whose
// SetSupportedTargetsForTest runs every target.
#include <cpuid.h>
#include <hwy/targets.h>

#include <cstdint>

namespace hwy {
namespace {

bool Bit(uint32_t reg, int bit) { return ((reg >> bit) & 1u) != 0; }

// Which of the targets the engine is compiled for this CPU and OS run.
int64_t DetectTargets() {
  int64_t targets = 0;
  uint32_t a = 0, b = 0, c1 = 0, d1 = 0;
  if (__get_cpuid(1, &a, &b, &c1, &d1) == 0) return 0;
  uint32_t b7 = 0, c7 = 0, d7 = 0;
  if (__get_cpuid_max(0, nullptr) >= 7) __cpuid_count(7, 0, a, b7, c7, d7);
  uint32_t c81 = 0, unused = 0;
  if (__get_cpuid_max(0x80000000u, nullptr) >= 0x80000001u) {
    __cpuid(0x80000001u, a, unused, c81, unused);
  }
  // Leaf 1 ECX: SSE3 0, PCLMUL 1, SSSE3 9, FMA 12, SSE4.1 19, SSE4.2 20,
  // AES 25, OSXSAVE 27, AVX 28, F16C 29; EDX: SSE 25, SSE2 26.
  const bool ssse3 = Bit(d1, 25) && Bit(d1, 26) && Bit(c1, 0) && Bit(c1, 9);
  const bool sse4 =
      ssse3 && Bit(c1, 19) && Bit(c1, 20) && Bit(c1, 1) && Bit(c1, 25);
  // Leaf 7 EBX: BMI 3, AVX2 5, BMI2 8, AVX512F 16, DQ 17, CD 28, BW 30,
  // VL 31; leaf 0x80000001 ECX: LZCNT 5.
  const bool avx2 = sse4 && Bit(c1, 28) && Bit(b7, 5) && Bit(c81, 5) &&
                    Bit(b7, 3) && Bit(b7, 8) && Bit(c1, 12) && Bit(c1, 29);
  const bool avx3 = avx2 && Bit(b7, 16) && Bit(b7, 31) && Bit(b7, 17) &&
                    Bit(b7, 30) && Bit(b7, 28);
  // Leaf 7 ECX: VBMI2 6, VAES 9, VPCLMULQDQ 10, VNNI 11, BITALG 12,
  // VPOPCNTDQ 14.
  const bool avx3_dl = avx3 && Bit(c7, 11) && Bit(c7, 10) && Bit(c7, 6) &&
                       Bit(c7, 9) && Bit(c7, 14) && Bit(c7, 12);
  if (ssse3) targets |= HWY_SSSE3;
  if (sse4) targets |= HWY_SSE4;
  if (avx2) targets |= HWY_AVX2;
  if (avx3) targets |= HWY_AVX3;
  if (avx3_dl) targets |= HWY_AVX3_DL;

  // The OS must save the registers on a context switch: XCR0 bits 1 (XMM)
  // and 2 (YMM) for AVX, 5 to 7 (opmask and ZMM) for AVX-512.
  const int64_t avx3_up = HWY_AVX3 | HWY_AVX3_DL;
  const int64_t avx2_up = HWY_AVX2 | avx3_up;
  if (!Bit(c1, 27)) {
    targets &= ~avx2_up;
  } else {
    uint32_t xcr0 = 0, high = 0;
    __asm__ volatile("xgetbv" : "=a"(xcr0), "=d"(high) : "c"(0));
    if (!Bit(xcr0, 1)) targets &= ~(HWY_SSSE3 | HWY_SSE4 | avx2_up);
    if (!Bit(xcr0, 2)) targets &= ~avx2_up;
    if (!Bit(xcr0, 5) || !Bit(xcr0, 6) || !Bit(xcr0, 7)) targets &= ~avx3_up;
  }
  return targets;
}

}  // namespace

int64_t SupportedTargets() {
  const int64_t targets = DetectTargets();
  return targets == 0 ? HWY_STATIC_TARGET : targets;
}

ChosenTarget& GetChosenTarget() {
  static ChosenTarget chosen;
  return chosen;
}

}  // namespace hwy
