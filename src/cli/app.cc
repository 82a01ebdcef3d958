#include "cli/app.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <csignal>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/format.h"
#include "cli/manual.h"
#include "cli/options.h"
#include "common/error.h"
#include "io/atomic_write.h"
#include "io/image_io.h"

#ifndef CONVCORR_VERSION
#define CONVCORR_VERSION "0.0.0"
#endif

namespace convcorr::cli {

namespace {

// The values of options that take one of a few words, shown as their type
// in --help and the manual and offered by the bash completion (manual.cc);
// tests/cli/cli_manual_test.cc runs every one of them.
constexpr const char* kBorders =
    "reflect101|reflect|replicate|constant[:V]|wrap|mirror|nearest";
constexpr const char* kSizes = "same|valid|full";

// One options struct per subcommand and one function that declares it.
void AddFilterOptions(CLI::App* cmd, FilterOptions& o, bool compare) {
  cmd->add_option("-k,--kernel", o.kernel_spec,
                  "Kernel spec: rows '1,0,-1; 2,0,-2; 1,0,-1', 'WxH+X+Y:...', "
                  "a name like 'sobel-x' or 'gaussian:1.5', or @FILE")
      ->required();
  cmd->add_option("inputs", o.inputs,
                  "Input images, directories (their images; -r recurses) or - "
                  "for stdin");
  cmd->add_option("-o,--output", o.output,
                  compare ? "Output directory (created if missing)"
                          : "Output file, - for stdout, or a directory for "
                            "several inputs (created if missing)");
  cmd->add_flag("-r,--recursive", o.recursive,
                "Also take images from subdirectories of directory inputs");
  cmd->add_option("--ext", o.extensions,
                  "Extensions taken from directory inputs, e.g. jpg,png "
                  "(default: every format OpenCV reads)");
  cmd->add_option("--border", o.border,
                  "reflect101 (default), reflect, replicate, constant[:V] or "
                  "wrap; SciPy names mirror and nearest also work")
      ->type_name(kBorders);
  cmd->add_option("--size", o.size, "Output size: same (default), valid, full")
      ->type_name(kSizes);
  cmd->add_option("--anchor", o.anchor,
                  "Anchor X,Y (column,row) in the kernel; default the centre "
                  "(cols/2, rows/2)");
  cmd->add_option("--compat", o.compat,
                  "Match another tool's numbers: scipy, opencv, imagemagick, "
                  "gmic or torch (anchor of even kernels, default border, "
                  "rounding; docs/compat.md)")
      ->type_name("scipy|opencv|imagemagick|gmic|torch");
  cmd->add_option("--stride", o.stride,
                  "Keep every SY-th output row and SX-th column: N or SY,SX "
                  "(default 1), a CNN layer's stride (docs/cnn.md)");
  cmd->add_option("--dilation", o.dilation,
                  "Spread the kernel taps DY rows and DX columns apart: N or "
                  "DY,DX (default 1), a CNN layer's dilation");
  cmd->add_flag("--normalize", o.normalize,
                "Scale by 1/sum(K) (1/sum of positive weights if the sum is 0)");
  cmd->add_option("--scale", o.scale, "Multiply the sum by S (default 1)");
  cmd->add_option("--bias", o.bias, "Add B after scaling (default 0)");
  cmd->add_flag("--abs", o.abs, "Write |result|");
  cmd->add_option("--depth", o.depth,
                  "Output depth: keep (default), u8, u16, f32 (f32 keeps "
                  "negative values: write TIFF)")
      ->type_name("keep|u8|u16|f32");
  cmd->add_flag("--gray", o.gray, "Convert inputs to one channel first");
  cmd->add_flag("--filter-alpha", o.filter_alpha,
                "Filter alpha like a colour channel instead of copying it");
  cmd->add_option("--threads", o.threads,
                  "Threads for one filter (default 0 = all cores)");
  cmd->add_option("--method", o.method,
                  "SIMD strategy: auto (default, by the cost model), direct, "
                  "sparse (non-zero taps only), separable (1-D passes, kernels "
                  "of rank 1 to 4) or fft")
      ->type_name("auto|direct|sparse|separable|fft");
  cmd->add_flag("--no-simd", o.no_simd,
                "Use the plain reference engine instead of the SIMD one");
  cmd->add_option("--format", o.format,
                  "Encoding for stdout (default png) and directory outputs "
                  "(default: the input's)")
      ->type_name("png|jpg|tif|bmp|pgm|ppm|pfm|webp");
  cmd->add_option("--max-pixels", o.max_pixels,
                  "Refuse images whose header claims more pixels (default "
                  "100000000; 2.5e8 reads as 250000000)");
  cmd->add_option("--quality", o.quality,
                  "JPEG and WebP quality, 1 to 100 (default: JPEG 95, WebP "
                  "lossless)");
  cmd->add_flag("--strip", o.strip,
                "Write no ICC profile, EXIF or XMP to the outputs (they are "
                "carried over by default)");
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
                  "then gets its share of the cores)");
  cmd->add_option("--files-from", o.files_from,
                  "Also process the paths listed in FILE, one per line (- for "
                  "stdin)");
  cmd->add_flag("-0,--null", o.null_separated,
                "The --files-from list is NUL-separated (find -print0)");
  cmd->add_option("--report", o.report,
                  "Write one JSON object per input (status, outputs, error, "
                  "milliseconds) to FILE as each finishes");
  cmd->add_flag("--skip-existing", o.skip_existing,
                "Skip inputs whose outputs already exist and are complete");
  cmd->add_flag("--dry-run", o.dry_run,
                "List what would be done, write nothing");
  cmd->add_option("--shard", o.shard,
                  "Process only slice K of N (K/N, K from 0) of the sorted "
                  "inputs; default from SLURM_ARRAY_TASK_ID/_COUNT");
  cmd->add_option("--shard-count", o.shard_count,
                  "N shards, this one's index from JOB_COMPLETION_INDEX "
                  "(Kubernetes) or SLURM_ARRAY_TASK_ID");
  if (compare) {
    cmd->add_option("--threshold", o.threshold,
                    "Count samples with |diff| above this (default 0)");
    cmd->add_flag("--raw-diff", o.raw_diff,
                  "Also write <stem>.diff.tif, the signed float32 difference");
    cmd->add_flag("--panel", o.panel,
                  "Also write <stem>.panel.png: input | correlate | convolve | "
                  "diff, labelled, with a colour bar");
  }
}

// Lowercase, without a leading dot: "--format .PNG" means png.
void NormaliseFormat(std::string& format) {
  if (!format.empty() && format.front() == '.') format.erase(0, 1);
  std::transform(format.begin(), format.end(), format.begin(),
                 [](unsigned char c) { return std::tolower(c); });
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
}

}  // namespace

int Main(int argc, char** argv) {
  CLI::App app{
      "convcorr: apply a kernel to images as a true convolution or as a "
      "cross-correlation (what CNN layers and OpenCV's filter2D compute), "
      "and show where the two differ."};
  app.set_version_flag("--version", "convcorr " CONVCORR_VERSION);
  app.require_subcommand(1);

  FilterOptions conv_opts;
  FilterOptions corr_opts;
  FilterOptions cmp_opts;
  KernelOptions kernel_opts;
  SignalOptions signal_opts;
  for (FilterOptions* o : {&conv_opts, &corr_opts, &cmp_opts}) {
    o->max_pixels = static_cast<double>(io::kDefaultMaxPixels);
  }

  auto* conv = app.add_subcommand(
      "convolve", "True convolution: the kernel mirrored through its anchor");
  AddFilterOptions(conv, conv_opts, false);
  auto* corr = app.add_subcommand(
      "correlate",
      "Cross-correlation: the kernel as written (filter2D, CNN layers)");
  AddFilterOptions(corr, corr_opts, false);
  auto* cmp = app.add_subcommand(
      "compare",
      "Write convolve, correlate and their difference map for each input");
  AddFilterOptions(cmp, cmp_opts, true);

  auto* kern = app.add_subcommand(
      "kernel", "Print a kernel, its rotation, symmetry, rank and anchor");
  kern->add_option("spec", kernel_opts.spec, "Kernel spec")->required();
  kern->add_option("--anchor", kernel_opts.anchor, "Anchor X,Y");
  kern->add_option("--to", kernel_opts.to,
                   "Print the kernel for another tool: spec, imagemagick, "
                   "gmic, vips, csv or npy (binary: redirect it to a file)")
      ->type_name("spec|imagemagick|gmic|vips|csv|npy");
  kern->add_flag("--json", kernel_opts.json, "Print JSON");

  auto* sig = app.add_subcommand(
      "signal", "The 1-D form: convolve and correlate a list of numbers");
  sig->add_option("values", signal_opts.values,
                  "Comma-separated numbers, e.g. 2,1,3,5,4")
      ->required();
  sig->add_option("-k,--kernel", signal_opts.kernel_spec, "1-D kernel spec")
      ->required();
  auto* sig_size = sig->add_option("--size", signal_opts.size,
                                   "full (default, as numpy), same or valid")
                       ->type_name(kSizes);
  auto* sig_border = sig->add_option(
      "--border", signal_opts.border,
      "Border for full and same (default constant:0)")
      ->type_name(kBorders);
  sig->add_option("--anchor", signal_opts.anchor, "Anchor X,Y");
  sig->add_option("--compat", signal_opts.compat,
                  "Match another tool's numbers: numpy, scipy, opencv, "
                  "imagemagick, gmic or torch (docs/compat.md)")
      ->type_name("numpy|scipy|opencv|imagemagick|gmic|torch");
  sig->add_option("--stride", signal_opts.stride,
                  "Keep every N-th output (default 1), a CNN layer's stride");
  sig->add_option("--dilation", signal_opts.dilation,
                  "Spread the kernel taps N apart (default 1)");
  auto* sig_grad = sig->add_option(
                          "--grad", signal_opts.grad_values,
                          "Gradients of y = correlate_valid(x, w) for the "
                          "upstream gradient G (default all ones), checked "
                          "by finite differences (docs/cnn.md)")
                       ->expected(0, 1);
  sig->add_flag("--json", signal_opts.json, "Print JSON");

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

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::string what = e.what();
    if (what.empty()) what = e.get_name();
    fmt::print(stderr, "usage: {}; see 'convcorr --help'\n", OneLine(what));
    return kExitUsage;
  }

  InstallSignalHandlers();
  try {
    for (FilterOptions* o : {&conv_opts, &corr_opts, &cmp_opts}) {
      NormaliseFormat(o->format);
    }
    for (const auto& [cmd, o] : {std::pair{conv, &conv_opts},
                                 std::pair{corr, &corr_opts},
                                 std::pair{cmp, &cmp_opts}}) {
      o->border_given = cmd->get_option("--border")->count() > 0;
      o->depth_given = cmd->get_option("--depth")->count() > 0;
    }
    if (conv->parsed()) return RunFilter(conv_opts, core::Mode::kConvolve);
    if (corr->parsed()) return RunFilter(corr_opts, core::Mode::kCorrelate);
    if (cmp->parsed()) return RunCompare(cmp_opts);
    if (kern->parsed()) return RunKernel(kernel_opts);
    if (sig->parsed()) {
      signal_opts.size_given = sig_size->count() > 0;
      signal_opts.border_given = sig_border->count() > 0;
      signal_opts.grad = sig_grad->count() > 0;
      return RunSignal(signal_opts);
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
