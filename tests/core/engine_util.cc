#include "core/engine_util.h"

#include <cmath>
#include <cstring>
#include <utility>

#include "core/oracle.h"

namespace convcorr::testing {

using core::Border;
using core::BorderMode;
using core::CorrelateFast;
using core::CorrelateReference;
using core::Depth;
using core::Method;
using core::MethodName;
using core::OutputSize;
using core::Plane;
using kernel::Kernel;

double Bound(const Kernel& k, double max_input) {
  const double u = std::ldexp(1.0, -24);
  return (k.rows() * k.cols() + 1) * u * L1(k) * max_input;
}

double FftBound(const Kernel& k, double max_input) {
  return 8 * 24 * std::ldexp(1.0, -24) * L1(k) * max_input;
}

::testing::AssertionResult Agrees(const Plane& simd, const Plane& ref,
                                  double bound) {
  if (simd.width != ref.width || simd.height != ref.height) {
    return ::testing::AssertionFailure()
           << "size " << simd.width << "x" << simd.height << " vs " << ref.width
           << "x" << ref.height;
  }
  for (int y = 0; y < ref.height; ++y) {
    for (int x = 0; x < ref.width; ++x) {
      const double e = std::fabs(double(simd.at(y, x)) - ref.at(y, x));
      if (!(e <= bound)) {
        return ::testing::AssertionFailure()
               << "first bad pixel at x=" << x << " y=" << y << ": simd "
               << simd.at(y, x) << " reference " << ref.at(y, x) << " (bound "
               << bound << ")";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

Kernel SparseKernel(int kh, int kw, std::mt19937& rng) {
  Kernel k = RandomKernel(kh, kw, rng);
  std::vector<double> w(k.weights().begin(), k.weights().end());
  for (double& v : w) {
    if (rng() % 3 == 0) v = 0.0;
  }
  return Kernel(kh, kw, w);
}

Kernel OuterProduct(int kh, int kw, std::mt19937& rng) {
  std::uniform_real_distribution<double> dist(-1.0, 1.0);
  std::vector<double> c(kh), r(kw), w;
  for (double& v : c) v = dist(rng);
  for (double& v : r) v = dist(rng);
  for (int i = 0; i < kh; ++i) {
    for (int j = 0; j < kw; ++j) w.push_back(c[i] * r[j]);
  }
  return Kernel(kh, kw, w);
}

Kernel SumOfOuterProducts(int kh, int kw, int rank, std::mt19937& rng) {
  std::vector<double> w(static_cast<size_t>(kh) * kw, 0.0);
  for (int t = 0; t < rank; ++t) {
    const Kernel term = OuterProduct(kh, kw, rng);
    for (size_t i = 0; i < w.size(); ++i) w[i] += term.weights()[i];
  }
  return Kernel(kh, kw, w);
}

void CheckMethodAgainstReference(Method method, uint32_t seed) {
  std::mt19937 rng(seed);
  const int widths[] = {1,  2,  3,  7,  8,  9,  15, 16, 17,
                        31, 33, 63, 64, 65, 67, 70, 129};
  const std::pair<int, int> shapes[] = {{1, 1}, {1, 2},  {2, 1}, {3, 3},
                                        {2, 4}, {5, 5},  {4, 7}, {9, 2},
                                        {8, 8}, {11, 11}};
  const BorderMode borders[] = {BorderMode::kReflect101, BorderMode::kReflect,
                                BorderMode::kReplicate, BorderMode::kConstant,
                                BorderMode::kWrap};
  int cases = 0;
  for (int w : widths) {
    const int h = 1 + static_cast<int>(rng() % 9);
    const Plane in = RandomPlane(w, h, rng, -300.0f, 300.0f);
    for (auto [kh, kw] : shapes) {
      const Kernel k = (method == Method::kSparse ? SparseKernel(kh, kw, rng)
                                                  : RandomKernel(kh, kw, rng))
                           .WithAnchor(static_cast<int>(rng() % kw),
                                       static_cast<int>(rng() % kh));
      const Border border{borders[rng() % 5], 4.5f};
      const double bound =
          method == Method::kFft ? FftBound(k, 300.0) : Bound(k, 300.0);
      for (OutputSize size :
           {OutputSize::kSame, OutputSize::kValid, OutputSize::kFull}) {
        const int threads = 1 + static_cast<int>(rng() % 3);
        const Plane ref = CorrelateReference(in, k, border, size, 1);
        const Plane fast = CorrelateFast(in, k, border, size, threads, method);
        EXPECT_TRUE(Agrees(fast, ref, bound))
            << MethodName(method) << " width " << w << " height " << h
            << " kernel " << kh << "x" << kw << " anchor (" << k.anchor_x()
            << "," << k.anchor_y() << ") border "
            << static_cast<int>(border.mode) << " size "
            << static_cast<int>(size) << " threads " << threads;
        ++cases;
      }
    }
  }
  EXPECT_EQ(cases, 17 * 10 * 3);
}

TypedImage::TypedImage(Depth t, bool inter, int w, int h)
    : type(t), interleaved(inter), width(w), height(h) {
  const size_t bytes = static_cast<size_t>(w) * h * core::SampleBytes(t);
  buffers.assign(inter ? 1 : 3,
                 std::vector<std::byte>(inter ? 3 * bytes : bytes));
}

std::byte* TypedImage::At(int c, int y, int x) {
  const size_t s = core::SampleBytes(type);
  if (interleaved) {
    return buffers[0].data() +
           ((static_cast<size_t>(y) * width + x) * 3 + c) * s;
  }
  return buffers[c].data() + (static_cast<size_t>(y) * width + x) * s;
}

void TypedImage::Set(int c, int y, int x, float v) {
  std::byte* p = At(c, y, x);
  if (type == Depth::kU8) {
    *reinterpret_cast<uint8_t*>(p) = static_cast<uint8_t>(v);
  } else if (type == Depth::kU16) {
    const auto u = static_cast<uint16_t>(v);
    std::memcpy(p, &u, 2);
  } else {
    std::memcpy(p, &v, 4);
  }
}

float TypedImage::Get(int c, int y, int x) {
  const std::byte* p = At(c, y, x);
  if (type == Depth::kU8) return *reinterpret_cast<const uint8_t*>(p);
  if (type == Depth::kU16) {
    uint16_t u;
    std::memcpy(&u, p, 2);
    return u;
  }
  float f;
  std::memcpy(&f, p, 4);
  return f;
}

core::ImageView TypedImage::View() {
  core::ImageView v;
  v.channels = 3;
  v.width = width;
  v.height = height;
  v.type = type;
  const size_t s = core::SampleBytes(type);
  v.step = interleaved ? 3 : 1;
  v.row_bytes = static_cast<std::ptrdiff_t>(width * v.step * s);
  for (int c = 0; c < 3; ++c) v.base[c] = At(c, 0, 0);
  return v;
}

core::ConstImageView TypedImage::ConstView() {
  const core::ImageView m = View();
  core::ConstImageView v;
  v.channels = m.channels;
  v.width = m.width;
  v.height = m.height;
  v.type = m.type;
  v.row_bytes = m.row_bytes;
  v.step = m.step;
  for (int c = 0; c < 3; ++c) v.base[c] = m.base[c];
  return v;
}

}  // namespace convcorr::testing
