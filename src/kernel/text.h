// Text helpers and the spec error shared by the kernel parsers (spec.cc,
// named.cc, formats.cc); private to the kernel layer. A leaf: it includes
// nothing else from src/kernel.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace convcorr::kernel::internal {

// Whitespace between values and around a spec. '\n' is listed too: it
// separates rows in inline specs but is plain whitespace in the IM form.
inline constexpr std::string_view kSpace = " \t\n\r\v\f";

inline bool IsSpace(char c) { return kSpace.find(c) != std::string_view::npos; }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `text` without the kSpace characters at either end.
std::string_view Trim(std::string_view text);

// Whether `a` and `b` are equal with ASCII letters compared case-blind
// (other bytes compared as they are).
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// The user's text made safe to quote in a one-line message (control
// characters become spaces, invalid UTF-8 becomes '?', text longer than 80
// characters is cut to 77 and "...").
std::string Printable(std::string_view text);

// Printable(text) in single quotes.
std::string Quoted(std::string_view text);

// Throws Error(kKernelSpec, "kernel spec '<spec>': <reason>").
[[noreturn]] void ThrowSpecError(std::string_view spec,
                                 std::string_view reason);

// Parses one number token, [+-]DECIMAL or [+-]DECIMAL/DECIMAL, where
// DECIMAL is what std::from_chars reads (digits, point, exponent, inf, nan).
// The result may be inf or nan (the caller says what must be finite); a
// decimal out of range gives +-inf or +-0. A malformed token throws a spec
// error "<prefix>'<token>' is not a number", a zero denominator
// "<prefix>'<token>' divides by zero".
double ParseNumberOrThrow(std::string_view spec, std::string_view prefix,
                          std::string_view token);

// Refuses weights so large that sums over them overflow (the engine and
// --normalize add them up): throws the spec error "the sum of |weights|
// must be finite".
void CheckAbsSumFinite(std::string_view spec,
                       const std::vector<double>& weights);

}  // namespace convcorr::kernel::internal
