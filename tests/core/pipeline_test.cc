// The streaming run (PreparedFilter::Stream, core/pipeline.h) against the
// whole-image Run: the same samples for every strategy, border, output
// size, sample type and band height, including bands of one row and a
// wrap border (whose first band reads the last rows); errors of the
// source, the sink and a short file stop every stage and reach the caller.
#include "core/pipeline.h"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/filter.h"
#include "core/view.h"
#include "kernel/kernel.h"

namespace convcorr::core {
namespace {

// Interleaved samples of one type.
struct Samples {
  int width = 0, height = 0, channels = 0;
  Depth type = Depth::kU8;
  std::vector<std::byte> bytes;

  Samples(int w, int h, int c, Depth t)
      : width(w), height(h), channels(c), type(t) {
    bytes.resize(RowBytes() * static_cast<size_t>(h));
  }
  size_t RowBytes() const {
    return static_cast<size_t>(width) * channels * SampleBytes(type);
  }
  ConstImageView ConstView() const {
    return ViewOf<ConstImageView>(bytes.data());
  }
  ImageView View() { return ViewOf<ImageView>(bytes.data()); }

 private:
  // The interleaved view of the samples at `data` (bytes.data()).
  template <typename V, typename Byte>
  V ViewOf(Byte* data) const {
    V v;
    v.channels = channels;
    v.width = width;
    v.height = height;
    v.type = type;
    v.row_bytes = static_cast<std::ptrdiff_t>(RowBytes());
    v.step = channels;
    for (int c = 0; c < channels; ++c) v.base[c] = data + c * SampleBytes(type);
    return v;
  }
};

Samples Random(int w, int h, int c, Depth t, std::mt19937& rng) {
  Samples s(w, h, c, t);
  const size_t n = static_cast<size_t>(w) * h * c;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t r = rng();
    if (t == Depth::kU8) {
      reinterpret_cast<uint8_t*>(s.bytes.data())[i] = static_cast<uint8_t>(r);
    } else if (t == Depth::kU16) {
      reinterpret_cast<uint16_t*>(s.bytes.data())[i] = static_cast<uint16_t>(r);
    } else {
      reinterpret_cast<float*>(s.bytes.data())[i] =
          static_cast<float>(r % 2001) / 7.0f - 100.0f;
    }
  }
  return s;
}

// Rows of a Samples, handed out in the runs the pipeline asks for; can
// fail after some rows.
class SamplesSource : public RowSource {
 public:
  explicit SamplesSource(const Samples& s, int fail_at = -1)
      : s_(s), fail_at_(fail_at) {}
  void Read(std::byte* dst, std::ptrdiff_t stride, int rows) override {
    for (int i = 0; i < rows; ++i, ++next_) {
      if (next_ == fail_at_) throw std::runtime_error("source failed");
      std::memcpy(dst + stride * i, s_.bytes.data() + s_.RowBytes() * next_,
                  s_.RowBytes());
    }
  }
  void Finish() override { finished = next_ == s_.height; }
  bool finished = false;

 private:
  const Samples& s_;
  int fail_at_;
  int next_ = 0;
};

class SamplesSink : public RowSink {
 public:
  explicit SamplesSink(Samples& s, int fail_at = -1)
      : s_(s), fail_at_(fail_at) {}
  void Write(const std::byte* src, std::ptrdiff_t stride, int rows) override {
    for (int i = 0; i < rows; ++i, ++next_) {
      if (next_ == fail_at_) throw std::runtime_error("sink failed");
      std::memcpy(s_.bytes.data() + s_.RowBytes() * next_, src + stride * i,
                  s_.RowBytes());
    }
  }
  void Finish() override { finished = next_ == s_.height; }
  bool finished = false;

 private:
  Samples& s_;
  int fail_at_;
  int next_ = 0;
};

kernel::Kernel RandomKernel(int kh, int kw, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<double> w(static_cast<size_t>(kh) * kw);
  for (double& v : w) v = u(rng);
  return kernel::Kernel(kh, kw, w);
}

struct Case {
  kernel::Kernel k;
  FilterParams params;
  Depth in, out;
  int channels;
  int band_rows;
};

void Check(const Case& c, int w, int h, std::mt19937& rng) {
  const PreparedFilter f(c.k, c.params, PreparedFilter::Use::kFilter);
  ASSERT_TRUE(f.StreamsSamples(c.channels, c.in));
  const Samples in = Random(w, h, c.channels, c.in, rng);
  const Extent e = OutputExtent(w, h, c.k, c.params.size);
  Samples whole(e.width, e.height, c.channels, c.out);
  const uint64_t sat_whole = f.Run(in.ConstView(), whole.View());
  Samples streamed(e.width, e.height, c.channels, c.out);
  SamplesSource source(in);
  SamplesSink sink(streamed);
  const uint64_t sat =
      f.Stream({w, h, c.channels, c.in, c.out}, source, sink, c.band_rows);
  EXPECT_TRUE(source.finished);
  EXPECT_TRUE(sink.finished);
  EXPECT_EQ(sat, sat_whole);
  EXPECT_TRUE(streamed.bytes == whole.bytes)
      << w << "x" << h << " kernel " << c.k.rows() << "x" << c.k.cols()
      << " method " << MethodName(f.method()) << " band " << c.band_rows;
}

TEST(Pipeline, StreamEqualsRunForEveryStrategyBorderAndSize) {
  std::mt19937 rng(7);
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kReflect,
                                BorderMode::kReplicate, BorderMode::kWrap,
                                BorderMode::kConstant};
  const OutputSize sizes[] = {OutputSize::kSame, OutputSize::kValid,
                              OutputSize::kFull};
  const Method methods[] = {Method::kAuto, Method::kDirect, Method::kSparse,
                            Method::kFft};
  // Every method with every border; the size and the band height drawn
  // for each (kept few: the tests also run under ThreadSanitizer).
  for (const Method m : methods) {
    for (const BorderMode b : borders) {
      for (int draw = 0; draw < 2; ++draw) {
        const OutputSize size = sizes[rng() % 3];
        const int band = std::vector<int>{1, 3, 0}[rng() % 3];
        FilterParams p;
        p.border.mode = b;
        p.border.value = 9;
        p.size = size;
        p.method = m;
        p.threads = 1 + static_cast<int>(rng() % 3);
        p.mode = rng() % 2 ? Mode::kConvolve : Mode::kCorrelate;
        const int kh = 1 + static_cast<int>(rng() % 6);
        const int kw = 1 + static_cast<int>(rng() % 6);
        Check({RandomKernel(kh, kw, rng), p, Depth::kU8, Depth::kU8, 3, band},
              37 + static_cast<int>(rng() % 30),
              kh + 20 + static_cast<int>(rng() % 60), rng);
      }
    }
  }
}

TEST(Pipeline, SeparableTypesAndChannels) {
  std::mt19937 rng(11);
  std::vector<double> col = {1, 4, 6, 4, 1}, row = {1, 2, 1};
  std::vector<double> w;
  for (double a : col) {
    for (double b : row) w.push_back(a * b / 64.0);
  }
  const kernel::Kernel sep(5, 3, w);
  for (const Depth in : {Depth::kU8, Depth::kU16, Depth::kF32}) {
    for (const Depth out : {Depth::kU8, Depth::kU16, Depth::kF32}) {
      for (const int channels : {1, 3}) {
        FilterParams p;
        p.method = Method::kSeparable;
        p.scale = 1.5;
        p.bias = -3;
        p.abs = channels == 1;
        Check({sep, p, in, out, channels, 2}, 50, 41, rng);
      }
    }
  }
}

// The float planes of interleaved samples.
Image ToImage(const Samples& s) {
  Image img;
  img.width = s.width;
  img.height = s.height;
  img.depth = s.type;
  const ConstImageView v = s.ConstView();
  for (int c = 0; c < s.channels; ++c) {
    Plane p(s.width, s.height);
    for (int y = 0; y < s.height; ++y) {
      for (int x = 0; x < s.width; ++x) {
        p.at(y, x) = SampleAt(
            v.base[c] + RowOffset(v, y) +
                static_cast<std::ptrdiff_t>(x) * v.step * SampleBytes(v.type),
            v.type);
      }
    }
    img.color.push_back(std::move(p));
  }
  return img;
}

// Compare's bands gathered into whole planes.
class PairPlanes : public PairSink {
 public:
  PairPlanes(int w, int h, int channels)
      : corr(channels, Plane(w, h)), conv(channels, Plane(w, h)) {}
  void Rows(const ImageView& c, const ImageView& v, int y0, int y1) override {
    EXPECT_EQ(y0, next);
    next = y1;
    for (int y = y0; y < y1; ++y) {
      for (size_t ch = 0; ch < corr.size(); ++ch) {
        std::memcpy(&corr[ch].at(y, 0), c.base[ch] + RowOffset(c, y),
                    sizeof(float) * corr[ch].width);
        std::memcpy(&conv[ch].at(y, 0), v.base[ch] + RowOffset(v, y),
                    sizeof(float) * conv[ch].width);
      }
    }
  }
  void Finish() override { finished = true; }
  std::vector<Plane> corr, conv;
  int next = 0;
  bool finished = false;
};

void CheckPair(const PreparedFilter& f, int channels, Depth type, int w, int h,
               int band, std::mt19937& rng) {
  ASSERT_TRUE(f.StreamsPair(channels, type));
  const Samples in = Random(w, h, channels, type, rng);
  const FilterPairResult whole = f.FilterPair(ToImage(in));
  PairPlanes got(whole.correlate.width, whole.correlate.height, channels);
  SamplesSource source(in);
  f.StreamPair({w, h, channels, type, Depth::kF32}, source, got, band);
  EXPECT_TRUE(source.finished);
  EXPECT_TRUE(got.finished);
  EXPECT_EQ(got.next, whole.correlate.height);
  for (int c = 0; c < channels; ++c) {
    EXPECT_TRUE(got.corr[c].data == whole.correlate.color[c].data)
        << "correlate, plan " << PlanName(f.plan()) << " band " << band;
    EXPECT_TRUE(got.conv[c].data == whole.convolve.color[c].data)
        << "convolve, plan " << PlanName(f.plan()) << " band " << band;
  }
}

// compare's two results, band by band, are FilterPair's: every plan
// (fused pairs, dual ring, symmetric, fft, two passes), borders, sizes,
// and the two anchors of --compat torch.
TEST(Pipeline, StreamPairEqualsFilterPair) {
  std::mt19937 rng(23);
  const OutputSize sizes[] = {OutputSize::kSame, OutputSize::kValid,
                              OutputSize::kFull};
  std::vector<double> sobel = {-1, 0, 1, -2, 0, 2, -1, 0, 1};
  std::vector<double> gauss = {1, 2, 1, 2, 4, 2, 1, 2, 1};
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kWrap,
                                BorderMode::kConstant};
  for (const Method m :
       {Method::kAuto, Method::kDirect, Method::kFft, Method::kSeparable}) {
    FilterParams p;
    p.method = m;
    const kernel::Kernel ks[] = {
        kernel::Kernel(3, 3, sobel), kernel::Kernel(3, 3, gauss),
        RandomKernel(4, 5, rng),
        kernel::Kernel(2, 3, {1, 2, 3, 2, 4, 6})};  // rank 1
    for (const kernel::Kernel& k : ks) {
      if (m == Method::kSeparable &&
          kernel::Analyze(k).rank > kMaxSeparableTerms) {
        continue;
      }
      // The size and border drawn (few cases: TSan runs these too).
      p.size = sizes[rng() % 3];
      p.border.mode = borders[rng() % 3];
      p.threads = 1 + static_cast<int>(rng() % 2);
      const PreparedFilter f(k, k, p);
      CheckPair(f, 3, Depth::kU8, 45, 70, 4, rng);
      CheckPair(f, 1, Depth::kU16, 33, 52, 0, rng);
    }
  }
  // Two anchors: an even kernel anchored per mode.
  const kernel::Kernel even(2, 2, {1, 2, 3, 4}, 0, 0);
  const kernel::Kernel moved(2, 2, {1, 2, 3, 4}, 1, 1);
  FilterParams p;
  const PreparedFilter f(even, moved, p);
  CheckPair(f, 3, Depth::kU8, 40, 61, 3, rng);
}

// The planes of interleaved samples, the last of 2 or 4 channels as alpha.
Image ToImageWithAlpha(const Samples& s) {
  Image img = ToImage(s);
  if (s.channels == 2 || s.channels == 4) {
    img.alpha = std::move(img.color.back());
    img.color.pop_back();
  }
  return img;
}

// --linear: streamed, the rows go to linear floats on the way in and are
// encoded and quantized on the way out, giving Filter's samples then
// Quantize's, for every row strategy, channel layout (alpha carried or
// filtered) and output type; the fft strategy does not stream them.
TEST(Pipeline, LinearStreamEqualsFilterThenQuantize) {
  std::mt19937 rng(37);
  for (const Method m :
       {Method::kDirect, Method::kSparse, Method::kSeparable}) {
    for (const Depth in : {Depth::kU8, Depth::kU16}) {
      for (const int channels : {1, 2, 3, 4}) {
        FilterParams p;
        p.linear = true;
        p.method = m;
        p.filter_alpha = rng() % 2 == 0;
        p.threads = 1 + static_cast<int>(rng() % 2);
        p.bias = rng() % 2 ? 0.0 : -20.0;  // some sums below 0
        const kernel::Kernel k = m == Method::kSeparable
                                     ? kernel::Kernel(3, 2, {1, 2, 2, 4, 1, 2})
                                     : RandomKernel(3, 4, rng);
        const PreparedFilter f(k, p, PreparedFilter::Use::kFilter);
        EXPECT_FALSE(f.ReadsSamples(channels));
        ASSERT_TRUE(f.StreamsSamples(channels, in));
        const Samples samples = Random(37, 29, channels, in, rng);
        for (const Depth out : {in, Depth::kF32}) {
          Image want = f.Filter(ToImageWithAlpha(samples));
          const uint64_t want_sat = f.Quantize(want, out);
          Samples streamed(want.width, want.height, channels, out);
          SamplesSource source(samples);
          SamplesSink sink(streamed);
          const uint64_t sat =
              f.Stream({37, 29, channels, in, out}, source, sink, 5);
          EXPECT_EQ(sat, want_sat);
          const Image got = ToImageWithAlpha(streamed);
          for (int c = 0; c < static_cast<int>(want.color.size()); ++c) {
            EXPECT_TRUE(got.color[c].data == want.color[c].data)
                << MethodName(m) << " channel " << c << " of " << channels;
          }
          if (want.alpha) {
            EXPECT_TRUE(got.alpha->data == want.alpha->data);
          }
        }
      }
    }
  }
  FilterParams p;
  p.linear = true;
  p.method = Method::kFft;
  const PreparedFilter fft(RandomKernel(5, 5, rng), p,
                           PreparedFilter::Use::kFilter);
  EXPECT_FALSE(fft.StreamsSamples(3, Depth::kU8));
}

// compare --linear: both results streamed are FilterPair's, encoded back.
TEST(Pipeline, LinearStreamPairEqualsFilterPair) {
  std::mt19937 rng(41);
  FilterParams p;
  p.linear = true;
  const kernel::Kernel k(3, 3, {1, 2, 0, 0, 1, 0, 0, 0, 3});
  const PreparedFilter f(k, k, p);
  for (const int channels : {3, 4}) {
    ASSERT_TRUE(f.StreamsPair(channels, Depth::kU8));
    const Samples in = Random(41, 33, channels, Depth::kU8, rng);
    const FilterPairResult whole = f.FilterPair(ToImageWithAlpha(in));
    PairPlanes got(whole.correlate.width, whole.correlate.height, channels);
    SamplesSource source(in);
    f.StreamPair({41, 33, channels, Depth::kU8, Depth::kF32}, source, got, 7);
    for (int c = 0; c < 3; ++c) {
      EXPECT_TRUE(got.corr[c].data == whole.correlate.color[c].data);
      EXPECT_TRUE(got.conv[c].data == whole.convolve.color[c].data);
    }
    if (channels == 4) {
      EXPECT_TRUE(got.corr[3].data == whole.correlate.alpha->data);
    }
  }
}

// A tall image of one column band after another, the fft strategy's
// tiles spanning bands, and a kernel taller than a band.
TEST(Pipeline, TallImagesAndTallKernels) {
  std::mt19937 rng(13);
  FilterParams p;
  p.method = Method::kFft;
  p.threads = 2;
  Check({RandomKernel(21, 9, rng), p, Depth::kU8, Depth::kU8, 1, 0}, 40, 900,
        rng);
  p.method = Method::kDirect;
  Check({RandomKernel(31, 3, rng), p, Depth::kU16, Depth::kU16, 3, 4}, 33, 500,
        rng);
  p.border.mode = BorderMode::kWrap;
  Check({RandomKernel(31, 3, rng), p, Depth::kU8, Depth::kU8, 3, 4}, 33, 500,
        rng);
}

TEST(Pipeline, FloatInputWithFftDoesNotStream) {
  FilterParams p;
  p.method = Method::kFft;
  const PreparedFilter f(kernel::Kernel(9, 9, std::vector<double>(81, 1.0)), p,
                         PreparedFilter::Use::kFilter);
  EXPECT_FALSE(f.StreamsSamples(3, Depth::kF32));
  EXPECT_TRUE(f.StreamsSamples(3, Depth::kU8));
  EXPECT_TRUE(f.StreamsSamples(4, Depth::kU8));
  EXPECT_FALSE(f.StreamsSamples(4, Depth::kF32));
}

// Alpha streams too (gray + alpha, RGBA): carried beside the colour
// channels as Filter carries it (unchanged for same; cropped or extended
// by the border around the kernel's centre for valid and full), or
// filtered like a colour channel with filter_alpha. Stream equals Run,
// and Run equals Filter then Quantize on float planes.
TEST(Pipeline, AlphaIsCarriedOrFilteredWithoutAFloatCopy) {
  std::mt19937 rng(29);
  const OutputSize sizes[] = {OutputSize::kSame, OutputSize::kValid,
                              OutputSize::kFull};
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kConstant,
                                BorderMode::kWrap};
  const Depth types[] = {Depth::kU8, Depth::kU16, Depth::kF32};
  for (const int channels : {2, 4}) {
    for (const bool filter_alpha : {false, true}) {
      for (const OutputSize size : sizes) {
        FilterParams p;
        p.size = size;
        p.border.mode = borders[rng() % 3];
        p.border.value = 300;  // saturates an 8-bit alpha
        p.filter_alpha = filter_alpha;
        p.mode = rng() % 2 ? Mode::kConvolve : Mode::kCorrelate;
        p.threads = 1 + static_cast<int>(rng() % 2);
        const Depth in = types[rng() % 3];
        const Depth out = types[rng() % 3];
        // An off-centre anchor: alpha follows the kernel's centre anyway.
        const kernel::Kernel k(3, 4, std::vector<double>(12, 0.25), 0, 2);
        Check({k, p, in, out, channels, 3}, 23, 31, rng);
        const PreparedFilter f(k, p, PreparedFilter::Use::kFilter);
        const Samples samples = Random(23, 31, channels, in, rng);
        const Extent e = OutputExtent(23, 31, k, size);
        Samples run(e.width, e.height, channels, out);
        const uint64_t sat = f.Run(samples.ConstView(), run.View());
        Image planes = f.Filter(ToImageWithAlpha(samples));
        EXPECT_EQ(sat, f.Quantize(planes, out));
        const Image got = ToImageWithAlpha(run);
        ASSERT_TRUE(planes.alpha.has_value());
        EXPECT_TRUE(got.alpha->data == planes.alpha->data)
            << channels << " channels, filter_alpha " << filter_alpha
            << ", size " << static_cast<int>(size);
        for (int c = 0; c + 1 < channels; ++c) {
          EXPECT_TRUE(got.color[c].data == planes.color[c].data);
        }
      }
    }
  }
}

// Alpha weighting streams (premultiplied float rows, a band at a time)
// and gives the planar path's samples exactly, alpha carried or filtered,
// with and without --linear (premultiplied in linear light on both), for
// kernels with and without negative weights; Run declines it.
TEST(Pipeline, AlphaWeightedStreamsAsThePlanarPath) {
  std::mt19937 rng(41);
  const OutputSize sizes[] = {OutputSize::kSame, OutputSize::kValid,
                              OutputSize::kFull};
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kConstant,
                                BorderMode::kWrap};
  const Depth types[] = {Depth::kU8, Depth::kU16, Depth::kF32};
  for (const int channels : {2, 4}) {
    for (const bool filter_alpha : {false, true}) {
      for (const bool linear : {false, true}) {
        for (const bool signed_k : {false, true}) {
          FilterParams p;
          p.alpha_weighted = true;
          p.linear = linear;
          p.size = sizes[rng() % 3];
          p.border.mode = borders[rng() % 3];
          p.border.value = 3;
          p.filter_alpha = filter_alpha;
          p.mode = rng() % 2 ? Mode::kConvolve : Mode::kCorrelate;
          p.threads = 1 + static_cast<int>(rng() % 2);
          p.scale = 0.5;
          p.bias = 4;
          const Depth in = types[rng() % 3];
          const Depth out = types[rng() % 3];
          std::vector<double> w(12, 0.25);
          if (signed_k) w[5] = -0.75;
          const kernel::Kernel k(3, 4, w, 0, 2);
          const PreparedFilter f(k, p, PreparedFilter::Use::kFilter);
          SCOPED_TRACE(testing::Message()
                       << channels << " channels, filter_alpha " << filter_alpha
                       << ", linear " << linear << ", signed " << signed_k);
          ASSERT_TRUE(f.StreamsSamples(channels, in));
          EXPECT_FALSE(f.ReadsSamples(channels));
          Samples samples = Random(23, 31, channels, in, rng);
          const Extent e = OutputExtent(23, 31, k, p.size);
          Samples streamed(e.width, e.height, channels, out);
          EXPECT_THROW(f.Run(samples.ConstView(), streamed.View()),
                       std::logic_error);
          SamplesSource source(samples);
          SamplesSink sink(streamed);
          const uint64_t sat =
              f.Stream({23, 31, channels, in, out}, source, sink, 5);
          Image planes = f.Filter(ToImageWithAlpha(samples));
          EXPECT_EQ(sat, f.Quantize(planes, out));
          const Image got = ToImageWithAlpha(streamed);
          EXPECT_TRUE(got.alpha->data == planes.alpha->data);
          for (int c = 0; c + 1 < channels; ++c) {
            EXPECT_TRUE(got.color[c].data == planes.color[c].data)
                << "channel " << c;
          }
        }
      }
    }
  }
}

// compare with alpha weighting streams too, both modes as FilterPair
// gives them, alpha carried or filtered, with and without --linear, for
// one and two anchors and a kernel with negative weights.
TEST(Pipeline, AlphaWeightedStreamPairEqualsFilterPair) {
  std::mt19937 rng(43);
  const Depth types[] = {Depth::kU8, Depth::kU16, Depth::kF32};
  for (const int channels : {2, 4}) {
    for (const bool filter_alpha : {false, true}) {
      for (const bool linear : {false, true}) {
        for (const bool signed_k : {false, true}) {
          FilterParams p;
          p.alpha_weighted = true;
          p.linear = linear;
          p.filter_alpha = filter_alpha;
          p.border.mode =
              rng() % 2 ? BorderMode::kConstant : BorderMode::kReflect;
          p.border.value = 2;
          p.scale = 2;
          p.bias = -1;
          std::vector<double> w = {1, 2, 3, 4, 0.5, 1, 2, 1};
          if (signed_k) w[3] = -4;
          const kernel::Kernel k(2, 4, w);
          const kernel::Kernel moved(2, 4, w, 1, 0);
          const bool two = rng() % 2 == 0;
          const PreparedFilter f =
              two ? PreparedFilter(k, moved, p)
                  : PreparedFilter(k, p, PreparedFilter::Use::kCompare);
          const Depth type = types[rng() % 3];
          SCOPED_TRACE(testing::Message()
                       << channels << " channels, filter_alpha " << filter_alpha
                       << ", linear " << linear << ", signed " << signed_k
                       << ", two anchors " << two);
          ASSERT_TRUE(f.StreamsPair(channels, type));
          const Samples in = Random(29, 37, channels, type, rng);
          const FilterPairResult whole = f.FilterPair(ToImageWithAlpha(in));
          PairPlanes got(whole.correlate.width, whole.correlate.height,
                         channels);
          SamplesSource source(in);
          f.StreamPair({29, 37, channels, type, Depth::kF32}, source, got, 6);
          EXPECT_TRUE(got.finished);
          for (int c = 0; c < channels; ++c) {
            const Plane& wc = c + 1 < channels ? whole.correlate.color[c]
                                               : *whole.correlate.alpha;
            const Plane& wv = c + 1 < channels ? whole.convolve.color[c]
                                               : *whole.convolve.alpha;
            EXPECT_TRUE(got.corr[c].data == wc.data) << "correlate " << c;
            EXPECT_TRUE(got.conv[c].data == wv.data) << "convolve " << c;
          }
        }
      }
    }
  }
}

TEST(Pipeline, ErrorsStopEveryStageAndReachTheCaller) {
  std::mt19937 rng(17);
  const Samples in = Random(64, 700, 3, Depth::kU8, rng);
  FilterParams p;
  p.threads = 2;
  const PreparedFilter f(RandomKernel(5, 5, rng), p,
                         PreparedFilter::Use::kFilter);
  for (const int fail : {0, 1, 299, 699}) {
    Samples out(64, 700, 3, Depth::kU8);
    SamplesSource source(in, fail);
    SamplesSink sink(out);
    EXPECT_THROW(
        f.Stream({64, 700, 3, Depth::kU8, Depth::kU8}, source, sink, 8),
        std::runtime_error)
        << "source failing at row " << fail;
    EXPECT_FALSE(sink.finished);
  }
  for (const int fail : {0, 8, 350, 699}) {
    Samples out(64, 700, 3, Depth::kU8);
    SamplesSource source(in);
    SamplesSink sink(out, fail);
    EXPECT_THROW(
        f.Stream({64, 700, 3, Depth::kU8, Depth::kU8}, source, sink, 8),
        std::runtime_error)
        << "sink failing at row " << fail;
  }
}

// The plan: each band's input rows are in the ring when it runs, and the
// ring is a few bands whatever the height, except where the border reads
// the far end (wrap).
TEST(Pipeline, BandPlanHoldsAFewBands) {
  const kernel::Kernel k(15, 15, std::vector<double>(225, 1.0));
  for (const int height : {100, 1000, 20000}) {
    const BandPlan plan =
        PlanBands(k, Border{}, OutputSize::kSame, 500, height, 1);
    EXPECT_EQ(plan.band_rows, 256);
    EXPECT_LE(plan.input_ring, std::min(height, 2 * 256 + 14));
    EXPECT_LE(plan.output_ring, 2 * 256);
    int covered = 0;
    for (const BandPlan::Band& b : plan.bands) {
      EXPECT_EQ(b.y0, covered);
      covered = b.y1;
      EXPECT_LE(b.need - b.keep, plan.input_ring);
    }
    EXPECT_EQ(covered, height);
  }
  Border wrap;
  wrap.mode = BorderMode::kWrap;
  const BandPlan plan = PlanBands(k, wrap, OutputSize::kSame, 500, 20000, 1);
  EXPECT_EQ(plan.input_ring, 20000);  // the first band reads the last rows
  // The fft strategy's bands are one row of tiles (the threads share its
  // tiles), or whole rows of tiles when asked for more.
  const BandPlan fft =
      PlanBands(k, Border{}, OutputSize::kSame, 500, 20000, 498);
  EXPECT_EQ(fft.band_rows, 498);
  EXPECT_EQ(
      PlanBands(k, Border{}, OutputSize::kSame, 500, 20000, 498, 600).band_rows,
      996);
}

}  // namespace
}  // namespace convcorr::core
