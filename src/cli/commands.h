// The subcommands. Each returns the exit code; errors that end the whole
// run are thrown as convcorr::Error and mapped to exit codes by Main.
#pragma once

#include "cli/options.h"
#include "core/filter.h"

namespace convcorr::cli {

// convolve or correlate every input.
int RunFilter(const FilterOptions& options, core::Mode mode);
// convolve and correlate every input and write the difference.
int RunCompare(const FilterOptions& options);
// Describe a kernel.
int RunKernel(const KernelOptions& options);
// The 1-D form on a list of numbers.
int RunSignal(const SignalOptions& options);

}  // namespace convcorr::cli
