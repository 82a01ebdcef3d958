// libFuzzer harness: the kernel spec parser, then the engine on what it
// parsed. Any text must either parse into a valid kernel or throw one
// kKernelSpec error of one line quoting the spec; a kernel that parses must
// filter a small image with the fast engine to within float rounding of the
// double-precision reference, in both modes.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "common/error.h"
#include "core/filter.h"
#include "fuzz_check.h"
#include "kernel/kernel.h"
#include "kernel/spec.h"

namespace convcorr::fuzz {
namespace {

// Largest kernel area filtered, and largest side analysed (the SVD of a
// 1025 x 1025 kernel takes seconds: the parser is what is fuzzed there).
constexpr int kMaxFilteredArea = 1024;
constexpr int kMaxAnalysedSide = 64;

void CheckKernel(const kernel::Kernel& k) {
  RequireWellFormed(k);
  if (k.rows() <= kMaxAnalysedSide && k.cols() <= kMaxAnalysedSide) {
    const kernel::Analysis a = kernel::Analyze(k);
    Require(a.asymmetry >= 0 && a.asymmetry <= 1 + 1e-9,
            "asymmetry outside [0, 1]");
    Require(a.rank >= 0 && a.rank <= std::min(k.rows(), k.cols()),
            "rank outside [0, min(rows, cols)]");
    Require(kernel::Rotate180(kernel::Rotate180(k)) == k,
            "rotating twice does not give the kernel back");
  }
}

// The fast engine against the reference on a 13 x 11 image in [0, 1].
void CheckFilter(const kernel::Kernel& k, core::Mode mode) {
  double sum_abs = 0;
  for (double w : k.weights()) sum_abs += std::abs(w);
  // Float32 sums of weights near FLT_MAX overflow where the double
  // reference does not: compare where float can hold the result.
  if (sum_abs > 1e30) return;
  core::Image img;
  img.width = 13;
  img.height = 11;
  img.depth = core::Depth::kF32;
  core::Plane p(img.width, img.height);
  uint32_t state = 12345;
  for (float& v : p.data) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(state >> 8) / static_cast<float>(1u << 24);
  }
  img.color.push_back(std::move(p));
  core::FilterParams params;
  params.mode = mode;
  params.threads = 1;
  params.simd = false;
  const core::Image ref = core::Filter(img, k, params);
  params.simd = true;
  const core::Image fast = core::Filter(img, k, params);
  Require(ref.width == fast.width && ref.height == fast.height &&
              ref.color.size() == fast.color.size(),
          "fast and reference outputs differ in shape");
  // Float32 rounding of weights, products and sums (direct, separable or
  // FFT) stays well inside 1e-4 of the largest possible |sum|.
  const double tol = 1e-4 * sum_abs + 1e-30;
  for (size_t i = 0; i < ref.color[0].data.size(); ++i) {
    const double r = ref.color[0].data[i];
    const double f = fast.color[0].data[i];
    Require(std::abs(r - f) <= tol, "fast engine differs from the reference");
  }
}

}  // namespace
}  // namespace convcorr::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace convcorr;
  const std::string_view spec(reinterpret_cast<const char*>(data), size);
  // "@FILE" reads a file: the path would be whatever bytes the fuzzer
  // chose (/dev/stdin blocks). Kernel files are tested in spec_test.
  if (spec.find('@') != std::string_view::npos) return 0;
  std::optional<kernel::Kernel> k;
  try {
    k = kernel::ParseSpec(spec);
  } catch (const Error& e) {
    fuzz::Require(e.kind() == ErrorKind::kKernelSpec,
                  "a spec error is not of kind kKernelSpec");
    fuzz::RequireOneLine(e.what(), "kernel spec '");
    return 0;
  }
  fuzz::CheckKernel(*k);
  if (k->rows() * k->cols() <= fuzz::kMaxFilteredArea) {
    fuzz::CheckFilter(*k, core::Mode::kCorrelate);
    fuzz::CheckFilter(*k, core::Mode::kConvolve);
  }
  return 0;
}
