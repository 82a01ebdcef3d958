#include <Eigen/SVD>

#include "kernel/svd_internal.h"

namespace convcorr::kernel::internal {

Svd Decompose(const Eigen::MatrixXd& m, bool vectors) {
  Svd out;
  if (vectors) {
    const Eigen::BDCSVD<Eigen::MatrixXd> svd(
        m, Eigen::ComputeThinU | Eigen::ComputeThinV);
    out.values = svd.singularValues();
    out.u = svd.matrixU();
    out.v = svd.matrixV();
  } else {
    const Eigen::BDCSVD<Eigen::MatrixXd> svd(m);
    out.values = svd.singularValues();
  }
  return out;
}

}  // namespace convcorr::kernel::internal
