// Parser pieces shared by spec.cc and named.cc; private to the kernel layer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "kernel/kernel.h"

namespace convcorr::kernel::internal {

// The user's text made safe to quote in a one-line message (control
// characters become spaces, invalid UTF-8 becomes '?', long text is cut).
std::string Printable(std::string_view text);
// Throws Error(kKernelSpec, "kernel spec '<spec>': <reason>").
[[noreturn]] void ThrowSpecError(std::string_view spec,
                                 std::string_view reason);
// Parses one number token (decimal or fraction) or throws a spec error whose
// reason starts with `prefix`.
double ParseNumberOrThrow(std::string_view spec, std::string_view prefix,
                          std::string_view token);

// Shared with formats.cc: the whole file (at most 64 MiB), and the check
// that the sum of |weights| is finite.
std::string ReadFile(std::string_view spec, std::string_view path);
void CheckWeights(std::string_view spec, const std::vector<double>& weights);

// @FILE.npy (NumPy: 1-D or 2-D, float or integer, either byte order, C or
// Fortran order) and @FILE.mat (libvips: "W H [SCALE [OFFSET]]" then the
// rows; weights divided by SCALE, OFFSET kept as the kernel's offset).
Kernel ReadNpy(std::string_view spec, std::string_view path,
               std::string_view bytes);
Kernel ReadVipsMat(std::string_view spec, std::string_view path,
                   std::string_view text);

}  // namespace convcorr::kernel::internal
