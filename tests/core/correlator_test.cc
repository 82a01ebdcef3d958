// Correlator (core/correlator.cc) on every SIMD target, whatever the
// strategy: the thread count never changes a sample, and 8-bit, 16-bit and
// float views, planar or interleaved, of 1 to 4 channels agree with the
// reference through the fused store.
#include <gtest/gtest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/engine_util.h"
#include "core/filter.h"
#include "core/oracle.h"

namespace {

using convcorr::kernel::Kernel;
using namespace convcorr::core;  // NOLINT: the engine under test
using convcorr::testing::Bound;
using convcorr::testing::FftBound;
using convcorr::testing::OuterProduct;
using convcorr::testing::RandomPlane;
using convcorr::testing::SparseKernel;
using convcorr::testing::TypedImage;
namespace kernel = convcorr::kernel;

TEST_P(SimdTest, ThreadCountDoesNotChangeTheResult) {
  std::mt19937 rng(5);
  const Plane in = RandomPlane(97, 41, rng);
  const kernel::Kernel k = SparseKernel(5, 6, rng);
  for (Method method : {Method::kDirect, Method::kSparse, Method::kFft}) {
    const Plane one = CorrelateFast(in, k, {}, OutputSize::kSame, 1, method);
    for (int threads : {2, 3, 8}) {
      EXPECT_EQ(CorrelateFast(in, k, {}, OutputSize::kSame, threads, method),
                one)
          << MethodName(method) << " threads " << threads;
    }
  }
}

// 8-bit, 16-bit and float inputs, planar and interleaved, into every output
// type. With integer weights on integer samples every sum is exact in
// float32, so direct and sparse must equal the reference passed through
// the same scale and bias and core::Quantize exactly, ties to even and the
// saturation count included; separable and fft (rounded factors and
// transforms) within one unit.
TEST_P(SimdTest, TypedViewsMatchTheQuantizedReference) {
  std::mt19937 rng(8);
  const Kernel ints(3, 3, {-3, 1, 2, 0, 3, -1, 2, -2, 1});
  const Kernel outer(3, 3, {2, -4, 2, 1, -2, 1, -3, 6, -3});
  struct Store {
    float scale, bias;
    bool abs;
  };
  const Store stores[] = {{1.0f, 0.0f, false},
                          {0.5f, 0.0f, false},
                          {0.5f, 0.25f, true},
                          {0.25f, -100.0f, false}};
  const Depth types[] = {Depth::kU8, Depth::kU16, Depth::kF32};
  const int w = 37, h = 11;
  int cases = 0;
  for (Depth in_type : types) {
    const float max_in = in_type == Depth::kU16 ? 65535.0f : 255.0f;
    for (bool in_inter : {false, true}) {
      TypedImage in(in_type, in_inter, w, h);
      std::vector<Plane> planes(3, Plane(w, h));
      for (int c = 0; c < 3; ++c) {
        for (int y = 0; y < h; ++y) {
          for (int x = 0; x < w; ++x) {
            const auto v = static_cast<float>(rng() % (int(max_in) + 1));
            in.Set(c, y, x, v);
            planes[c].at(y, x) = v;
          }
        }
      }
      for (Depth out_type : types) {
        for (bool out_inter : {false, true}) {
          for (Method method : {Method::kDirect, Method::kSparse,
                                Method::kSeparable, Method::kFft}) {
            const Kernel& k = method == Method::kSeparable ? outer : ints;
            const bool exact =
                method == Method::kDirect || method == Method::kSparse;
            const Store& st = stores[rng() % 4];
            EngineOptions opt;
            opt.border = {BorderMode::kReflect, 0.0f};
            opt.scale = st.scale;
            opt.bias = st.bias;
            opt.abs = st.abs;
            opt.threads = 1 + static_cast<int>(rng() % 2);
            TypedImage out(out_type, out_inter, w, h);
            const uint64_t saturated =
                Correlator(k, method).Run(in.ConstView(), out.View(), opt);
            Image ref;
            ref.width = w;
            ref.height = h;
            for (int c = 0; c < 3; ++c) {
              Plane p = CorrelateReference(planes[c], k, opt.border,
                                           OutputSize::kSame, 1);
              for (float& v : p.data) {
                v = static_cast<float>(double(st.scale) * v + st.bias);
                if (st.abs) v = std::fabs(v);
              }
              ref.color.push_back(std::move(p));
            }
            const uint64_t ref_saturated = Quantize(ref, out_type);
            const double tolerance =
                exact ? 0.0 : (out_type == Depth::kF32 ? 1e-3 * max_in : 1.0);
            const std::string what = std::string(MethodName(method)) + " in " +
                                     std::to_string(int(in_type)) +
                                     (in_inter ? " interleaved" : "") +
                                     " out " + std::to_string(int(out_type)) +
                                     (out_inter ? " interleaved" : "") +
                                     " scale " + std::to_string(st.scale) +
                                     " bias " + std::to_string(st.bias);
            for (int c = 0; c < 3; ++c) {
              for (int y = 0; y < h; ++y) {
                for (int x = 0; x < w; ++x) {
                  ASSERT_LE(std::fabs(out.Get(c, y, x) - ref.color[c].at(y, x)),
                            tolerance)
                      << what << " at c=" << c << " x=" << x << " y=" << y;
                }
              }
            }
            if (exact) {
              EXPECT_EQ(saturated, ref_saturated) << what;
            }
            ++cases;
          }
        }
      }
    }
  }
  EXPECT_EQ(cases, 3 * 2 * 3 * 2 * 4);
}

// Interleaved images of 1, 2 and 4 channels (gray, gray+alpha, BGRA
// filtered whole): packed rows with taps scaled by the channel count, for
// every strategy, against the reference on each channel.
TEST_P(SimdTest, InterleavedChannelCounts) {
  std::mt19937 rng(606);
  const int w = 29, h = 13;
  for (int channels : {1, 2, 4}) {
    std::vector<float> data(static_cast<size_t>(w) * h * channels);
    for (float& v : data) v = static_cast<float>(rng() % 256);
    std::vector<Plane> planes(channels, Plane(w, h));
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int c = 0; c < channels; ++c) {
          planes[c].at(y, x) =
              data[(static_cast<size_t>(y) * w + x) * channels + c];
        }
      }
    }
    for (Method method :
         {Method::kDirect, Method::kSparse, Method::kSeparable, Method::kFft}) {
      const Kernel k = method == Method::kSeparable
                           ? OuterProduct(3, 5, rng).WithAnchor(1, 2)
                           : SparseKernel(4, 3, rng).WithAnchor(2, 1);
      std::vector<float> out(data.size());
      ConstImageView in_view;
      ImageView out_view;
      in_view.channels = out_view.channels = channels;
      in_view.width = out_view.width = w;
      in_view.height = out_view.height = h;
      in_view.type = out_view.type = Depth::kF32;
      in_view.row_bytes = out_view.row_bytes =
          static_cast<std::ptrdiff_t>(w) * channels * 4;
      in_view.step = out_view.step = channels;
      for (int c = 0; c < channels; ++c) {
        in_view.base[c] = reinterpret_cast<const std::byte*>(data.data() + c);
        out_view.base[c] = reinterpret_cast<std::byte*>(out.data() + c);
      }
      EngineOptions opt;
      opt.border = {BorderMode::kWrap, 0.0f};
      opt.threads = 2;
      Correlator(k, method).Run(in_view, out_view, opt);
      const double bound =
          method == Method::kFft ? FftBound(k, 255.0) : 2 * Bound(k, 255.0);
      for (int c = 0; c < channels; ++c) {
        const Plane ref =
            CorrelateReference(planes[c], k, opt.border, OutputSize::kSame, 1);
        for (int y = 0; y < h; ++y) {
          for (int x = 0; x < w; ++x) {
            ASSERT_LE(
                std::fabs(out[(static_cast<size_t>(y) * w + x) * channels + c] -
                          ref.at(y, x)),
                bound)
                << MethodName(method) << " channels " << channels << " c " << c
                << " x " << x << " y " << y;
          }
        }
      }
    }
  }
}

}  // namespace
