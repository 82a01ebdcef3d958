// The strategies that turn a job's padded rows into output rows, one file
// each: direct and sparse (direct.cc), separable (separable.cc) and fft
// (fft_strategy.cc). Each runs one thread's band of the output and returns
// the number of samples saturated on the way out. Also the strip walk that
// direct and separable share, and the dense pass that PairCorrelator's
// shared ring reuses.
#pragma once

#include <algorithm>
#include <complex>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/prepared.h"
#include "core/store.h"
#include "core/stream.h"

namespace convcorr::core::detail {

// A step asks for at most the rows of the next step (Prefetch).
static_assert(Prefetch::kMaxRows >= kRowBlock);

// `block` output rows of kernel `t` from `rows` into acc rows 0..block-1
// of acc channel `slot`: four at a time by TapRows4, or one by TapRow;
// both give every sample the same sum.
void ComputeRows(const float* const* rows, const Taps& t, int kh, size_t width,
                 int block, Rows& acc, int slot, const Prefetch& prefetch = {});
// The same rows into out[0..block-1] (each up to RoundUp(width)), with
// non-temporal stores if `stream` (every out row Streamable), asking for
// `prefetch` meanwhile (the direct and sparse kernels).
void ComputeRows(const float* const* rows, const Taps& t, int kh, size_t width,
                 int block, float* const* out, bool stream,
                 const Prefetch& prefetch = {});

// Walks the band [y0, y1) strip by strip (output columns [x0, x0 + n),
// StripWidth): fill(py, slots, x0, n, scratch) puts padded row py of the
// strip into the ring slots, then `p` computes the output rows from the
// ring into `acc`, which are stored. No strip straddles the ends of
// InPlaceColumns; with `rows_in_place`, the strips inside it are computed
// from the input rows where they lie (InPlaceRow), without the ring.
// When the sums are the output (SumsAreOutput), the strips inside it are
// computed straight into the output rows, through non-temporal stores
// when the job streams: that span then starts on a StreamableColumn. A
// strip's last vectors reach up to 15 samples past its end, into columns
// that a later strip, or the last part (at least kSlack samples), stores
// again.
template <typename Fill>
uint64_t WalkStrips(const Job& job, const Taps& p, Rows& ring, Rows& acc,
                    int strip, bool four, int y0, int y1, Fill fill,
                    bool rows_in_place = false) {
  const int kh = job.k->rows();
  const int channels = job.packed ? 1 : job.in->channels;
  const InPlaceSpan span = InPlaceColumns(job);
  Scratch scratch;
  std::vector<float> constant;
  std::vector<const float*> taps(kh + kRowBlock - 1);
  uint64_t saturated = 0;
  const bool sums_out =
      span.end > span.begin &&
      static_cast<size_t>(job.extent.width - span.end) * job.lanes >= kSlack &&
      SumsAreOutput(job);
  const int cuts[] = {0,
                      sums_out && job.stream
                          ? StreamableColumn(job, y0, span.begin, span.end)
                          : span.begin,
                      span.end, job.extent.width};
  // The output rows y .. y + block - 1 of channel c from column x0, and
  // whether all of them take non-temporal stores.
  float* outs[kRowBlock];
  const auto output_rows = [&](int y, int block, int c, int x0) {
    bool stream = job.stream;
    for (int q = 0; q < block; ++q) {
      outs[q] = OutputRow(job, y + q, c, x0);
      stream = stream && Streamable(outs[q]);
    }
    return stream;
  };
  // A symmetric column pass to interleaved 8-bit samples, with nothing
  // else to store, rounds and stores its sums itself (SymColumnU8).
  const bool sums_to_u8 = !p.sym_column.empty() && job.packed &&
                          StoresU8Directly(job) && !job.stream;
  // One step of rows [y, y + block) over columns [x0, x0 + n): the row
  // kernels on rows(c) (channel c's padded rows from y on), asking for
  // ahead(c) meanwhile, then the store unless they wrote the output
  // themselves (`direct`, or `sums_to_u8`).
  const auto compute = [&](int y, int block, int x0, int n, bool direct,
                           const auto& rows, const auto& ahead) {
    const size_t width = static_cast<size_t>(n) * job.lanes;
    if (sums_to_u8 && !direct) {
      uint8_t* out8[kRowBlock];
      for (int q = 0; q < block; ++q) {
        out8[q] = reinterpret_cast<uint8_t*>(job.out->base[0] +
                                             RowOffset(*job.out, y + q)) +
                  static_cast<size_t>(x0) * job.lanes;
      }
      saturated += SymColumnU8(rows(0), p.sym_column.data(), kh / 2, block,
                               width, job.emit.abs, out8);
      return;
    }
    for (int c = 0; c < channels; ++c) {
      if (direct) {
        const bool stream = output_rows(y, block, c, x0);
        ComputeRows(rows(c), p, kh, width, block, outs, stream, ahead(c));
      } else {
        ComputeRows(rows(c), p, kh, width, block, acc, c, ahead(c));
      }
    }
    if (!direct) {
      saturated += EmitBlock(job, y, block, acc, 0, channels, scratch, x0, n);
    }
  };
  for (int part = 0; part < 3; ++part) {
    for (int x0 = cuts[part]; x0 < cuts[part + 1]; x0 += strip) {
      const int n = std::min(strip, cuts[part + 1] - x0);
      const bool direct = part == 1 && sums_out;
      if (part == 1 && rows_in_place) {
        if (constant.empty()) {
          constant.assign(
              static_cast<size_t>(job.padded_w) * job.lanes + kSlack,
              job.border.value);
        }
        for (int y = y0; y < y1;) {
          const int block = four && y + kRowBlock <= y1 ? kRowBlock : 1;
          // The rows the next step reads first (as many as this step's
          // and within the band), on their way from memory while this
          // step runs.
          const int next = std::min(block, y1 - y - block);
          const auto ahead = [&](int c) {
            Prefetch prefetch;
            for (int i = 0; i < next; ++i) {
              prefetch.rows[prefetch.count++] = InPlaceRow(
                  job, y + kh + block - 1 + i, c, x0, constant.data());
            }
            return prefetch;
          };
          compute(
              y, block, x0, n, direct,
              [&](int c) {
                for (int i = 0; i < kh + block - 1; ++i) {
                  taps[i] = InPlaceRow(job, y + i, c, x0, constant.data());
                }
                return static_cast<const float* const*>(taps.data());
              },
              ahead);
          y += block;
        }
        continue;
      }
      WalkBand(
          ring, channels, kh, y0, y1, four,
          [&](int py, float* const* slots) { fill(py, slots, x0, n, scratch); },
          [&](int y, int block, const auto& rows) {
            compute(y, block, x0, n, direct, rows,
                    [](int) { return Prefetch{}; });
          });
    }
  }
  return saturated;
}

// direct and sparse: output rows [y0, y1).
uint64_t RunDirect(const Job& job, const Taps& p, int y0, int y1);

// The integer lanes: direct and sparse for an 8-bit input whose kernel
// fits them (Correlator::Prepared::integer), interleaved input and output
// (Job::packed), and a constant border of an integer in [0, 255].
bool RunsInteger(const Job& job, const Correlator::Prepared& p, Method method);
// The kernel's half of RunsInteger: direct or sparse, and a kernel that
// fits the lanes.
bool IntegerKernel(const Correlator::Prepared& p, Method method);
// Output rows [y0, y1) in int16 lanes: the same samples as RunDirect.
uint64_t RunInteger(const Job& job, const Correlator::Prepared& p, int y0,
                    int y1);
// compare's fused plan in int16 lanes: `corr` (the centred kernel) and
// `conv` (its rotation) over one ring, each result stored to its job's
// output, and |conv - corr| from the stored rows to `diff` when given.
PairCorrelator::Saturated RunIntegerPair(const Job& corr_job,
                                         const Job& conv_job,
                                         const Correlator::Prepared& corr,
                                         const Correlator::Prepared& conv,
                                         const ImageView* diff, int y0, int y1);

// separable: output rows [y0, y1).
uint64_t RunSeparable(const Job& job, const Correlator::Prepared& prepared,
                      int y0, int y1);

// fft: tiles [t0, t1), numbered row by row (tile (ty, tx) is number
// ty * FftTilesAcross + tx), so that the threads share the tiles of a
// band even when it is one row of tiles. With `second` (compare), each
// tile's forward transform also serves a second spectrum, whose result
// goes to second_job's output, its saturated count added to
// *second_saturated, and |second - first| to `diff` when given.
uint64_t RunFft(const Job& job, const Correlator::Prepared& p, int t0, int t1,
                const std::complex<float>* second = nullptr,
                const Job* second_job = nullptr,
                uint64_t* second_saturated = nullptr,
                const ImageView* diff = nullptr);
// The tiles across a row of tiles for `width` output columns of a kernel of
// `kw` columns.
int FftTilesAcross(const Correlator::Prepared& p, int kw, int width);
// The rows of tiles RunFft walks for `height` output rows of a kernel of
// `kh` rows.
int FftTileRows(const Correlator::Prepared& p, int kh, int height);

}  // namespace convcorr::core::detail
