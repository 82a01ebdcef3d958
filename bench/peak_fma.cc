// The machine's peak float32 multiply-add rate, for the bench's "distance
// from the limit": twelve independent FMA chains in registers (enough to
// cover the latency of two FMA ports), on the SIMD target the engine uses.

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "peak_fma.cc"
#include "peak_fma.h"

#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

HWY_BEFORE_NAMESPACE();
namespace convcorr::bench::HWY_NAMESPACE {

namespace hn = hwy::HWY_NAMESPACE;

// Runs `iterations` rounds of 12 vector FMAs; returns a value depending on
// all of them (so none is optimised away) and the lanes per vector.
float FmaLoop(size_t iterations, size_t* lanes) {
  const hn::ScalableTag<float> d;
  *lanes = hn::Lanes(d);
  const auto m = hn::Set(d, 0.999999f);
  const auto a = hn::Set(d, 1e-7f);
  hn::Vec<decltype(d)> acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = hn::Set(d, 1.0f + 0.01f * i);
  for (size_t it = 0; it < iterations; ++it) {
    for (int i = 0; i < 12; ++i) acc[i] = hn::MulAdd(acc[i], m, a);
  }
  auto sum = acc[0];
  for (int i = 1; i < 12; ++i) sum = hn::Add(sum, acc[i]);
  return hn::GetLane(hn::SumOfLanes(d, sum));
}

}  // namespace convcorr::bench::HWY_NAMESPACE
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace convcorr::bench {

HWY_EXPORT(FmaLoop);

float PeakFmaLoop(size_t iterations, size_t* lanes) {
  return HWY_DYNAMIC_DISPATCH(FmaLoop)(iterations, lanes);
}

}  // namespace convcorr::bench
#endif  // HWY_ONCE
