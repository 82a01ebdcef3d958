// The ends of a streaming run (PreparedFilter::Stream): rows come from a
// RowSource top to bottom and go to a RowSink top to bottom, band by band,
// so that an image of any height is filtered in memory proportional to its
// width times the kernel's height plus a band.
#pragma once

#include <cstddef>
#include <vector>

#include "core/border.h"
#include "core/geometry.h"
#include "core/image.h"
#include "core/view.h"
#include "kernel/kernel.h"

namespace convcorr::core {

// Where a streaming run's input rows come from (a decoder).
class RowSource {
 public:
  virtual ~RowSource() = default;
  // The next `rows` rows, top to bottom, into dst (rows `stride` bytes
  // apart, samples interleaved). May throw: the run stops and rethrows.
  virtual void Read(std::byte* dst, std::ptrdiff_t stride, int rows) = 0;
  // After the last row (the end of the file checked).
  virtual void Finish() {}
};

// Where a streaming run's output rows go (an encoder).
class RowSink {
 public:
  virtual ~RowSink() = default;
  // The next `rows` rows, top to bottom.
  virtual void Write(const std::byte* src, std::ptrdiff_t stride, int rows) = 0;
  // After the last row.
  virtual void Finish() {}
};

// The samples of a streaming run: the input's size and channels (the
// output has the same channels, OutputExtent's size) and both sample types.
struct StreamShape {
  int width = 0;
  int height = 0;
  int channels = 0;
  Depth in_type = Depth::kU8;
  Depth out_type = Depth::kU8;
};

// How a run is cut into bands: for the output rows [y0, y1) of each band,
// the input rows it reads (after the border's mapping), and the buffers
// that are enough. Made by PlanBands; tested on its own.
struct BandPlan {
  int band_rows = 0;    // output rows per band (the last may be shorter)
  int input_ring = 0;   // input rows held at once
  int output_ring = 0;  // output rows held at once
  struct Band {
    int y0 = 0, y1 = 0;  // output rows
    int keep = 0;        // no input row below this is read by it or later
    int need = 0;        // input rows [0, need) are read by the time it runs
  };
  std::vector<Band> bands;
};

// The bands of a run of `k` (as correlated: rotated for convolve) over a
// width x height input: band_rows output rows each (0: chosen: for the fft
// strategy one row of tiles, whose tiles the engine's threads share;
// otherwise at least 256 and 8 kernel heights), a multiple of `quantum`
// (the engine's RowQuantum). The
// input ring holds the rows the widest band reads plus a band read ahead;
// a border that reads far rows (wrap: the top band reads the bottom rows)
// makes it the whole image.
BandPlan PlanBands(const kernel::Kernel& k, const Border& border,
                   OutputSize size, int width, int height, int quantum,
                   int band_rows = 0);
// The same for runs that correlate with several kernels of one output
// size (compare: K and the rotated convolve kernel): a band reads the
// union of their windows.
BandPlan PlanBands(const std::vector<const kernel::Kernel*>& ks,
                   const Border& border, OutputSize size, int width, int height,
                   int quantum, int band_rows = 0);

// Where compare's two results go, band by band (PreparedFilter::
// StreamPair): Rows gets the float results of output rows [y0, y1) of
// both modes (planar views whose rows y0..y1 are valid), bands in order,
// on a thread of its own while the next band is computed.
class PairSink {
 public:
  virtual ~PairSink() = default;
  virtual void Rows(const ImageView& correlate, const ImageView& convolve,
                    int y0, int y1) = 0;
  // After the last band.
  virtual void Finish() {}
};

}  // namespace convcorr::core
