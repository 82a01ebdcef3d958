// kernel and signal: commands that print, with no image files.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/format.h"
#include "cli/parse.h"
#include "common/error.h"
#include "core/filter.h"
#include "kernel/kernel.h"
#include "kernel/spec.h"

namespace convcorr::cli {

namespace {

std::string YesNo(bool b) { return b ? "yes" : "no"; }

}  // namespace

int RunKernel(const KernelOptions& o) {
  const kernel::Kernel k = ApplyAnchor(kernel::ParseSpec(o.spec), o.anchor);
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
    fmt::print("{}\n", j.dump());
    return kExitOk;
  }
  std::string t;
  t += fmt::format("kernel '{}': {}x{} (columns x rows), anchor x={} y={}\n",
                   o.spec, k.cols(), k.rows(), k.anchor_x(), k.anchor_y());
  t += FormatMatrix(k, "  ");
  t += fmt::format(
      "rotated 180 degrees (what correlate uses to convolve), anchor x={} "
      "y={}:\n",
      a.rotated.anchor_x(), a.rotated.anchor_y());
  t += FormatMatrix(a.rotated, "  ");
  t += fmt::format("sum: {:.6g} (positive {:.6g}, negative {:.6g})\n", a.sum,
                   a.positive_sum, a.negative_sum);
  if (n.used_positive_sum) {
    t += fmt::format(
        "normalize: the sum is 0, so --normalize divides by the sum of the "
        "positive weights ({:.6g})\n",
        a.positive_sum);
  } else if (n.all_zero) {
    t += "normalize: the kernel is all zeros, --normalize leaves the scale at 1\n";
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

int RunSignal(const SignalOptions& o) {
  const std::vector<double> values = ParseValues(o.values);
  kernel::Kernel k = ApplyAnchor(kernel::ParseSpec(o.kernel_spec), o.anchor);
  if (k.rows() != 1 && k.cols() != 1) {
    throw Error(ErrorKind::kUsage,
                fmt::format("kernel spec '{}': signal needs a 1-D kernel (1xN "
                            "or Nx1), not {}x{}",
                            o.kernel_spec, k.cols(), k.rows()));
  }
  if (k.rows() != 1) {  // a column: use it as a row, anchor and all
    k = kernel::Kernel(1, k.rows(), k.weights(), k.anchor_y(), 0);
  }
  core::FilterParams params;
  params.border = ParseBorder(o.border);
  params.size = ParseSize(o.size);
  params.threads = 1;
  if (params.size == core::OutputSize::kValid &&
      k.cols() > static_cast<int>(values.size())) {
    throw Error(ErrorKind::kUsage,
                fmt::format("values '{}': {} values are fewer than the {} "
                            "kernel taps, so --size valid has no output",
                            o.values, values.size(), k.cols()));
  }
  core::Image img;
  img.width = static_cast<int>(values.size());
  img.height = 1;
  img.depth = core::Depth::kF32;
  core::Plane row(img.width, 1);
  for (size_t i = 0; i < values.size(); ++i) {
    row.data[i] = static_cast<float>(values[i]);
  }
  img.color.push_back(std::move(row));

  params.mode = core::Mode::kConvolve;
  const std::vector<float> conv = core::Filter(img, k, params).color[0].data;
  params.mode = core::Mode::kCorrelate;
  const std::vector<float> corr = core::Filter(img, k, params).color[0].data;

  if (o.json) {
    nlohmann::json jc = nlohmann::json::array();
    nlohmann::json jr = nlohmann::json::array();
    for (float v : conv) jc.push_back(FloatJson(v));
    for (float v : corr) jr.push_back(FloatJson(v));
    const nlohmann::json j = {{"size", SizeName(params.size)},
                              {"border", BorderName(params.border.mode)},
                              {"convolve", jc},
                              {"correlate", jr}};
    fmt::print("{}\n", j.dump());
    return kExitOk;
  }
  const auto list = [](const std::vector<float>& v) {
    std::string s = "[";
    for (size_t i = 0; i < v.size(); ++i) {
      if (i > 0) s += ", ";
      s += FormatFloat(v[i]);
    }
    return s + "]";
  };
  fmt::print("convolve: {}\ncorrelate: {}\n", list(conv), list(corr));
  return kExitOk;
}

}  // namespace convcorr::cli
