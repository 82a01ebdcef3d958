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

// Every exit code with what it means: the manual page's EXIT STATUS
// (manual.cc), word for word the table of docs/cli.md (a test compares).
struct ExitCodeMeaning {
  int code;
  const char* meaning;
};
inline constexpr ExitCodeMeaning kExitCodeMeanings[] = {
    {kExitOk, "every input processed"},
    {kExitSomeFailed,
     "some inputs failed (missing, unreadable, corrupt, too large, kernel "
     "larger than the image with --size valid, or a format that cannot hold "
     "the result's depth); every other input was written"},
    {kExitUsage, "usage or kernel spec error; nothing was written"},
    {kExitOutput,
     "an output cannot be written (directory not creatable or writable, "
     "disk full); the run stops there"},
    {kExitInternal, "internal error (a bug: please report it)"},
    {kExitInterrupted,
     "interrupted by SIGINT; the file being written is removed"},
    {kExitTerminated,
     "terminated by SIGTERM; the file being written is removed"},
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
