#include "core/geometry.h"

namespace convcorr::core {

Extent OutputExtent(int width, int height, const kernel::Kernel& k,
                    OutputSize size) {
  switch (size) {
    case OutputSize::kSame:
      return {width, height};
    case OutputSize::kValid:
      if (k.cols() > width || k.rows() > height) return {0, 0};
      return {width - k.cols() + 1, height - k.rows() + 1};
    case OutputSize::kFull:
      return {width + k.cols() - 1, height + k.rows() - 1};
  }
  return {};
}

Origin OutputOrigin(const kernel::Kernel& k, OutputSize size) {
  switch (size) {
    case OutputSize::kSame:
      return {-k.anchor_x(), -k.anchor_y()};
    case OutputSize::kValid:
      return {0, 0};
    case OutputSize::kFull:
      return {-(k.cols() - 1), -(k.rows() - 1)};
  }
  return {};
}

}  // namespace convcorr::core
