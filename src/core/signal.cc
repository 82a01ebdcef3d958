#include "core/signal.h"

#include <algorithm>
#include <cassert>
#include <cmath>
#include <utility>

namespace convcorr::core {

namespace {

kernel::Kernel RowKernel(const std::vector<double>& w) {
  return kernel::Kernel(1, static_cast<int>(w.size()), w);
}

// The layer's taps as one dilated row.
kernel::Kernel DilatedRow(const Layer1D& layer) {
  return kernel::Dilate(RowKernel(layer.w), 1, layer.dilation);
}

}  // namespace

std::vector<float> FilterSignal(const std::vector<double>& values,
                                const kernel::Kernel& k, FilterParams params,
                                int stride) {
  Image img;
  img.width = static_cast<int>(values.size());
  img.height = 1;
  img.depth = Depth::kF32;
  Plane row(img.width, 1);
  for (size_t i = 0; i < values.size(); ++i) {
    row.data[i] = static_cast<float>(values[i]);
  }
  img.color.push_back(std::move(row));
  params.threads = 1;
  Image out = Filter(img, k, params);
  if (stride > 1) out = Subsample(out, 1, stride);
  return out.color[0].data;
}

size_t Layer1D::Span() const { return (w.size() - 1) * dilation + 1; }

size_t Layer1D::Outputs(size_t inputs) const {
  if (Span() > inputs) return 0;
  return (inputs - Span()) / stride + 1;
}

std::vector<float> LayerForward(const Layer1D& layer,
                                const std::vector<double>& x) {
  assert(layer.Span() <= x.size());
  FilterParams forward;
  forward.size = OutputSize::kValid;
  forward.mode = Mode::kCorrelate;
  forward.bias = layer.bias;
  return FilterSignal(x, DilatedRow(layer), forward, layer.stride);
}

LayerGradients LayerBackward(const Layer1D& layer, const std::vector<double>& x,
                             const std::vector<double>& g) {
  assert(layer.Span() <= x.size());
  assert(g.size() == layer.Outputs(x.size()));
  const int stride = layer.stride;
  // G with stride - 1 zeros between its values.
  std::vector<double> g_up((g.size() - 1) * stride + 1, 0.0);
  for (size_t n = 0; n < g.size(); ++n) g_up[n * stride] = g[n];

  LayerGradients grads;
  FilterParams full;
  full.size = OutputSize::kFull;
  full.mode = Mode::kConvolve;
  full.border = Border{BorderMode::kConstant};
  grads.dx = FilterSignal(g_up, DilatedRow(layer), full, 1);
  grads.dx.resize(x.size(), 0.0f);  // inputs past the last window

  FilterParams valid;
  valid.size = OutputSize::kValid;
  valid.mode = Mode::kCorrelate;
  const std::vector<float> corr = FilterSignal(x, RowKernel(g_up), valid, 1);
  grads.dw.resize(layer.w.size());
  for (size_t j = 0; j < layer.w.size(); ++j) {
    grads.dw[j] = corr[j * layer.dilation];
  }
  return grads;
}

double LayerLoss(const Layer1D& layer, const std::vector<double>& x,
                 const std::vector<double>& g) {
  const std::vector<double>& w = layer.w;
  double loss = 0;
  for (size_t n = 0; n < g.size(); ++n) {
    double y = 0;
    for (size_t j = 0; j < w.size(); ++j) {
      y += w[j] * x[layer.stride * n + layer.dilation * j];
    }
    loss += g[n] * y;
  }
  return loss;
}

double LargestError(std::vector<double>& var, const std::vector<float>& grad,
                    const std::function<double()>& loss, double h) {
  double worst = 0;
  for (size_t i = 0; i < var.size(); ++i) {
    const double keep = var[i];
    var[i] = keep + h;
    const double up = loss();
    var[i] = keep - h;
    const double down = loss();
    var[i] = keep;
    worst = std::max(worst, std::abs((up - down) / (2 * h) - grad[i]));
  }
  return worst;
}

GradientCheck CheckGradients(const Layer1D& layer, const std::vector<double>& x,
                             const std::vector<double>& g,
                             const LayerGradients& grads, double h) {
  // Copies to perturb; the loss reads them.
  Layer1D moved = layer;
  std::vector<double> xs = x;
  const auto loss = [&] { return LayerLoss(moved, xs, g); };
  GradientCheck check;
  check.h = h;
  check.max_error_x = LargestError(xs, grads.dx, loss, h);
  check.max_error_w = LargestError(moved.w, grads.dw, loss, h);
  return check;
}

}  // namespace convcorr::core
