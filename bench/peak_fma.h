// The machine's peak float32 multiply-add rate (bench/peak_fma.cc).
#pragma once

#include <cstddef>

namespace convcorr::bench {

// iterations x 12 vector FMAs of *lanes floats each, on the dispatched
// SIMD target; the result only keeps the work from being optimised away.
float PeakFmaLoop(size_t iterations, size_t* lanes);

}  // namespace convcorr::bench
