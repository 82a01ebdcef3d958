// Kernel specs: the text a user gives to -k (docs/kernels.md).
#pragma once

#include <string_view>

#include "kernel/kernel.h"

namespace convcorr::kernel {

// Parses a kernel spec: inline rows ("1,0,-1; 2,0,-2; 1,0,-1", fractions
// allowed), the ImageMagick form ("WxH[+X+Y]:v,v,..."), a named kernel
// ("gaussian:1.5,7") or "@FILE". Throws convcorr::Error of kind kKernelSpec
// with the message "kernel spec '<spec>': <reason>".
Kernel ParseSpec(std::string_view spec);

}  // namespace convcorr::kernel
