// Named kernels: "gaussian:1.5,7", "sobel-x", "motion:9,30"...; the names,
// parameters and definitions are in docs/kernels.md.
#pragma once

#include <string_view>

#include "kernel/kernel.h"

namespace convcorr::kernel {

// Builds a named kernel from its name and already-split parameters; `spec` is
// the whole user text, quoted in errors. Throws convcorr::Error of kind
// kKernelSpec with the message "kernel spec '<spec>': <reason>".
Kernel MakeNamedKernel(std::string_view spec, std::string_view name,
                       std::string_view params);

}  // namespace convcorr::kernel
