// Row streaming (core/stream.cc, the strip walk of core/strategies.h) on
// every SIMD target: frames filtered in strips give the same samples as
// frames filtered whole.
#include "core/stream.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

#include "core/engine_util.h"
#include "core/filter.h"
#include "core/oracle.h"

namespace {

using convcorr::kernel::Kernel;
using namespace convcorr::core;  // NOLINT: the engine under test
using convcorr::testing::RandomKernel;
using convcorr::testing::SparseKernel;
using convcorr::testing::SumOfOuterProducts;
using convcorr::testing::TypedImage;

// Frames whose ring would not fit the cache budget are filtered in strips
// of at least 64 output columns: the samples must not change, for every
// row-streaming strategy, layout, border and size, with a last strip of
// any width.
TEST_P(SimdTest, StripsGiveTheSameSamples) {
  std::mt19937 rng(80);
  const Kernel dense = RandomKernel(5, 7, rng).WithAnchor(1, 3);
  const Kernel sparse = SparseKernel(4, 9, rng).WithAnchor(6, 0);
  const Kernel rank2 = SumOfOuterProducts(5, 6, 2, rng).WithAnchor(2, 4);
  // A Gaussian's symmetric passes (SymRow, SymColumn).
  std::vector<double> g;
  for (int i = -2; i <= 2; ++i) {
    for (int j = -3; j <= 3; ++j) g.push_back(std::exp(-(i * i + j * j) / 4.0));
  }
  const Kernel gauss(5, 7, g);
  const std::pair<const Kernel*, Method> cases[] = {
      {&dense, Method::kDirect},
      {&sparse, Method::kSparse},
      {&rank2, Method::kSeparable},
      {&gauss, Method::kSeparable}};
  int compared = 0;
  for (int w : {65, 130, 200, 257}) {
    const int h = 9 + static_cast<int>(rng() % 7);
    for (bool inter : {false, true}) {
      TypedImage in(Depth::kU8, inter, w, h);
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < h; ++y) {
          for (int x = 0; x < w; ++x) in.Set(c, y, x, float(rng() % 256));
        }
      }
      for (const auto& [k, method] : cases) {
        for (OutputSize size :
             {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
          const Extent e = OutputExtent(w, h, *k, size);
          TypedImage whole(Depth::kF32, inter, e.width, e.height);
          TypedImage strips(Depth::kF32, inter, e.width, e.height);
          EngineOptions opt;
          opt.border = {static_cast<BorderMode>(rng() % 5), 7.0f};
          opt.size = size;
          opt.threads = 1 + static_cast<int>(rng() % 2);
          const Correlator corr(*k, method);
          corr.Run(in.ConstView(), whole.View(), opt);
          opt.ring_bytes = 1;  // strips of 64 columns
          corr.Run(in.ConstView(), strips.View(), opt);
          EXPECT_EQ(strips.buffers, whole.buffers)
              << MethodName(method) << " width " << w << " size "
              << static_cast<int>(size) << " interleaved " << inter;
          ++compared;
        }
      }
    }
  }
  EXPECT_EQ(compared, 4 * 2 * 4 * 3);
}

// Every row of a ring starts on a 64-byte boundary, whatever the width
// asked for and wherever the allocator put the buffer: no vector of the
// row kernels straddles two cache lines.
TEST(Rows, EveryRowStartsOnA64ByteBoundary) {
  using convcorr::core::detail::Rows;
  for (int channels : {1, 3}) {
    for (int rows : {1, 4, 10}) {
      for (int width : {1, 3, 17, 100, 11520, 11523}) {
        Rows r(channels, rows, width);
        for (int c = 0; c < channels; ++c) {
          for (int i = 0; i < rows; ++i) {
            EXPECT_EQ(reinterpret_cast<uintptr_t>(r.at(c, i)) % 64, 0u)
                << channels << " channels, " << rows << " rows of " << width;
            EXPECT_GE(r.stride, static_cast<size_t>(width) +
                                    convcorr::core::detail::kSlack);
          }
        }
        EXPECT_LE(r.at(channels - 1, rows - 1) + r.stride,
                  r.data.data() + r.data.size());
      }
    }
  }
}

}  // namespace
