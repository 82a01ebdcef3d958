// Kernels drawn as images, -k @FILE.png (docs/kernels.md, "Image kernels"):
// the kernel layer's part. The image is decoded by io (io/image_io.h,
// WeightPlane) and cli joins the two (cli/kernel_source.h); here are the
// file an @FILE spec names, the checks made on the image's header, and the
// weights made into a kernel, normalised to sum 1 unless kept raw. Every
// failure is a spec error, "kernel spec '<spec>': <reason>", naming the
// file.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "kernel/kernel.h"

namespace convcorr::kernel {

// Kernel files (text or image) larger than this are refused before they
// are read: the largest kernel written out with long decimals, or as a
// 16-bit RGBA image, stays well below it.
inline constexpr std::uintmax_t kMaxKernelFileBytes = 64u << 20;

// The file an "@FILE" spec names, as ParseSpec reads it (whitespace around
// the spec and after the '@' dropped); nullopt for any other spec and for
// "@" alone (ParseSpec's "missing file name after '@'").
std::optional<std::string_view> SpecFileName(std::string_view spec);

// Refuses a kernel file of `bytes` bytes over kMaxKernelFileBytes:
// "file '<path>' is larger than 64 MiB".
void CheckKernelFileSize(std::string_view spec, std::string_view path,
                         std::uintmax_t bytes);

// Refuses an image kernel whose header says it is `cols` x `rows` with a
// side outside 1..kMaxKernelSide, before its pixels are decoded.
void CheckImageKernelSize(std::string_view spec, std::string_view path,
                          int64_t cols, int64_t rows);

// The kernel whose weights are an image's samples (`weights`, row-major,
// rows x cols as io::WeightPlane gives them), with the default anchor
// (cols/2, rows/2). Unless `raw` the weights are divided by their sum, so
// that they sum to 1 (to rounding). Refuses a sample that is not finite
// (a float image), a sum of 0 when normalising, and weights whose absolute
// sum overflows.
Kernel KernelFromImage(std::string_view spec, std::string_view path, int rows,
                       int cols, std::vector<double> weights, bool raw);

// The spec error for an image kernel that cannot be decoded:
// "cannot read image '<path>': <reason>", `reason` as io gives it.
[[noreturn]] void ThrowUnreadableImageKernel(std::string_view spec,
                                             std::string_view path,
                                             std::string_view reason);

}  // namespace convcorr::kernel
