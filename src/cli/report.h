// What the filter commands tell the user: failures and notes on stderr,
// results on stdout (text, or one JSON object per line with --json).
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/image.h"
#include "diff/diff.h"
#include "kernel/kernel.h"

namespace convcorr::cli {

// The difference statistics of one compare, as JSON (for --json and the
// batch report).
nlohmann::json DiffStatsJson(const diff::DiffStats& stats);

// Throws a usage error, before anything is written, when stdout is a
// terminal: `what` (kernel --to npy, an image to -o -) writes binary data
// that would garble it. `example` is a file name to redirect it to.
void RefuseBinaryOnTerminal(std::string_view what, std::string_view example);

class Reporter {
 public:
  Reporter(bool quiet, bool verbose, bool json)
      : quiet_(quiet), verbose_(verbose), json_(json) {}

  // What a reporter printed, kept instead of printed (Capture), so that the
  // batch driver can print each input's lines in input order.
  struct Line {
    bool to_stdout = false;
    std::string text;  // ends with a newline
  };
  // From now on, lines are appended to `log` instead of being printed.
  void Capture(std::vector<Line>* log) { log_ = log; }
  // Prints captured lines, in order (stdout flushed after each).
  static void Print(const std::vector<Line>& log);

  // A remark on stderr (suppressed by -q).
  void Note(const std::string& message) const;
  // A line on stderr with -v (and not -q).
  void Verbose(const std::string& line) const;
  // One failed input: its one-line message on stderr, always.
  void Failure(const std::string& message);
  // Reports the samples of one output that were outside its range (a
  // note, suppressed by -q): clipped, or wrapped around under
  // Rounding::kWrap (--compat scipy).
  void Saturated(const std::string& output, uint64_t count, core::Depth depth,
                 core::Rounding rounding) const;
  // A finished convolve/correlate input: `json` as a line on stdout with
  // --json (stderr when the image itself goes to stdout), else `line` on
  // stderr with -v.
  void Done(const std::string& output, const nlohmann::json& json,
            const std::string& line) const;
  // A finished compare input: statistics as text or a JSON line on stdout.
  void CompareResult(const std::string& input,
                     const std::vector<std::filesystem::path>& outputs,
                     const diff::DiffStats& stats,
                     const kernel::Analysis& analysis, const std::string& spec,
                     int width, int height, int channels) const;

  int failures() const { return failures_; }
  bool quiet() const { return quiet_; }
  bool verbose() const { return verbose_; }
  bool json() const { return json_; }

 private:
  void Emit(bool to_stdout, std::string text) const;

  bool quiet_;
  bool verbose_;
  bool json_;
  int failures_ = 0;
  std::vector<Line>* log_ = nullptr;
};

}  // namespace convcorr::cli
