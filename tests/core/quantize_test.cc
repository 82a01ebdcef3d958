// core::Quantize (core/quantize.cc, the row kernel QuantizeRow) on every
// SIMD target, against hand-worked values.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "core/engine_util.h"
#include "core/image.h"
#include "core/view.h"

namespace {

using namespace convcorr::core;  // NOLINT: the engine under test

// core::Quantize on hand-worked values: ties go to even, -0.5 rounds to 0
// unclamped, anything that rounds outside [0, 255] is clamped and counted,
// NaN becomes 0 and counts.
TEST_P(SimdTest, QuantizeOnWorkedValues) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const std::vector<std::pair<float, float>> cases = {
      {0.0f, 0},        {0.5f, 0},      {1.5f, 2},     {2.5f, 2},
      {3.5f, 4},        {-0.5f, 0},     {-0.51f, 0},   {-7.0f, 0},
      {254.5f, 254},    {255.49f, 255}, {255.5f, 255}, {300.0f, 255},
      {1e30f, 255},     {inf, 255},     {-inf, 0},     {nan, 0},
      {127.5f, 128},    {100.2f, 100},  {99.7f, 100},  {0.49999997f, 0},
      {254.49998f, 254}};
  // Clamped: -0.51, -7, 255.5, 300, 1e30, inf, -inf, nan.
  for (int repeat : {1, 3, 7}) {  // vectors and tails of every width
    Image img;
    img.width = static_cast<int>(cases.size()) * repeat;
    img.height = 1;
    img.color.emplace_back(img.width, 1);
    for (int r = 0; r < repeat; ++r) {
      for (size_t i = 0; i < cases.size(); ++i) {
        img.color[0].data[r * cases.size() + i] = cases[i].first;
      }
    }
    EXPECT_EQ(Quantize(img, Depth::kU8), 8u * repeat);
    for (int r = 0; r < repeat; ++r) {
      for (size_t i = 0; i < cases.size(); ++i) {
        EXPECT_EQ(img.color[0].data[r * cases.size() + i], cases[i].second)
            << "value " << cases[i].first;
      }
    }
  }
}

// QuantizeInterleave: each plane's samples as QuantizeSaturate makes
// them, stored as the target type and interleaved, with the same count of
// clamped samples, for 1 to 4 channels, every depth and widths that end
// in partial vectors.
TEST_P(SimdTest, QuantizeInterleaveIsQuantizeSaturateInterleaved) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::byte> scratch;
  for (const Depth depth : {Depth::kU8, Depth::kU16, Depth::kF32}) {
    for (int channels = 1; channels <= 4; ++channels) {
      for (const size_t n : {size_t{1}, size_t{5}, size_t{64}, size_t{131}}) {
        std::vector<std::vector<float>> planes(channels);
        std::vector<const float*> rows;
        for (int c = 0; c < channels; ++c) {
          for (size_t x = 0; x < n; ++x) {
            // Below 0, ties, inside, past 255 and 65535, and a NaN.
            const float v =
                (x * 37 + c * 101) % 7 == 3
                    ? nan
                    : static_cast<float>(x * 977 + c * 313) * 1.25f - 900.5f;
            planes[c].push_back(v);
          }
          rows.push_back(planes[c].data());
        }
        const size_t sample = SampleBytes(depth);
        std::vector<std::byte> got(n * channels * sample);
        const uint64_t clamped = QuantizeInterleave(rows.data(), channels, n,
                                                    depth, got.data(), scratch);
        uint64_t want_clamped = 0;
        std::vector<std::byte> want(n * channels * sample);
        for (int c = 0; c < channels; ++c) {
          std::vector<float> q = planes[c];
          want_clamped += QuantizeSaturate(q.data(), n, depth);
          for (size_t x = 0; x < n; ++x) {
            std::byte* to = want.data() + (x * channels + c) * sample;
            if (depth == Depth::kU8) {
              const auto v = static_cast<uint8_t>(q[x]);
              std::memcpy(to, &v, 1);
            } else if (depth == Depth::kU16) {
              const auto v = static_cast<uint16_t>(q[x]);
              std::memcpy(to, &v, 2);
            } else {
              std::memcpy(to, &q[x], 4);
            }
          }
        }
        EXPECT_EQ(clamped, want_clamped)
            << "depth " << static_cast<int>(depth) << " channels " << channels
            << " n " << n;
        EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size()), 0)
            << "depth " << static_cast<int>(depth) << " channels " << channels
            << " n " << n;
      }
    }
  }
}

}  // namespace
