#include "core/padding.h"

#include <algorithm>
#include <vector>

namespace convcorr::core {

float BorderSample(const Plane& in, int y, int x, const Border& border) {
  const int iy = BorderIndex(y, in.height, border.mode);
  const int ix = BorderIndex(x, in.width, border.mode);
  if (iy < 0 || ix < 0) return border.value;
  return in.at(iy, ix);
}

Plane Pad(const Plane& in, Extent out, const kernel::Kernel& k, Origin origin,
          const Border& border) {
  Plane padded(out.width + k.cols() - 1, out.height + k.rows() - 1);
  // Column indices once; rows inside the image copy straight from it.
  std::vector<int> cols(padded.width);
  for (int px = 0; px < padded.width; ++px) {
    cols[px] = BorderIndex(px + origin.x, in.width, border.mode);
  }
  for (int py = 0; py < padded.height; ++py) {
    const int iy = BorderIndex(py + origin.y, in.height, border.mode);
    float* dst = &padded.at(py, 0);
    if (iy < 0) {
      std::fill(dst, dst + padded.width, border.value);
      continue;
    }
    const float* src = &in.data[static_cast<size_t>(iy) * in.width];
    for (int px = 0; px < padded.width; ++px) {
      dst[px] = cols[px] < 0 ? border.value : src[cols[px]];
    }
  }
  return padded;
}

}  // namespace convcorr::core
