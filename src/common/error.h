// The one error type of convcorr: thrown by kernel, io and cli, caught once in
// cli, which maps its kind to an exit code. The engine (core) never throws.
#pragma once

#include <stdexcept>
#include <string>

namespace convcorr {

// What went wrong, which decides the exit code (see docs/cli.md).
enum class ErrorKind {
  kUsage,       // bad option or argument: exit 2
  kKernelSpec,  // malformed kernel spec: exit 2
  kInput,       // an input cannot be read or decoded: exit 1 for that input
  kOutput,      // an output cannot be written: exit 3
  kInternal,    // a bug: exit 70
};

// An error with a kind and a one-line, user-facing message.
class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message)
      : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace convcorr
