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

// Every exit code with what it means, for the manual page (manual.cc).
struct ExitCodeMeaning {
  int code;
  const char* meaning;
};
inline constexpr ExitCodeMeaning kExitCodeMeanings[] = {
    {kExitOk, "every input was processed"},
    {kExitSomeFailed,
     "some inputs failed (missing, unreadable, corrupt, too large); every "
     "other input was written"},
    {kExitUsage,
     "usage error or malformed kernel spec; nothing was read or written"},
    {kExitOutput, "an output could not be written; the run stopped"},
    {kExitInternal, "internal error (a bug)"},
    {kExitInterrupted, "interrupted by SIGINT; no partial file is left"},
    {kExitTerminated, "terminated by SIGTERM; no partial file is left"},
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
