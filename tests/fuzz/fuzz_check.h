// What the fuzz harnesses check, and how a failed check stops the run: one
// line on stderr, then abort(), which libFuzzer (or the replay driver under
// the test suite) reports as a crash with the input that caused it.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "kernel/kernel.h"

namespace convcorr::fuzz {

inline void Require(bool ok, std::string_view what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz check failed: %.*s\n",
               static_cast<int>(what.size()), what.data());
  std::abort();
}

// A user-facing message: one line, with the expected prefix.
inline void RequireOneLine(std::string_view message, std::string_view prefix) {
  Require(message.find('\n') == std::string_view::npos,
          "an error message spans more than one line");
  Require(message.substr(0, prefix.size()) == prefix,
          "an error message does not start with the expected prefix");
}

// What every kernel that parses must be: a size within 1..kMaxKernelSide,
// one weight per tap, the anchor inside, finite weights with a finite sum
// of magnitudes (the engine adds them up), a finite offset.
inline void RequireWellFormed(const kernel::Kernel& k) {
  Require(k.rows() >= 1 && k.rows() <= kernel::kMaxKernelSide &&
              k.cols() >= 1 && k.cols() <= kernel::kMaxKernelSide,
          "kernel size out of range");
  Require(k.weights().size() == static_cast<size_t>(k.rows()) * k.cols(),
          "weight count differs from rows x cols");
  Require(k.anchor_x() >= 0 && k.anchor_x() < k.cols() && k.anchor_y() >= 0 &&
              k.anchor_y() < k.rows(),
          "anchor outside the kernel");
  double sum_abs = 0;
  for (double w : k.weights()) {
    Require(std::isfinite(w), "a weight is not finite");
    sum_abs += std::abs(w);
  }
  Require(std::isfinite(sum_abs), "the sum of |weights| is not finite");
  Require(std::isfinite(k.offset()), "the offset is not finite");
}

}  // namespace convcorr::fuzz
