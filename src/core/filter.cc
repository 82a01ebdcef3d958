#include "core/filter.h"

#include "core/padding.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

namespace convcorr::core {

namespace {

// The alpha plane carried along, never filtered: unchanged for `same`;
// for `valid` and `full` cropped or extended (with the border) around the
// kernel's centre ((kw-1)/2, (kh-1)/2), so that, like the image, it does not
// depend on the anchor or on the mode.
Plane CarryAlpha(const Plane& alpha, Extent out, const kernel::Kernel& k,
                 OutputSize size, const Border& border) {
  if (size == OutputSize::kSame) return alpha;
  const Origin origin = OutputOrigin(k, size);
  const int dy = origin.y + (k.rows() - 1) / 2;
  const int dx = origin.x + (k.cols() - 1) / 2;
  Plane result(out.width, out.height);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      result.at(y, x) = BorderSample(alpha, y + dy, x + dx, border);
    }
  }
  return result;
}

}  // namespace

Method ChooseMethod(const kernel::Kernel& k, const kernel::RankOneFactors& f,
                    Method requested) {
  const bool rank_one = f.residual <= kSeparableResidual;
  switch (requested) {
    case Method::kDirect:
      return Method::kDirect;
    case Method::kSeparable:
      return rank_one ? Method::kSeparable : Method::kDirect;
    case Method::kAuto:
      break;
  }
  const int direct = k.rows() * k.cols();
  const int separable = k.rows() + k.cols() + kExtraPassCost;
  return rank_one && separable < direct ? Method::kSeparable : Method::kDirect;
}

const char* MethodName(Method method) {
  switch (method) {
    case Method::kAuto:
      return "auto";
    case Method::kDirect:
      return "direct";
    case Method::kSeparable:
      return "separable";
  }
  return "?";
}

int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

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

Image Filter(const Image& in, const kernel::Kernel& k,
             const FilterParams& params) {
  // Convolution is correlation with the kernel rotated about its anchor: one
  // engine operation, so convolve(K) == correlate(rot180 K) bit for bit.
  const kernel::Kernel applied =
      params.mode == Mode::kConvolve ? kernel::Rotate180(k) : k;
  const Extent out = OutputExtent(in.width, in.height, applied, params.size);

  const auto finish = [&](Plane p) {
    if (params.scale != 1.0 || params.bias != 0.0) {
      for (float& v : p.data) {
        v = static_cast<float>(params.scale * v + params.bias);
      }
    }
    if (params.abs) {
      for (float& v : p.data) v = std::fabs(v);
    }
    return p;
  };

  Image result;
  result.width = out.width;
  result.height = out.height;
  result.depth = in.depth;
  // One method for every plane of the image, chosen once.
  kernel::RankOneFactors factors;
  Method method = Method::kDirect;
  if (params.simd && params.method != Method::kDirect) {
    factors = kernel::FactorRankOne(applied);
    method = ChooseMethod(applied, factors, params.method);
  }
  const auto correlate = [&](const Plane& p) {
    if (!params.simd) {
      return CorrelateReference(p, applied, params.border, params.size,
                                params.threads);
    }
    if (method == Method::kSeparable) {
      return CorrelateSeparable(p, applied, factors, params.border,
                                params.size, params.threads);
    }
    return CorrelateSimd(p, applied, params.border, params.size,
                         params.threads);
  };
  for (const Plane& p : in.color) result.color.push_back(finish(correlate(p)));
  if (in.alpha) {
    result.alpha = params.filter_alpha ? finish(correlate(*in.alpha))
                                       : CarryAlpha(*in.alpha, out, applied,
                                                    params.size, params.border);
  }
  return result;
}

}  // namespace convcorr::core
