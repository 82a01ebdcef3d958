#include "core/filter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <utility>
#include <vector>

#include "core/padding.h"
#include "core/srgb.h"

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

uint64_t CarryAlphaRows(const ConstImageView& in, const ImageView& out, int y0,
                        int y1, const kernel::Kernel& k, OutputSize size,
                        const Border& border) {
  int dy = 0;
  int dx = 0;
  if (size != OutputSize::kSame) {
    const Origin origin = OutputOrigin(k, size);
    dy = origin.y + (k.rows() - 1) / 2;
    dx = origin.x + (k.cols() - 1) / 2;
  }
  const int a = in.channels - 1;
  const size_t in_sample = SampleBytes(in.type);
  const size_t out_sample = SampleBytes(out.type);
  std::vector<float> row(static_cast<size_t>(out.width));
  // The input column of each output column, the same for every row.
  std::vector<int> columns(static_cast<size_t>(out.width));
  for (int x = 0; x < out.width; ++x) {
    columns[x] = BorderIndex(x + dx, in.width, border.mode);
  }
  uint64_t saturated = 0;
  for (int y = y0; y < y1; ++y) {
    const int iy = BorderIndex(y + dy, in.height, border.mode);
    const std::byte* src = iy < 0 ? nullptr : in.base[a] + RowOffset(in, iy);
    for (int x = 0; x < out.width; ++x) {
      const int ix = columns[x];
      row[x] =
          src == nullptr || ix < 0
              ? border.value
              : SampleAt(src + static_cast<size_t>(ix) * in.step * in_sample,
                         in.type);
    }
    saturated += QuantizeSaturate(row.data(), row.size(), out.type);
    std::byte* dst = out.base[a] + RowOffset(out, y);
    const size_t pitch = static_cast<size_t>(out.step) * out_sample;
    for (int x = 0; x < out.width; ++x) {
      std::byte* d = dst + static_cast<size_t>(x) * pitch;
      switch (out.type) {
        case Depth::kU8: {
          const auto v = static_cast<uint8_t>(row[x]);
          std::memcpy(d, &v, 1);
          break;
        }
        case Depth::kU16: {
          const auto v = static_cast<uint16_t>(row[x]);
          std::memcpy(d, &v, 2);
          break;
        }
        case Depth::kF32:
          std::memcpy(d, &row[x], 4);
          break;
      }
    }
  }
  return saturated;
}

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

PreparedFilter::PreparedFilter(const kernel::Kernel& k,
                               const FilterParams& params, Use use)
    : PreparedFilter(k, k, params, use) {}

PreparedFilter::PreparedFilter(const kernel::Kernel& correlate_k,
                               const kernel::Kernel& convolve_k,
                               const FilterParams& params)
    : PreparedFilter(correlate_k, convolve_k, params, Use::kCompare) {}

PreparedFilter::PreparedFilter(const kernel::Kernel& k,
                               const kernel::Kernel& conv_k,
                               const FilterParams& params, Use use)
    : kernel_(k),
      conv_kernel_(conv_k),
      // Convolution is correlation with the kernel rotated about its
      // anchor: one engine operation, so convolve(K) == correlate(rot180 K)
      // bit for bit.
      applied_(use == Use::kFilter && params.mode == Mode::kConvolve
                   ? kernel::Rotate180(k)
                   : k),
      params_(params),
      use_(use) {
  // In valid and full the window is the kernel's box whatever the anchor
  // (OutputOrigin), so only `same` sees two anchors.
  const bool two_anchors =
      params.size == OutputSize::kSame &&
      (conv_k.anchor_x() != k.anchor_x() || conv_k.anchor_y() != k.anchor_y());
  if (params.imagemagick) {
    // ImageMagick's own arithmetic runs instead of any engine.
    method_ = Method::kDirect;
  } else if (params.simd && use == Use::kFilter) {
    correlator_ = std::make_unique<Correlator>(applied_, params.method);
    method_ = correlator_->method();
    terms_ = correlator_->terms();
    symmetric_ = correlator_->symmetric_passes();
    integer_ = correlator_->integer_lanes();
  } else if (params.simd && two_anchors) {
    // The windows of K and rot180 K' do not coincide: two passes.
    const std::vector<kernel::RankOneFactors> terms =
        FactorsFor(k, params.method);
    pass_corr_ = std::make_unique<Correlator>(k, params.method, terms);
    pass_conv_ =
        std::make_unique<Correlator>(kernel::Rotate180(conv_k), params.method);
    method_ = pass_corr_->method();
    terms_ = pass_corr_->terms();
    symmetric_ = pass_corr_->symmetric_passes();
  } else if (params.simd) {
    pair_ = std::make_unique<PairCorrelator>(k, params.method, params.size);
    method_ = pair_->method();
    terms_ = pair_->terms();
    symmetric_ = pair_->symmetric_passes();
    plan_ = pair_->plan();
  } else {
    // The reference runs; the strategy is still chosen, to be named and
    // so that --method separable refuses the same kernels either way.
    const std::vector<kernel::RankOneFactors> terms =
        FactorsFor(k, params.method);
    method_ = ChooseMethod(k, terms, params.method);
    if (method_ == Method::kSeparable) {
      terms_ = SeparableTerms(terms);
      symmetric_ = terms_ == 1 && SymmetricFactor(terms[0].row) &&
                   SymmetricFactor(terms[0].column);
    }
  }
  if (params.alpha_weighted && !params.imagemagick) {
    const auto absolute = [](const kernel::Kernel& kk) {
      std::vector<double> w = kk.weights();
      for (double& v : w) v = std::fabs(v);
      return kernel::Kernel(kk.rows(), kk.cols(), std::move(w), kk.anchor_x(),
                            kk.anchor_y());
    };
    const kernel::Kernel& main = use == Use::kFilter ? applied_ : k;
    for (const double v : main.weights()) abs_sum_ += std::fabs(v);
    const bool signed_weights =
        std::any_of(k.weights().begin(), k.weights().end(),
                    [](double v) { return v < 0; }) ||
        std::any_of(conv_k.weights().begin(), conv_k.weights().end(),
                    [](double v) { return v < 0; });
    if (signed_weights) {
      // The denominator's filter: |K| with the raw sums' parameters (the
      // strategy chosen for |K| itself: --method may not fit it).
      FilterParams raw = RawParams(false);
      raw.method = Method::kAuto;
      if (use == Use::kFilter) {
        // applied_ is already rotated for convolve: correlate with it.
        raw.mode = Mode::kCorrelate;
        abs_ = std::make_unique<PreparedFilter>(absolute(applied_), raw,
                                                Use::kFilter);
      } else {
        abs_ = std::unique_ptr<PreparedFilter>(
            new PreparedFilter(absolute(k), absolute(conv_k), raw));
      }
    }
  }
}

FilterParams PreparedFilter::RawParams(bool colour) const {
  FilterParams raw = params_;
  raw.scale = 1.0;
  raw.bias = 0.0;
  raw.abs = false;
  raw.alpha_weighted = false;
  raw.linear = false;
  raw.stride_y = 1;
  raw.stride_x = 1;
  raw.rounding = Rounding::kSaturate;
  raw.filter_alpha = true;
  raw.imagemagick.reset();
  if (colour) raw.border.value = params_.border.value * params_.border.value;
  return raw;
}

double AlphaUnit(Depth type) {
  return type == Depth::kF32 ? 1.0 : DepthMax(type);
}

float AlphaWeightedColour(float num, float den, double abs_sum,
                          double alpha_unit, const FilterParams& params) {
  double v = 0.0;
  if (den > std::ldexp(abs_sum * alpha_unit, -20)) {
    v = static_cast<double>(num) * abs_sum / den;
  }
  v = params.scale * v + params.bias;
  if (params.abs) v = std::fabs(v);
  return static_cast<float>(v);
}

PreparedFilter::~PreparedFilter() = default;
PreparedFilter::PreparedFilter(PreparedFilter&&) noexcept = default;
PreparedFilter& PreparedFilter::operator=(PreparedFilter&&) noexcept = default;

bool PreparedFilter::ReadsSamples(int channels) const {
  return !params_.linear && !AlphaWeighted(channels) && EngineReads(channels);
}

bool PreparedFilter::EngineReads(int channels) const {
  return use_ == Use::kFilter && correlator_ != nullptr &&
         params_.stride_y == 1 && params_.stride_x == 1 &&
         params_.rounding == Rounding::kSaturate && channels >= 1 &&
         channels <= 4;
}

uint64_t PreparedFilter::Run(const ConstImageView& in,
                             const ImageView& out) const {
  if (AlphaWeighted(in.channels)) {
    throw std::logic_error("PreparedFilter::Run: alpha weighting");
  }
  return RunRows(in, out, EngineOptionsOf(params_));
}

uint64_t PreparedFilter::RunRows(const ConstImageView& in, const ImageView& out,
                                 const EngineOptions& options) const {
  if ((in.channels != 2 && in.channels != 4) || params_.filter_alpha) {
    return correlator_->Run(in, out, options);
  }
  // The colour channels through the engine, alpha carried beside them.
  ConstImageView colour_in = in;
  ImageView colour_out = out;
  colour_in.channels = in.channels - 1;
  colour_out.channels = out.channels - 1;
  const uint64_t saturated = correlator_->Run(colour_in, colour_out, options);
  const int y1 = options.row_end < 0 ? out.height : options.row_end;
  return saturated + CarryAlphaRows(in, out, options.row_begin, y1, applied_,
                                    params_.size, params_.border);
}

bool PreparedFilter::StreamsSamples(int channels, Depth type) const {
  if (AlphaWeighted(channels)) {
    // The engine reads premultiplied floats.
    return EngineReads(channels) && method_ != Method::kFft &&
           (abs_ == nullptr || abs_->method_ != Method::kFft);
  }
  const bool floats = type == Depth::kF32 || Linear(type);
  return EngineReads(channels) && !(floats && method_ == Method::kFft);
}

EngineOptions PreparedFilter::engine_options() const {
  return EngineOptionsOf(params_);
}

uint64_t PreparedFilter::Quantize(Image& img, Depth target) const {
  return core::Quantize(img, target, params_.rounding);
}

namespace {

// The planes of `in` that are filtered, and an image of `out`'s size with
// a plane for each (alpha among them with filter_alpha).
struct Planes {
  std::vector<const Plane*> sources;
  std::vector<Plane*> targets;
};
Planes PlanesOf(const Image& in, Image& result, Extent out, bool filter_alpha) {
  Planes p;
  result.width = out.width;
  result.height = out.height;
  result.depth = in.depth;
  result.color.assign(in.color.size(), Plane(out.width, out.height));
  for (const Plane& pl : in.color) p.sources.push_back(&pl);
  for (Plane& pl : result.color) p.targets.push_back(&pl);
  if (in.alpha && filter_alpha) {
    result.alpha = Plane(out.width, out.height);
    p.sources.push_back(&*in.alpha);
    p.targets.push_back(&*result.alpha);
  }
  return p;
}

// Calls run(first, last) for groups of at most four planes (a view holds
// at most four channels).
template <typename F>
void InGroups(size_t planes, F run) {
  for (size_t first = 0; first < planes; first += 4) {
    run(first, std::min(planes, first + 4));
  }
}

template <typename T>
std::vector<T> Slice(const std::vector<T>& v, size_t first, size_t last) {
  return std::vector<T>(v.begin() + first, v.begin() + last);
}

// The reference on every plane, then scale, bias and abs in double.
void ReferencePlanes(const Planes& p, const kernel::Kernel& applied,
                     const FilterParams& params) {
  for (size_t c = 0; c < p.sources.size(); ++c) {
    Plane r = CorrelateReference(*p.sources[c], applied, params.border,
                                 params.size, params.threads);
    if (params.scale != 1.0 || params.bias != 0.0) {
      for (float& v : r.data) {
        v = static_cast<float>(params.scale * v + params.bias);
      }
    }
    if (params.abs) {
      for (float& v : r.data) v = std::fabs(v);
    }
    *p.targets[c] = std::move(r);
  }
}

Image Strided(Image img, const FilterParams& params) {
  if (params.stride_y == 1 && params.stride_x == 1) return img;
  return Subsample(img, params.stride_y, params.stride_x);
}

}  // namespace

Image PreparedFilter::Filter(const Image& in) const {
  // Alpha weighting after the curve: colour is premultiplied in linear
  // light.
  const auto run = [&](const Image& img) {
    return AlphaWeighted(img.channels()) ? FilterWeighted(img)
                                         : FilterAsIs(img, params_);
  };
  if (!Linear(in.depth)) return run(in);
  Image linear = in;
  ImageToLinear(linear);
  Image result = run(linear);
  ImageToSrgb(result, in.depth);
  return result;
}

FilterPairResult PreparedFilter::FilterPair(const Image& in) const {
  const auto run = [&](const Image& img) {
    return AlphaWeighted(img.channels()) ? FilterPairWeighted(img)
                                         : FilterPairAsIs(img, params_);
  };
  if (!Linear(in.depth)) return run(in);
  Image linear = in;
  ImageToLinear(linear);
  FilterPairResult result = run(linear);
  ImageToSrgb(result.correlate, in.depth);
  ImageToSrgb(result.convolve, in.depth);
  return result;
}

Image PreparedFilter::FilterAsIs(const Image& in,
                                 const FilterParams& params) const {
  if (params.imagemagick) {
    // ImageMagick's own sums, in double on its quanta, alpha included.
    return Strided(FilterImageMagick(in, applied_, params.border, params.size,
                                     params.threads, params.scale, params.bias,
                                     params.abs, *params.imagemagick),
                   params);
  }
  const Extent out = OutputExtent(in.width, in.height, applied_, params.size);
  Image result;
  const Planes p = PlanesOf(in, result, out, params.filter_alpha);
  if (correlator_ != nullptr) {
    // The fast engine: scale, bias and abs fused into its store, float32.
    const EngineOptions options = EngineOptionsOf(params);
    InGroups(p.sources.size(), [&](size_t first, size_t last) {
      correlator_->Run(ViewOf(Slice(p.sources, first, last)),
                       ViewOf(Slice(p.targets, first, last)), options);
    });
  } else {
    ReferencePlanes(p, applied_, params);
  }
  if (in.alpha && !params.filter_alpha) {
    result.alpha =
        CarryAlpha(*in.alpha, out, applied_, params.size, params.border);
  }
  return Strided(std::move(result), params);
}

FilterPairResult PreparedFilter::FilterPairAsIs(
    const Image& in, const FilterParams& params) const {
  if (params.imagemagick) {
    const auto run = [&](const kernel::Kernel& k) {
      return Strided(
          FilterImageMagick(in, k, params.border, params.size, params.threads,
                            params.scale, params.bias, params.abs,
                            *params.imagemagick),
          params);
    };
    return {run(kernel_), run(kernel::Rotate180(conv_kernel_)),
            PairCorrelator::Plan::kTwoPasses};
  }
  const Extent out = OutputExtent(in.width, in.height, kernel_, params.size);
  FilterPairResult result;
  const Planes corr = PlanesOf(in, result.correlate, out, params.filter_alpha);
  const Planes conv = PlanesOf(in, result.convolve, out, params.filter_alpha);
  if (pair_ != nullptr) {
    result.plan = pair_->plan();
    const EngineOptions options = EngineOptionsOf(params);
    InGroups(corr.sources.size(), [&](size_t first, size_t last) {
      pair_->Run(ViewOf(Slice(corr.sources, first, last)),
                 ViewOf(Slice(corr.targets, first, last)),
                 ViewOf(Slice(conv.targets, first, last)), options);
    });
  } else if (pass_corr_ != nullptr) {
    const EngineOptions options = EngineOptionsOf(params);
    InGroups(corr.sources.size(), [&](size_t first, size_t last) {
      const ConstImageView planes = ViewOf(Slice(corr.sources, first, last));
      pass_corr_->Run(planes, ViewOf(Slice(corr.targets, first, last)),
                      options);
      pass_conv_->Run(planes, ViewOf(Slice(conv.targets, first, last)),
                      options);
    });
  } else {
    ReferencePlanes(corr, kernel_, params);
    ReferencePlanes(conv, kernel::Rotate180(conv_kernel_), params);
  }
  if (in.alpha && !params.filter_alpha) {
    // Carried around the kernel's centre: the same for both modes.
    result.correlate.alpha =
        CarryAlpha(*in.alpha, out, kernel_, params.size, params.border);
    result.convolve.alpha = result.correlate.alpha;
  }
  result.correlate = Strided(std::move(result.correlate), params);
  result.convolve = Strided(std::move(result.convolve), params);
  return result;
}

namespace {

// Planes of `in` on their own: its colour planes times alpha (no alpha),
// its alpha as the one colour plane, or its alpha alone (as alpha).
Image Premultiplied(const Image& in) {
  Image out;
  out.width = in.width;
  out.height = in.height;
  out.depth = in.depth;
  out.color = in.color;
  for (Plane& p : out.color) {
    for (size_t i = 0; i < p.data.size(); ++i) p.data[i] *= in.alpha->data[i];
  }
  return out;
}
Image AlphaAsColour(const Image& in) {
  Image out;
  out.width = in.width;
  out.height = in.height;
  out.depth = in.depth;
  out.color.push_back(*in.alpha);
  return out;
}
Image AlphaOnly(const Image& in) {
  Image out;
  out.width = in.width;
  out.height = in.height;
  out.depth = in.depth;
  out.alpha = in.alpha;
  return out;
}

// `result`'s colour planes from the sums `num` (colour times alpha) and
// `den` (alpha with |K|).
void Unweight(Image& result, const Image& num, const Image& den, double abs_sum,
              double alpha_unit, const FilterParams& params) {
  result.color.clear();
  for (const Plane& n : num.color) {
    Plane c(n.width, n.height);
    for (size_t i = 0; i < c.data.size(); ++i) {
      c.data[i] = AlphaWeightedColour(n.data[i], den.color[0].data[i], abs_sum,
                                      alpha_unit, params);
    }
    result.color.push_back(std::move(c));
  }
}

}  // namespace

Image PreparedFilter::FilterWeighted(const Image& in) const {
  FilterParams whole = params_;
  whole.stride_y = 1;
  whole.stride_x = 1;
  // Alpha carried or filtered as without weighting; colour from the sums.
  Image result = FilterAsIs(AlphaOnly(in), whole);
  const Image num = FilterAsIs(Premultiplied(in), RawParams(true));
  const Image alpha = AlphaAsColour(in);
  const Image den = abs_ != nullptr ? abs_->FilterAsIs(alpha, abs_->params_)
                                    : FilterAsIs(alpha, RawParams(false));
  Unweight(result, num, den, abs_sum_, AlphaUnit(in.depth), params_);
  return Strided(std::move(result), params_);
}

FilterPairResult PreparedFilter::FilterPairWeighted(const Image& in) const {
  FilterParams whole = params_;
  whole.stride_y = 1;
  whole.stride_x = 1;
  FilterPairResult result = FilterPairAsIs(AlphaOnly(in), whole);
  const FilterPairResult num =
      FilterPairAsIs(Premultiplied(in), RawParams(true));
  const Image alpha = AlphaAsColour(in);
  const FilterPairResult den = abs_ != nullptr
                                   ? abs_->FilterPairAsIs(alpha, abs_->params_)
                                   : FilterPairAsIs(alpha, RawParams(false));
  const double unit = AlphaUnit(in.depth);
  Unweight(result.correlate, num.correlate, den.correlate, abs_sum_, unit,
           params_);
  Unweight(result.convolve, num.convolve, den.convolve, abs_sum_, unit,
           params_);
  result.plan = num.plan;
  result.correlate = Strided(std::move(result.correlate), params_);
  result.convolve = Strided(std::move(result.convolve), params_);
  return result;
}

uint64_t FilterView(const ConstImageView& in, const ImageView& out,
                    const kernel::Kernel& k, const FilterParams& params) {
  FilterParams p = params;
  p.simd = true;
  p.filter_alpha = true;  // every channel of the views
  p.alpha_weighted = false;
  return PreparedFilter(k, p, PreparedFilter::Use::kFilter).Run(in, out);
}

Image Filter(const Image& in, const kernel::Kernel& k,
             const FilterParams& params) {
  return PreparedFilter(k, params, PreparedFilter::Use::kFilter).Filter(in);
}

FilterPairResult FilterPair(const Image& in, const kernel::Kernel& k,
                            const FilterParams& params) {
  return PreparedFilter(k, params, PreparedFilter::Use::kCompare)
      .FilterPair(in);
}

}  // namespace convcorr::core
