// What `convcorr kernel` reports: sums, the symmetric/antisymmetric split,
// the asymmetry ratio, the numerical rank and when convolve equals correlate.
#include <Eigen/Core>
#include <algorithm>
#include <cassert>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "kernel/kernel.h"
#include "kernel/svd_internal.h"

namespace convcorr::kernel {
namespace {

// Singular values at or below kRankTolerance * sigma_max * max(rows, cols)
// count as zero: the usual LAPACK/NumPy rule (which uses machine epsilon)
// loosened so that weights rounded from decimals, like gaussian samples, are
// not taken for a rank > 1 by noise around 1e-16.
constexpr double kRankTolerance = 1e-9;

int NumericalRank(const Kernel& k, double max_abs) {
  if (max_abs == 0) return 0;
  // Scaled by the largest weight so that huge or tiny weights neither
  // overflow nor underflow inside the SVD; the rank does not change.
  Eigen::MatrixXd m(k.rows(), k.cols());
  for (int r = 0; r < k.rows(); ++r) {
    for (int c = 0; c < k.cols(); ++c) m(r, c) = k.at(r, c) / max_abs;
  }
  // Only singular values are computed.
  const Eigen::VectorXd sv = internal::Decompose(m, false).values;
  const double threshold =
      kRankTolerance * sv(0) * std::max(k.rows(), k.cols());
  int rank = 0;
  for (Eigen::Index i = 0; i < sv.size(); ++i) {
    if (sv(i) > threshold) ++rank;
  }
  return rank;
}

// Whether every tap equals the tap at the opposite offset from the anchor,
// a tap outside the kernel counting as 0.
bool PointSymmetricAboutAnchor(const Kernel& k) {
  for (int r = 0; r < k.rows(); ++r) {
    for (int c = 0; c < k.cols(); ++c) {
      const int mr = 2 * k.anchor_y() - r;
      const int mc = 2 * k.anchor_x() - c;
      const bool inside = mr >= 0 && mr < k.rows() && mc >= 0 && mc < k.cols();
      const double mirrored = inside ? k.at(mr, mc) : 0.0;
      if (k.at(r, c) != mirrored) return false;
    }
  }
  return true;
}

}  // namespace

std::vector<RankOneFactors> FactorTerms(const Kernel& k, int max_terms) {
  std::vector<RankOneFactors> terms;
  if (max_terms <= 0) return terms;
  double max_abs = 0;
  for (double w : k.weights()) max_abs = std::max(max_abs, std::fabs(w));
  if (max_abs == 0 || !std::isfinite(max_abs)) {
    RankOneFactors zero;
    zero.column.assign(k.rows(), 0.0);
    zero.row.assign(k.cols(), 0.0);
    terms.push_back(std::move(zero));
    return terms;
  }
  Eigen::MatrixXd m(k.rows(), k.cols());
  for (int r = 0; r < k.rows(); ++r) {
    for (int c = 0; c < k.cols(); ++c) m(r, c) = k.at(r, c) / max_abs;
  }
  const internal::Svd svd = internal::Decompose(m, true);
  const Eigen::VectorXd& sv = svd.values;
  // What is left of K (scaled) after each term, for the residuals.
  Eigen::MatrixXd rest = m;
  const double norm = m.norm();
  const int count = std::min<int>(max_terms, static_cast<int>(sv.size()));
  // Singular values NumericalRank counts as zero end the list.
  const double negligible =
      kRankTolerance * sv(0) * std::max(k.rows(), k.cols());
  for (int i = 0; i < count && sv(i) > negligible; ++i) {
    RankOneFactors f;
    // Split sigma evenly so both factors have similar magnitudes.
    const double s = std::sqrt(sv(i));
    const Eigen::VectorXd u = s * svd.u.col(i);
    const Eigen::VectorXd v = s * svd.v.col(i);
    rest -= u * v.transpose();
    const double scale = std::sqrt(max_abs);
    f.column.assign(u.data(), u.data() + u.size());
    f.row.assign(v.data(), v.data() + v.size());
    for (double& x : f.column) x *= scale;
    for (double& x : f.row) x *= scale;
    f.residual = rest.norm() / norm;
    terms.push_back(std::move(f));
  }
  return terms;
}

RankOneFactors FactorRankOne(const Kernel& k) {
  return std::move(FactorTerms(k, 1).front());
}

Analysis Analyze(const Kernel& k) {
  const std::vector<double>& w = k.weights();
  Kernel rotated = Rotate180(k);
  const std::vector<double>& rw = rotated.weights();

  double sum = 0;
  double positive_sum = 0;
  double negative_sum = 0;
  double max_abs = 0;
  bool finite = true;
  std::vector<double> symmetric(w.size());
  std::vector<double> antisymmetric(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    sum += w[i];
    if (w[i] > 0) positive_sum += w[i];
    if (w[i] < 0) negative_sum += w[i];
    max_abs = std::max(max_abs, std::fabs(w[i]));
    finite = finite && std::isfinite(w[i]);
    symmetric[i] = (w[i] + rw[i]) / 2;
    antisymmetric[i] = (w[i] - rw[i]) / 2;
  }
  // ParseSpec only makes finite kernels; a hand-built one with inf or nan
  // gets nan asymmetry and no SVD, which could not converge on it.
  assert(finite);

  // Norms of K/max and (K - rot K)/max: the ratio is unchanged and squares
  // of large weights cannot overflow.
  double asymmetry = 0;
  if (max_abs > 0) {
    double norm2 = 0;
    double diff2 = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      const double a = w[i] / max_abs;
      const double d = a - rw[i] / max_abs;
      norm2 += a * a;
      diff2 += d * d;
    }
    asymmetry = std::sqrt(diff2) / (2 * std::sqrt(norm2));
  }

  const int rank =
      finite ? NumericalRank(k, max_abs) : std::min(k.rows(), k.cols());
  const bool centro_symmetric =
      std::equal(w.begin(), w.end(), rw.begin());  // == so -0 equals 0
  const bool convolve_equals_correlate = PointSymmetricAboutAnchor(k);

  return Analysis{
      .sum = sum,
      .positive_sum = positive_sum,
      .negative_sum = negative_sum,
      .rotated = std::move(rotated),
      .symmetric = Kernel(k.rows(), k.cols(), std::move(symmetric),
                          k.anchor_x(), k.anchor_y()),
      .antisymmetric = Kernel(k.rows(), k.cols(), std::move(antisymmetric),
                              k.anchor_x(), k.anchor_y()),
      .asymmetry = asymmetry,
      .rank = rank,
      .separable = rank <= 1,
      .centro_symmetric = centro_symmetric,
      .convolve_equals_correlate = convolve_equals_correlate,
  };
}

}  // namespace convcorr::kernel
