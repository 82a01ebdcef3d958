// For the in-process cli tests: the usage error a call throws.
#pragma once

#include <functional>
#include <string>

#include "common/error.h"

namespace convcorr::cli {

// The usage error `f` throws, or "" if it throws none (or another kind).
inline std::string UsageError(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.kind() == ErrorKind::kUsage ? e.what() : "";
  }
  return "";
}

}  // namespace convcorr::cli
