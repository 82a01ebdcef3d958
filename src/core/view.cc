#include "core/view.h"

#include <cmath>

#include "core/correlate_simd.h"

namespace convcorr::core {

size_t SampleBytes(Depth type) {
  switch (type) {
    case Depth::kU8:
      return 1;
    case Depth::kU16:
      return 2;
    case Depth::kF32:
      return 4;
  }
  return 4;
}

namespace {

// A view of float planes of one size; View and PlaneT differ only in
// constness.
template <typename View, typename PlaneT>
View ViewOfPlanes(const std::vector<PlaneT*>& planes) {
  View v;
  v.channels = static_cast<int>(planes.size());
  if (planes.empty()) return v;
  v.width = planes[0]->width;
  v.height = planes[0]->height;
  v.type = Depth::kF32;
  v.row_bytes = static_cast<std::ptrdiff_t>(v.width) * 4;
  for (size_t c = 0; c < planes.size(); ++c) {
    v.base[c] = reinterpret_cast<typename decltype(v.base)::value_type>(
        planes[c]->data.data());
  }
  return v;
}

}  // namespace

ConstImageView ViewOf(const std::vector<const Plane*>& planes) {
  return ViewOfPlanes<ConstImageView>(planes);
}

ImageView ViewOf(const std::vector<Plane*>& planes) {
  return ViewOfPlanes<ImageView>(planes);
}

bool AllFinite(const ConstImageView& in) {
  if (in.type != Depth::kF32) return true;
  const bool packed = IsPacked(in);
  for (int c = 0; c < (packed ? 1 : in.channels); ++c) {
    for (int y = 0; y < in.height; ++y) {
      const std::byte* row = in.base[c] + y * in.row_bytes;
      if (packed || in.step == 1) {
        // Contiguous: one SIMD pass over the row.
        const size_t n =
            static_cast<size_t>(in.width) * (packed ? in.channels : 1);
        if (!detail::RowFinite(reinterpret_cast<const float*>(row), n)) {
          return false;
        }
        continue;
      }
      for (int x = 0; x < in.width; ++x) {
        if (!std::isfinite(SampleAt(row + static_cast<size_t>(x) * in.step * 4,
                                    Depth::kF32))) {
          return false;
        }
      }
    }
  }
  return true;
}

}  // namespace convcorr::core
