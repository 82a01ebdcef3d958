// Named kernels: "gaussian:1.5,7", "sobel-x", "motion:9,30"...; the names,
// parameters and definitions are in docs/kernels.md.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "kernel/kernel.h"

namespace convcorr::kernel {

// A named kernel as `convcorr kernel --list` and the manual page show it.
struct NamedKernelInfo {
  std::string_view name;   // "gaussian"
  std::string_view usage;  // "gaussian:SIGMA[,SIZE]"
  size_t min_params = 0;   // parameters after the ':'
  size_t max_params = 0;
  std::string_view description;  // one line
};

// Every named kernel, in the order of docs/kernels.md: the very table that
// MakeNamedKernel reads, so a list made from it cannot go stale.
std::vector<NamedKernelInfo> NamedKernels();

// Builds a named kernel from its name and already-split parameters; `spec` is
// the whole user text, quoted in errors. Throws convcorr::Error of kind
// kKernelSpec with the message "kernel spec '<spec>': <reason>".
Kernel MakeNamedKernel(std::string_view spec, std::string_view name,
                       std::string_view params);

}  // namespace convcorr::kernel
