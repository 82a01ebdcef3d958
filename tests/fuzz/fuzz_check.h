// What the fuzz harnesses check, and how a failed check stops the run: one
// line on stderr, then abort(), which libFuzzer (or the replay driver under
// the test suite) reports as a crash with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

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

}  // namespace convcorr::fuzz
