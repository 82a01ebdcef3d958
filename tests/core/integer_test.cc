// The integer lanes (core/integer.cc) on every SIMD target: which kernels
// fit them, and 8-bit interleaved inputs of 1 to 4 channels through direct
// and sparse equal, sample for sample and in the saturated count, both the
// float engine (the same view made planar, which the integer lanes do not
// take) and the exact sums of the defining formula (oracle.h's
// BruteCorrelate), over kernel shapes and anchors, every border (constant
// values inside and outside the lanes' reach), output sizes, widths that
// end on and off whole vectors, thread counts, bands of rows, |.|, scale
// and bias, and 8-bit, 16-bit and float outputs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/engine_util.h"
#include "core/filter.h"
#include "core/oracle.h"
#include "core/prepared.h"

namespace {

using convcorr::kernel::Kernel;
using namespace convcorr::core;  // NOLINT: the engine under test
using convcorr::core::detail::IntegerLanesFit;
using convcorr::testing::BruteCorrelate;

TEST(IntegerLanesFit, ExactlyTheKernelsWhoseSumsFitInt16) {
  EXPECT_TRUE(IntegerLanesFit(Kernel(3, 3, {-1, 0, 1, -2, 0, 2, -1, 0, 1})));
  EXPECT_TRUE(IntegerLanesFit(Kernel(3, 3, {0, -1, 0, -1, 5, -1, 0, -1, 0})));
  // 255 * 128 = 32640 fits; 255 * 129 = 32895 does not, on either side.
  EXPECT_TRUE(IntegerLanesFit(Kernel(1, 2, {128, -128})));
  EXPECT_FALSE(IntegerLanesFit(Kernel(1, 2, {129, -1})));
  EXPECT_FALSE(IntegerLanesFit(Kernel(1, 2, {1, -129})));
  EXPECT_FALSE(IntegerLanesFit(Kernel(1, 3, {64, 65, -1})));
  // Any fraction, and anything not finite, takes the float lanes.
  EXPECT_FALSE(IntegerLanesFit(Kernel(1, 2, {1.5, 1})));
  EXPECT_FALSE(IntegerLanesFit(Kernel(1, 1, {1e-9})));
  EXPECT_FALSE(IntegerLanesFit(Kernel(1, 1, {std::nan("")})));
  EXPECT_FALSE(IntegerLanesFit(Kernel(1, 1, {INFINITY})));
  // The mean of a 3x3 box is not integer; the box itself is.
  EXPECT_FALSE(IntegerLanesFit(Kernel(3, 3, std::vector<double>(9, 1.0 / 9))));
  EXPECT_TRUE(IntegerLanesFit(Kernel(3, 3, std::vector<double>(9, 1.0))));
}

// A random integer kernel whose positive and negative weights each sum to
// at most `budget` (so it fits for budget <= 128), with some zeros.
Kernel IntegerKernel(int kh, int kw, int budget, std::mt19937& rng) {
  std::vector<double> w(static_cast<size_t>(kh) * kw, 0.0);
  int positive = 0, negative = 0;
  for (double& v : w) {
    if (rng() % 3 == 0) continue;
    const int magnitude =
        1 + static_cast<int>(rng() % 4 == 0 ? rng() % 40 : rng() % 3);
    if (rng() % 2 == 0 && positive + magnitude <= budget) {
      v = magnitude;
      positive += magnitude;
    } else if (negative + magnitude <= budget) {
      v = -magnitude;
      negative += magnitude;
    }
  }
  return Kernel(kh, kw, std::move(w));
}

// An interleaved 8-bit image of `channels` channels, its view, and the
// same samples as a planar 8-bit view (which the integer lanes leave to
// the float engine).
struct U8Image {
  int w, h, channels;
  std::vector<uint8_t> packed, planar;
  U8Image(int w_, int h_, int c, std::mt19937& rng)
      : w(w_),
        h(h_),
        channels(c),
        packed(size_t(w_) * h_ * c),
        planar(packed.size()) {
    // Mostly extremes, so that sums reach the kernel's bound, and some
    // noise.
    for (uint8_t& v : packed) {
      const uint32_t r = rng() % 4;
      v = r == 0 ? 0 : r == 1 ? 255 : static_cast<uint8_t>(rng() % 256);
    }
    for (size_t i = 0; i < packed.size(); ++i) {
      planar[(i % c) * size_t(w) * h + i / c] = packed[i];
    }
  }
  ConstImageView Packed() const {
    ConstImageView v;
    v.channels = channels;
    v.width = w;
    v.height = h;
    v.type = Depth::kU8;
    v.row_bytes = static_cast<std::ptrdiff_t>(w) * channels;
    v.step = channels;
    for (int c = 0; c < channels; ++c) {
      v.base[c] = reinterpret_cast<const std::byte*>(packed.data() + c);
    }
    return v;
  }
  ConstImageView Planar() const {
    ConstImageView v = Packed();
    v.row_bytes = w;
    v.step = 1;
    for (int c = 0; c < channels; ++c) {
      v.base[c] =
          reinterpret_cast<const std::byte*>(planar.data() + size_t(c) * w * h);
    }
    return v;
  }
  Plane Channel(int c) const {
    Plane p(w, h);
    for (size_t i = 0; i < p.data.size(); ++i) {
      p.data[i] = planar[size_t(c) * w * h + i];
    }
    return p;
  }
};

// An interleaved output of `type`.
struct Output {
  Depth type;
  int w, h, channels;
  std::vector<std::byte> bytes;
  Output(Depth t, int w_, int h_, int c)
      : type(t),
        w(w_),
        h(h_),
        channels(c),
        bytes(size_t(w_) * h_ * c * SampleBytes(t)) {}
  ImageView View() {
    ImageView v;
    v.channels = channels;
    v.width = w;
    v.height = h;
    v.type = type;
    v.row_bytes = static_cast<std::ptrdiff_t>(w) * channels * SampleBytes(type);
    v.step = channels;
    for (int c = 0; c < channels; ++c) {
      v.base[c] = bytes.data() + c * SampleBytes(type);
    }
    return v;
  }
  float Get(int c, int y, int x) const {
    return SampleAt(
        bytes.data() + ((size_t(y) * w + x) * channels + c) * SampleBytes(type),
        type);
  }
};

TEST_P(SimdTest, IntegerLanesEqualTheFloatEngineAndTheExactSums) {
  std::mt19937 rng(1616);
  const BorderMode modes[] = {BorderMode::kReflect101, BorderMode::kReflect,
                              BorderMode::kReplicate, BorderMode::kConstant,
                              BorderMode::kWrap};
  const OutputSize sizes[] = {OutputSize::kSame, OutputSize::kValid,
                              OutputSize::kFull};
  int cases = 0;
  for (int trial = 0; trial < 120; ++trial) {
    const int kh = 1 + static_cast<int>(rng() % 7);
    const int kw = 1 + static_cast<int>(rng() % 9);
    Kernel k = IntegerKernel(kh, kw, trial % 5 == 0 ? 128 : 12, rng);
    k = k.WithAnchor(static_cast<int>(rng() % kw),
                     static_cast<int>(rng() % kh));
    ASSERT_TRUE(IntegerLanesFit(k));
    const int channels = 1 + static_cast<int>(rng() % 4);
    // Widths around whole vectors of 16 and 32 lanes and the 4-vector
    // blocks, and narrower than the kernel.
    const int widths[] = {1, 5, 31, 32, 33, 67, 129, 200};
    const int w = widths[rng() % 8];
    const int h = 1 + static_cast<int>(rng() % 19);
    const U8Image in(w, h, channels, rng);
    EngineOptions opt;
    opt.border.mode = modes[rng() % 5];
    // Constant borders of 0, 255 and 7 run in the lanes; 7.5 and 300 do
    // not, and must come out the same all the same.
    const float values[] = {0.0f, 255.0f, 7.0f, 7.5f, 300.0f};
    opt.border.value = values[rng() % 5];
    opt.size = sizes[rng() % 3];
    opt.threads = 1 + static_cast<int>(rng() % 3);
    opt.abs = rng() % 3 == 0;
    if (rng() % 4 == 0) {
      opt.scale = 0.25f;
      opt.bias = rng() % 2 == 0 ? 0.0f : 64.5f;
    }
    const Depth out_types[] = {Depth::kU8, Depth::kU8, Depth::kU16,
                               Depth::kF32};
    const Depth out_type = out_types[rng() % 4];
    const Method method = rng() % 2 == 0 ? Method::kDirect : Method::kSparse;
    const Extent e = OutputExtent(w, h, k, opt.size);
    if (e.width == 0 || e.height == 0) continue;
    const std::string what =
        std::string(MethodName(method)) + " trial " + std::to_string(trial) +
        " kernel " + std::to_string(kh) + "x" + std::to_string(kw) +
        " channels " + std::to_string(channels) + " w " + std::to_string(w) +
        " h " + std::to_string(h) + " out " +
        std::to_string(static_cast<int>(out_type));
    SCOPED_TRACE(what);
    const Correlator correlator(k, method);
    Output lanes(out_type, e.width, e.height, channels);
    Output floats(out_type, e.width, e.height, channels);
    const uint64_t sat_lanes = correlator.Run(in.Packed(), lanes.View(), opt);
    const uint64_t sat_floats = correlator.Run(in.Planar(), floats.View(), opt);
    ASSERT_EQ(lanes.bytes, floats.bytes);
    EXPECT_EQ(sat_lanes, sat_floats);
    // In two bands of rows, as the streaming pipeline runs it.
    if (e.height > 1) {
      Output banded(out_type, e.width, e.height, channels);
      EngineOptions band = opt;
      band.row_end = e.height / 2;
      uint64_t sat = correlator.Run(in.Packed(), banded.View(), band);
      band.row_begin = band.row_end;
      band.row_end = -1;
      sat += correlator.Run(in.Packed(), banded.View(), band);
      ASSERT_EQ(banded.bytes, lanes.bytes);
      EXPECT_EQ(sat, sat_lanes);
    }
    // The exact sums, stored without scale and bias.
    if (opt.scale == 1.0f && opt.bias == 0.0f) {
      const Origin o = OutputOrigin(k, opt.size);
      for (int c = 0; c < channels; ++c) {
        const std::vector<double> exact =
            BruteCorrelate(in.Channel(c), k, opt.border.mode, opt.border.value,
                           e.width, e.height, o.x, o.y);
        for (int y = 0; y < e.height; ++y) {
          for (int x = 0; x < e.width; ++x) {
            double v = exact[size_t(y) * e.width + x];
            if (opt.abs) v = std::fabs(v);
            if (out_type != Depth::kF32) {
              v = std::clamp(std::nearbyint(v), 0.0,
                             static_cast<double>(DepthMax(out_type)));
            }
            ASSERT_EQ(lanes.Get(c, y, x), v)
                << "c " << c << " x " << x << " y " << y;
          }
        }
      }
    }
    ++cases;
  }
  EXPECT_GT(cases, 100);
}

// compare in the integer lanes: both results, the difference and both
// saturated counts equal the float plans' (the same views made planar),
// for antisymmetric kernels (the float plan's mirror pairs), kernels with
// both halves (its shared ring) and symmetric kernels (one correlation
// stored to both outputs, the difference zero), with and without a
// difference output, in bands of rows.
TEST_P(SimdTest, IntegerLanesCompareEqualsTheFloatPlans) {
  std::mt19937 rng(1717);
  int cases = 0;
  int plans[2] = {0, 0};  // fused, symmetric
  for (int trial = 0; trial < 60; ++trial) {
    const int kh = 1 + static_cast<int>(rng() % 5);
    const int kw = 1 + static_cast<int>(rng() % 6);
    Kernel k = IntegerKernel(kh, kw, 12, rng);
    if (trial % 3 != 2) {
      // Antisymmetric (K - rot180 K) or symmetric (K + rot180 K: one
      // correlation stored to both outputs).
      const Kernel r = convcorr::kernel::Rotate180(k);
      const double sign = trial % 3 == 0 ? -1.0 : 1.0;
      std::vector<double> w(k.weights().size());
      for (size_t i = 0; i < w.size(); ++i) {
        w[i] = k.weights()[i] + sign * r.weights()[i];
      }
      k = Kernel(kh, kw, std::move(w));
    }
    if (trial % 3 != 1) {
      k = k.WithAnchor(static_cast<int>(rng() % kw),
                       static_cast<int>(rng() % kh));
    }
    if (!IntegerLanesFit(k)) continue;
    const int channels = 1 + static_cast<int>(rng() % 4);
    const int widths[] = {3, 32, 33, 97, 150};
    const int w = widths[rng() % 5];
    const int h = 2 + static_cast<int>(rng() % 12);
    const U8Image in(w, h, channels, rng);
    const OutputSize sizes[] = {OutputSize::kSame, OutputSize::kValid,
                                OutputSize::kFull};
    const OutputSize size = sizes[rng() % 3];
    const Method method = rng() % 2 == 0 ? Method::kDirect : Method::kSparse;
    const PairCorrelator pair(k, method, size);
    if (pair.plan() == PairCorrelator::Plan::kTwoPasses) continue;
    ++plans[pair.plan() == PairCorrelator::Plan::kFused ? 0 : 1];
    EngineOptions opt;
    opt.border = {
        rng() % 2 == 0 ? BorderMode::kReflect101 : BorderMode::kConstant,
        rng() % 2 == 0 ? 0.0f : 200.0f};
    opt.size = size;
    opt.threads = 1 + static_cast<int>(rng() % 2);
    opt.abs = rng() % 4 == 0;
    const Extent e = OutputExtent(w, h, k, size);
    if (e.width == 0 || e.height == 0) continue;
    SCOPED_TRACE("trial " + std::to_string(trial) + " channels " +
                 std::to_string(channels) + " w " + std::to_string(w));
    const bool with_diff = rng() % 4 != 0;
    const auto run = [&](const ConstImageView& view, int bands) {
      struct Result {
        Output corr, conv, diff;
        PairCorrelator::Saturated sat;
      } r{Output(Depth::kU8, e.width, e.height, channels),
          Output(Depth::kU8, e.width, e.height, channels),
          Output(Depth::kU8, e.width, e.height, channels),
          {}};
      const ImageView diff_view = r.diff.View();
      for (int b = 0; b < bands; ++b) {
        EngineOptions band = opt;
        band.row_begin = e.height * b / bands;
        band.row_end = b + 1 == bands ? -1 : e.height * (b + 1) / bands;
        const PairCorrelator::Saturated s =
            pair.Run(view, r.corr.View(), r.conv.View(), band,
                     with_diff ? &diff_view : nullptr);
        r.sat.correlate += s.correlate;
        r.sat.convolve += s.convolve;
      }
      return r;
    };
    const auto lanes = run(in.Packed(), 1);
    const auto floats = run(in.Planar(), 1);
    const auto banded = run(in.Packed(), 2);
    ASSERT_EQ(lanes.corr.bytes, floats.corr.bytes);
    ASSERT_EQ(lanes.conv.bytes, floats.conv.bytes);
    ASSERT_EQ(lanes.diff.bytes, floats.diff.bytes);
    EXPECT_EQ(lanes.sat.correlate, floats.sat.correlate);
    EXPECT_EQ(lanes.sat.convolve, floats.sat.convolve);
    ASSERT_EQ(banded.corr.bytes, lanes.corr.bytes);
    ASSERT_EQ(banded.conv.bytes, lanes.conv.bytes);
    ASSERT_EQ(banded.diff.bytes, lanes.diff.bytes);
    // And the standalone correlate of K and of rot180 K (the float engine).
    Output corr(Depth::kU8, e.width, e.height, channels);
    Output conv(Depth::kU8, e.width, e.height, channels);
    Correlator(k, method).Run(in.Planar(), corr.View(), opt);
    Correlator(convcorr::kernel::Rotate180(k), method)
        .Run(in.Planar(), conv.View(), opt);
    ASSERT_EQ(lanes.corr.bytes, corr.bytes);
    ASSERT_EQ(lanes.conv.bytes, conv.bytes);
    ++cases;
  }
  EXPECT_GT(cases, 30);
  EXPECT_GT(plans[0], 10);
  EXPECT_GT(plans[1], 2);
}

// An 8-bit output of 32 MiB and more goes out through a row in L1 and
// non-temporal stores (Job::stream): the same bytes and saturated count as
// the float engine's.
TEST_P(SimdTest, IntegerLanesStreamLargeOutputs) {
  std::mt19937 rng(1818);
  const int w = 4100, h = 2800;  // 34.4 MB of 8-bit RGB
  const U8Image in(w, h, 3, rng);
  const Kernel k(3, 3, {-1, 0, 1, -2, 0, 2, -1, 0, 1});
  for (const bool abs : {false, true}) {
    EngineOptions opt;
    opt.abs = abs;
    opt.threads = 2;
    const Correlator correlator(k, Method::kSparse);
    Output lanes(Depth::kU8, w, h, 3);
    Output floats(Depth::kU8, w, h, 3);
    const uint64_t sat_lanes = correlator.Run(in.Packed(), lanes.View(), opt);
    const uint64_t sat_floats = correlator.Run(in.Planar(), floats.View(), opt);
    EXPECT_TRUE(lanes.bytes == floats.bytes) << "abs " << abs;
    EXPECT_EQ(sat_lanes, sat_floats);
    EXPECT_GT(sat_lanes, 0u);
  }
}

}  // namespace
