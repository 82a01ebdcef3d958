// The separable strategy, K = sum of r rank-1 terms: each padded row is
// filtered across once per term, term t into columns [t * stride,
// t * stride + width) of a ring row, so a ring of kh + 3 rows holds every
// term's row pass; the column pass (a dense kh x r kernel whose column t
// reads term t) then sums all terms four output rows at a time, with no
// full-size intermediate. A float input's interior columns are read
// where they lie (InPlaceColumns), without the padded copy. One term
// whose factors are both symmetric (a Gaussian, a box) runs SymRow and
// SymColumn instead, which add each mirror pair of samples before the
// multiply.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/strategies.h"

namespace convcorr::core::detail {

uint64_t RunSeparable(const Job& job, const Correlator::Prepared& prepared,
                      int y0, int y1) {
  const int kh = job.k->rows();
  const int kw = job.k->cols();
  const int channels = job.packed ? 1 : job.in->channels;
  const int terms = static_cast<int>(prepared.h_groups.size());
  const int ring_rows = kh + kRowBlock - 1;
  const int strip = StripWidth(
      job, static_cast<size_t>(ring_rows) * terms * job.in->channels);
  // Each term's part of a ring row ends with the slack the row kernels
  // write into, and starts on a 64-byte boundary as the row does (Rows).
  constexpr int kAlign = static_cast<int>(Rows::kAlignFloats);
  const int stride =
      (strip * job.lanes + static_cast<int>(kSlack) + kAlign - 1) / kAlign *
      kAlign;
  const Taps p(prepared, job.lanes, stride);
  Rows ring(channels, ring_rows, terms * stride - static_cast<int>(kSlack));
  Rows padded(channels, 1, (strip + kw - 1) * job.lanes);
  Rows acc(channels, kRowBlock, strip * job.lanes);
  std::vector<float*> load(channels);
  for (int c = 0; c < channels; ++c) load[c] = padded.at(c, 0);
  // A float input's interior columns are filtered across where they lie.
  const InPlaceSpan span = InPlaceColumns(job);
  std::vector<float> constant;
  if (span.end > span.begin) {
    constant.assign(static_cast<size_t>(job.padded_w) * job.lanes + kSlack,
                    job.border.value);
  }
  return WalkStrips(
      job, p, ring, acc, strip, true, y0, y1,
      [&](int py, float* const* slots, int x0, int n, Scratch& scratch) {
        const bool in_place = x0 >= span.begin && x0 < span.end;
        // The next row on its way from memory while this one is filtered
        // (two or four rows ahead gained less): asked for line by line by
        // the row pass when it reads the input where it lies, else all at
        // once before the conversion.
        if (!in_place) {
          PrefetchPadded(job, py + 1, x0, x0 + n + kw - 1);
          LoadPadded(job, py, x0, x0 + n + kw - 1, load.data(), scratch);
        }
        const size_t width = static_cast<size_t>(n) * job.lanes;
        for (int c = 0; c < channels; ++c) {
          const float* row =
              in_place ? InPlaceRow(job, py, c, x0, constant.data()) : load[c];
          Prefetch next;
          if (in_place && py + 1 < y1 + kh - 1) {
            next.rows[next.count++] =
                InPlaceRow(job, py + 1, c, x0, constant.data());
          }
          if (!p.sym_row.empty()) {
            // One symmetric term: its mirror pairs added before the
            // multiply.
            SymRow(row, p.sym_row.data(), kw / 2, job.lanes, width, slots[c],
                   false, next);
            continue;
          }
          for (int t = 0; t < terms; ++t) {
            TapRow(&row, &p.h_groups[t], 1, width,
                   slots[c] + static_cast<size_t>(t) * stride, false,
                   t == 0 ? next : Prefetch{});
          }
        }
      });
}

}  // namespace convcorr::core::detail
