// PreparedFilter: one preparation serves many inputs of any size, from
// several threads at once, with the results of a fresh preparation per
// input and of the reference; and it decides each input's path.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/filter.h"
#include "core/oracle.h"

namespace convcorr::core {
namespace {

using testing::L1;
using testing::RandomKernel;
using testing::RandomPlane;

Image RandomImage(int w, int h, int colors, bool alpha, std::mt19937& rng) {
  Image img;
  img.width = w;
  img.height = h;
  img.depth = Depth::kU8;
  for (int c = 0; c < colors; ++c) {
    img.color.push_back(RandomPlane(w, h, rng, 0.0f, 255.0f));
  }
  if (alpha) img.alpha = RandomPlane(w, h, rng, 0.0f, 255.0f);
  return img;
}

// A kernel for each strategy the cost model can pick: direct (a dense
// asymmetric 3x3), sparse (a shift in a wide box), separable (a rank-1 7x7 and
// a rank-2 5x5) and FFT (a dense 41x41).
std::vector<kernel::Kernel> EveryStrategy(std::mt19937& rng) {
  std::vector<kernel::Kernel> ks;
  ks.push_back(kernel::Kernel(3, 3, {1, 2, 4, -1, 5, 3, 7, -2, -1}));
  std::vector<double> shift(9 * 9, 0.0);
  shift[2 * 9 + 7] = 1.0;
  ks.push_back(kernel::Kernel(9, 9, shift));
  std::vector<double> rank1, rank2;
  const double col[7] = {1, 3, 6, 7, 6, 3, 1};
  const double row[7] = {1, -2, 4, 5, 2, 1, 1};
  for (double c : col) {
    for (double r : row) rank1.push_back(c * r);
  }
  for (int i = 0; i < 5; ++i) {
    for (int j = 0; j < 5; ++j)
      rank2.push_back((i + 1) * (j + 1) + (i % 2) * (j * j + 3));
  }
  ks.push_back(kernel::Kernel(7, 7, rank1));
  ks.push_back(kernel::Kernel(5, 5, rank2));
  ks.push_back(RandomKernel(41, 41, rng));
  return ks;
}

void ExpectSameImage(const Image& a, const Image& b, const std::string& what) {
  ASSERT_EQ(a.width, b.width) << what;
  ASSERT_EQ(a.height, b.height) << what;
  ASSERT_EQ(a.color.size(), b.color.size()) << what;
  ASSERT_EQ(a.alpha.has_value(), b.alpha.has_value()) << what;
  for (size_t c = 0; c < a.color.size(); ++c) {
    ASSERT_EQ(a.color[c].data, b.color[c].data) << what << ", plane " << c;
  }
  if (a.alpha) {
    ASSERT_EQ(a.alpha->data, b.alpha->data) << what << ", alpha";
  }
}

void ExpectNear(const Image& a, const Image& b, double tolerance,
                const std::string& what) {
  ASSERT_EQ(a.color.size(), b.color.size()) << what;
  for (size_t c = 0; c < a.color.size(); ++c) {
    ASSERT_EQ(a.color[c].data.size(), b.color[c].data.size()) << what;
    for (size_t i = 0; i < a.color[c].data.size(); ++i) {
      ASSERT_NEAR(a.color[c].data[i], b.color[c].data[i], tolerance)
          << what << ", plane " << c << ", sample " << i;
    }
  }
}

// Inputs of different sizes and channel counts, in the order a batch
// would meet them: a preparation must not keep anything of one input.
std::vector<Image> Inputs(std::mt19937& rng) {
  std::vector<Image> in;
  in.push_back(RandomImage(67, 45, 3, false, rng));
  in.push_back(RandomImage(12, 90, 1, true, rng));
  in.push_back(RandomImage(130, 7, 3, true, rng));
  in.push_back(RandomImage(5, 5, 1, false, rng));
  return in;
}

TEST(PreparedFilter, OnePreparationServesEveryInputAsAFreshOne) {
  std::mt19937 rng(7);
  const std::vector<Image> inputs = Inputs(rng);
  for (const kernel::Kernel& k : EveryStrategy(rng)) {
    for (Mode mode : {Mode::kCorrelate, Mode::kConvolve}) {
      for (OutputSize size : {OutputSize::kSame, OutputSize::kFull}) {
        FilterParams params;
        params.mode = mode;
        params.size = size;
        params.threads = 2;
        const PreparedFilter prepared(k, params, PreparedFilter::Use::kFilter);
        FilterParams ref = params;
        ref.simd = false;
        for (size_t i = 0; i < inputs.size(); ++i) {
          const std::string what = "kernel " + std::to_string(k.rows()) + "x" +
                                   std::to_string(k.cols()) + ", mode " +
                                   std::to_string(static_cast<int>(mode)) +
                                   ", size " +
                                   std::to_string(static_cast<int>(size)) +
                                   ", input " + std::to_string(i);
          const Image got = prepared.Filter(inputs[i]);
          ExpectSameImage(got, Filter(inputs[i], k, params), what);
          ExpectNear(got, Filter(inputs[i], k, ref),
                     1e-5 * L1(k) * 255.0 + 1e-4, what + " (reference)");
        }
      }
    }
  }
}

TEST(PreparedFilter, OneComparePreparationServesEveryInputAsAFreshOne) {
  std::mt19937 rng(11);
  const std::vector<Image> inputs = Inputs(rng);
  for (const kernel::Kernel& k : EveryStrategy(rng)) {
    FilterParams params;
    params.threads = 2;
    const PreparedFilter prepared(k, params, PreparedFilter::Use::kCompare);
    FilterParams ref = params;
    ref.simd = false;
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string what = "kernel " + std::to_string(k.rows()) + "x" +
                               std::to_string(k.cols()) + ", input " +
                               std::to_string(i);
      const FilterPairResult got = prepared.FilterPair(inputs[i]);
      const FilterPairResult fresh = FilterPair(inputs[i], k, params);
      EXPECT_EQ(got.plan, prepared.plan()) << what;
      ExpectSameImage(got.correlate, fresh.correlate, what + " correlate");
      ExpectSameImage(got.convolve, fresh.convolve, what + " convolve");
      const FilterPairResult want = FilterPair(inputs[i], k, ref);
      const double tolerance = 1e-5 * L1(k) * 255.0 + 1e-4;
      ExpectNear(got.correlate, want.correlate, tolerance, what + " corr ref");
      ExpectNear(got.convolve, want.convolve, tolerance, what + " conv ref");
    }
  }
}

TEST(PreparedFilter, ServesSeveralThreadsAtOnce) {
  std::mt19937 rng(5);
  const std::vector<Image> inputs = Inputs(rng);
  for (const kernel::Kernel& k : EveryStrategy(rng)) {
    FilterParams params;
    params.mode = Mode::kConvolve;
    params.threads = 1;
    const PreparedFilter filter(k, params, PreparedFilter::Use::kFilter);
    const PreparedFilter pair(k, params, PreparedFilter::Use::kCompare);
    std::vector<Image> want;
    std::vector<FilterPairResult> want_pairs;
    for (const Image& in : inputs) {
      want.push_back(filter.Filter(in));
      want_pairs.push_back(pair.FilterPair(in));
    }
    std::vector<Image> got(inputs.size());
    std::vector<FilterPairResult> got_pairs(inputs.size());
    std::vector<std::thread> threads;
    for (size_t i = 0; i < inputs.size(); ++i) {
      threads.emplace_back([&, i] {
        got[i] = filter.Filter(inputs[i]);
        got_pairs[i] = pair.FilterPair(inputs[i]);
      });
    }
    for (std::thread& t : threads) t.join();
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string what = "kernel " + std::to_string(k.rows()) + "x" +
                               std::to_string(k.cols()) + ", input " +
                               std::to_string(i);
      ExpectSameImage(got[i], want[i], what);
      ExpectSameImage(got_pairs[i].convolve, want_pairs[i].convolve, what);
      ExpectSameImage(got_pairs[i].correlate, want_pairs[i].correlate, what);
    }
  }
}

TEST(PreparedFilter, NamesTheStrategyWithTheReferenceToo) {
  std::mt19937 rng(3);
  const std::vector<kernel::Kernel> ks = EveryStrategy(rng);
  for (const kernel::Kernel& k : ks) {
    FilterParams simd;
    FilterParams ref;
    ref.simd = false;
    const PreparedFilter a(k, simd, PreparedFilter::Use::kFilter);
    const PreparedFilter b(k, ref, PreparedFilter::Use::kFilter);
    const PreparedFilter c(k, simd, PreparedFilter::Use::kCompare);
    EXPECT_EQ(a.method(), b.method()) << k.rows() << "x" << k.cols();
    EXPECT_EQ(a.method(), c.method()) << k.rows() << "x" << k.cols();
    EXPECT_EQ(a.terms(), b.terms()) << k.rows() << "x" << k.cols();
  }
  // The list covers every strategy auto takes.
  std::vector<Method> methods;
  for (const kernel::Kernel& k : ks) {
    methods.push_back(
        PreparedFilter(k, {}, PreparedFilter::Use::kFilter).method());
  }
  EXPECT_EQ(methods[0], Method::kDirect);
  EXPECT_EQ(methods[1], Method::kSparse);
  EXPECT_EQ(methods[2], Method::kSeparable);
  EXPECT_EQ(methods[4], Method::kFft);
  // The rank-1 and rank-2 kernels are separable with one and two passes.
  EXPECT_EQ(PreparedFilter(ks[2], {}, PreparedFilter::Use::kFilter).terms(), 1);
  FilterParams separable;
  separable.method = Method::kSeparable;
  const PreparedFilter two(ks[3], separable, PreparedFilter::Use::kFilter);
  EXPECT_EQ(two.method(), Method::kSeparable);
  EXPECT_EQ(two.terms(), 2);
  // The antisymmetric 3x3 fuses under compare; a symmetric one needs one.
  const kernel::Kernel sobel(3, 3, {-1, 0, 1, -2, 0, 2, -1, 0, 1});
  EXPECT_EQ(PreparedFilter(sobel, {}, PreparedFilter::Use::kCompare).plan(),
            PairCorrelator::Plan::kFused);
  const kernel::Kernel box(3, 3, std::vector<double>(9, 1.0));
  EXPECT_EQ(PreparedFilter(box, {}, PreparedFilter::Use::kCompare).plan(),
            PairCorrelator::Plan::kSymmetric);
}

TEST(PreparedFilter, CompareWithTwoAnchorsGivesEachModesOwnResult) {
  // PyTorch's presets: correlate anchored low, convolve high.
  std::mt19937 rng(13);
  const std::vector<Image> inputs = Inputs(rng);
  const kernel::Kernel high(2, 4, {1, -2, 0.5, 3, 1, 4, -1, 2});
  const kernel::Kernel low = high.WithAnchor(1, 0);
  for (bool simd : {true, false}) {
    FilterParams params;
    params.simd = simd;
    const PreparedFilter prepared(low, high, params);
    EXPECT_EQ(prepared.plan(), PairCorrelator::Plan::kTwoPasses);
    EXPECT_FALSE(prepared.ReadsSamples(3));
    for (size_t i = 0; i < inputs.size(); ++i) {
      const std::string what = std::string(simd ? "simd" : "reference") +
                               ", input " + std::to_string(i);
      const FilterPairResult got = prepared.FilterPair(inputs[i]);
      FilterParams corr = params;
      corr.mode = Mode::kCorrelate;
      FilterParams conv = params;
      conv.mode = Mode::kConvolve;
      ExpectSameImage(got.correlate, Filter(inputs[i], low, corr), what);
      ExpectSameImage(got.convolve, Filter(inputs[i], high, conv), what);
    }
  }
  // The same anchor twice is the usual compare preparation: fused.
  EXPECT_EQ(PreparedFilter(high, high, {}).plan(),
            PairCorrelator::Plan::kFused);
  // In valid and full the anchor does not move the window: fused too.
  FilterParams full;
  full.size = OutputSize::kFull;
  EXPECT_EQ(PreparedFilter(low, high, full).plan(),
            PairCorrelator::Plan::kFused);
}

TEST(PreparedFilter, DecidesWhichInputsItReadsAsSamples) {
  const kernel::Kernel k(3, 3, {1, 2, 0, -1, 0, 3, 0, -2, -1});
  const auto reads = [&](FilterParams p, int channels) {
    return PreparedFilter(k, p, PreparedFilter::Use::kFilter)
        .ReadsSamples(channels);
  };
  FilterParams plain;
  EXPECT_TRUE(reads(plain, 1));
  EXPECT_TRUE(reads(plain, 3));
  // Alpha is carried beside the colour channels (or filtered with them).
  EXPECT_TRUE(reads(plain, 2)) << "gray + alpha";
  EXPECT_TRUE(reads(plain, 4)) << "RGBA";
  EXPECT_FALSE(reads(plain, 5));
  FilterParams ref;
  ref.simd = false;
  EXPECT_FALSE(reads(ref, 3)) << "the reference works on planes";
  FilterParams strided;
  strided.stride_x = 2;
  EXPECT_FALSE(reads(strided, 3)) << "--stride subsamples the planes";
  FilterParams wrap;
  wrap.rounding = Rounding::kWrap;
  EXPECT_FALSE(reads(wrap, 1)) << "--compat scipy wraps in Quantize";
  EXPECT_FALSE(
      PreparedFilter(k, plain, PreparedFilter::Use::kCompare).ReadsSamples(3))
      << "compare works on planes";
}

// Three interleaved 8-bit channels at `data`, as a decoder hands them.
template <typename View, typename T>
View Interleaved(T* data, int w, int h) {
  using Pointer = typename decltype(View::base)::value_type;
  View v;
  for (int c = 0; c < 3; ++c) v.base[c] = reinterpret_cast<Pointer>(data) + c;
  v.channels = 3;
  v.width = w;
  v.height = h;
  v.type = Depth::kU8;
  v.row_bytes = w * 3;
  v.step = 3;
  return v;
}

TEST(PreparedFilter, RunOnSamplesEqualsFilterThenQuantize) {
  std::mt19937 rng(9);
  const kernel::Kernel k(3, 3, {1, 2, 0, -1, 0, 3, 0, -2, -1});
  const Image img = RandomImage(37, 23, 3, false, rng);
  // The same samples interleaved as a decoder hands them over.
  std::vector<uint8_t> in(37 * 23 * 3), out(in.size());
  for (int y = 0; y < 23; ++y) {
    for (int x = 0; x < 37; ++x) {
      for (int c = 0; c < 3; ++c) {
        const float v = img.color[c].at(y, x);
        in[(y * 37 + x) * 3 + c] = static_cast<uint8_t>(v);
      }
    }
  }
  Image exact = img;
  for (Plane& p : exact.color) {
    for (float& v : p.data) v = static_cast<float>(static_cast<uint8_t>(v));
  }
  for (Mode mode : {Mode::kCorrelate, Mode::kConvolve}) {
    FilterParams params;
    params.mode = mode;
    params.scale = 0.5;
    params.bias = 100;
    const PreparedFilter f(k, params, PreparedFilter::Use::kFilter);
    ASSERT_TRUE(f.ReadsSamples(3));
    const uint64_t sat = f.Run(Interleaved<ConstImageView>(in.data(), 37, 23),
                               Interleaved<ImageView>(out.data(), 37, 23));
    Image planes = f.Filter(exact);
    const uint64_t want_sat = f.Quantize(planes, Depth::kU8);
    EXPECT_EQ(sat, want_sat);
    for (int y = 0; y < 23; ++y) {
      for (int x = 0; x < 37; ++x) {
        for (int c = 0; c < 3; ++c) {
          ASSERT_EQ(out[(y * 37 + x) * 3 + c], planes.color[c].at(y, x))
              << "mode " << static_cast<int>(mode) << " at " << y << "," << x
              << "," << c;
        }
      }
    }
  }
}

}  // namespace
}  // namespace convcorr::core
