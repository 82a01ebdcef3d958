// The direct and sparse strategies: every tap (or every non-zero tap) of
// the kernel over a ring of kh + 3 padded rows per channel, dense kernels
// (and sparse ones whose rows share loads, SparseFourRows) four output
// rows at a time, strip by strip; a float input's interior columns
// straight from their rows (InPlaceColumns).
#include <cstddef>
#include <cstdint>

#include "core/strategies.h"

namespace convcorr::core::detail {

void ComputeRows(const float* const* rows, const Taps& t, int kh, size_t width,
                 int block, float* const* out, bool stream,
                 const Prefetch& prefetch) {
  if (!t.sym_column.empty()) {
    SymColumn(rows, t.sym_column.data(), kh / 2, block, width, out, stream);
  } else if (block == kRowBlock) {
    TapRows4(rows, t.rows4.data(), t.rows4.size(), width, out, stream,
             prefetch);
  } else {
    TapRow(rows, t.groups.data(), t.groups.size(), width, out[0], stream,
           prefetch);
  }
}

void ComputeRows(const float* const* rows, const Taps& t, int kh, size_t width,
                 int block, Rows& acc, int slot, const Prefetch& prefetch) {
  float* outs[kRowBlock];
  for (int q = 0; q < block; ++q) outs[q] = acc.at(slot, q);
  ComputeRows(rows, t, kh, width, block, outs, false, prefetch);
}

uint64_t RunDirect(const Job& job, const Taps& p, int y0, int y1) {
  const int kh = job.k->rows();
  const int kw = job.k->cols();
  const int channels = job.packed ? 1 : job.in->channels;
  const int ring_rows = kh + kRowBlock - 1;
  const int strip =
      StripWidth(job, static_cast<size_t>(ring_rows) * job.in->channels);
  Rows ring(channels, ring_rows, (strip + kw - 1) * job.lanes);
  Rows acc(channels, kRowBlock, strip * job.lanes);
  return WalkStrips(
      job, p, ring, acc, strip, !p.rows4.empty(), y0, y1,
      [&](int py, float* const* slots, int x0, int n, Scratch& scratch) {
        LoadPadded(job, py, x0, x0 + n + kw - 1, slots, scratch);
      },
      true);
}

}  // namespace convcorr::core::detail
