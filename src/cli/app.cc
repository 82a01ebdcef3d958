#include "cli/app.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <csignal>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/command_line.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/format.h"
#include "cli/guide.h"
#include "cli/manual.h"
#include "cli/options.h"
#include "cli/parse.h"
#include "cli/words.h"
#include "common/error.h"
#include "io/atomic_write.h"
#include "io/format.h"
#include "io/image_io.h"

#ifndef CONVCORR_VERSION
#define CONVCORR_VERSION "0.0.0"
#endif

namespace convcorr::cli {

namespace {

// CLI11 checks an option's text before converting it. These checks call
// convcorr's own parser of the option (parse.h), so that a refused value is
// the usage error it throws, naming the option, the text and what it takes;
// it leaves CLI::App::parse and is printed as every other usage error.
template <typename Parse>
CLI::Validator Checked(Parse parse) {
  return CLI::Validator(
      [parse](std::string& text) {
        parse(text);
        return std::string();
      },
      "");
}

// An option that takes one of the words of `table`: its type (the words,
// which the man page shows and the completion offers) and its check.
template <typename T, typename Parse>
CLI::Option* WordOption(CLI::Option* option, const WordTable<T>& table,
                        Parse parse) {
  return option->type_name(WordsTypeName(table))->check(Checked(parse));
}

// A number in `range`; text that is not a number of type T is left to
// CLI11's conversion, which refuses it as it always has.
template <typename T>
CLI::Validator InRange(const Range& range) {
  return CLI::Validator(
      [&range](std::string& text) {
        T value{};
        if (CLI::detail::lexical_cast(text, value)) {
          CheckRange(range, static_cast<double>(value));
        }
        return std::string();
      },
      "");
}

// One options struct per subcommand and one function that declares it.
void AddFilterOptions(CLI::App* cmd, FilterOptions& o, bool compare) {
  cmd->add_option("-k,--kernel", o.kernel_spec,
                  "Kernel spec: rows '1,0,-1; 2,0,-2; 1,0,-1' (quoted), "
                  "'WxH+X+Y:...', a name like 'sobel-x' or 'gaussian:1.5' "
                  "(convcorr kernel --list), or @FILE (text, or an image "
                  "drawn as the point-spread function)")
      ->required();
  cmd->add_option("inputs", o.inputs,
                  "Input images, directories (their images; -r recurses) or - "
                  "for stdin");
  // Required, but checked when the outputs are planned (plan.h), after the
  // kernel spec, with a message that says what -o takes: help shows it
  // required all the same.
  cmd->add_option("-o,--output", o.output,
                  compare ? "Output directory (created if missing)"
                          : "Output file, - for stdout, or a directory for "
                            "several inputs (created if missing)")
      ->option_text("TEXT REQUIRED");
  cmd->add_flag("-r,--recursive", o.recursive,
                "Also take images from subdirectories of directory inputs");
  cmd->add_option("--ext", o.extensions,
                  "Extensions taken from directory inputs, e.g. jpg,png "
                  "(default: every format convcorr reads)")
      ->check(Checked(ParseExtensions));
  WordOption(
      cmd->add_option("--border", o.border, WordsHelp(BorderWords(), o.border)),
      BorderWords(), ParseBorder);
  WordOption(cmd->add_option("--size", o.size,
                             "Output size: " + WordsHelp(SizeWords(), o.size)),
             SizeWords(), ParseSize);
  cmd->add_option("--anchor", o.anchor,
                  "Anchor X,Y (column,row) in the kernel; default the centre "
                  "(cols/2, rows/2)");
  // numpy is accepted, then refused with its reason (1-D only): the type
  // and the text list the tools for images.
  const WordTable<Compat> image_tools =
      KeepWords(CompatWords(), [](const Compat& c) { return c.images; });
  WordOption(cmd->add_option(
                 "--compat", o.compat,
                 "Match another tool's numbers: " + WordsHelp(image_tools) +
                     " (anchor of even kernels, default border, "
                     "rounding; docs/compat.md)"),
             image_tools, ParseCompat);
  cmd->add_option("--stride", o.stride,
                  "Keep every SY-th output row and SX-th column: N or SY,SX "
                  "(default 1), a CNN layer's stride (docs/cnn.md)")
      ->check(Checked([](const std::string& t) { ParseStep("--stride", t); }));
  cmd->add_option("--dilation", o.dilation,
                  "Spread the kernel taps DY rows and DX columns apart: N or "
                  "DY,DX (default 1), a CNN layer's dilation")
      ->check(
          Checked([](const std::string& t) { ParseStep("--dilation", t); }));
  cmd->add_flag(
      "--normalize", o.normalize,
      "Scale by 1/sum(K) (1/sum of positive weights if the sum is 0)");
  cmd->add_flag("--psf-raw", o.psf_raw,
                "An image kernel (-k @FILE.png) with its samples as they are "
                "(0..1, float as stored) instead of normalised to sum 1");
  cmd->add_option("--scale", o.scale, "Multiply the sum by S (default 1)");
  cmd->add_option("--bias", o.bias, "Add B after scaling (default 0)");
  cmd->add_flag("--abs", o.abs, "Write |result|");
  WordOption(
      cmd->add_option("--depth", o.depth,
                      "Output depth: " + WordsHelp(DepthWords(), o.depth)),
      DepthWords(), ParseDepth);
  cmd->add_flag("--gray", o.gray, "Convert inputs to one channel first");
  cmd->add_flag("--filter-alpha", o.filter_alpha,
                "Filter alpha like a colour channel instead of copying it");
  cmd->add_flag("--no-alpha-weighting", o.no_alpha_weighting,
                "Filter colour as stored under alpha; by default each colour "
                "sample is weighted by its alpha, so that transparent pixels "
                "do not bleed");
  cmd->add_flag("--linear", o.linear,
                "Filter 8- and 16-bit samples in linear light: decoded with "
                "the sRGB curve, filtered, encoded back (float images are "
                "taken as linear)");
  cmd->add_option("--threads", o.threads,
                  "Threads for one filter and for deflating a large PNG "
                  "(default 0 = all cores)")
      ->check(InRange<int>(kThreadsRange));
  WordOption(
      cmd->add_option("--method", o.method,
                      "SIMD strategy: " + WordsHelp(MethodWords(), o.method)),
      MethodWords(), ParseMethod);
  cmd->add_flag("--no-simd", o.no_simd,
                "Use the plain reference engine instead of the SIMD one");
  // ".PNG" is png: normalised first, then checked.
  cmd->add_option("--format", o.format,
                  "Encoding for stdout (default png) and directory outputs "
                  "(default: the input's)")
      ->type_name(fmt::format("{}", fmt::join(io::WritableExtensions(), "|")))
      ->transform(CLI::Validator(
          [](std::string& text) {
            text = NormaliseFormat(text);
            return std::string();
          },
          ""))
      ->check(Checked(CheckWritableFormat));
  cmd->add_option("--max-pixels", o.max_pixels,
                  "Refuse images whose header claims more pixels (default "
                  "100000000; 2.5e8 reads as 250000000)")
      ->check(InRange<double>(kMaxPixelsRange));
  cmd->add_option("--quality", o.quality,
                  "JPEG and WebP quality, 1 to 100 (default: JPEG 95, WebP "
                  "lossless)")
      ->check(InRange<int>(kQualityRange));
  cmd->add_flag("--strip", o.strip,
                "Write no ICC profile, EXIF or XMP to the outputs (they are "
                "carried over by default); the line saying what made the file "
                "stays");
  cmd->add_flag("--no-auto-orient", o.no_auto_orient,
                "Filter the pixels as stored, ignoring the EXIF orientation "
                "(which the outputs then keep)");
  cmd->add_flag("--json", o.json, "Print one JSON object per input");
  auto* quiet = cmd->add_flag("-q,--quiet", o.quiet,
                              "Print only errors (and --json lines)");
  cmd->add_flag("-v,--verbose", o.verbose, "Print a line per file")
      ->excludes(quiet);
  // Batch runs (docs/batch.md).
  cmd->add_option("-j,--jobs", o.jobs,
                  "Files in flight (default 0 = one per core; each filter "
                  "then gets its share of the cores)")
      ->check(InRange<int>(kJobsRange));
  cmd->add_option("--files-from", o.files_from,
                  "Also process the paths listed in FILE, one per line (- for "
                  "stdin)");
  cmd->add_flag("-0,--null", o.null_separated,
                "The --files-from list is NUL-separated (find -print0)");
  cmd->add_option("--report", o.report,
                  "Write one JSON object per input (status, outputs, error, "
                  "milliseconds) to FILE as each finishes");
  cmd->add_flag("--skip-existing", o.skip_existing,
                "Skip inputs whose outputs already exist, are complete and "
                "record this run's settings; redo the others");
  cmd->add_flag("--dry-run", o.dry_run,
                "List what would be done, write nothing");
  cmd->add_option("--shard", o.shard,
                  "Process only slice K of N (K/N, K from 0) of the sorted "
                  "inputs; default from SLURM_ARRAY_TASK_ID/_COUNT");
  cmd->add_option("--shard-count", o.shard_count,
                  "N shards, this one's index from JOB_COMPLETION_INDEX "
                  "(Kubernetes) or SLURM_ARRAY_TASK_ID")
      ->check(InRange<int>(kShardCountRange));
  if (compare) {
    cmd->add_option("--threshold", o.threshold,
                    "Count samples with |diff| above this (default 0)");
    cmd->add_option("--diff-range", o.diff_range,
                    "Colour range of the difference map: p99.5 (default: "
                    "that percentile of the nonzero |diff|; larger values "
                    "saturate), pNN, max, or a value")
        ->type_name("RANGE")
        ->check(Checked([](const std::string& t) { ParseDiffRange(t); }));
    cmd->add_flag("--raw-diff", o.raw_diff,
                  "Also write <stem>.diff.tif, the signed float32 difference");
    cmd->add_flag("--panel", o.panel,
                  "Also write <stem>.panel.png: input | correlate | convolve | "
                  "diff, labelled, with a colour bar");
    cmd->add_flag("--html", o.html,
                  "Also write OUTDIR/index.html: thumbnails, statistics "
                  "(sortable), the kernel's S/A split and failed inputs");
  } else {
    // Taken so that the refusal can say where it belongs (RunFilter);
    // not in this command's help.
    cmd->add_flag("--html", o.html)->group("");
  }
}

extern "C" void OnSignal(int sig) {
  // Only async-signal-safe calls here: drop the temporary file being
  // written, if any, and leave with 128 + signal.
  io::RemovePendingTempFile();
  _exit(sig == SIGINT ? kExitInterrupted : kExitTerminated);
}

void InstallSignalHandlers() {
  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // A closed pipe on stdout is an output error (exit 3), not a silent death.
  std::signal(SIGPIPE, SIG_IGN);
  // So is a write past the file-size limit (ulimit -f): EFBIG, as on a full
  // disk, instead of a death that leaves temporary files behind.
  std::signal(SIGXFSZ, SIG_IGN);
}

}  // namespace

std::unique_ptr<CommandLine> DefineCommandLine() {
  auto cl = std::make_unique<CommandLine>();
  CLI::App& app = cl->app;
  app.description(
      "convcorr: apply a kernel to images as a true convolution or as a "
      "cross-correlation (what CNN layers and OpenCV's filter2D compute), "
      "and show where the two differ.");
  app.name("convcorr");
  app.set_version_flag("--version", "convcorr " CONVCORR_VERSION);
  app.require_subcommand(1);
  app.footer(HelpFooter(""));

  for (FilterOptions* o : {&cl->convolve, &cl->correlate, &cl->compare}) {
    o->max_pixels = static_cast<double>(io::kDefaultMaxPixels);
  }

  cl->convolve_cmd = app.add_subcommand(
      "convolve", "True convolution: the kernel mirrored through its anchor");
  AddFilterOptions(cl->convolve_cmd, cl->convolve, false);
  cl->convolve_cmd->footer(HelpFooter("convolve"));
  cl->correlate_cmd = app.add_subcommand(
      "correlate",
      "Cross-correlation: the kernel as written (filter2D, CNN layers)");
  AddFilterOptions(cl->correlate_cmd, cl->correlate, false);
  cl->correlate_cmd->footer(HelpFooter("correlate"));
  cl->compare_cmd = app.add_subcommand(
      "compare",
      "Write convolve, correlate and their difference map for each input");
  AddFilterOptions(cl->compare_cmd, cl->compare, true);
  cl->compare_cmd->footer(HelpFooter("compare"));

  KernelOptions& ko = cl->kernel;
  CLI::App* kern = cl->kernel_cmd = app.add_subcommand(
      "kernel", "Print a kernel, its rotation, symmetry, rank and anchor");
  kern->footer(HelpFooter("kernel"));
  kern->add_option("spec", ko.spec,
                   "Kernel spec: inline rows, 'WxH+X+Y:...', a named kernel "
                   "(--list) or @FILE (text or image)");
  kern->add_flag("--list", ko.list,
                 "List every named kernel with its parameters and what it is");
  kern->add_option("--anchor", ko.anchor, "Anchor X,Y");
  kern->add_flag("--psf-raw", ko.psf_raw,
                 "An image kernel (@FILE.png) with its samples as they are "
                 "instead of normalised to sum 1");
  WordOption(kern->add_option("--to", ko.to,
                              "Print the kernel for another tool: " +
                                  WordsHelp(KernelFormatWords())),
             KernelFormatWords(), ParseKernelFormat);
  kern->add_flag("--json", ko.json, "Print JSON");

  SignalOptions& so = cl->signal;
  CLI::App* sig = cl->signal_cmd = app.add_subcommand(
      "signal", "The 1-D form: convolve and correlate a list of numbers");
  sig->footer(HelpFooter("signal"));
  sig->add_option("values", so.values,
                  "Comma-separated numbers, e.g. 2,1,3,5,4")
      ->required();
  sig->add_option("-k,--kernel", so.kernel_spec, "1-D kernel spec")->required();
  WordOption(sig->add_option(
                 "--size", so.size,
                 "Output size: " + WordsHelp(SizeWords(), so.size, "as numpy")),
             SizeWords(), ParseSize);
  WordOption(sig->add_option("--border", so.border,
                             "Border for full and same (default " + so.border +
                                 "): " + WordsHelp(BorderWords())),
             BorderWords(), ParseBorder);
  sig->add_option("--anchor", so.anchor, "Anchor X,Y");
  sig->add_flag("--psf-raw", so.psf_raw,
                "An image kernel (@FILE.png) with its samples as they are "
                "instead of normalised to sum 1");
  WordOption(sig->add_option(
                 "--compat", so.compat,
                 "Match another tool's numbers: " + WordsHelp(CompatWords()) +
                     " (docs/compat.md)"),
             CompatWords(), ParseCompat);
  sig->add_option("--stride", so.stride,
                  "Keep every N-th output (default 1), a CNN layer's stride")
      ->check(
          Checked([](const std::string& t) { ParseStep1D("--stride", t); }));
  sig->add_option("--dilation", so.dilation,
                  "Spread the kernel taps N apart (default 1)")
      ->check(
          Checked([](const std::string& t) { ParseStep1D("--dilation", t); }));
  sig->add_option("--grad", so.grad_values,
                  "Gradients of y = correlate_valid(x, w) for the upstream "
                  "gradient G (default all ones), checked by finite "
                  "differences (docs/cnn.md)")
      ->expected(0, 1);
  sig->add_flag("--json", so.json, "Print JSON");
  return cl;
}

int Main(int argc, char** argv) {
  const std::unique_ptr<CommandLine> cl = DefineCommandLine();
  CLI::App& app = cl->app;

  // Hidden: the build writes the manual page and the bash completion from
  // this very definition (cli/manual.h).
  if (argc == 2 && std::string_view(argv[1]) == "--generate-man") {
    fmt::print("{}", ManPage(app, CONVCORR_VERSION));
    return kExitOk;
  }
  if (argc == 2 && std::string_view(argv[1]) == "--generate-bash-completion") {
    fmt::print("{}", BashCompletion(app));
    return kExitOk;
  }

  const CommandLineOutcome read =
      ReadCommandLine(*cl, std::vector<std::string>(argv + 1, argv + argc));
  if (!read.run) {
    fmt::print("{}", read.out);
    fmt::print(stderr, "{}", read.err);
    return read.exit_code;
  }

  InstallSignalHandlers();
  try {
    for (const auto& [cmd, o] : {std::pair{cl->convolve_cmd, &cl->convolve},
                                 std::pair{cl->correlate_cmd, &cl->correlate},
                                 std::pair{cl->compare_cmd, &cl->compare}}) {
      o->border_given = cmd->get_option("--border")->count() > 0;
      o->depth_given = cmd->get_option("--depth")->count() > 0;
    }
    if (cl->convolve_cmd->parsed()) {
      return RunFilter(cl->convolve, core::Mode::kConvolve);
    }
    if (cl->correlate_cmd->parsed()) {
      return RunFilter(cl->correlate, core::Mode::kCorrelate);
    }
    if (cl->compare_cmd->parsed()) return RunCompare(cl->compare);
    if (cl->kernel_cmd->parsed()) return RunKernel(cl->kernel);
    if (cl->signal_cmd->parsed()) {
      SignalOptions& so = cl->signal;
      CLI::App* sig = cl->signal_cmd;
      so.size_given = sig->get_option("--size")->count() > 0;
      so.border_given = sig->get_option("--border")->count() > 0;
      so.grad = sig->get_option("--grad")->count() > 0;
      return RunSignal(so);
    }
    return kExitUsage;
  } catch (const Error& e) {
    fmt::print(stderr, "{}\n", OneLine(e.what()));
    return ExitCodeFor(e.kind());
  } catch (const std::bad_alloc&) {
    fmt::print(stderr, "out of memory\n");
    return kExitSomeFailed;
  } catch (const std::exception& e) {
    fmt::print(stderr, "internal error: {}\n", OneLine(e.what()));
    return kExitInternal;
  }
}

}  // namespace convcorr::cli
