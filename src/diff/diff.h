// What compare shows: statistics of convolve - correlate, the heat map on a
// diverging colour map, the signed raw difference and the labelled panel.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/image.h"

namespace convcorr::diff {

// Statistics of d = convolve - correlate over all colour samples (alpha is
// not compared). Both images must have the same size and channel count.
struct DiffStats {
  uint64_t samples = 0;
  double max_abs = 0;   // max |d|
  double mean_abs = 0;  // mean |d|
  double rms = 0;       // sqrt(mean d^2)
  double peak = 0;      // peak signal value used for PSNR
  double psnr = 0;      // 10 log10(peak^2 / mean d^2); +inf when identical, NaN
                        // with a NaN d
  double threshold = 0;    // |d| > threshold counts in share_above
  double share_above = 0;  // fraction of samples with |d| > threshold
  int max_x = 0;           // where |d| is largest (first in row-major order)
  int max_y = 0;
  int max_channel = 0;
  bool identical = true;  // every d is exactly 0
  // The heat map's colour range r (colours span [-r, r], larger |d|
  // saturate) and how it was chosen ("max", "p99.5", or a value): set by
  // the caller from ChooseRange, for the report.
  double map_range = 0;
  std::string map_rule;
};

// Computes the statistics; `peak` is the signal peak (255, 65535, or the
// input's range for float).
DiffStats ComputeStats(const core::Image& convolved,
                       const core::Image& correlated, double threshold,
                       double peak);

// Per pixel, the signed d with the largest magnitude over colour channels.
core::Plane SignedDiff(const core::Image& convolved,
                       const core::Image& correlated);

// BGR colour of value t in [-1, 1] on the blue-white-red diverging map
// (blue negative, white zero, red positive), 8-bit components.
struct Bgr {
  uint8_t b, g, r;
  bool operator==(const Bgr&) const = default;
};
Bgr DivergingColor(double t);

// How the heat map's colour range is chosen (--diff-range): the largest
// |d|, a percentile of |d|, or a given value.
struct DiffRange {
  enum class Kind { kMax, kPercentile, kValue };
  Kind kind = Kind::kPercentile;
  double value = 99.5;  // the percentile (0 < p <= 100), or the value (> 0)
  bool operator==(const DiffRange&) const = default;
};

// The symmetric range [-r, r] the heat map of `d` (SignedDiff) is drawn
// with: kMax gives max |d|; kPercentile the p-th percentile (nearest rank)
// of |d| over the pixels where d is not zero, so that a few hard edges
// saturate instead of washing the map out, and a difference confined to a
// small area still shows; kValue the value itself. 0 when d is zero
// everywhere (kValue excepted). NaN d are left out (RangeChooser, rows.h,
// which computes it).
double ChooseRange(const core::Plane& d, const DiffRange& choice);

// "max", "p99.5", or the value: how --diff-range reads back.
std::string DiffRangeName(const DiffRange& choice);

// A difference as the panel's colour bar and compare's text print it: six
// significant digits, so the bar and the text show the same number.
std::string FormatDiff(double v);

// Heat map of `d` on the diverging map with the symmetric range [-range,
// range] (range <= 0 maps everything to white): an 8-bit BGR image.
core::Image HeatMap(const core::Plane& d, double range);

// The signed difference of every colour channel as a float image.
core::Image RawDiff(const core::Image& convolved,
                    const core::Image& correlated);

// The labelled panel: input | correlate | convolve | diff heat map, with a
// colour bar for [-range, range] and a title line. Inputs are quantized
// images of any depth and channel count; the panel is 8-bit BGR. When
// max_abs (the largest |d|) is beyond the range, the bar ends in arrows
// and its end labels read "<=-r" and ">=+r": those colours saturate. A
// zero range (no difference) draws a white bar with the one label "0".
core::Image Panel(const core::Image& input, const core::Image& correlated,
                  const core::Image& convolved, const core::Image& heat_map,
                  double range, double max_abs, const std::string& title);

// A preview of `img` at most `max_side` pixels on its long side (compare
// --html): 8-bit BGR as the panel's tiles show it (16-bit scaled, float
// stretched from its min to its max, alpha over a checkerboard), shrunk
// by area averaging; never enlarged.
core::Image Thumbnail(const core::Image& img, int max_side);

// The thumbnail of an image made from its rows as a decoder gives them
// (interleaved gray, gray+alpha, B,G,R or B,G,R,A samples in native byte
// order), in memory of two rows of sums however large the image: the same
// pixels as Thumbnail of the image held whole. Float samples are
// stretched from `range`, which must be the image's core::ColorRange (a
// first pass over its rows: ColorRangeOfRows).
class ThumbnailRows {
 public:
  ThumbnailRows(int width, int height, int channels, core::Depth depth,
                int max_side, core::Range range = {});
  ~ThumbnailRows();
  ThumbnailRows(const ThumbnailRows&) = delete;
  ThumbnailRows& operator=(const ThumbnailRows&) = delete;

  // The next `rows` rows, `stride` bytes apart.
  void Add(const std::byte* src, std::ptrdiff_t stride, int rows);
  // After the last row: the thumbnail.
  core::Image Finish();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// core::ColorRange of float rows as ThumbnailRows takes them, accumulated
// over `rows` rows into `range`; `first` is true until a finite colour
// sample has been seen (start with true and a zero range).
void ColorRangeOfRows(const std::byte* src, std::ptrdiff_t stride, int rows,
                      int width, int channels, core::Range& range, bool& first);

}  // namespace convcorr::diff
