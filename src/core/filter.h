// The core's API: correlation of planes and images with a kernel, and
// convolution as correlation with the kernel rotated about its anchor, by
// the reference (core/reference.h) or the fast engine (core/engine.h).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "core/border.h"
#include "core/engine.h"
#include "core/image.h"
#include "core/imagemagick.h"  // ImageMagickArithmetic
#include "core/pipeline.h"
#include "core/reference.h"  // CorrelateReference
#include "core/threads.h"    // ResolveThreads
#include "kernel/kernel.h"

namespace convcorr::core {

enum class Mode { kCorrelate, kConvolve };

// The fast engine (core/engine.h) on one float plane with `method`: same
// contract as CorrelateReference, sums accumulated in float32 with fused
// multiply-add (bounds in docs/architecture.md).
Plane CorrelateFast(const Plane& in, const kernel::Kernel& k,
                    const Border& border, OutputSize size, int threads,
                    Method method);

// How to filter an image.
struct FilterParams {
  Mode mode = Mode::kCorrelate;
  Border border;
  OutputSize size = OutputSize::kSame;
  double scale = 1.0;  // result = scale * sum + bias
  double bias = 0.0;
  bool abs = false;           // write |result|
  bool filter_alpha = false;  // filter alpha like a colour channel
  // Alpha-weighted colour for inputs with alpha (2 or 4 channels): each
  // colour sample weighted by its alpha, the sum divided by the window's
  // mean alpha (AlphaWeightedColour), so that the colour under transparent
  // pixels does not bleed. Alpha itself is carried or filtered as
  // filter_alpha says. Not with imagemagick (its own weighting). The CLI
  // turns it on (--no-alpha-weighting turns it off).
  bool alpha_weighted = false;
  // 8- and 16-bit colour samples are sRGB-encoded: filter them in linear
  // light (core/srgb.h) and encode the results back; alpha and float
  // images as they are.
  bool linear = false;
  int threads = 0;                // 0 = all cores
  bool simd = true;               // false: the reference (--no-simd)
  Method method = Method::kAuto;  // for the SIMD engine
  // Every stride_y-th row and stride_x-th column of the result (--stride,
  // Subsample), and how Quantize rounds it to an integer depth (--compat).
  int stride_y = 1;
  int stride_x = 1;
  Rounding rounding = Rounding::kSaturate;
  // Set: ImageMagick's arithmetic (FilterImageMagick, which also filters
  // alpha its way) instead of the engine or the reference, for --compat
  // imagemagick.
  std::optional<ImageMagickArithmetic> imagemagick;
};

// correlate and convolve results of one input, for compare.
struct FilterPairResult {
  Image correlate;
  Image convolve;
  PairCorrelator::Plan plan = PairCorrelator::Plan::kTwoPasses;
};

// A kernel and the filter's parameters prepared once per run, in one setup
// step: the strategy chosen, the kernel factored (one SVD), its tap tables
// or spectra built, for one use: params.mode's result (kFilter) or both
// results at once (kCompare). Then applied to any number of inputs, from
// any number of threads at once (the members that filter are const).
// Filter, FilterView and FilterPair below are the one-input shorthands.
class PreparedFilter {
 public:
  enum class Use { kFilter, kCompare };
  PreparedFilter(const kernel::Kernel& k, const FilterParams& params, Use use);
  // For compare when the two modes anchor K differently (--compat torch
  // on even sizes): correlate with `correlate_k`, convolve with
  // `convolve_k`, the same weights anchored elsewhere. Their windows do
  // not coincide, so the plan is two passes; with equal anchors this is
  // the Use::kCompare preparation above.
  PreparedFilter(const kernel::Kernel& correlate_k,
                 const kernel::Kernel& convolve_k, const FilterParams& params);
  ~PreparedFilter();
  PreparedFilter(PreparedFilter&&) noexcept;
  PreparedFilter& operator=(PreparedFilter&&) noexcept;

  const FilterParams& params() const { return params_; }
  // Threads per input, when the caller learns it after preparing (files in
  // flight share the cores). Call before the first input.
  void set_threads(int threads) { params_.threads = threads; }

  // The engine's strategy for the kernel (the same for K and its
  // rotation): with --no-simd, the one the engine would have taken.
  Method method() const { return method_; }
  // The rank-1 passes the separable strategy sums; 0 for the others.
  int terms() const { return terms_; }
  // Whether separable adds mirror pairs before multiplying (one term, both
  // factors symmetric): with --no-simd, whether the engine would.
  bool symmetric_passes() const { return symmetric_; }
  // Whether 8-bit inputs run in exact int16 lanes (Correlator::
  // integer_lanes) when they are gray or RGB (an alpha channel's weighting
  // runs in float); false with --no-simd, and for compare, whose streaming
  // run writes its two results as planar float bands (the pairs' int16
  // lanes need interleaved 8-bit outputs).
  bool integer_lanes() const { return integer_; }
  // compare's plan with the engine (kTwoPasses with the reference).
  PairCorrelator::Plan plan() const { return plan_; }

  // The path of one input, decided here: true when Run can read its
  // decoded samples (`channels` of them per pixel) and write the output's
  // samples directly, giving exactly the samples of Filter then Quantize.
  // That takes the fast engine, no stride and saturating rounding; else
  // Filter on planes. Alpha (the last of 2 or 4 channels) is carried as
  // Filter carries it, unless filter_alpha.
  // Not with params.linear: Run does not apply the curve, nor with alpha
  // weighting on an input with alpha (Filter or Stream do it).
  bool ReadsSamples(int channels) const;
  // The Use::kFilter result of every channel of `in` stored straight into
  // `out` (core/engine.h): channels as in, size OutputExtent. Returns the
  // number of samples saturated on the way into out's type. Only where
  // ReadsSamples is true (no stride, no other rounding: those are not
  // applied here; Use::kFilter with the fast engine).
  uint64_t Run(const ConstImageView& in, const ImageView& out) const;
  // True when Stream can filter an input of `channels` samples of `type`
  // band by band: where ReadsSamples is, except float inputs with the fft
  // strategy (which falls back to direct on NaN or infinity anywhere in
  // the image, so it needs the whole image first). With params.linear the
  // engine reads linear floats, so 8- and 16-bit inputs with the fft
  // strategy do not stream either. Alpha weighting on an input with alpha
  // runs the engine on premultiplied floats: such inputs stream except
  // with the fft strategy (for K or, for kernels with negative weights,
  // |K|).
  bool StreamsSamples(int channels, Depth type) const;
  // Run, band by band: rows are read from `source`, filtered and written
  // to `sink` as they go, the three overlapping, in memory of the order
  // of width x (kernel height + band) rows (PlanBands), whatever the
  // height. The samples are Run's (with params.linear, Filter's then
  // Quantize's: the rows are taken to linear floats on the way in and
  // encoded and quantized on the way out). Rethrows the first error of
  // the source, the sink or the engine, after every stage has stopped.
  uint64_t Stream(const StreamShape& shape, RowSource& source, RowSink& sink,
                  int band_rows = 0) const;
  // For a Use::kCompare preparation: true when StreamPair can take an
  // input of `channels` samples of `type` (the engine, no stride,
  // saturating rounding, not float with the fft strategy; with alpha
  // weighting on an input with alpha, which runs on premultiplied floats,
  // not with the fft strategy for K or |K|).
  bool StreamsPair(int channels, Depth type) const;
  // Both results of compare, band by band, as float planes (FilterPair's
  // samples before any stride), handed to `sink` in order while the next
  // band is computed. shape.out_type is not used. band_rows 0: bands of
  // about 2 MiB of float results per mode, and at least 8 kernel heights.
  void StreamPair(const StreamShape& shape, RowSource& source, PairSink& sink,
                  int band_rows = 0) const;
  // The Use::kFilter result as float planes, strided, as Filter says
  // (a Use::kCompare preparation has no mode: it gives the reference's
  // correlation).
  Image Filter(const Image& in) const;
  // Both results, strided, as FilterPair says; for Use::kCompare (a
  // Use::kFilter preparation gives them by the reference).
  FilterPairResult FilterPair(const Image& in) const;
  // Quantize with params().rounding.
  uint64_t Quantize(Image& img, Depth target) const;
  // True when alpha weighting applies to an input of `channels` samples.
  bool AlphaWeighted(int channels) const {
    return params_.alpha_weighted && !params_.imagemagick &&
           (channels == 2 || channels == 4);
  }

 private:
  PreparedFilter(const kernel::Kernel& k, const kernel::Kernel& conv_k,
                 const FilterParams& params, Use use);
  // params.linear for an input of `type` (not float).
  bool Linear(Depth type) const {
    return params_.linear && type != Depth::kF32;
  }
  // ReadsSamples whatever params.linear says.
  bool EngineReads(int channels) const;
  // Filter, FilterPair, Stream and StreamPair on samples as they are.
  // With `p` for params_ and never weighted: the weighted paths
  // (FilterWeighted, FilterPairWeighted) make their sums with these.
  Image FilterAsIs(const Image& in, const FilterParams& p) const;
  FilterPairResult FilterPairAsIs(const Image& in, const FilterParams& p) const;
  Image FilterWeighted(const Image& in) const;
  FilterPairResult FilterPairWeighted(const Image& in) const;
  // The parameters of the weighted paths' raw sums: scale 1, bias 0, no
  // abs, no stride, no weighting; a constant border of V pads colour
  // times alpha with V * V (`colour`) and alpha with V.
  FilterParams RawParams(bool colour) const;
  uint64_t StreamAsIs(const StreamShape& shape, RowSource& source,
                      RowSink& sink, int band_rows, double alpha_unit) const;
  uint64_t StreamWeighted(const StreamShape& shape, RowSource& source,
                          RowSink& sink, int band_rows,
                          double alpha_unit) const;
  void StreamPairAsIs(const StreamShape& shape, RowSource& source,
                      PairSink& sink, int band_rows, double alpha_unit) const;
  void StreamPairWeighted(const StreamShape& shape, RowSource& source,
                          PairSink& sink, int band_rows,
                          double alpha_unit) const;
  // compare's two correlations of `in` into `corr` and `conv` with this
  // preparation's engine (pair_, or the two passes).
  void RunPair(const ConstImageView& in, const ImageView& corr,
               const ImageView& conv, const EngineOptions& options) const;
  // The row quantum of RunPair.
  int PairQuantum() const;
  EngineOptions engine_options() const;
  // Run's rows options.row_begin..row_end: the engine on the colour
  // channels, and alpha (the last of 2 or 4 channels) carried unless
  // filter_alpha; `in` and `out` may be rings.
  uint64_t RunRows(const ConstImageView& in, const ImageView& out,
                   const EngineOptions& options) const;

  kernel::Kernel kernel_;       // as given (compare: correlate's)
  kernel::Kernel conv_kernel_;  // compare: convolve's (kernel_ or moved)
  kernel::Kernel applied_;      // rotated for convolve (Use::kFilter)
  FilterParams params_;
  Use use_;
  Method method_ = Method::kDirect;
  int terms_ = 0;
  bool symmetric_ = false;
  bool integer_ = false;
  PairCorrelator::Plan plan_ = PairCorrelator::Plan::kTwoPasses;
  std::unique_ptr<Correlator> correlator_;  // the engine, kFilter
  std::unique_ptr<PairCorrelator> pair_;    // the engine, kCompare
  // The engine for compare with two anchors: correlate(K), then
  // correlate(rot180 K') for convolve.
  std::unique_ptr<Correlator> pass_corr_, pass_conv_;
  // Alpha weighting with a kernel that has negative weights: |K| (and, for
  // compare, |K'|), prepared alike, for the denominator. Null otherwise
  // (the denominator is then filtered with K itself).
  std::unique_ptr<PreparedFilter> abs_;
  double abs_sum_ = 0;  // sum |K|
};

// Alpha-weighted colour from its sums (every path's last step): `num` is
// the correlation of colour times alpha with K, `den` that of alpha with
// |K|, `abs_sum` the sum of |K|. colour = num * abs_sum / den, i.e. the
// sum of colour times alpha divided by the window's |K|-weighted mean
// alpha (an opaque window gives the unweighted sum exactly, in exact
// arithmetic); 0 where den <= 2^-20 * abs_sum * alpha_unit (every alpha in
// the window 0). Then scale, bias and abs, in double.
float AlphaWeightedColour(float num, float den, double abs_sum,
                          double alpha_unit, const FilterParams& params);

// The sample value of an opaque alpha for `type`: 255, 65535, 1 for float.
double AlphaUnit(Depth type);

// Filters every colour plane of `in` with `k` (rotated for convolve), applies
// scale, bias and abs, and carries alpha along unless filter_alpha: unchanged
// for same, cropped (valid) or extended by the border (full) around the
// kernel's centre, independent of anchor and mode; then strided
// (params.stride_y, stride_x). With params.alpha_weighted the colour of an
// input with alpha is AlphaWeightedColour's. The result is float (depth
// of `in` kept as a tag); Quantize it for integer outputs.
Image Filter(const Image& in, const kernel::Kernel& k,
             const FilterParams& params);

// Filters the samples of `in` straight into `out` with the fast engine,
// whatever their types and layouts (core/engine.h): mode, border, size,
// scale, bias, abs, threads and method from `params` (simd is assumed;
// stride and rounding are not applied: Subsample and Quantize do that).
// Every channel is filtered: pass views without an alpha channel to carry
// alpha. `out` must have in's channel count and OutputExtent's size.
// Returns the number of samples saturated on the way into out's type.
uint64_t FilterView(const ConstImageView& in, const ImageView& out,
                    const kernel::Kernel& k, const FilterParams& params);

// correlate and convolve of `in` with `k` at once, for compare
// (params.mode is ignored): the fast engine's PairCorrelator, or the
// reference twice with --no-simd, or ImageMagick's arithmetic twice. Same
// output rules as Filter.
FilterPairResult FilterPair(const Image& in, const kernel::Kernel& k,
                            const FilterParams& params);

// Rows [y0, y1) of the alpha channel (the last of `in`'s 2 or 4) carried
// into out's last channel as Filter carries it (unchanged for same;
// cropped or extended by the border around k's centre for valid and
// full), then rounded and saturated to out's type as Quantize does.
// `in` may be a ring holding the rows k's window reads (the carried row
// is among them). Returns the number of samples saturated.
uint64_t CarryAlphaRows(const ConstImageView& in, const ImageView& out, int y0,
                        int y1, const kernel::Kernel& k, OutputSize size,
                        const Border& border);

// Every sy-th row and sx-th column of `img`, from the first (--stride, as a
// CNN layer's stride: output (y, x) of the strided filter is output
// (y*sy, x*sx) of the unstrided one). Sizes become ceil(h/sy) x ceil(w/sx);
// alpha is sampled alike.
Image Subsample(const Image& img, int sy, int sx);

}  // namespace convcorr::core
