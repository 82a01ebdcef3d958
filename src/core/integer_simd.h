// The row kernels of the integer lanes (core/integer.cc): 8-bit samples
// widened to int16 as they are loaded, integer weights summed exactly in
// 16-bit lanes.
// Defined for every SIMD target in integer_simd.cc and called through
// Highway's dynamic dispatch.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/correlate_simd.h"

namespace convcorr::core::detail {

// 8-bit rows carry this many extra samples past their end so that the row
// kernels finish a row with whole vectors: any SIMD width is at most 32
// int16 lanes.
inline constexpr size_t kSlackI16 = 32;

// The non-zero taps of one kernel row: out(x) += weights[t] *
// rows[row][x + offsets[t]], the 8-bit samples widened to int16 lanes. Weights
// 1 and -1 are an addition and a subtraction, the others a multiply and an
// addition.
struct TapGroupI16 {
  int row = 0;
  int count = 0;
  const int* offsets = nullptr;
  const int16_t* weights = nullptr;
};

// out(x) for x in [0, RoundUp(width, lanes)): the sum of the groups' taps,
// modulo 2^16. Every row must be readable up to RoundUp(width, lanes) + its
// largest offset, and out up to RoundUp(width, lanes).
void TapRowI16(const uint8_t* const* rows, const TapGroupI16* groups,
               size_t ngroups, size_t width, int16_t* out);
// TapRowI16 and EmitRowI16U8 in one pass, the sums never leaving the
// registers: `width` 8-bit samples to dst.
uint64_t TapRowI16U8(const uint8_t* const* rows, const TapGroupI16* groups,
                     size_t ngroups, size_t width, bool abs, uint8_t* dst);
// n sums stored as 8-bit samples: |sum| if abs, then saturated to
// [0, 255]. Returns how many saturated.
uint64_t EmitRowI16U8(const int16_t* acc, size_t n, bool abs, uint8_t* dst);
// n sums as float (exact), for the float store (EmitRow).
void WidenRowI16(const int16_t* acc, size_t n, float* dst);

}  // namespace convcorr::core::detail
