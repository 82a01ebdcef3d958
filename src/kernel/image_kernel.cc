// Kernels drawn as images (image_kernel.h): the checks and the
// normalisation, with the messages of docs/kernels.md.
#include "kernel/image_kernel.h"

#include <cmath>
#include <string>
#include <utility>

#include "kernel/text.h"

namespace convcorr::kernel {

using internal::CheckAbsSumFinite;
using internal::Quoted;
using internal::ThrowSpecError;
using internal::Trim;

std::optional<std::string_view> SpecFileName(std::string_view spec) {
  const std::string_view text = Trim(spec);
  if (text.empty() || text[0] != '@') return std::nullopt;
  const std::string_view path = Trim(text.substr(1));
  if (path.empty()) return std::nullopt;
  return path;
}

void CheckKernelFileSize(std::string_view spec, std::string_view path,
                         std::uintmax_t bytes) {
  if (bytes > kMaxKernelFileBytes) {
    ThrowSpecError(spec, "file " + Quoted(path) + " is larger than 64 MiB");
  }
}

void CheckImageKernelSize(std::string_view spec, std::string_view path,
                          int64_t cols, int64_t rows) {
  if (cols < 1 || rows < 1 || cols > kMaxKernelSide || rows > kMaxKernelSide) {
    ThrowSpecError(
        spec, "image " + Quoted(path) + " is " + std::to_string(cols) + "x" +
                  std::to_string(rows) + ": each side must be 1 to " +
                  std::to_string(kMaxKernelSide) + " (the largest kernel)");
  }
}

Kernel KernelFromImage(std::string_view spec, std::string_view path, int rows,
                       int cols, std::vector<double> weights, bool raw) {
  CheckImageKernelSize(spec, path, cols, rows);
  const std::string quoted = Quoted(path);
  // Summed in long double: a 1025 x 1025 image adds a million terms.
  long double sum = 0;
  bool all_zero = true;
  for (size_t i = 0; i < weights.size(); ++i) {
    const double v = weights[i];
    if (!std::isfinite(v)) {
      ThrowSpecError(spec, "image " + quoted +
                               " has a sample that is not a finite number "
                               "at x=" +
                               std::to_string(i % cols) +
                               " y=" + std::to_string(i / cols));
    }
    if (v != 0) all_zero = false;
    sum += v;
  }
  CheckAbsSumFinite(spec, weights);
  if (!raw) {
    if (all_zero) {
      ThrowSpecError(spec, "image " + quoted +
                               " is all black: its samples sum to 0, so they "
                               "cannot be normalised to sum 1");
    }
    const double total = static_cast<double>(sum);
    if (total == 0) {
      ThrowSpecError(spec, "the samples of image " + quoted +
                               " sum to 0, so they cannot be normalised to "
                               "sum 1; --psf-raw uses them as they are");
    }
    for (double& v : weights) v = v / total + 0.0;  // + 0.0: no -0
    // A sum near the smallest double can push a quotient to inf.
    CheckAbsSumFinite(spec, weights);
  }
  return Kernel(rows, cols, std::move(weights));
}

void ThrowUnreadableImageKernel(std::string_view spec, std::string_view path,
                                std::string_view reason) {
  ThrowSpecError(
      spec, "cannot read image " + Quoted(path) + ": " + std::string(reason));
}

}  // namespace convcorr::kernel
