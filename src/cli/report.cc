#include "cli/report.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <mutex>

#include "cli/format.h"
#include "common/error.h"

namespace convcorr::cli {

void RefuseBinaryOnTerminal(std::string_view what, std::string_view example) {
  if (::isatty(STDOUT_FILENO) == 1) {
    throw Error(ErrorKind::kUsage,
                fmt::format("{} writes binary data: redirect it to a file, "
                            "e.g. > {}",
                            what, example));
  }
}

nlohmann::json DiffStatsJson(const diff::DiffStats& stats) {
  return {
      {"identical", stats.identical},
      {"max_abs_diff", DoubleJson(stats.max_abs)},
      {"max_location",
       {{"x", stats.max_x},
        {"y", stats.max_y},
        {"channel", stats.max_channel}}},
      {"mean_abs_diff", DoubleJson(stats.mean_abs)},
      {"rms", DoubleJson(stats.rms)},
      {"psnr", DoubleJson(stats.psnr)},
      {"peak", DoubleJson(stats.peak)},
      {"threshold", DoubleJson(stats.threshold)},
      {"share_above_threshold", DoubleJson(stats.share_above)},
      {"samples", stats.samples},
      {"map_range", DoubleJson(stats.map_range)},
      {"map_range_rule", stats.map_rule},
  };
}

void Reporter::Print(const std::vector<Line>& log) {
  // One file's lines together, not interleaved with another thread's.
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  for (const Line& line : log) {
    if (line.to_stdout) {
      fmt::print(stdout, "{}", line.text);
      std::fflush(stdout);
    } else {
      fmt::print(stderr, "{}", line.text);
    }
  }
}

void Reporter::Emit(bool to_stdout, std::string text) const {
  if (log_ != nullptr) {
    log_->push_back({to_stdout, std::move(text)});
    return;
  }
  Print({{to_stdout, std::move(text)}});
}

void Reporter::Note(const std::string& message) const {
  if (!quiet_) Emit(false, fmt::format("note: {}\n", OneLine(message)));
}

void Reporter::Verbose(const std::string& line) const {
  if (verbose_ && !quiet_) Emit(false, line + "\n");
}

void Reporter::Failure(const std::string& message) {
  ++failures_;
  Emit(false, OneLine(message) + "\n");
}

void Reporter::Saturated(const std::string& output, uint64_t count,
                         core::Depth depth, core::Rounding rounding) const {
  if (count == 0) return;
  const std::string max = FormatDouble(core::DepthMax(depth));
  const char* plural = count == 1 ? "" : "s";
  if (rounding == core::Rounding::kWrap) {
    Note(fmt::format(
        "output '{}': {} sample{} outside 0..{} wrapped around (the low "
        "{} bits kept, as SciPy's integer cast does; use --depth f32, "
        "--scale or --bias to keep them)",
        output, count, plural, max, depth == core::Depth::kU8 ? 8 : 16));
    return;
  }
  Note(
      fmt::format("output '{}': {} sample{} clipped to 0..{} (use --depth "
                  "f32, --scale or --bias to keep them)",
                  output, count, plural, max));
}

void Reporter::Done(const std::string& output, const nlohmann::json& json,
                    const std::string& line) const {
  if (json_) {
    Emit(output != "-", json.dump() + "\n");
  } else {
    Verbose(line);
  }
}

void Reporter::CompareResult(const std::string& input,
                             const std::vector<std::filesystem::path>& outputs,
                             const diff::DiffStats& stats,
                             const kernel::Analysis& analysis,
                             const std::string& spec, int width, int height,
                             int channels) const {
  if (json_) {
    nlohmann::json files = nlohmann::json::array();
    for (const auto& p : outputs) files.push_back(p.string());
    nlohmann::json j = {
        {"input", input},
        {"outputs", files},
        {"width", width},
        {"height", height},
        {"channels", channels},
        {"kernel",
         {{"spec", spec},
          {"asymmetry", DoubleJson(analysis.asymmetry)},
          {"centro_symmetric", analysis.centro_symmetric},
          {"convolve_equals_correlate", analysis.convolve_equals_correlate}}},
    };
    j.update(DiffStatsJson(stats));
    Emit(true, j.dump() + "\n");
    return;
  }
  if (quiet_) return;
  std::string text = fmt::format(
      "{}: {}x{}, {} channel{}, kernel '{}' (asymmetry {:.4g})\n", input, width,
      height, channels, channels == 1 ? "" : "s", spec, analysis.asymmetry);
  if (stats.identical) {
    text += fmt::format(
        "  difference: exactly zero everywhere: convolve == correlate{}\n",
        analysis.convolve_equals_correlate
            ? " (the kernel is centro-symmetric about its anchor)"
            : "");
  } else {
    text += fmt::format(
        "  max |diff| {} at x={} y={} channel {}\n"
        "  mean |diff| {:.6g}, rms {:.6g}, psnr {:.2f} dB (peak {:.6g})\n"
        "  share |diff| > {:.6g}: {:.2f}%\n",
        diff::FormatDiff(stats.max_abs), stats.max_x, stats.max_y,
        stats.max_channel, stats.mean_abs, stats.rms, stats.psnr, stats.peak,
        stats.threshold, 100.0 * stats.share_above);
    text += fmt::format(
        "  diff map: -{0} to +{0} ({1}){2}\n",
        diff::FormatDiff(stats.map_range),
        stats.map_rule == "max"    ? "the largest |diff|"
        : stats.map_rule[0] == 'p' ? stats.map_rule + " of the nonzero |diff|"
                                   : "--diff-range " + stats.map_rule,
        stats.max_abs > stats.map_range ? "; larger |diff| saturate" : "");
  }
  text += "  wrote:";
  for (const auto& p : outputs) {
    text += ' ';
    text += p.string();
  }
  Emit(true, text + "\n");
}

}  // namespace convcorr::cli
