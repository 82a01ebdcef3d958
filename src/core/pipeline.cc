// The streaming run: a reader thread fills the input ring from the
// RowSource, the calling thread runs the engine band by band (each band on
// the engine's threads), and a writer thread drains the output ring into
// the RowSink; the three overlap, and nothing holds the whole image.
#include "core/pipeline.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <vector>

#include "core/filter.h"
#include "core/large_buffer.h"
#include "core/srgb.h"
#include "core/threads.h"

namespace convcorr::core {

BandPlan PlanBands(const kernel::Kernel& k, const Border& border,
                   OutputSize size, int width, int height, int quantum,
                   int band_rows) {
  return PlanBands(std::vector<const kernel::Kernel*>{&k}, border, size, width,
                   height, quantum, band_rows);
}

BandPlan PlanBands(const std::vector<const kernel::Kernel*>& ks,
                   const Border& border, OutputSize size, int width, int height,
                   int quantum, int band_rows) {
  BandPlan plan;
  const kernel::Kernel& k = *ks.front();
  const Extent e = OutputExtent(width, height, k, size);
  // Output row y reads padded rows y + top .. y + bottom of the input
  // (before the border's mapping), over every kernel's window.
  int top = std::numeric_limits<int>::max();
  int bottom = std::numeric_limits<int>::min();
  int kh = 1;
  for (const kernel::Kernel* each : ks) {
    const Origin o = OutputOrigin(*each, size);
    top = std::min(top, o.y);
    bottom = std::max(bottom, o.y + each->rows() - 1);
    kh = std::max(kh, each->rows());
  }
  quantum = std::max(quantum, 1);
  // fft: one row of tiles, whose tiles the threads share; the others at
  // least 256 rows and 8 kernel heights (each band reloads a kernel height
  // of input rows).
  int rows = band_rows > 0 ? band_rows
             : quantum > 1 ? quantum
                           : std::max(256, 8 * kh);
  rows = std::max(rows, quantum);
  rows = (rows + quantum - 1) / quantum * quantum;
  plan.band_rows = rows;
  // Each band's input rows, after the border's mapping.
  int need = 0;
  for (int y0 = 0; y0 < e.height; y0 += rows) {
    BandPlan::Band b;
    b.y0 = y0;
    b.y1 = std::min(y0 + rows, e.height);
    int lo = std::numeric_limits<int>::max();
    int hi = -1;
    for (int py = b.y0 + top; py <= b.y1 - 1 + bottom; ++py) {
      const int iy = BorderIndex(py, height, border.mode);
      if (iy < 0) continue;  // the constant border reads no row
      lo = std::min(lo, iy);
      hi = std::max(hi, iy);
    }
    need = std::max(need, hi + 1);
    b.need = need;
    b.keep = lo;
    plan.bands.push_back(b);
  }
  // keep: the lowest row this band or a later one reads.
  int keep = height;
  for (auto it = plan.bands.rbegin(); it != plan.bands.rend(); ++it) {
    keep = std::min(keep, it->keep);
    it->keep = keep;
  }
  int window = 0;
  for (const BandPlan::Band& b : plan.bands) {
    window = std::max(window, b.need - std::min(b.keep, b.need));
  }
  // One band more is read while a band is computed.
  plan.input_ring = std::min(height, window + rows);
  plan.output_ring = std::min(e.height, 2 * rows);
  return plan;
}

namespace {

// The state the three stages share, under one mutex.
class Stages {
 public:
  // Waits until ready() or a stage failed; false if one failed.
  template <typename Ready>
  bool Wait(Ready ready) {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return failure_ != nullptr || ready(); });
    return failure_ == nullptr;
  }
  template <typename Change>
  void Update(Change change) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      change();
    }
    cv_.notify_all();
  }
  template <typename Read>
  int Get(Read read) {
    const std::lock_guard<std::mutex> lock(mutex_);
    return read();
  }
  void Fail(std::exception_ptr e) {
    Update([&] {
      if (failure_ == nullptr) failure_ = e;
    });
  }
  std::exception_ptr failure() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return failure_;
  }

  int decoded = 0;   // input rows read
  int keep = 0;      // input rows below this are no longer read
  int computed = 0;  // output rows computed
  int written = 0;   // output rows handed to the sink

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::exception_ptr failure_;
};

// Rows [r, r + n) of a ring of `cap` rows, cut where the ring wraps.
template <typename Body>
void InRing(int r, int n, int cap, Body body) {
  while (n > 0) {
    const int run = std::min(n, cap - r % cap);
    body(r % cap, r, run);
    r += run;
    n -= run;
  }
}

}  // namespace

namespace {

// A streaming run's three stages over the input ring: the reader thread
// fills it from `source`; the calling thread calls compute(in, y0, y1)
// for each band once its input rows are in; the writer thread calls
// deliver(y0, y1) for each computed band, in order, then finish(). A band
// is computed only once the band output_ring rows before it is
// delivered, so compute and deliver can share an output ring of that
// many rows. The first exception of any stage stops all three and is
// rethrown here.
template <typename Compute, typename Deliver, typename Finish>
void RunBands(const BandPlan& plan, const StreamShape& shape, RowSource& source,
              Compute compute, Deliver deliver, Finish finish) {
  const size_t sample = SampleBytes(shape.in_type);
  const auto in_row = static_cast<std::ptrdiff_t>(
      static_cast<size_t>(shape.width) * shape.channels * sample);
  const int in_cap = std::max(plan.input_ring, 1);
  const int out_cap = std::max(plan.output_ring, 1);
  const LargeBuffer in_buf(static_cast<size_t>(in_row) * in_cap);
  ConstImageView in;
  in.channels = shape.channels;
  in.width = shape.width;
  in.height = shape.height;
  in.type = shape.in_type;
  in.row_bytes = in_row;
  in.step = shape.channels;
  in.ring_rows = in_cap;
  for (int c = 0; c < shape.channels; ++c) {
    in.base[c] = in_buf.data() + c * sample;
  }

  Stages st;
  // Reads ahead as far as the ring allows, in small runs so that the
  // engine starts early.
  Async reader([&] {
    try {
      constexpr int kRun = 32;
      for (int r = 0; r < shape.height;) {
        // Rows up to keep + in_cap - 1 overwrite only rows no band reads
        // any more (keep only grows).
        if (!st.Wait([&] { return st.keep + in_cap - r > 0; })) return;
        const int room = st.Get([&] { return st.keep + in_cap - r; });
        const int n = std::min({kRun, shape.height - r, room});
        InRing(r, n, in_cap, [&](int slot, int, int run) {
          source.Read(in_buf.data() + static_cast<size_t>(slot) * in_row,
                      in_row, run);
        });
        r += n;
        st.Update([&] { st.decoded = r; });
      }
      source.Finish();
    } catch (...) {
      st.Fail(std::current_exception());
    }
  });
  Async writer([&] {
    try {
      for (const BandPlan::Band& b : plan.bands) {
        if (!st.Wait([&] { return st.computed >= b.y1; })) return;
        deliver(b.y0, b.y1);
        st.Update([&] { st.written = b.y1; });
      }
      finish();
    } catch (...) {
      st.Fail(std::current_exception());
    }
  });

  try {
    for (const BandPlan::Band& b : plan.bands) {
      st.Update([&] { st.keep = std::max(st.keep, b.keep); });
      if (!st.Wait([&] {
            return st.decoded >= b.need && b.y1 - st.written <= out_cap;
          })) {
        break;
      }
      compute(in, b.y0, b.y1);
      st.Update([&] { st.computed = b.y1; });
    }
    // Rows no band reads (if any) are read to the end of the file.
    st.Update([&] { st.keep = shape.height; });
  } catch (...) {
    st.Fail(std::current_exception());
  }
  reader.Join();
  writer.Join();
  if (const std::exception_ptr failure = st.failure()) {
    std::rethrow_exception(failure);
  }
}

// compare's bands: float results per mode and band (StreamPair).
constexpr size_t kPairBandBytes = size_t{2} << 20;

// A view of `channels` samples of `type` per pixel, interleaved, over a
// ring of `rows` rows of `buf`.
ImageView RingView(LargeBuffer& buf, int width, int height, int channels,
                   Depth type, int rows) {
  const size_t sample = SampleBytes(type);
  ImageView v;
  v.channels = channels;
  v.width = width;
  v.height = height;
  v.type = type;
  v.row_bytes = static_cast<std::ptrdiff_t>(static_cast<size_t>(width) *
                                            channels * sample);
  v.step = channels;
  v.ring_rows = rows;
  buf = LargeBuffer(static_cast<size_t>(v.row_bytes) * rows);
  for (int c = 0; c < channels; ++c) v.base[c] = buf.data() + c * sample;
  return v;
}

// Planar float rings, one per channel, in `buf`.
ImageView PlanarRing(LargeBuffer& buf, int width, int height, int channels,
                     int rows) {
  ImageView v;
  v.channels = channels;
  v.width = width;
  v.height = height;
  v.type = Depth::kF32;
  v.row_bytes = static_cast<std::ptrdiff_t>(width) * 4;
  v.step = 1;
  v.ring_rows = rows;
  const size_t plane = static_cast<size_t>(width) * rows;
  buf = LargeBuffer(sizeof(float) * plane * channels);
  for (int c = 0; c < channels; ++c) {
    v.base[c] = reinterpret_cast<std::byte*>(buf.as<float>() + c * plane);
  }
  return v;
}

}  // namespace

namespace {

// --linear's ends of a stream: rows of 8- or 16-bit sRGB-encoded samples
// read as linear floats (alpha, the last of 2 or 4 channels, unchanged
// but for the type), and float results encoded back in the input's scale,
// then rounded and saturated to the output's type as Quantize does.
int AlphaLane(int channels) {
  return channels == 2 || channels == 4 ? channels - 1 : -1;
}

class LinearSource final : public RowSource {
 public:
  LinearSource(RowSource& inner, const StreamShape& shape)
      : inner_(inner),
        type_(shape.in_type),
        samples_(static_cast<size_t>(shape.width) * shape.channels),
        channels_(shape.channels),
        max_(static_cast<float>(DepthMax(shape.in_type))) {}
  void Read(std::byte* dst, std::ptrdiff_t stride, int rows) override {
    const size_t row_bytes = samples_ * SampleBytes(type_);
    buffer_.resize(row_bytes * rows);
    inner_.Read(buffer_.data(), static_cast<std::ptrdiff_t>(row_bytes), rows);
    for (int r = 0; r < rows; ++r) {
      auto* out = reinterpret_cast<float*>(dst + r * stride);
      const std::byte* in = buffer_.data() + r * row_bytes;
      for (size_t i = 0; i < samples_; ++i) {
        out[i] = SampleAt(in + i * SampleBytes(type_), type_);
      }
      RowToLinear(out, samples_, max_, channels_, AlphaLane(channels_));
    }
  }
  void Finish() override { inner_.Finish(); }

 private:
  RowSource& inner_;
  Depth type_;
  size_t samples_;
  int channels_;
  float max_;
  std::vector<std::byte> buffer_;
};

// One sample, already rounded and clamped, stored as `type`.
void StoreSample(std::byte* d, float v, Depth type) {
  switch (type) {
    case Depth::kU8: {
      const auto b = static_cast<uint8_t>(v);
      std::memcpy(d, &b, 1);
      break;
    }
    case Depth::kU16: {
      const auto b = static_cast<uint16_t>(v);
      std::memcpy(d, &b, 2);
      break;
    }
    case Depth::kF32:
      std::memcpy(d, &v, 4);
      break;
  }
}

class SrgbSink final : public RowSink {
 public:
  SrgbSink(RowSink& inner, const StreamShape& shape, int out_width)
      : inner_(inner),
        in_type_(shape.in_type),
        out_type_(shape.out_type),
        samples_(static_cast<size_t>(out_width) * shape.channels),
        channels_(shape.channels) {}
  void Write(const std::byte* src, std::ptrdiff_t stride, int rows) override {
    const size_t row_bytes = samples_ * SampleBytes(out_type_);
    row_.resize(samples_);
    bytes_.resize(row_bytes * rows);
    const auto max = static_cast<float>(DepthMax(in_type_));
    for (int r = 0; r < rows; ++r) {
      std::memcpy(row_.data(), src + r * stride, samples_ * sizeof(float));
      RowToSrgb(row_.data(), samples_, max, channels_, AlphaLane(channels_));
      saturated_ += QuantizeSaturate(row_.data(), samples_, out_type_);
      std::byte* out = bytes_.data() + r * row_bytes;
      const size_t sample = SampleBytes(out_type_);
      for (size_t i = 0; i < samples_; ++i) {
        StoreSample(out + i * sample, row_[i], out_type_);
      }
    }
    inner_.Write(bytes_.data(), static_cast<std::ptrdiff_t>(row_bytes), rows);
  }
  void Finish() override { inner_.Finish(); }
  uint64_t saturated() const { return saturated_; }

 private:
  RowSink& inner_;
  Depth in_type_;
  Depth out_type_;
  size_t samples_;
  int channels_;
  std::vector<float> row_;
  std::vector<std::byte> bytes_;
  uint64_t saturated_ = 0;
};

// compare's float results encoded back in place before the sink sees them.
class SrgbPairSink final : public PairSink {
 public:
  SrgbPairSink(PairSink& inner, const StreamShape& shape)
      : inner_(inner),
        colour_(AlphaLane(shape.channels) < 0 ? shape.channels
                                              : shape.channels - 1),
        max_(static_cast<float>(DepthMax(shape.in_type))) {}
  void Rows(const ImageView& correlate, const ImageView& convolve, int y0,
            int y1) override {
    for (const ImageView* v : {&correlate, &convolve}) {
      for (int c = 0; c < colour_; ++c) {
        for (int y = y0; y < y1; ++y) {
          RowToSrgb(reinterpret_cast<float*>(v->base[c] + RowOffset(*v, y)),
                    static_cast<size_t>(v->width), max_, 1, -1);
        }
      }
    }
    inner_.Rows(correlate, convolve, y0, y1);
  }
  void Finish() override { inner_.Finish(); }

 private:
  PairSink& inner_;
  int colour_;
  float max_;
};

}  // namespace

uint64_t PreparedFilter::Stream(const StreamShape& shape, RowSource& source,
                                RowSink& sink, int band_rows) const {
  const double unit = AlphaUnit(shape.in_type);
  if (!Linear(shape.in_type)) {
    return StreamAsIs(shape, source, sink, band_rows, unit);
  }
  if (!StreamsSamples(shape.channels, shape.in_type)) {
    throw std::logic_error("PreparedFilter::Stream: not a streaming run");
  }
  LinearSource linear(source, shape);
  const Extent e =
      OutputExtent(shape.width, shape.height, applied_, params_.size);
  SrgbSink srgb(sink, shape, e.width);
  StreamShape floats = shape;
  floats.in_type = Depth::kF32;
  floats.out_type = Depth::kF32;
  // Premultiplied in linear light (StreamWeighted reads the linear rows).
  StreamAsIs(floats, linear, srgb, band_rows, unit);
  return srgb.saturated();
}

uint64_t PreparedFilter::StreamAsIs(const StreamShape& shape, RowSource& source,
                                    RowSink& sink, int band_rows,
                                    double alpha_unit) const {
  if (!StreamsSamples(shape.channels, shape.in_type)) {
    throw std::logic_error("PreparedFilter::Stream: not a streaming run");
  }
  if (AlphaWeighted(shape.channels)) {
    return StreamWeighted(shape, source, sink, band_rows, alpha_unit);
  }
  const BandPlan plan =
      PlanBands(applied_, params_.border, params_.size, shape.width,
                shape.height, correlator_->RowQuantum(), band_rows);
  const Extent e =
      OutputExtent(shape.width, shape.height, applied_, params_.size);
  const int out_cap = std::max(plan.output_ring, 1);
  LargeBuffer out_buf;
  const ImageView out = RingView(out_buf, e.width, e.height, shape.channels,
                                 shape.out_type, out_cap);
  std::atomic<uint64_t> saturated{0};
  EngineOptions options = engine_options();
  RunBands(
      plan, shape, source,
      [&](const ConstImageView& in, int y0, int y1) {
        options.row_begin = y0;
        options.row_end = y1;
        saturated += RunRows(in, out, options);
      },
      [&](int y0, int y1) {
        InRing(y0, y1 - y0, out_cap, [&](int slot, int, int run) {
          sink.Write(out.base[0] + RowOffset(out, slot), out.row_bytes, run);
        });
      },
      [&] { sink.Finish(); });
  return saturated;
}

namespace {

// Alpha weighting's input rows: the source's samples as floats, each
// colour sample times its pixel's alpha (the last of 2 or 4 channels,
// kept as it is), so that the engine's sums are those of premultiplied
// colour.
class PremultiplySource final : public RowSource {
 public:
  PremultiplySource(RowSource& inner, const StreamShape& shape)
      : inner_(inner),
        type_(shape.in_type),
        width_(static_cast<size_t>(shape.width)),
        channels_(shape.channels) {}
  void Read(std::byte* dst, std::ptrdiff_t stride, int rows) override {
    const size_t samples = width_ * channels_;
    const size_t row_bytes = samples * SampleBytes(type_);
    buffer_.resize(row_bytes * rows);
    inner_.Read(buffer_.data(), static_cast<std::ptrdiff_t>(row_bytes), rows);
    for (int r = 0; r < rows; ++r) {
      auto* out = reinterpret_cast<float*>(dst + r * stride);
      const std::byte* in = buffer_.data() + r * row_bytes;
      for (size_t i = 0; i < samples; ++i) {
        out[i] = SampleAt(in + i * SampleBytes(type_), type_);
      }
      for (size_t x = 0; x < width_; ++x) {
        float* px = out + x * channels_;
        for (int c = 0; c + 1 < channels_; ++c) px[c] *= px[channels_ - 1];
      }
    }
  }
  void Finish() override { inner_.Finish(); }

 private:
  RowSource& inner_;
  Depth type_;
  size_t width_;
  int channels_;
  std::vector<std::byte> buffer_;
};

// The engine options of an alpha-weighted run, set to a band's rows by
// SetRows: `own` filters alpha as without weighting (--filter-alpha);
// `num` sums the premultiplied colour and `den` alpha, both raw
// (RawParams: no scale, bias or abs), with the border value premultiplied
// by itself (a constant border's colour under its own alpha) for `num`.
struct WeightedOptions {
  EngineOptions own, num, den;

  WeightedOptions(const EngineOptions& options, float border_value)
      : own(options), num(options) {
    num.scale = 1.0F;
    num.bias = 0.0F;
    num.abs = false;
    num.border.value = border_value * border_value;
    den = num;
    den.border.value = border_value;
  }
  void SetRows(int y0, int y1) {
    for (EngineOptions* o : {&own, &num, &den}) {
      o->row_begin = y0;
      o->row_end = y1;
    }
  }
};

// A band of premultiplied rows as its colour channels and its alpha, the
// last channel.
struct ColourAndAlpha {
  ConstImageView colour, alpha;
  explicit ColourAndAlpha(const ConstImageView& in) : colour(in), alpha(in) {
    colour.channels = in.channels - 1;
    alpha.channels = 1;
    alpha.base[0] = in.base[in.channels - 1];
  }
};

}  // namespace

uint64_t PreparedFilter::StreamWeighted(const StreamShape& shape,
                                        RowSource& source, RowSink& sink,
                                        int band_rows,
                                        double alpha_unit) const {
  PremultiplySource premultiplied(source, shape);
  StreamShape floats = shape;
  floats.in_type = Depth::kF32;
  const Correlator& den_engine =
      abs_ != nullptr ? *abs_->correlator_ : *correlator_;
  const int quantum =
      std::lcm(correlator_->RowQuantum(), den_engine.RowQuantum());
  const BandPlan plan =
      PlanBands(applied_, params_.border, params_.size, shape.width,
                shape.height, quantum, band_rows);
  const Extent e =
      OutputExtent(shape.width, shape.height, applied_, params_.size);
  const int out_cap = std::max(plan.output_ring, 1);
  const int colours = shape.channels - 1;
  LargeBuffer out_buf, num_buf, den_buf;
  const ImageView out = RingView(out_buf, e.width, e.height, shape.channels,
                                 shape.out_type, out_cap);
  const ImageView num =
      PlanarRing(num_buf, e.width, e.height, colours, out_cap);
  const ImageView den = PlanarRing(den_buf, e.width, e.height, 1, out_cap);
  ImageView out_alpha = out;
  out_alpha.channels = 1;
  out_alpha.base[0] = out.base[colours];
  WeightedOptions options(engine_options(), params_.border.value);
  std::atomic<uint64_t> saturated{0};
  std::vector<float> row(static_cast<size_t>(e.width));
  const size_t out_sample = SampleBytes(shape.out_type);
  RunBands(
      plan, floats, premultiplied,
      [&](const ConstImageView& in, int y0, int y1) {
        options.SetRows(y0, y1);
        const ColourAndAlpha split(in);
        correlator_->Run(split.colour, num, options.num);
        den_engine.Run(split.alpha, den, options.den);
        uint64_t sat =
            params_.filter_alpha
                ? correlator_->Run(split.alpha, out_alpha, options.own)
                : CarryAlphaRows(in, out, y0, y1, applied_, params_.size,
                                 params_.border);
        for (int y = y0; y < y1; ++y) {
          const auto* d =
              reinterpret_cast<const float*>(den.base[0] + RowOffset(den, y));
          for (int c = 0; c < colours; ++c) {
            const auto* n =
                reinterpret_cast<const float*>(num.base[c] + RowOffset(num, y));
            for (int x = 0; x < e.width; ++x) {
              row[x] = AlphaWeightedColour(n[x], d[x], abs_sum_, alpha_unit,
                                           params_);
            }
            sat += QuantizeSaturate(row.data(), row.size(), shape.out_type);
            std::byte* dst = out.base[c] + RowOffset(out, y);
            for (int x = 0; x < e.width; ++x) {
              StoreSample(dst + static_cast<size_t>(x) * out.step * out_sample,
                          row[x], shape.out_type);
            }
          }
        }
        saturated += sat;
      },
      [&](int y0, int y1) {
        InRing(y0, y1 - y0, out_cap, [&](int slot, int, int run) {
          sink.Write(out.base[0] + RowOffset(out, slot), out.row_bytes, run);
        });
      },
      [&] { sink.Finish(); });
  return saturated;
}

bool PreparedFilter::StreamsPair(int channels, Depth type) const {
  const bool weighted = AlphaWeighted(channels);
  const bool floats = type == Depth::kF32 || Linear(type) || weighted;
  if (weighted && abs_ != nullptr && abs_->method_ == Method::kFft) {
    return false;
  }
  return use_ == Use::kCompare && (pair_ != nullptr || pass_corr_ != nullptr) &&
         !params_.imagemagick && params_.stride_y == 1 &&
         params_.stride_x == 1 && params_.rounding == Rounding::kSaturate &&
         channels >= 1 && channels <= 4 && !(floats && method_ == Method::kFft);
}

void PreparedFilter::StreamPair(const StreamShape& shape, RowSource& source,
                                PairSink& sink, int band_rows) const {
  const double unit = AlphaUnit(shape.in_type);
  if (!Linear(shape.in_type)) {
    StreamPairAsIs(shape, source, sink, band_rows, unit);
    return;
  }
  if (!StreamsPair(shape.channels, shape.in_type)) {
    throw std::logic_error("PreparedFilter::StreamPair: not a streaming run");
  }
  LinearSource linear(source, shape);
  SrgbPairSink srgb(sink, shape);
  StreamShape floats = shape;
  floats.in_type = Depth::kF32;
  StreamPairAsIs(floats, linear, srgb, band_rows, unit);
}

void PreparedFilter::RunPair(const ConstImageView& in, const ImageView& corr,
                             const ImageView& conv,
                             const EngineOptions& options) const {
  if (pair_ != nullptr) {
    pair_->Run(in, corr, conv, options);
  } else {
    pass_corr_->Run(in, corr, options);
    pass_conv_->Run(in, conv, options);
  }
}

int PreparedFilter::PairQuantum() const {
  return pair_ != nullptr
             ? pair_->RowQuantum()
             : std::lcm(pass_corr_->RowQuantum(), pass_conv_->RowQuantum());
}

// compare's bands of float rows per mode and band, at least 8 kernel
// heights (each band reloads a kernel height of input rows).
namespace {
int PairBandRows(int band_rows, int quantum, const StreamShape& shape,
                 const kernel::Kernel& a, const kernel::Kernel& b) {
  if (band_rows > 0 || quantum != 1) return band_rows;
  const size_t row_bytes =
      sizeof(float) * static_cast<size_t>(shape.width) * shape.channels;
  const auto rows = static_cast<int>(
      std::min<size_t>((kPairBandBytes + row_bytes - 1) / row_bytes, 4096));
  return std::max({rows, 8 * a.rows(), 8 * b.rows()});
}
}  // namespace

void PreparedFilter::StreamPairWeighted(const StreamShape& shape,
                                        RowSource& source, PairSink& sink,
                                        int band_rows,
                                        double alpha_unit) const {
  PremultiplySource premultiplied(source, shape);
  StreamShape floats = shape;
  floats.in_type = Depth::kF32;
  const PreparedFilter& den_engine = abs_ != nullptr ? *abs_ : *this;
  const kernel::Kernel rotated = kernel::Rotate180(conv_kernel_);
  const int quantum = std::lcm(PairQuantum(), den_engine.PairQuantum());
  band_rows = PairBandRows(band_rows, quantum, shape, kernel_, rotated);
  const BandPlan plan =
      PlanBands({&kernel_, &rotated}, params_.border, params_.size, shape.width,
                shape.height, quantum, band_rows);
  const Extent e =
      OutputExtent(shape.width, shape.height, kernel_, params_.size);
  const int out_cap = std::max(plan.output_ring, 1);
  const int colours = shape.channels - 1;
  LargeBuffer corr_buf, conv_buf, den_corr_buf, den_conv_buf;
  const ImageView corr =
      PlanarRing(corr_buf, e.width, e.height, shape.channels, out_cap);
  const ImageView conv =
      PlanarRing(conv_buf, e.width, e.height, shape.channels, out_cap);
  const ImageView den_corr =
      PlanarRing(den_corr_buf, e.width, e.height, 1, out_cap);
  const ImageView den_conv =
      PlanarRing(den_conv_buf, e.width, e.height, 1, out_cap);
  const auto part = [](ImageView v, int first, int n) {
    for (int c = 0; c < n; ++c) v.base[c] = v.base[first + c];
    v.channels = n;
    return v;
  };
  const ImageView corr_colour = part(corr, 0, colours);
  const ImageView conv_colour = part(conv, 0, colours);
  const ImageView corr_alpha = part(corr, colours, 1);
  const ImageView conv_alpha = part(conv, colours, 1);
  WeightedOptions options(engine_options(), params_.border.value);
  RunBands(
      plan, floats, premultiplied,
      [&](const ConstImageView& in, int y0, int y1) {
        options.SetRows(y0, y1);
        const ColourAndAlpha split(in);
        RunPair(split.colour, corr_colour, conv_colour, options.num);
        den_engine.RunPair(split.alpha, den_corr, den_conv, options.den);
        if (params_.filter_alpha) {
          RunPair(split.alpha, corr_alpha, conv_alpha, options.own);
        } else {
          CarryAlphaRows(in, corr, y0, y1, kernel_, params_.size,
                         params_.border);
          CarryAlphaRows(in, conv, y0, y1, kernel_, params_.size,
                         params_.border);
        }
        for (int y = y0; y < y1; ++y) {
          for (const auto& [v, den] :
               {std::pair{&corr, &den_corr}, std::pair{&conv, &den_conv}}) {
            const auto* d = reinterpret_cast<const float*>(den->base[0] +
                                                           RowOffset(*den, y));
            for (int c = 0; c < colours; ++c) {
              auto* n = reinterpret_cast<float*>(v->base[c] + RowOffset(*v, y));
              for (int x = 0; x < e.width; ++x) {
                n[x] = AlphaWeightedColour(n[x], d[x], abs_sum_, alpha_unit,
                                           params_);
              }
            }
          }
        }
      },
      [&](int y0, int y1) { sink.Rows(corr, conv, y0, y1); },
      [&] { sink.Finish(); });
}

void PreparedFilter::StreamPairAsIs(const StreamShape& shape, RowSource& source,
                                    PairSink& sink, int band_rows,
                                    double alpha_unit) const {
  if (!StreamsPair(shape.channels, shape.in_type)) {
    throw std::logic_error("PreparedFilter::StreamPair: not a streaming run");
  }
  if (AlphaWeighted(shape.channels)) {
    StreamPairWeighted(shape, source, sink, band_rows, alpha_unit);
    return;
  }
  const kernel::Kernel rotated = kernel::Rotate180(conv_kernel_);
  const int quantum = pair_ != nullptr ? pair_->RowQuantum()
                                       : std::lcm(pass_corr_->RowQuantum(),
                                                  pass_conv_->RowQuantum());
  if (band_rows <= 0 && quantum == 1) {
    // Bands of about kPairBandBytes of float results per mode (the sink
    // reads them while the next band is made), and at least 8 kernel
    // heights (each band reloads a kernel height of input rows).
    const size_t row_bytes =
        sizeof(float) * static_cast<size_t>(shape.width) * shape.channels;
    const auto rows = static_cast<int>(
        std::min<size_t>((kPairBandBytes + row_bytes - 1) / row_bytes, 4096));
    band_rows = std::max({rows, 8 * kernel_.rows(), 8 * rotated.rows()});
  }
  const BandPlan plan =
      PlanBands({&kernel_, &rotated}, params_.border, params_.size, shape.width,
                shape.height, quantum, band_rows);
  const Extent e =
      OutputExtent(shape.width, shape.height, kernel_, params_.size);
  const int out_cap = std::max(plan.output_ring, 1);
  LargeBuffer corr_buf, conv_buf;
  const ImageView corr =
      PlanarRing(corr_buf, e.width, e.height, shape.channels, out_cap);
  const ImageView conv =
      PlanarRing(conv_buf, e.width, e.height, shape.channels, out_cap);
  EngineOptions options = engine_options();
  // Alpha (the last of 2 or 4 channels) is carried beside the results
  // unless filter_alpha, as FilterPair carries it: the same for both.
  const bool carry =
      (shape.channels == 2 || shape.channels == 4) && !params_.filter_alpha;
  RunBands(
      plan, shape, source,
      [&](const ConstImageView& in, int y0, int y1) {
        options.row_begin = y0;
        options.row_end = y1;
        ConstImageView colour = in;
        ImageView corr_colour = corr;
        ImageView conv_colour = conv;
        if (carry) {
          colour.channels -= 1;
          corr_colour.channels -= 1;
          conv_colour.channels -= 1;
        }
        if (pair_ != nullptr) {
          pair_->Run(colour, corr_colour, conv_colour, options);
        } else {
          pass_corr_->Run(colour, corr_colour, options);
          pass_conv_->Run(colour, conv_colour, options);
        }
        if (carry) {
          CarryAlphaRows(in, corr, y0, y1, kernel_, params_.size,
                         params_.border);
          CarryAlphaRows(in, conv, y0, y1, kernel_, params_.size,
                         params_.border);
        }
      },
      [&](int y0, int y1) { sink.Rows(corr, conv, y0, y1); },
      [&] { sink.Finish(); });
}

}  // namespace convcorr::core
