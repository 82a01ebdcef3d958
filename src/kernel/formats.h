// Kernel interchange: a kernel written as another tool reads it. Reading
// goes through ParseSpec (G'MIC "(a,b;c,d)" and ImageMagick "WxH+X+Y:..."
// inline, @FILE.npy, @FILE.mat, CSV and text files); docs/kernels.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "kernel/kernel.h"

namespace convcorr::kernel {

enum class KernelFormat {
  kSpec,         // convcorr's inline rows: "1,0,-1; 2,0,-2; 1,0,-1"
  kImageMagick,  // "3x3+1+1: 1,0,-1,2,0,-2,1,0,-1" (-morphology Convolve)
  kGmic,         // "(1,0,-1;2,0,-2;1,0,-1)" (G'MIC's convolve)
  kVips,         // libvips .mat text: "W H SCALE OFFSET", then the rows
  kCsv,          // one row per line, comma-separated
  kNpy,          // NumPy .npy: float64, shape (rows, cols), C order
};

// The names of the formats, the one list of them (`kernel --to` builds its
// check, --help and message from it), in the order they are listed; an
// alias is another name of the format before it.
struct KernelFormatName {
  std::string_view name;
  KernelFormat format;
  bool alias = false;
};
inline constexpr KernelFormatName kKernelFormatNames[] = {
    {"spec", KernelFormat::kSpec},
    {"imagemagick", KernelFormat::kImageMagick},
    {"im", KernelFormat::kImageMagick, true},
    {"gmic", KernelFormat::kGmic},
    {"vips", KernelFormat::kVips},
    {"mat", KernelFormat::kVips, true},
    {"csv", KernelFormat::kCsv},
    {"npy", KernelFormat::kNpy},
};

// The format kKernelFormatNames gives `name`, if any.
std::optional<KernelFormat> KernelFormatFromName(std::string_view name);

// The kernel in `format` (the bytes of a file for npy). Numbers are written
// in their shortest exact form, so reading the result gives the same
// weights. Formats without an anchor (all but imagemagick) refuse a kernel
// whose anchor is not the default centre, and formats without an offset
// (all but vips) one with an offset: Error(kUsage) naming `spec`.
std::string WriteKernel(const Kernel& k, KernelFormat format,
                        std::string_view spec);

namespace internal {

// The readers of kernel files made by other tools, for ParseSpec's @FILE
// (and the fuzzer); `bytes` and `text` are the whole file, `path` its name
// and `spec` the whole user text, quoted in errors. Both throw
// convcorr::Error of kind kKernelSpec.
// @FILE.npy: NumPy, 1-D or 2-D, float or integer, either byte order, C or
// Fortran order.
Kernel ReadNpy(std::string_view spec, std::string_view path,
               std::string_view bytes);
// @FILE.mat: libvips, "W H [SCALE [OFFSET]]" then the rows; weights divided
// by SCALE, OFFSET kept as the kernel's offset.
Kernel ReadVipsMat(std::string_view spec, std::string_view path,
                   std::string_view text);

}  // namespace internal

}  // namespace convcorr::kernel
