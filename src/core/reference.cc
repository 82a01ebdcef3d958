#include "core/reference.h"

#include "core/padding.h"
#include "core/threads.h"

namespace convcorr::core {

Plane CorrelateReference(const Plane& in, const kernel::Kernel& k,
                         const Border& border, OutputSize size, int threads) {
  const Extent out = OutputExtent(in.width, in.height, k, size);
  Plane result(out.width, out.height);
  if (out.width == 0 || out.height == 0) return result;
  const Plane padded = Pad(in, out, k, OutputOrigin(k, size), border);
  ParallelRows(out.height, threads, [&](int y0, int y1) {
    for (int y = y0; y < y1; ++y) {
      for (int x = 0; x < out.width; ++x) {
        double sum = 0.0;
        for (int i = 0; i < k.rows(); ++i) {
          for (int j = 0; j < k.cols(); ++j) {
            sum += k.at(i, j) * static_cast<double>(padded.at(y + i, x + j));
          }
        }
        result.at(y, x) = static_cast<float>(sum);
      }
    }
  });
  return result;
}

}  // namespace convcorr::core
