// Row streaming, shared by every strategy: one Run call's job, the loader
// that converts and border-extends a padded input row into a ring slot, the
// ring buffers themselves (from a process-wide pool), and the walk that
// keeps the ring filled over a band of output rows. The store, the other
// end of the stream, is store.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/border.h"
#include "core/correlate_simd.h"
#include "core/engine.h"
#include "core/geometry.h"
#include "core/view.h"
#include "kernel/kernel.h"

namespace convcorr::core::detail {

// Everything a worker needs about one Run call.
struct Job {
  const ConstImageView* in;
  const ImageView* out;
  const kernel::Kernel* k;
  Border border;
  Origin origin;
  Extent extent;  // output size
  int padded_w;   // extent.width + kw - 1
  EmitParams emit;
  size_t ring_bytes = 0;  // EngineOptions::ring_bytes
  // Packed: interleaved input and output, filtered as one row of
  // channels x width samples with tap offsets scaled by the channel count,
  // so nothing is split or merged. Otherwise one float row per channel.
  bool packed = false;
  int lanes = 1;  // samples per pixel in a float row: channels if packed
  // Outputs far larger than the caches are written with non-temporal
  // stores: nothing reads them back soon, and the write then costs one
  // pass over memory instead of two (read for ownership, write back).
  bool stream = false;
  // compare with a symmetric kernel: a second output receiving the same
  // samples, and a difference output receiving zeros, from the same rows.
  const ImageView* copy = nullptr;
  const ImageView* zeros = nullptr;
};

// A job over `extent` (OutputExtent of `k` for `size`) storing to `out`
// by `options`; packing, streaming and the extra outputs are the caller's.
Job MakeJob(const ConstImageView& in, const ImageView& out,
            const kernel::Kernel& k, const EngineOptions& options,
            OutputSize size, Extent extent);

// The work units of a run's rows (EngineOptions::row_begin, row_end) for a
// strategy computing `quantum` output rows per unit (fft tiles; 1 for the
// others): units [begin, end) cover the rows asked for, which must start
// on a unit and end on one or at the last row.
struct RowUnits {
  int begin = 0;
  int end = 0;
};
RowUnits UnitsOf(const EngineOptions& options, int height, int quantum);

// True if `out` is large enough (32 MiB) to be written with non-temporal
// stores.
bool ShouldStream(const ImageView& out);

// Per-thread buffers of the row loader and the store.
struct Scratch {
  std::vector<std::byte> bytes;  // LoadPadded: three interleaved channels
  std::vector<std::byte> row;    // the store: a row on its way to Stream
  std::vector<std::vector<std::byte>> typed;  // the store: one per channel
};

// Padded row py, columns [px0, px1), of every channel into dst[c][0..]:
// padded(py, px) = I(py + origin.y, px + origin.x) extended by the border.
void LoadPadded(const Job& job, int py, int px0, int px1, float* const* dst,
                Scratch& s);

// Float inputs stored as the row kernels read them (f32, interleaved as
// the job's packed rows or planar with step 1, 4-byte aligned) need no
// ring copy: the interior of a padded row is the input row itself. The
// output columns [begin, end) whose padded columns, and the whole vectors
// the row kernels read past them (up to kSlack samples), lie inside every
// input row; begin == end when the input cannot be read in place.
struct InPlaceSpan {
  int begin = 0;
  int end = 0;
};
InPlaceSpan InPlaceColumns(const Job& job);

// Padded row py of plane c, from output column px0 (inside InPlaceColumns),
// where it lies in the input; `constant`, a row of the border value, for a
// row outside the image under a constant border.
const float* InPlaceRow(const Job& job, int py, int c, int px0,
                        const float* constant);

// Asks for the input samples of padded row py, columns [px0, px1), to be
// brought into the cache, so that a loader reading them next finds them
// there instead of waiting on memory for most of its time.
void PrefetchPadded(const Job& job, int py, int px0, int px1);

// A float buffer of `rows` x `width` (+ slack) per channel, zeroed, taken
// from a process-wide pool and given back to it: repeated runs reuse
// memory that is already mapped instead of faulting in fresh pages.
struct Rows {
  static constexpr size_t kAlignFloats = 16;  // 64 bytes
  size_t stride = 0;
  int rows = 0;
  std::vector<float> data;
  float* base = nullptr;  // in data, on a 64-byte boundary
  Rows(int channels, int rows_, int width);
  ~Rows();
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;
  float* at(int c, int r) {
    return base + (static_cast<size_t>(c) * rows + r) * stride;
  }
};

// Output rows computed together by TapRows4 (dense kernels).
inline constexpr int kRowBlock = 4;

// Walks the output rows [y0, y1) of a band over `ring`, `kh` rows of it
// per output row: before each step it fills the ring up to the last row
// the step reads, calling fill(py, slots) with padded row py's slot in
// each of the ring's channels, then calls step(y, block, rows), where
// rows(c) gives channel c's ring rows from output row y on. A step is four
// output rows when `four` and they fit in the band, else one; the ring
// holds kh + 3 rows when `four`, kh otherwise.
template <typename Fill, typename Step>
void WalkBand(Rows& ring, int channels, int kh, int y0, int y1, bool four,
              Fill fill, Step step) {
  const int ring_rows = ring.rows;
  std::vector<float*> slots(channels);
  std::vector<const float*> taps(ring_rows);
  const auto rows = [&](int y, int block, int c) {
    for (int i = 0; i < kh + block - 1; ++i) {
      taps[i] = ring.at(c, (y + i) % ring_rows);
    }
    return static_cast<const float* const*>(taps.data());
  };
  int loaded = y0;  // next padded row to load
  for (int y = y0; y < y1;) {
    const int block = four && y + kRowBlock <= y1 ? kRowBlock : 1;
    for (; loaded < y + kh + block - 1; ++loaded) {
      for (int c = 0; c < channels; ++c) {
        slots[c] = ring.at(c, loaded % ring_rows);
      }
      fill(loaded, slots.data());
    }
    step(y, block, [&](int c) { return rows(y, block, c); });
    y += block;
  }
}

// The ring of a row-streaming run should stay in the core's own cache
// (L2, EngineOptions::ring_bytes or 512 KiB): a frame wider than that is
// filtered in vertical strips of output columns, each strip loading its
// own padded columns (kw - 1 more than it writes) and walking the band on
// its own (WalkStrips, strategies.h). The samples do not depend on the
// strips: each is the same sum in the same order. StripWidth gives the
// output columns per strip for a ring of `floats_per_column` floats per
// output column (rows x channels x terms), at least 64.
int StripWidth(const Job& job, size_t floats_per_column);

}  // namespace convcorr::core::detail
