#include "kernel/kernel.h"

#include <cassert>
#include <utility>

namespace convcorr::kernel {

Kernel::Kernel(int rows, int cols, std::vector<double> weights)
    : Kernel(rows, cols, std::move(weights), cols / 2, rows / 2) {}

Kernel::Kernel(int rows, int cols, std::vector<double> weights, int anchor_x,
               int anchor_y)
    : rows_(rows),
      cols_(cols),
      weights_(std::move(weights)),
      anchor_x_(anchor_x),
      anchor_y_(anchor_y) {
  assert(rows_ >= 1 && cols_ >= 1);
  assert(weights_.size() == static_cast<size_t>(rows_) * cols_);
  assert(anchor_x_ >= 0 && anchor_x_ < cols_);
  assert(anchor_y_ >= 0 && anchor_y_ < rows_);
}

Kernel Kernel::WithAnchor(int anchor_x, int anchor_y) const {
  return Kernel(rows_, cols_, weights_, anchor_x, anchor_y).WithOffset(offset_);
}

Kernel Kernel::WithOffset(double offset) const {
  Kernel k = *this;
  k.offset_ = offset;
  return k;
}

Kernel Rotate180(const Kernel& k) {
  std::vector<double> w(k.weights().rbegin(), k.weights().rend());
  return Kernel(k.rows(), k.cols(), std::move(w), k.cols() - 1 - k.anchor_x(),
                k.rows() - 1 - k.anchor_y())
      .WithOffset(k.offset());
}

Kernel Dilate(const Kernel& k, int dy, int dx) {
  assert(dy >= 1 && dx >= 1);
  const int rows = (k.rows() - 1) * dy + 1;
  const int cols = (k.cols() - 1) * dx + 1;
  std::vector<double> w(static_cast<size_t>(rows) * cols, 0.0);
  for (int r = 0; r < k.rows(); ++r) {
    for (int c = 0; c < k.cols(); ++c) {
      w[static_cast<size_t>(r) * dy * cols + static_cast<size_t>(c) * dx] =
          k.at(r, c);
    }
  }
  return Kernel(rows, cols, std::move(w), k.anchor_x() * dx, k.anchor_y() * dy)
      .WithOffset(k.offset());
}

Normalization NormalizeScale(const Kernel& k) {
  double sum = 0;
  double positive = 0;
  for (double w : k.weights()) {
    sum += w;
    if (w > 0) positive += w;
  }
  Normalization n;
  if (sum != 0) {
    n.scale = 1.0 / sum;
  } else if (positive > 0) {
    n.scale = 1.0 / positive;
    n.used_positive_sum = true;
  } else {
    n.all_zero = true;
  }
  return n;
}

}  // namespace convcorr::kernel
