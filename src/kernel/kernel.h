// The Kernel value: weights, size and anchor, and what can be derived from it
// without images: rotation, normalisation, symmetry and separability.
#pragma once

#include <string>
#include <vector>

namespace convcorr::kernel {

// Largest kernel side accepted anywhere (spec, file, named kernel).
inline constexpr int kMaxKernelSide = 1025;

// A 2-D kernel: `rows` x `cols` weights in row-major order and an anchor
// (column `anchor_x`, row `anchor_y`), the tap that multiplies the pixel under
// the output.
class Kernel {
 public:
  // Kernel with the default anchor (cols/2, rows/2). Sizes must be >= 1 and
  // weights.size() == rows*cols (checked with assert; parse errors are the
  // parser's job).
  Kernel(int rows, int cols, std::vector<double> weights);
  // Kernel with an explicit anchor, 0 <= anchor_x < cols, 0 <= anchor_y < rows.
  Kernel(int rows, int cols, std::vector<double> weights, int anchor_x,
         int anchor_y);

  int rows() const { return rows_; }
  int cols() const { return cols_; }
  int anchor_x() const { return anchor_x_; }
  int anchor_y() const { return anchor_y_; }
  // Weight at row r, column c.
  double at(int r, int c) const { return weights_[r * cols_ + c]; }
  const std::vector<double>& weights() const { return weights_; }

  // The same weights with another anchor (the offset kept).
  Kernel WithAnchor(int anchor_x, int anchor_y) const;

  // A constant added after the weighted sum, from kernel files that carry
  // one (the offset of a libvips .mat file); 0 otherwise. The CLI adds it
  // to --bias; rotation and dilation keep it.
  double offset() const { return offset_; }
  Kernel WithOffset(double offset) const;

  bool operator==(const Kernel& other) const = default;

 private:
  int rows_;
  int cols_;
  std::vector<double> weights_;
  int anchor_x_;
  int anchor_y_;
  double offset_ = 0.0;
};

// The kernel rotated by 180 degrees about its centre, with the anchor mirrored
// to (cols-1-ax, rows-1-ay): correlating with it is convolving with `k`.
Kernel Rotate180(const Kernel& k);

// The kernel with `dy - 1` rows and `dx - 1` columns of zeros between its
// taps (--dilation, as PyTorch's `dilation`): K'(i*dy, j*dx) = K(i, j), the
// anchor moved with its tap. Sizes grow to (rows-1)*dy+1 by (cols-1)*dx+1.
// Rotating commutes with it: Rotate180(Dilate(K)) == Dilate(Rotate180(K)).
Kernel Dilate(const Kernel& k, int dy, int dx);

// The scale that --normalize applies.
struct Normalization {
  double scale = 1.0;              // 1/sum(K), or 1/sum(positive weights)
  bool used_positive_sum = false;  // true when sum(K) was 0
  bool all_zero = false;           // no positive weight either: scale stays 1
};
Normalization NormalizeScale(const Kernel& k);

// Everything `convcorr kernel` reports about a kernel.
struct Analysis {
  double sum = 0;
  double positive_sum = 0;
  double negative_sum = 0;
  Kernel rotated;        // Rotate180(k)
  Kernel symmetric;      // S = (K + rot180 K) / 2, anchor of K
  Kernel antisymmetric;  // A = (K - rot180 K) / 2, anchor of K
  double asymmetry = 0;  // ||K - rot180 K|| / (2 ||K||), Frobenius; 0 if K == 0
  int rank = 0;          // numerical rank (SVD with a relative tolerance)
  bool separable = false;  // rank <= 1
  // K == rot180(K) as matrices: convolve == correlate for --size valid/full.
  bool centro_symmetric = false;
  // convolve == correlate for --size same with this anchor: the taps, placed
  // at their offsets from the anchor, are point-symmetric about the anchor.
  bool convolve_equals_correlate = false;
};
Analysis Analyze(const Kernel& k);

// The best rank-1 factorisation K ~ column * row^T (outer product), from the
// largest singular triple, with its relative Frobenius residual
// ||K - column row^T|| / ||K|| (0 for an exactly separable kernel, up to
// rounding; 0 for an all-zero kernel, whose factors are zero).
struct RankOneFactors {
  std::vector<double> column;  // rows() values
  std::vector<double> row;     // cols() values
  double residual = 0;
};
RankOneFactors FactorRankOne(const Kernel& k);

// The first `max_terms` terms of K's singular value decomposition, largest
// first: K ~ sum over i of column_i row_i^T. Term i's residual is that of
// the sum of terms 0..i, ||K - sum|| / ||K|| (Frobenius). Terms past the
// numerical rank (Analysis::rank, same tolerance) are left out, so a
// rank-r kernel has at most r; an all-zero kernel has one term of zeros,
// with residual 0.
std::vector<RankOneFactors> FactorTerms(const Kernel& k, int max_terms);

}  // namespace convcorr::kernel
