// The exit codes of convcorr: one table, mirrored in docs/cli.md.
#pragma once

#include "common/error.h"

namespace convcorr::cli {

enum ExitCode : int {
  kExitOk = 0,             // every input processed
  kExitSomeFailed = 1,     // some inputs failed; all others were written
  kExitUsage = 2,          // usage or kernel spec error; nothing written
  kExitOutput = 3,         // an output cannot be written
  kExitInternal = 70,      // a bug (EX_SOFTWARE)
  kExitInterrupted = 130,  // SIGINT
  kExitTerminated = 143,   // SIGTERM
};

// The exit code for an error that ends the run.
inline int ExitCodeFor(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kUsage:
    case ErrorKind::kKernelSpec:
      return kExitUsage;
    case ErrorKind::kInput:
      return kExitSomeFailed;
    case ErrorKind::kOutput:
      return kExitOutput;
    case ErrorKind::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

}  // namespace convcorr::cli
