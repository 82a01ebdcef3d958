// What convcorr tells a newcomer: the examples of --help and the manual
// page, `convcorr help [COMMAND]`, and the one-line errors that point the
// right way (an unknown command or option with "did you mean", a kernel
// given unquoted, a command given nothing). Reading the command line ends
// here, so that tests can check every message in-process.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/command_line.h"

namespace convcorr::cli {

// One example of the "Examples:" footers of --help and of the manual page.
struct Example {
  std::string_view command;  // the command it shows: "convolve"
  std::string_view line;     // what to type, from "convcorr"
  std::string_view what;     // what it does, one line
};

// Every example, grouped by command in the order of `convcorr --help`;
// each command's first one (no quotes in it) is also in `convcorr --help`
// and in the error for a command given nothing.
const std::vector<Example>& Examples();

// The footer of `convcorr --help` (`command` empty) or of `convcorr
// COMMAND --help`: its examples and where to learn more.
std::string HelpFooter(std::string_view command);

// What reading the command line came to.
struct CommandLineOutcome {
  bool run = false;   // the command was parsed: run it
  int exit_code = 0;  // otherwise, exit with this code
  std::string out;    // after printing this on stdout (help, version)
  std::string err;    // and this on stderr (one line)
};

// Parses `args` (the arguments after the program name) with `cl`, a fresh
// DefineCommandLine(). `help [COMMAND]` is `[COMMAND] --help`. A failure
// becomes one line in convcorr's words: an unknown command or option with
// the known one it is a typo of, a kernel spec that the shell split into
// inputs or extra arguments (`-k 1 2 1`), a command given nothing with an
// example, and every other CLI11 error with the --help of its command.
CommandLineOutcome ReadCommandLine(CommandLine& cl,
                                   std::vector<std::string> args);

}  // namespace convcorr::cli
