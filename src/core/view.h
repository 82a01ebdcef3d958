// Views: the engine's description of samples where they already are (8-bit,
// 16-bit or float; planar or interleaved), and the helpers that read them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/image.h"

namespace convcorr::core {

// Up to four channels of one image in memory. Channel c's sample at (y, x)
// is at base[c] + RowOffset(view, y) + x * step * SampleBytes(type):
// planar images have step 1 and one base per plane; interleaved ones
// (OpenCV's cv::Mat) step == channels and bases one sample apart.
//
// A ring (ring_rows > 0) holds only some rows of a taller image: row y is
// stored in slot y % ring_rows, RowOffset (y % ring_rows) * row_bytes, so
// that a band of rows streams through a buffer of ring_rows rows while
// `height` stays the image's (the border is the image's). Whoever fills
// the ring makes sure that the rows read are the ones in it
// (core/pipeline.h).
struct ConstImageView {
  std::array<const std::byte*, 4> base{};
  int channels = 0;
  int width = 0;
  int height = 0;
  Depth type = Depth::kF32;
  std::ptrdiff_t row_bytes = 0;
  int step = 1;
  int ring_rows = 0;
};
struct ImageView {
  std::array<std::byte*, 4> base{};
  int channels = 0;
  int width = 0;
  int height = 0;
  Depth type = Depth::kF32;
  std::ptrdiff_t row_bytes = 0;
  int step = 1;
  int ring_rows = 0;
};

// Byte offset of row y from the bases.
template <typename View>
std::ptrdiff_t RowOffset(const View& v, int y) {
  return static_cast<std::ptrdiff_t>(v.ring_rows > 0 ? y % v.ring_rows : y) *
         v.row_bytes;
}

size_t SampleBytes(Depth type);
// Views of float planes (type kF32, step 1), all the same size.
ConstImageView ViewOf(const std::vector<const Plane*>& planes);
ImageView ViewOf(const std::vector<Plane*>& planes);

// True if `v` is interleaved with its channels in order, one sample apart
// (step == channels), so that a row of it is channels x width contiguous
// samples.
template <typename View>
bool IsPacked(const View& v) {
  if (v.step != v.channels) return false;
  const size_t s = SampleBytes(v.type);
  for (int c = 1; c < v.channels; ++c) {
    if (v.base[c] != v.base[0] + c * s) return false;
  }
  return true;
}

// The sample of `type` at p, as float.
inline float SampleAt(const std::byte* p, Depth type) {
  switch (type) {
    case Depth::kU8:
      return static_cast<float>(*reinterpret_cast<const uint8_t*>(p));
    case Depth::kU16: {
      uint16_t v;
      std::memcpy(&v, p, 2);
      return static_cast<float>(v);
    }
    case Depth::kF32: {
      float v;
      std::memcpy(&v, p, 4);
      return v;
    }
  }
  return 0.0f;
}

// True unless `in` is float and holds NaN or infinity.
bool AllFinite(const ConstImageView& in);

}  // namespace convcorr::core
