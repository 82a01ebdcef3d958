// The singular value decomposition behind the rank and the separable
// factors, in a file of its own: Eigen's BDCSVD divides by zero on purpose
// (an IEEE infinity in its secular equation when singular values repeat or
// vanish, as for every rank-1 kernel), so this one file is built without
// UBSan's float-divide-by-zero check (src/CMakeLists.txt); the rest of the
// code keeps it.
#pragma once

#include <Eigen/Core>

namespace convcorr::kernel::internal {

struct Svd {
  Eigen::VectorXd values;  // descending
  Eigen::MatrixXd u;       // thin U and V when asked for, else empty
  Eigen::MatrixXd v;
};

// BDCSVD, which falls back to Jacobi on small matrices and stays fast on a
// 1025 x 1025 kernel.
Svd Decompose(const Eigen::MatrixXd& m, bool vectors);

}  // namespace convcorr::kernel::internal
