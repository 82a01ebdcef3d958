// Which inputs go to which outputs, decided (and checked) before any work.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.h"

namespace convcorr::cli {

// One input and where its results go.
struct Job {
  std::string name;             // as the user sees it: a path or "-"
  std::filesystem::path input;  // empty for stdin
  bool from_stdin = false;
  std::optional<std::string> error;  // input error found while planning
  bool to_stdout = false;
  // convolve/correlate: the output file. compare: the output directory and
  // the stem; files are <dir>/<stem>.<role>.<ext>.
  std::filesystem::path output;
  std::filesystem::path out_dir;
  std::string stem;
  std::string ext;  // encoding of the filtered images
};

struct Plan {
  std::vector<Job> jobs;
  std::filesystem::path out_root;  // the output directory, if one is used
  bool output_is_dir = false;
};

// Expands the inputs (directories, -r, stdin) and maps them to outputs.
// Throws Error(kUsage) for a missing -o, several inputs to one file or to
// stdout, two inputs writing one output, an output that is an input, and an
// unusable --format.
Plan MakePlan(const FilterOptions& options, bool compare);

// The files a compare job writes, in order: convolve, correlate, diff, and
// when asked raw diff and panel.
std::vector<std::filesystem::path> CompareOutputs(const Job& job,
                                                  const FilterOptions& options);

}  // namespace convcorr::cli
