// The manual page and the bash completion script, generated from the CLI11
// definition of app.cc, so that they list exactly the commands and options
// the parser accepts. The build writes them with the hidden top-level
// options --generate-man and --generate-bash-completion.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

namespace convcorr::cli {

// A man(7) page: name, synopsis, description, every subcommand with its
// positionals and options, exit status.
std::string ManPage(const CLI::App& app, std::string_view version);

// A bash completion script for `complete -F`: subcommands, then each
// subcommand's options, with file names for values and inputs.
std::string BashCompletion(const CLI::App& app);

}  // namespace convcorr::cli
