// The command-line front end: parses arguments, runs a command, prints, and
// picks the exit code.
#pragma once

namespace convcorr::cli {

// Runs convcorr with the process arguments; returns the exit code.
int Main(int argc, char** argv);

}  // namespace convcorr::cli
