// The direct and sparse strategies (core/direct.cc) against the reference
// on every SIMD target, over widths that exercise the 4-vector blocks and
// the single vectors of every vector length, with all borders, sizes,
// anchors, kernel shapes and thread counts (CheckMethodAgainstReference);
// and interleaved float inputs read in place by every row strategy.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "core/cost_model.h"
#include "core/engine.h"
#include "core/engine_util.h"
#include "core/filter.h"
#include "core/geometry.h"
#include "core/oracle.h"
#include "core/prepared.h"
#include "core/reference.h"
#include "kernel/spec.h"

namespace {

using convcorr::core::BorderMode;
using convcorr::core::CorrelateReference;
using convcorr::core::Correlator;
using convcorr::core::Depth;
using convcorr::core::EngineOptions;
using convcorr::core::Extent;
using convcorr::core::Method;
using convcorr::core::MethodName;
using convcorr::core::OutputExtent;
using convcorr::core::OutputSize;
using convcorr::core::Plane;
using convcorr::kernel::Kernel;
using convcorr::testing::Agrees;
using convcorr::testing::Bound;
using convcorr::testing::CheckMethodAgainstReference;
using convcorr::testing::L1;
using convcorr::testing::OuterProduct;
using convcorr::testing::SparseKernel;
using convcorr::testing::TypedImage;

TEST_P(SimdTest, DirectAgreesWithReference) {
  CheckMethodAgainstReference(Method::kDirect, 2026);
}

TEST_P(SimdTest, SparseAgreesWithReference) {
  CheckMethodAgainstReference(Method::kSparse, 31);
}

// The sparse strategy runs four output rows at a time (TapRows4 leaving
// the zero weights out) when their kernel rows share loads, else one
// (TapRow): either way every sample is the same sum in the same order, bit
// for bit, and a zero weight adds nothing even where the sample it would
// multiply is infinite or NaN (0 * inf would be NaN). Named and random
// kernels, one and three samples a pixel, widths ending in every part of
// a block.
TEST_P(SimdTest, SparseFourRowsSumAsOneRowAtATime) {
  using convcorr::core::detail::Prepare;
  using convcorr::core::detail::Taps;
  std::mt19937 rng(4);
  std::vector<Kernel> kernels;
  for (const char* spec : {"sobel-x", "sobel-y", "laplacian", "emboss"}) {
    kernels.push_back(convcorr::kernel::ParseSpec(spec));
  }
  for (int i = 0; i < 4; ++i) kernels.push_back(SparseKernel(5, 5, rng));
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  int four = 0;
  for (const Kernel& k : kernels) {
    const auto prepared = Prepare(k, Method::kSparse);
    for (const int lanes : {1, 3}) {
      const Taps taps(*prepared, lanes);
      if (taps.rows4.empty()) continue;
      ++four;
      for (const size_t width : {1, 15, 16, 17, 63, 64, 65, 200}) {
        const size_t row_floats =
            width + 64 + static_cast<size_t>(k.cols()) * lanes;
        const int nrows = k.rows() + 3;
        std::vector<std::vector<float>> data(nrows);
        std::vector<const float*> rows;
        std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
        for (auto& r : data) {
          r.resize(row_floats);
          for (float& v : r) v = dist(rng);
          r[rng() % row_floats] = inf;
          r[rng() % row_floats] = -inf;
          r[rng() % row_floats] = nan;
          rows.push_back(r.data());
        }
        std::vector<std::vector<float>> four_rows(
            4, std::vector<float>(width + 64));
        float* outs[4];
        for (int q = 0; q < 4; ++q) outs[q] = four_rows[q].data();
        convcorr::core::detail::TapRows4(rows.data(), taps.rows4.data(),
                                         taps.rows4.size(), width, outs);
        for (int q = 0; q < 4; ++q) {
          std::vector<float> one(width + 64);
          convcorr::core::detail::TapRow(rows.data() + q, taps.groups.data(),
                                         taps.groups.size(), width, one.data());
          for (size_t x = 0; x < width; ++x) {
            // Bit for bit (the sign of a zero included); a NaN's sign and
            // payload are not (the compiler may swap an addition's
            // operands, and x86 keeps the first one's NaN).
            const bool same = std::isnan(one[x])
                                  ? std::isnan(four_rows[q][x])
                                  : std::memcmp(&one[x], &four_rows[q][x],
                                                sizeof(float)) == 0;
            ASSERT_TRUE(same)
                << "kernel " << k.rows() << "x" << k.cols() << " lanes "
                << lanes << " width " << width << " row " << q << " x " << x
                << ": " << one[x] << " one row at a time, " << four_rows[q][x]
                << " four";
          }
        }
      }
    }
  }
  EXPECT_GE(four, 8) << "too few kernels ran four rows at a time";
}

// Which sparse kernels run four rows at a time: those whose rows share a
// column's loads (sobel-x: 12 loads for four rows of 6 taps, against 24
// one row at a time; motion:31,30's antialiased line, 138 against 4 x 57),
// not a single tap nor a single row.
TEST(SparseFourRows, WhereRowsShareLoads) {
  using convcorr::core::detail::Prepare;
  using convcorr::core::detail::Taps;
  const auto loads_of = [](const char* spec) {
    const auto p = Prepare(convcorr::kernel::ParseSpec(spec), Method::kSparse);
    size_t loads = 0;
    for (const auto& run : Taps(*p, 3).rows4) loads += run.count;
    return loads;
  };
  EXPECT_EQ(loads_of("sobel-x"), 12u);
  EXPECT_EQ(loads_of("laplacian"), 14u);
  EXPECT_EQ(loads_of("motion:31,30"), 138u);
  EXPECT_EQ(loads_of("shift:5,3"), 0u);
  EXPECT_EQ(loads_of("5x1:1,0,-2,0,1"), 0u);
}

// Interleaved float inputs are read where they lie (InPlaceColumns): every
// method that reads them so, against the reference channel by channel,
// over widths on both sides of the columns that can be read in place
// (they end kw - 1 + 16 samples before the row), every border (the
// constant one supplies whole rows outside the image), anchors, sizes,
// strips and thread counts.
TEST_P(SimdTest, InterleavedFloatRowsReadInPlaceAgreeWithReference) {
  std::mt19937 rng(77);
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kReflect,
                                BorderMode::kReplicate, BorderMode::kConstant,
                                BorderMode::kWrap};
  int cases = 0;
  for (const Method method :
       {Method::kDirect, Method::kSparse, Method::kSeparable}) {
    for (const int w : {1, 4, 9, 10, 11, 12, 13, 24, 41, 150}) {
      for (const auto& [kh, kw] : {std::pair{1, 1}, {3, 3}, {2, 5}, {7, 7}}) {
        const int h = 1 + static_cast<int>(rng() % 7);
        const Kernel k =
            (method == Method::kSeparable ? OuterProduct(kh, kw, rng)
                                          : SparseKernel(kh, kw, rng))
                .WithAnchor(static_cast<int>(rng() % kw),
                            static_cast<int>(rng() % kh));
        // The separable passes round kw and then kh times, and the float
        // factors add two roundings (as in separable_test.cc).
        const double bound =
            method == Method::kSeparable
                ? (kh + kw + 3) * std::ldexp(1.0, -24) * L1(k) * 300.0
                : Bound(k, 300.0);
        TypedImage in(Depth::kF32, true, w, h);
        std::vector<Plane> planes(3, Plane(w, h));
        for (int c = 0; c < 3; ++c) {
          for (int y = 0; y < h; ++y) {
            for (int x = 0; x < w; ++x) {
              const float v = static_cast<float>(rng() % 601) - 300.0f;
              in.Set(c, y, x, v);
              planes[c].at(y, x) = v;
            }
          }
        }
        for (const OutputSize size :
             {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
          const Extent e = OutputExtent(w, h, k, size);
          if (e.width == 0 || e.height == 0) continue;
          EngineOptions options;
          options.border = {borders[rng() % 5], 4.5f};
          options.size = size;
          options.threads = 1 + static_cast<int>(rng() % 2);
          // Tiny rings cut the columns read in place into several strips.
          options.ring_bytes = rng() % 2 ? 1 : 0;
          TypedImage out(Depth::kF32, true, e.width, e.height);
          Correlator(k, method).Run(in.ConstView(), out.View(), options);
          for (int c = 0; c < 3; ++c) {
            const Plane ref =
                CorrelateReference(planes[c], k, options.border, size, 1);
            Plane got(e.width, e.height);
            for (int y = 0; y < e.height; ++y) {
              for (int x = 0; x < e.width; ++x) got.at(y, x) = out.Get(c, y, x);
            }
            EXPECT_TRUE(Agrees(got, ref, bound))
                << MethodName(method) << " width " << w << " height " << h
                << " kernel " << kh << "x" << kw << " size "
                << static_cast<int>(size) << " border "
                << static_cast<int>(options.border.mode) << " channel " << c;
          }
          ++cases;
        }
      }
    }
  }
  EXPECT_GT(cases, 200);
}

// Float sums that are the output as they are go from the row kernels
// straight to the output rows (SumsAreOutput), and an output of 32 MiB
// and more takes them through non-temporal stores on the rows aligned for
// them: the same samples as the store through Emit, which a scale of 2
// (exact in float) takes. The rows of 2047 RGB floats are 24,564 bytes, so
// their alignment changes from row to row.
TEST_P(SimdTest, FloatSumsStoredStraightToLargeOutputs) {
  std::mt19937 rng(2047);
  const int w = 2047, h = 1402;  // 34.4 MB of float RGB
  TypedImage in(Depth::kF32, true, w, h);
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        in.Set(c, y, x, static_cast<float>(rng() % 601) - 300.0f);
      }
    }
  }
  for (const Method method :
       {Method::kDirect, Method::kSparse, Method::kSeparable}) {
    const Kernel k = method == Method::kSeparable ? OuterProduct(7, 7, rng)
                                                  : SparseKernel(3, 3, rng);
    EngineOptions straight;
    straight.threads = 2;
    EngineOptions doubled = straight;
    doubled.scale = 2.0f;
    TypedImage a(Depth::kF32, true, w, h);
    TypedImage b(Depth::kF32, true, w, h);
    const Correlator correlator(k, method);
    correlator.Run(in.ConstView(), a.View(), straight);
    correlator.Run(in.ConstView(), b.View(), doubled);
    int differ = 0;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < 3; ++c)
          differ += 2.0f * a.Get(c, y, x) != b.Get(c, y, x);
      }
    }
    EXPECT_EQ(differ, 0) << MethodName(method);
  }
}

}  // namespace
