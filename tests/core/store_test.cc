// The store (core/store.cc, the row kernel EmitRow) on every SIMD target:
// the same arithmetic for every sample of a row, and rounding and
// saturation equal to core::Quantize.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <vector>

#include "core/engine_util.h"
#include "core/filter.h"

namespace {

using convcorr::kernel::Kernel;
using namespace convcorr::core;  // NOLINT: the engine under test
using convcorr::testing::TypedImage;

// The store gives every sample of a row the same arithmetic, whether it
// falls in a whole vector or in the row's last partial one: a constant row
// stays constant for every width, with scale and bias where a separate
// multiply and add would round differently from a fused one.
TEST_P(SimdTest, StoreIsTheSameForEveryPositionInARow) {
  const Kernel identity(1, 1, {1.0});
  EngineOptions opt;
  opt.scale = 3.0f;
  opt.bias = -2.0f;
  for (int w = 1; w <= 40; ++w) {
    Plane in(w, 1, 0.83333337f);
    Plane f(w, 1);
    Correlator(identity, Method::kDirect)
        .Run(ViewOf(std::vector<const Plane*>{&in}),
             ViewOf(std::vector<Plane*>{&f}), opt);
    TypedImage u8(Depth::kU8, false, w, 1);
    ImageView view = u8.View();
    view.channels = 1;
    Correlator(identity, Method::kDirect)
        .Run(ViewOf(std::vector<const Plane*>{&in}), view, opt);
    for (int x = 1; x < w; ++x) {
      ASSERT_EQ(f.at(0, x), f.at(0, 0)) << "width " << w << " x " << x;
      ASSERT_EQ(u8.Get(0, 0, x), u8.Get(0, 0, 0))
          << "width " << w << " x " << x;
    }
  }
}

// The fused store on the values where rounding and saturation are subtle:
// ties, the edges of the range, infinities, NaN and values too large for
// an int32, into 8 and 16 bits, equal to core::Quantize sample for sample.
TEST_P(SimdTest, StoreRoundsAndSaturatesLikeQuantize) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> values = {0.0f,     -0.0f,  0.5f,   1.5f,     2.5f,
                               -0.5f,    -0.51f, -1.0f,  254.5f,   255.0f,
                               255.49f,  255.5f, 256.0f, 65534.5f, 65535.0f,
                               65535.5f, 1e9f,   -1e9f,  3e38f,    -3e38f,
                               inf,      -inf,   nan,    127.5f,   128.5f};
  // Enough samples for whole vectors and a tail on every target.
  while (values.size() < 77)
    values.push_back(values[values.size() % 25] + 0.25f);
  Plane in(static_cast<int>(values.size()), 1);
  in.data = values;
  const Kernel identity(1, 1, {1.0});
  for (Depth type : {Depth::kU8, Depth::kU16}) {
    TypedImage out(type, false, in.width, 1);
    ImageView view = out.View();
    view.channels = 1;
    const uint64_t saturated =
        Correlator(identity, Method::kDirect)
            .Run(ViewOf(std::vector<const Plane*>{&in}), view, EngineOptions{});
    Image ref;
    ref.width = in.width;
    ref.height = 1;
    ref.color.push_back(in);
    const uint64_t ref_saturated = Quantize(ref, type);
    for (int x = 0; x < in.width; ++x) {
      EXPECT_EQ(out.Get(0, 0, x), ref.color[0].at(0, x))
          << "value " << values[x] << " depth " << static_cast<int>(type);
    }
    EXPECT_EQ(saturated, ref_saturated);
  }
}

}  // namespace
