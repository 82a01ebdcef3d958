// The CLI11 definition of every command and option (app.cc), apart from
// Main so that tests can parse with it in-process and main.cc need not
// include CLI11.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>

#include "cli/options.h"

namespace convcorr::cli {

// The definition and the option structs it fills. Held by pointer: CLI11
// keeps the addresses of the fields.
struct CommandLine {
  CLI::App app;
  FilterOptions convolve;
  FilterOptions correlate;
  FilterOptions compare;
  KernelOptions kernel;
  SignalOptions signal;
  CLI::App* convolve_cmd = nullptr;
  CLI::App* correlate_cmd = nullptr;
  CLI::App* compare_cmd = nullptr;
  CLI::App* kernel_cmd = nullptr;
  CLI::App* signal_cmd = nullptr;
};

// The definition Main parses with, which the manual page and the bash
// completion are made from (manual.h). Options that take one of a few words
// (their tables in parse.h) or a number in a range are checked as they are
// read, by the parsers of parse.h: a refused value throws their
// Error(kUsage) out of CommandLine::app.parse.
std::unique_ptr<CommandLine> DefineCommandLine();

}  // namespace convcorr::cli
