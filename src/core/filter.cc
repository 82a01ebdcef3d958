#include "core/filter.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/padding.h"

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

// The fast engine's options for `params`: scale, bias and abs go into its
// store, in float32.
EngineOptions EngineOptionsOf(const FilterParams& params) {
  EngineOptions options;
  options.border = params.border;
  options.size = params.size;
  options.scale = static_cast<float>(params.scale);
  options.bias = static_cast<float>(params.bias);
  options.abs = params.abs;
  options.threads = params.threads;
  return options;
}

}  // namespace

Image Subsample(const Image& img, int sy, int sx) {
  const auto sample = [&](const Plane& p) {
    Plane out((p.width + sx - 1) / sx, (p.height + sy - 1) / sy);
    for (int y = 0; y < out.height; ++y) {
      for (int x = 0; x < out.width; ++x) out.at(y, x) = p.at(y * sy, x * sx);
    }
    return out;
  };
  Image out;
  out.width = (img.width + sx - 1) / sx;
  out.height = (img.height + sy - 1) / sy;
  out.depth = img.depth;
  for (const Plane& p : img.color) out.color.push_back(sample(p));
  if (img.alpha) out.alpha = sample(*img.alpha);
  return out;
}

Plane CorrelateFast(const Plane& in, const kernel::Kernel& k,
                    const Border& border, OutputSize size, int threads,
                    Method method) {
  const Extent out = OutputExtent(in.width, in.height, k, size);
  Plane result(out.width, out.height);
  EngineOptions options;
  options.border = border;
  options.size = size;
  options.threads = threads;
  Correlator(k, method).Run(ViewOf(std::vector<const Plane*>{&in}),
                            ViewOf(std::vector<Plane*>{&result}), options);
  return result;
}

uint64_t FilterView(const ConstImageView& in, const ImageView& out,
                    const kernel::Kernel& k, const FilterParams& params) {
  const kernel::Kernel applied =
      params.mode == Mode::kConvolve ? kernel::Rotate180(k) : k;
  return Correlator(applied, params.method)
      .Run(in, out, EngineOptionsOf(params));
}

Image Filter(const Image& in, const kernel::Kernel& k,
             const FilterParams& params) {
  // Convolution is correlation with the kernel rotated about its anchor: one
  // engine operation, so convolve(K) == correlate(rot180 K) bit for bit.
  const kernel::Kernel applied =
      params.mode == Mode::kConvolve ? kernel::Rotate180(k) : k;
  const Extent out = OutputExtent(in.width, in.height, applied, params.size);

  Image result;
  result.width = out.width;
  result.height = out.height;
  result.depth = in.depth;
  std::vector<const Plane*> sources;
  std::vector<Plane*> targets;
  for (const Plane& p : in.color) sources.push_back(&p);
  result.color.assign(in.color.size(), Plane(out.width, out.height));
  for (Plane& p : result.color) targets.push_back(&p);
  if (in.alpha && params.filter_alpha) {
    sources.push_back(&*in.alpha);
    result.alpha = Plane(out.width, out.height);
    targets.push_back(&*result.alpha);
  }

  if (params.simd) {
    // The fast engine: scale, bias and abs fused into its store, float32.
    const EngineOptions options = EngineOptionsOf(params);
    const Correlator correlator(applied, params.method);
    // At most four channels per view; more planes run in groups.
    for (size_t first = 0; first < sources.size(); first += 4) {
      const size_t last = std::min(sources.size(), first + 4);
      correlator.Run(ViewOf(std::vector<const Plane*>(sources.begin() + first,
                                                      sources.begin() + last)),
                     ViewOf(std::vector<Plane*>(targets.begin() + first,
                                                targets.begin() + last)),
                     options);
    }
  } else {
    // The reference, then scale, bias and abs in double.
    for (size_t c = 0; c < sources.size(); ++c) {
      Plane p = CorrelateReference(*sources[c], applied, params.border,
                                   params.size, params.threads);
      if (params.scale != 1.0 || params.bias != 0.0) {
        for (float& v : p.data) {
          v = static_cast<float>(params.scale * v + params.bias);
        }
      }
      if (params.abs) {
        for (float& v : p.data) v = std::fabs(v);
      }
      *targets[c] = std::move(p);
    }
  }
  if (in.alpha && !params.filter_alpha) {
    result.alpha =
        CarryAlpha(*in.alpha, out, applied, params.size, params.border);
  }
  return result;
}

FilterPairResult FilterPair(const Image& in, const kernel::Kernel& k,
                            const FilterParams& params) {
  FilterParams p = params;
  if (!params.simd) {
    p.mode = Mode::kCorrelate;
    Image corr = Filter(in, k, p);
    p.mode = Mode::kConvolve;
    Image conv = Filter(in, k, p);
    return {std::move(corr), std::move(conv), PairCorrelator::Plan::kTwoPasses};
  }
  const Extent out = OutputExtent(in.width, in.height, k, params.size);
  FilterPairResult result;
  std::vector<const Plane*> sources;
  std::vector<Plane*> corr, conv;
  for (Image* img : {&result.correlate, &result.convolve}) {
    img->width = out.width;
    img->height = out.height;
    img->depth = in.depth;
    img->color.assign(in.color.size(), Plane(out.width, out.height));
    if (in.alpha && params.filter_alpha)
      img->alpha = Plane(out.width, out.height);
  }
  for (const Plane& pl : in.color) sources.push_back(&pl);
  for (Plane& pl : result.correlate.color) corr.push_back(&pl);
  for (Plane& pl : result.convolve.color) conv.push_back(&pl);
  if (in.alpha && params.filter_alpha) {
    sources.push_back(&*in.alpha);
    corr.push_back(&*result.correlate.alpha);
    conv.push_back(&*result.convolve.alpha);
  }
  const EngineOptions options = EngineOptionsOf(params);
  const PairCorrelator engine(k, params.method, params.size);
  result.plan = engine.plan();
  for (size_t first = 0; first < sources.size(); first += 4) {
    const size_t last = std::min(sources.size(), first + 4);
    engine.Run(
        ViewOf(std::vector<const Plane*>(sources.begin() + first,
                                         sources.begin() + last)),
        ViewOf(std::vector<Plane*>(corr.begin() + first, corr.begin() + last)),
        ViewOf(std::vector<Plane*>(conv.begin() + first, conv.begin() + last)),
        options);
  }
  if (in.alpha && !params.filter_alpha) {
    // Carried around the kernel's centre: the same for both modes.
    result.correlate.alpha =
        CarryAlpha(*in.alpha, out, k, params.size, params.border);
    result.convolve.alpha = result.correlate.alpha;
  }
  return result;
}

}  // namespace convcorr::core
