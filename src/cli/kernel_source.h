// The kernel of -k SPEC (and of `kernel SPEC`): an image file given as
// @FILE (docs/kernels.md, "Image kernels") is decoded by io and made a
// kernel by the kernel layer; every other spec goes to kernel::ParseSpec.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/image.h"
#include "io/image_io.h"
#include "kernel/kernel.h"

namespace convcorr::cli {

// How a kernel spec is read.
struct KernelSourceOptions {
  // --psf-raw: an image kernel's samples as they are, not normalised to
  // sum 1; a usage error for any other spec.
  bool psf_raw = false;
  // The size limit of every image (--max-pixels), checked on the header
  // with the kernel's own limit of 1025 a side.
  uint64_t max_pixels = io::kDefaultMaxPixels;
};

// What an image kernel was read from, for `convcorr kernel`.
struct ImageKernelInfo {
  std::string path;
  int channels = 1;  // as decoded: 1 gray, 2 gray+alpha, 3 colour, 4 + alpha
  core::Depth depth = core::Depth::kU8;
  double sample_sum = 0;  // the weights' sum before normalising
  bool normalized = true;
};

// A kernel read from a spec and, for an image kernel, what it was made of.
struct KernelSource {
  kernel::Kernel kernel = kernel::Kernel(1, 1, {1.0});
  std::optional<ImageKernelInfo> image;  // set for an image kernel
};

// Whether `spec` is "@FILE" for a file with an image extension
// (io::IsImageExtension: png, jpg, tif, pgm, pfm, ...), in any case.
bool IsImageKernelSpec(const std::string& spec);

// The kernel `spec` gives, with the default anchor unless the spec sets
// one. Throws Error(kKernelSpec, "kernel spec '<spec>': <reason>") for a
// malformed spec or an image that cannot be read (io's reason quoted), and
// Error(kUsage) for --psf-raw with a spec that is not an image.
KernelSource ReadKernelSource(const std::string& spec,
                              const KernelSourceOptions& options);

// ReadKernelSource(spec, options).kernel.
kernel::Kernel ReadKernel(const std::string& spec,
                          const KernelSourceOptions& options);

}  // namespace convcorr::cli
