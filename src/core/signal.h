// The 1-D form (`convcorr signal`, docs/cli.md): a list of numbers filtered
// as one row by the engine, and the arithmetic of a CNN layer on it
// (`signal --grad`, docs/cnn.md): the forward pass of the layer's valid
// correlation, its gradients for an upstream gradient G, and their check
// against central finite differences. Like the rest of core, nothing here
// throws: the callers check the preconditions stated (cli/info_commands.cc
// turns them into usage errors).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "core/filter.h"
#include "kernel/kernel.h"

namespace convcorr::core {

// `values` as one float32 row filtered with `k` by Filter (`params` as
// given but for one thread), every `stride`-th output kept from the first
// (Subsample); stride >= 1. The output has as many values as the size asks.
std::vector<float> FilterSignal(const std::vector<double>& values,
                                const kernel::Kernel& k, FilterParams params,
                                int stride = 1);

// A CNN layer on a 1-D signal x, its valid correlation with the taps w
// spread `dilation` apart, every `stride`-th output kept:
//   y[n] = bias + sum_j w[j] x[stride*n + dilation*j].
struct Layer1D {
  std::vector<double> w;  // the taps, undilated; at least one
  int stride = 1;         // >= 1
  int dilation = 1;       // >= 1
  double bias = 0.0;      // moves y, not the slopes (a .mat file's offset)

  // Inputs one output window covers: (w.size() - 1) * dilation + 1.
  size_t Span() const;
  // Outputs for `inputs` values: ceil((inputs - Span() + 1) / stride), 0 when
  // the window is longer than the signal.
  size_t Outputs(size_t inputs) const;
};

// y, by the engine in float32. Needs layer.Span() <= x.size().
std::vector<float> LayerForward(const Layer1D& layer,
                                const std::vector<double>& x);

// The gradients of L = sum_n g[n] y[n], by the engine in float32, with G
// spread out by the stride (stride - 1 zeros between its values) and w by
// the dilation:
//   dL/dx = convolve_full(G, w), cut to x's length (inputs past the last
//           window get 0);
//   dL/dw[j] = correlate_valid(x, G)[j * dilation].
// Needs layer.Span() <= x.size() and g.size() == layer.Outputs(x.size()).
struct LayerGradients {
  std::vector<float> dx;  // x.size() values
  std::vector<float> dw;  // layer.w.size() values
};
LayerGradients LayerBackward(const Layer1D& layer, const std::vector<double>& x,
                             const std::vector<double>& g);

// L = sum_n g[n] y[n] without the bias, in double precision with plain
// loops: independent of the engine, for the finite differences.
double LayerLoss(const Layer1D& layer, const std::vector<double>& x,
                 const std::vector<double>& g);

// Largest |grad[i] - (loss() at var[i] + h - loss() at var[i] - h) / (2h)|
// over the entries of `var` (grad.size() == var.size()); `loss` reads
// `var`, whose entries are each put back exactly afterwards.
double LargestError(std::vector<double>& var, const std::vector<float>& grad,
                    const std::function<double()>& loss, double h);

// LargestError of dx and of dw against LayerLoss with step h.
struct GradientCheck {
  double h = 0.0;
  double max_error_x = 0.0;
  double max_error_w = 0.0;
};
GradientCheck CheckGradients(const Layer1D& layer, const std::vector<double>& x,
                             const std::vector<double>& g,
                             const LayerGradients& grads, double h = 1e-3);

}  // namespace convcorr::core
