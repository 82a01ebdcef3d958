// core::Quantize (core/quantize.cc, the row kernel QuantizeRow) on every
// SIMD target, against hand-worked values.
#include <gtest/gtest.h>

#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "core/engine_util.h"
#include "core/image.h"

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

}  // namespace
