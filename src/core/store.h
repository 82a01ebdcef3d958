// The store, where a row stream ends: float sums to the caller's samples
// (scale, bias, |.|, rounding and saturation by EmitRow, then planar or
// interleaved, through non-temporal stores for large outputs), and the
// extra outputs of compare (a copy, zeros, |convolve - correlate|).
#pragma once

#include <cstdint>

#include "core/stream.h"
#include "core/view.h"

namespace convcorr::core::detail {

// Output row y, columns [x0, x0 + n), of every channel from acc[c][0..],
// to the job's output and, for a symmetric compare, its copy and zeros.
// Returns the number of samples saturated in the job's output.
uint64_t Emit(const Job& job, int y, int x0, int n, const float* const* acc,
              Scratch& s);

// Emits output rows y .. y + block - 1, columns [x0, x0 + n), from acc
// channels first .. first + channels - 1 (row q of each); without x0 and
// n, every column.
uint64_t EmitBlock(const Job& job, int y, int block, Rows& acc, int first,
                   int channels, Scratch& scratch, int x0, int n);
uint64_t EmitBlock(const Job& job, int y, int block, Rows& acc, int first,
                   int channels, Scratch& scratch);

// Whether the job's output samples are its float sums as they are (float
// output of the input's channels, no scale, bias or |.|, no extra
// outputs) in float rows the row kernels can write: channel c of output
// row y from column x0 is then OutputRow(job, y, c, x0), and the sums
// need no Emit.
bool SumsAreOutput(const Job& job);
float* OutputRow(const Job& job, int y, int c, int x0);
// Whether a row kernel may round and store the job's sums as its 8-bit
// samples itself (|sum| if abs, as EmitRow would): an 8-bit output with
// no scale or bias and no extra outputs. Where the job streams, the bytes
// go through a row in L1 before their non-temporal stores.
bool StoresU8Directly(const Job& job);
// The first column in [x0, limit) from which output row y is aligned for
// non-temporal stores (Streamable), or x0 when none is.
int StreamableColumn(const Job& job, int y, int x0, int limit);

// diff = |conv - corr| for output row y, columns [x0, x0 + n), from the
// samples just stored (still in cache), all three views laid out alike.
void DiffRows(const ImageView& corr, const ImageView& conv,
              const ImageView& diff, int y, int x0, int n);

}  // namespace convcorr::core::detail
