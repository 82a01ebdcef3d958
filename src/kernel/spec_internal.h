// Parser pieces shared by spec.cc and named.cc; private to the kernel layer.
#pragma once

#include <string>
#include <string_view>

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

}  // namespace convcorr::kernel::internal
