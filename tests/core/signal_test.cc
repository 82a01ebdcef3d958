// The 1-D layer arithmetic of `signal --grad` (core/signal.h) against facts
// found without it: small examples worked by hand, and central finite
// differences of a loss computed here, in double precision, from the
// defining sum.
#include "core/signal.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace convcorr::core {
namespace {

std::vector<float> Floats(std::vector<double> v) {
  return std::vector<float>(v.begin(), v.end());
}

// x = [1, 2, 3, 4], w = [1, -1], stride 1, dilation 1.
//   Forward (valid correlation): y[n] = w0 x[n] + w1 x[n+1] = x[n] - x[n+1]
//     y = [1-2, 2-3, 3-4] = [-1, -1, -1].
//   With G = [1, 1, 1], L = sum_n G[n] y[n] = (x0 - x1) + (x1 - x2) +
//   (x2 - x3) = x0 - x3, so
//     dL/dx = [1, 0, 0, -1]
//   (and convolve_full(G, w) = [1*1, 1*1 + 1*(-1), 1*1 + 1*(-1), 1*(-1)]
//   gives the same).
//   dL/dw[j] = sum_n G[n] x[n + j]:
//     dL/dw0 = x0 + x1 + x2 = 1 + 2 + 3 = 6,
//     dL/dw1 = x1 + x2 + x3 = 2 + 3 + 4 = 9.
TEST(Layer1D, HandWorkedExample) {
  const std::vector<double> x = {1, 2, 3, 4};
  Layer1D layer;
  layer.w = {1, -1};
  EXPECT_EQ(layer.Span(), 2u);
  EXPECT_EQ(layer.Outputs(x.size()), 3u);
  EXPECT_EQ(LayerForward(layer, x), Floats({-1, -1, -1}));
  const std::vector<double> g = {1, 1, 1};
  const LayerGradients grads = LayerBackward(layer, x, g);
  EXPECT_EQ(grads.dx, Floats({1, 0, 0, -1}));
  EXPECT_EQ(grads.dw, Floats({6, 9}));
  EXPECT_EQ(LayerLoss(layer, x, g), 1.0 - 4.0);  // x0 - x3
}

// x = [1, 2, 3, 4, 5], w = [1, -1], dilation 2, stride 2.
//   The taps sit 2 apart, so a window spans 3 inputs: y'[m] = x[m] - x[m+2]
//   for m = 0, 1, 2, and the stride keeps m = 0 and 2:
//     y = [x0 - x2, x2 - x4] = [-2, -2].
//   With G = [1, 2], L = (x0 - x2) + 2 (x2 - x4) = x0 + x2 - 2 x4, so
//     dL/dx = [1, 0, 1, 0, -2].
//   dL/dw[j] = sum_n G[n] x[2n + 2j]:
//     dL/dw0 = 1*x0 + 2*x2 = 1 + 6 = 7,
//     dL/dw1 = 1*x2 + 2*x4 = 3 + 10 = 13.
//   A bias moves y only.
TEST(Layer1D, HandWorkedStrideAndDilation) {
  const std::vector<double> x = {1, 2, 3, 4, 5};
  Layer1D layer;
  layer.w = {1, -1};
  layer.stride = 2;
  layer.dilation = 2;
  layer.bias = 0.5;
  EXPECT_EQ(layer.Span(), 3u);
  EXPECT_EQ(layer.Outputs(x.size()), 2u);
  EXPECT_EQ(LayerForward(layer, x), Floats({-1.5, -1.5}));
  const std::vector<double> g = {1, 2};
  const LayerGradients grads = LayerBackward(layer, x, g);
  EXPECT_EQ(grads.dx, Floats({1, 0, 1, 0, -2}));
  EXPECT_EQ(grads.dw, Floats({7, 13}));
  EXPECT_EQ(LayerLoss(layer, x, g), 1.0 + 3.0 - 2.0 * 5.0);
}

// Inputs that no kept window reads get no gradient: x of 6 values, w of 2
// taps, stride 3: the windows at 0 and 3 read x0, x1 and x3, x4, so
//   y = [2 x0 + 3 x1, 2 x3 + 3 x4] = [8, 23]; with G = [1, 10],
//   dL/dx = [2, 3, 0, 20, 30, 0], dL/dw = [x0 + 10 x3, x1 + 10 x4] = [41, 52].
TEST(Layer1D, InputsNoWindowReadsGetZero) {
  const std::vector<double> x = {1, 2, 3, 4, 5, 6};
  Layer1D layer;
  layer.w = {2, 3};
  layer.stride = 3;
  ASSERT_EQ(layer.Outputs(x.size()), 2u);
  EXPECT_EQ(LayerForward(layer, x), Floats({2 * 1 + 3 * 2, 2 * 4 + 3 * 5}));
  const LayerGradients grads = LayerBackward(layer, x, {1, 10});
  EXPECT_EQ(grads.dx, Floats({2, 3, 0, 20, 30, 0}));
  EXPECT_EQ(grads.dw, Floats({1 * 1 + 10 * 4, 1 * 2 + 10 * 5}));
}

TEST(Layer1D, OutputsCountsTheKeptWindows) {
  Layer1D layer;
  layer.w = {1, 1, 1};
  EXPECT_EQ(layer.Outputs(2), 0u);
  EXPECT_EQ(layer.Outputs(3), 1u);
  layer.dilation = 3;  // span 7
  EXPECT_EQ(layer.Span(), 7u);
  EXPECT_EQ(layer.Outputs(6), 0u);
  EXPECT_EQ(layer.Outputs(7), 1u);
  layer.stride = 2;
  EXPECT_EQ(layer.Outputs(10), 2u);  // windows at 0, 1, 2, 3: keep 0 and 2
  EXPECT_EQ(layer.Outputs(11), 3u);
}

// The defining sum, written again here: L = sum_n g[n] sum_j w[j]
// x[s n + d j].
double Loss(const std::vector<double>& x, const std::vector<double>& w,
            const std::vector<double>& g, int s, int d) {
  double loss = 0;
  for (size_t n = 0; n < g.size(); ++n) {
    for (size_t j = 0; j < w.size(); ++j) {
      loss += g[n] * w[j] * x[s * n + d * j];
    }
  }
  return loss;
}

// Random layers: the gradients against central differences of Loss taken
// here (the loss is linear in each variable, so the difference is exact up
// to rounding), and CheckGradients agreeing that the error is small.
TEST(Layer1D, GradientsMatchFiniteDifferences) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> value(-2.0, 2.0);
  const double h = 1e-3;
  int checked = 0;
  for (int taps = 1; taps <= 4; ++taps) {
    for (int stride = 1; stride <= 3; ++stride) {
      for (int dilation = 1; dilation <= 3; ++dilation) {
        SCOPED_TRACE(::testing::Message() << taps << " taps, stride " << stride
                                          << ", dilation " << dilation);
        Layer1D layer;
        for (int j = 0; j < taps; ++j) layer.w.push_back(value(rng));
        layer.stride = stride;
        layer.dilation = dilation;
        std::vector<double> x(layer.Span() + 5);
        for (double& v : x) v = value(rng);
        std::vector<double> g(layer.Outputs(x.size()));
        ASSERT_FALSE(g.empty());
        for (double& v : g) v = value(rng);
        const LayerGradients grads = LayerBackward(layer, x, g);
        ASSERT_EQ(grads.dx.size(), x.size());
        ASSERT_EQ(grads.dw.size(), layer.w.size());
        const std::vector<double> w = layer.w;
        // d Loss / d v[i] by a central difference, v being x or w.
        const auto central = [&](bool of_x, size_t i) {
          std::vector<double> xs = x;
          std::vector<double> ws = w;
          std::vector<double>& v = of_x ? xs : ws;
          const double keep = v[i];
          v[i] = keep + h;
          const double up = Loss(xs, ws, g, stride, dilation);
          v[i] = keep - h;
          const double down = Loss(xs, ws, g, stride, dilation);
          return (up - down) / (2 * h);
        };
        for (size_t i = 0; i < x.size(); ++i) {
          EXPECT_NEAR(grads.dx[i], central(true, i), 1e-5) << "dx " << i;
        }
        for (size_t j = 0; j < w.size(); ++j) {
          EXPECT_NEAR(grads.dw[j], central(false, j), 1e-5) << "dw " << j;
        }
        // The forward pass is the defining sum too.
        const std::vector<float> y = LayerForward(layer, x);
        ASSERT_EQ(y.size(), g.size());
        for (size_t n = 0; n < y.size(); ++n) {
          std::vector<double> one(g.size(), 0.0);
          one[n] = 1;
          EXPECT_NEAR(y[n], Loss(x, w, one, stride, dilation), 1e-5);
        }
        EXPECT_NEAR(LayerLoss(layer, x, g), Loss(x, w, g, stride, dilation),
                    1e-12);
        const GradientCheck check = CheckGradients(layer, x, g, grads);
        EXPECT_EQ(check.h, 1e-3);
        EXPECT_LT(check.max_error_x, 1e-5);
        EXPECT_LT(check.max_error_w, 1e-5);
        ++checked;
      }
    }
  }
  EXPECT_EQ(checked, 36);
}

// LargestError finds a wrong entry, and puts every variable back.
TEST(Layer1D, LargestErrorFindsAWrongGradient) {
  std::vector<double> v = {1.0, -2.0, 3.0};
  // loss = 2 v0 + 3 v1 - v2: gradient [2, 3, -1].
  const auto loss = [&v] { return 2 * v[0] + 3 * v[1] - v[2]; };
  EXPECT_NEAR(LargestError(v, {2, 3, -1}, loss, 1e-3), 0.0, 1e-9);
  EXPECT_NEAR(LargestError(v, {2, 3.5, -1}, loss, 1e-3), 0.5, 1e-9);
  EXPECT_EQ(v, (std::vector<double>{1.0, -2.0, 3.0}));
  // A wrong analytic gradient of the layer shows in CheckGradients.
  Layer1D layer;
  layer.w = {1, -1};
  const std::vector<double> x = {1, 2, 3, 4};
  LayerGradients wrong = LayerBackward(layer, x, {1, 1, 1});
  wrong.dw[1] += 0.25f;
  const GradientCheck check = CheckGradients(layer, x, {1, 1, 1}, wrong);
  EXPECT_LT(check.max_error_x, 1e-9);
  EXPECT_NEAR(check.max_error_w, 0.25, 1e-9);
}

// FilterSignal is Filter on one row: numpy.convolve(x, [1, -1], 'full') is
// [x0, x1 - x0, ..., -x_last]; every second output with stride 2.
TEST(FilterSignal, OneRowThroughTheEngine) {
  FilterParams p;
  p.mode = Mode::kConvolve;
  p.size = OutputSize::kFull;
  p.border = Border{BorderMode::kConstant};
  const kernel::Kernel k(1, 2, {1, -1});
  EXPECT_EQ(FilterSignal({2, 1, 3, 5, 4}, k, p), Floats({2, -1, 2, 2, -1, -4}));
  EXPECT_EQ(FilterSignal({2, 1, 3, 5, 4}, k, p, 2), Floats({2, 2, -1}));
  p.mode = Mode::kCorrelate;
  p.size = OutputSize::kValid;
  EXPECT_EQ(FilterSignal({2, 1, 3, 5, 4}, k, p), Floats({1, -2, -2, 1}));
}

}  // namespace
}  // namespace convcorr::core
