// kernel and signal: commands that print, with no image files.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/format.h"
#include "cli/kernel_source.h"
#include "cli/parse.h"
#include "cli/report.h"
#include "common/error.h"
#include "core/filter.h"
#include "core/signal.h"
#include "kernel/formats.h"
#include "kernel/kernel.h"
#include "kernel/named.h"

namespace convcorr::cli {

namespace {

std::string YesNo(bool b) { return b ? "yes" : "no"; }

// kernel --list: every named kernel, from the table the parser reads.
int ListNamedKernels(const KernelOptions& o) {
  const auto drop = [](const std::string& what) {
    throw Error(ErrorKind::kUsage,
                "--list prints every named kernel: drop " + what);
  };
  if (!o.spec.empty()) drop("'" + o.spec + "'");
  if (!o.to.empty()) drop("--to");
  if (!o.anchor.empty()) drop("--anchor");
  if (o.psf_raw) drop("--psf-raw");
  const std::vector<kernel::NamedKernelInfo> kernels = kernel::NamedKernels();
  std::string t;
  if (o.json) {
    for (const kernel::NamedKernelInfo& k : kernels) {
      const nlohmann::json j = {
          {"name", k.name},
          {"usage", k.usage},
          {"min_params", k.min_params},
          {"max_params", k.max_params},
          {"description", k.description},
      };
      t += j.dump() + "\n";
    }
  } else {
    size_t width = 0;
    for (const kernel::NamedKernelInfo& k : kernels) {
      width = std::max(width, k.usage.size());
    }
    for (const kernel::NamedKernelInfo& k : kernels) {
      t += fmt::format("{:<{}}  {}\n", k.usage, width, k.description);
    }
  }
  fmt::print("{}", t);
  return kExitOk;
}

const char* ChannelsName(int channels) {
  switch (channels) {
    case 1:
      return "gray";
    case 2:
      return "gray+alpha";
    case 3:
      return "colour";
    default:
      return "colour+alpha";
  }
}

// What an image kernel was made from, for the text report.
std::string ImageLine(const ImageKernelInfo& i) {
  std::string t = fmt::format("from image '{}' ({}, {}): ", i.path,
                              ChannelsName(i.channels), DepthName(i.depth));
  t += i.channels >= 3 ? "BT.601 luma" : "the samples";
  if (i.channels % 2 == 0) t += " times alpha";
  t += i.depth == core::Depth::kF32 ? ", as stored" : ", scaled to 0..1";
  if (i.normalized) {
    t += fmt::format(", divided by their sum {:.6g} (--psf-raw keeps them)\n",
                     i.sample_sum);
  } else {
    t += fmt::format(", not normalised (--psf-raw): they sum to {:.6g}\n",
                     i.sample_sum);
  }
  return t;
}

nlohmann::json ImageJson(const ImageKernelInfo& i) {
  return {{"file", i.path},
          {"channels", i.channels},
          {"depth", DepthName(i.depth)},
          {"sample_sum", DoubleJson(i.sample_sum)},
          {"normalized", i.normalized}};
}

}  // namespace

int RunKernel(const KernelOptions& o) {
  if (o.list) return ListNamedKernels(o);
  KernelSourceOptions source_options;
  source_options.psf_raw = o.psf_raw;
  const KernelSource source = ReadKernelSource(o.spec, source_options);
  const kernel::Kernel k = ApplyAnchor(source.kernel, o.anchor);
  if (!o.to.empty()) {
    const kernel::KernelFormat format = ParseKernelFormat(o.to);
    if (o.json) {
      throw Error(ErrorKind::kUsage,
                  "--to prints the kernel itself: drop --json");
    }
    if (format == kernel::KernelFormat::kNpy) {
      RefuseBinaryOnTerminal("--to npy", "kernel.npy");
    }
    const std::string bytes = kernel::WriteKernel(k, format, o.spec);
    if (std::fwrite(bytes.data(), 1, bytes.size(), stdout) != bytes.size() ||
        std::fflush(stdout) != 0) {
      throw Error(ErrorKind::kOutput, "output '-': cannot write the kernel");
    }
    return kExitOk;
  }
  const kernel::Analysis a = kernel::Analyze(k);
  const kernel::Normalization n = kernel::NormalizeScale(k);
  if (o.json) {
    nlohmann::json j = {
        {"spec", o.spec},
        {"rows", k.rows()},
        {"cols", k.cols()},
        {"anchor", {k.anchor_x(), k.anchor_y()}},
        {"matrix", MatrixJson(k)},
        {"rotated", MatrixJson(a.rotated)},
        {"rotated_anchor", {a.rotated.anchor_x(), a.rotated.anchor_y()}},
        {"sum", DoubleJson(a.sum)},
        {"offset", DoubleJson(k.offset())},
        {"positive_sum", DoubleJson(a.positive_sum)},
        {"negative_sum", DoubleJson(a.negative_sum)},
        {"normalize_scale", DoubleJson(n.scale)},
        {"normalize_uses_positive_sum", n.used_positive_sum},
        {"symmetric", MatrixJson(a.symmetric)},
        {"antisymmetric", MatrixJson(a.antisymmetric)},
        {"asymmetry", DoubleJson(a.asymmetry)},
        {"rank", a.rank},
        {"separable", a.separable},
        {"centro_symmetric", a.centro_symmetric},
        {"convolve_equals_correlate", a.convolve_equals_correlate},
    };
    if (source.image) j["image"] = ImageJson(*source.image);
    fmt::print("{}\n", j.dump());
    return kExitOk;
  }
  std::string t;
  t += fmt::format("kernel '{}': {}x{} (columns x rows), anchor x={} y={}\n",
                   o.spec, k.cols(), k.rows(), k.anchor_x(), k.anchor_y());
  if (source.image) t += ImageLine(*source.image);
  t += FormatMatrix(k, "  ");
  t += fmt::format(
      "rotated 180 degrees (what correlate uses to convolve), anchor x={} "
      "y={}:\n",
      a.rotated.anchor_x(), a.rotated.anchor_y());
  t += FormatMatrix(a.rotated, "  ");
  t += fmt::format("sum: {:.6g} (positive {:.6g}, negative {:.6g})\n", a.sum,
                   a.positive_sum, a.negative_sum);
  if (k.offset() != 0) {
    t += fmt::format("offset: {} (added after the sum, as --bias)\n",
                     FormatDouble(k.offset()));
  }
  if (n.used_positive_sum) {
    t += fmt::format(
        "normalize: the sum is 0, so --normalize divides by the sum of the "
        "positive weights ({:.6g})\n",
        a.positive_sum);
  } else if (n.all_zero) {
    t += "normalize: the kernel is all zeros, --normalize leaves the scale at "
         "1\n";
  } else {
    t += fmt::format("normalize: --normalize divides by {:.6g}\n", a.sum);
  }
  t += "symmetric part S = (K + rot180 K) / 2:\n";
  t += FormatMatrix(a.symmetric, "  ");
  t += "antisymmetric part A = (K - rot180 K) / 2:\n";
  t += FormatMatrix(a.antisymmetric, "  ");
  t += fmt::format("asymmetry ||K - rot180 K|| / (2 ||K||): {:.6g}\n",
                   a.asymmetry);
  t += fmt::format("rank: {} ({})\n", a.rank,
                   a.separable ? "separable" : "not separable");
  t += fmt::format("centro-symmetric (K == rot180 K): {}\n",
                   YesNo(a.centro_symmetric));
  t += fmt::format(
      "convolve == correlate: {} for --size same with this anchor, {} for "
      "--size valid and full\n",
      YesNo(a.convolve_equals_correlate), YesNo(a.centro_symmetric));
  fmt::print("{}", t);
  return kExitOk;
}

namespace {

std::string List(const std::vector<float>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) s += ", ";
    s += FormatFloat(v[i]);
  }
  return s + "]";
}

nlohmann::json ListJson(const std::vector<float>& v) {
  nlohmann::json j = nlohmann::json::array();
  for (float x : v) j.push_back(FloatJson(x));
  return j;
}

// --grad: the forward pass y = correlate_valid(x, w) of a CNN layer and its
// gradients for the upstream gradient G (docs/cnn.md), computed and checked
// against central finite differences by core (core/signal.h); here the
// arguments are checked and the results printed.
int RunGrad(const SignalOptions& o, const std::vector<double>& x,
            const kernel::Kernel& k, int stride, int dilation) {
  if (o.size_given && o.size != "valid") {
    throw Error(ErrorKind::kUsage,
                "--grad differentiates the valid correlation of a CNN layer; "
                "drop --size or give --size valid");
  }
  core::Layer1D layer;
  layer.w = k.weights();
  layer.stride = stride;
  layer.dilation = dilation;
  layer.bias = k.offset();  // a .mat file's offset shifts y, not the slopes
  if (layer.Span() > x.size()) {
    throw Error(ErrorKind::kUsage,
                fmt::format("values '{}': {} values are fewer than the {} "
                            "kernel taps (dilated), so --grad has no output",
                            o.values, x.size(), layer.Span()));
  }
  const std::vector<float> y = core::LayerForward(layer, x);
  std::vector<double> g(y.size(), 1.0);
  if (!o.grad_values.empty()) {
    g = ParseValues(o.grad_values);
    if (g.size() != y.size()) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("--grad '{}': {} values, but the forward pass "
                              "has {} outputs",
                              o.grad_values, g.size(), y.size()));
    }
  }
  const core::LayerGradients grads = core::LayerBackward(layer, x, g);
  const std::vector<float>& dx = grads.dx;
  const std::vector<float>& dw = grads.dw;
  const core::GradientCheck check = core::CheckGradients(layer, x, g, grads);
  const double h = check.h;
  const double err_x = check.max_error_x;
  const double err_w = check.max_error_w;
  std::vector<float> gf(g.begin(), g.end());

  // How G and w are spread, for the labels: "" or " (G spread by ...)".
  std::vector<std::string> spread;
  if (stride > 1)
    spread.push_back(fmt::format("G spread by the stride {}", stride));
  if (dilation > 1) spread.push_back(fmt::format("w dilated by {}", dilation));
  const auto note = [](const std::vector<std::string>& parts) {
    std::string s;
    for (const std::string& p : parts) s += (s.empty() ? "" : ", ") + p;
    return s.empty() ? s : " (" + s + ")";
  };
  std::vector<std::string> forward_note;
  if (dilation > 1)
    forward_note.push_back(fmt::format("w dilated by {}", dilation));
  if (stride > 1) forward_note.push_back(fmt::format("stride {}", stride));
  std::vector<std::string> dw_note;
  if (stride > 1)
    dw_note.push_back(fmt::format("G spread by the stride {}", stride));
  if (dilation > 1) {
    dw_note.push_back(
        fmt::format("read at lags 0, {}, {}, ...", dilation, 2 * dilation));
  }
  if (o.json) {
    const nlohmann::json j = {{"stride", stride},
                              {"dilation", dilation},
                              {"forward", ListJson(y)},
                              {"upstream", ListJson(gf)},
                              {"grad_x", ListJson(dx)},
                              {"grad_w", ListJson(dw)},
                              {"finite_difference_step", h},
                              {"max_error_x", DoubleJson(err_x)},
                              {"max_error_w", DoubleJson(err_w)}};
    fmt::print("{}\n", j.dump());
    return kExitOk;
  }
  fmt::print("forward y = correlate_valid(x, w){}: {}\n", note(forward_note),
             List(y));
  fmt::print("upstream G: {}\n", List(gf));
  fmt::print("dL/dx = convolve_full(G, w){}: {}\n", note(spread), List(dx));
  fmt::print("dL/dw = correlate_valid(x, G){}: {}\n", note(dw_note), List(dw));
  fmt::print(
      "finite differences (h = {}): largest error {} in dL/dx, {} in "
      "dL/dw\n",
      FormatDouble(h), FormatDouble(err_x), FormatDouble(err_w));
  return kExitOk;
}

}  // namespace

int RunSignal(const SignalOptions& o) {
  const std::vector<double> values = ParseValues(o.values);
  KernelSourceOptions source;
  source.psf_raw = o.psf_raw;
  kernel::Kernel k = ApplyAnchor(ReadKernel(o.kernel_spec, source), o.anchor);
  if (k.rows() != 1 && k.cols() != 1) {
    throw Error(ErrorKind::kUsage,
                fmt::format("kernel spec '{}': signal needs a 1-D kernel (1xN "
                            "or Nx1), not {}x{}",
                            o.kernel_spec, k.cols(), k.rows()));
  }
  if (k.rows() != 1) {  // a column: use it as a row, anchor and all
    k = kernel::Kernel(1, k.rows(), k.weights(), k.anchor_y(), 0)
            .WithOffset(k.offset());
  }
  const int stride = ParseStep1D("--stride", o.stride);
  const int dilation = ParseStep1D("--dilation", o.dilation);
  const Compat compat = ParseCompat(o.compat);
  if (o.grad) return RunGrad(o, values, k, stride, dilation);
  // Each mode anchored as the tool anchors it (NumPy differs by mode).
  const auto anchored = [&](core::Mode mode) {
    const kernel::Kernel a =
        o.anchor.empty() ? CompatAnchor(k, compat, mode) : k;
    return DilateKernel(a, Step{1, dilation}, o.kernel_spec);
  };
  const kernel::Kernel conv_k = anchored(core::Mode::kConvolve);
  const kernel::Kernel corr_k = anchored(core::Mode::kCorrelate);
  k = corr_k;
  core::FilterParams params;
  params.border = o.border_given || compat.tool.empty() ? ParseBorder(o.border)
                                                        : compat.border;
  params.size = ParseSize(o.size);
  params.bias = k.offset();  // a .mat file's offset, as on images
  if (params.size == core::OutputSize::kValid &&
      k.cols() > static_cast<int>(values.size())) {
    throw Error(ErrorKind::kUsage,
                fmt::format("values '{}': {} values are fewer than the {} "
                            "kernel taps, so --size valid has no output",
                            o.values, values.size(), k.cols()));
  }
  params.mode = core::Mode::kConvolve;
  const std::vector<float> conv =
      core::FilterSignal(values, conv_k, params, stride);
  params.mode = core::Mode::kCorrelate;
  const std::vector<float> corr =
      core::FilterSignal(values, corr_k, params, stride);

  if (o.json) {
    nlohmann::json j = {{"size", SizeName(params.size)},
                        {"border", BorderName(params.border.mode)},
                        {"convolve", ListJson(conv)},
                        {"correlate", ListJson(corr)}};
    if (stride > 1 || dilation > 1) {
      j["stride"] = stride;
      j["dilation"] = dilation;
    }
    fmt::print("{}\n", j.dump());
    return kExitOk;
  }
  fmt::print("convolve: {}\ncorrelate: {}\n", List(conv), List(corr));
  return kExitOk;
}

}  // namespace convcorr::cli
