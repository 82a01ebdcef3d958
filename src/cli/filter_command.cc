// convolve, correlate and compare: plan, then per input read, filter,
// quantize, encode and write atomically. Input failures are reported and the
// run goes on (exit 1); output failures end it (exit 3).
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>
#include <utility>
#include <vector>

#include "cli/bands.h"
#include "cli/batch.h"
#include "cli/commands.h"
#include "cli/compare_bands.h"
#include "cli/exit_codes.h"
#include "cli/format.h"
#include "cli/html_page.h"
#include "cli/kernel_source.h"
#include "cli/parse.h"
#include "cli/plan.h"
#include "cli/provenance.h"
#include "cli/report.h"
#include "common/error.h"
#include "core/filter.h"
#include "diff/diff.h"
#include "io/atomic_write.h"
#include "io/files.h"
#include "io/format.h"
#include "io/image_io.h"
#include "io/provenance.h"
#include "kernel/kernel.h"

namespace convcorr::cli {

namespace fs = std::filesystem;

namespace {

// Everything decided from the options before the first input is read.
struct Setup {
  kernel::Kernel kernel;
  std::string spec;
  core::FilterParams params;
  DepthChoice depth;
  io::DecodeOptions decode;
  io::EncodeOptions encode;
  bool strip = false;  // --strip: outputs carry no metadata
  kernel::Analysis analysis;
  // Said once the plan is known to be good, so that a usage error is the
  // only line a failed run prints.
  std::vector<std::string> notes;
  std::string engine;          // for -v: "engine: simd AVX2, strategy direct"
  diff::DiffRange diff_range;  // compare's heat map range (--diff-range)
  // The kernel and params prepared once for every input (core decides the
  // strategy, the compare plan and each input's path).
  std::unique_ptr<core::PreparedFilter> filter;
  // What each output records of the run (cli/provenance.h).
  ProvenanceSettings provenance;
  kernel::Kernel conv_kernel;  // compare's convolve kernel (its own anchor)
  bool compare = false;
};

// `mode` for convolve and correlate; compare makes both.
Setup MakeSetup(const FilterOptions& o, bool compare, core::Mode mode) {
  const Compat compat = ParseCompat(o.compat);
  if (!compat.images) {
    throw Error(ErrorKind::kUsage,
                "--compat numpy: NumPy convolves 1-D arrays only; use it with "
                "signal, or --compat scipy for images");
  }
  // Read as a number so that 2.5e8 is accepted; a whole count of pixels.
  // Checked before the kernel, which may be an image read with it.
  CheckRange(kMaxPixelsRange, o.max_pixels);
  KernelSourceOptions source;
  source.psf_raw = o.psf_raw;
  source.max_pixels = static_cast<uint64_t>(o.max_pixels);
  kernel::Kernel k = ApplyAnchor(ReadKernel(o.kernel_spec, source), o.anchor);
  // The tool's anchor for even sizes, per mode where the tool's differ
  // (PyTorch): compare then correlates with k and convolves with conv_k.
  kernel::Kernel conv_k = k;
  if (o.anchor.empty()) {
    conv_k = CompatAnchor(k, compat, compare ? core::Mode::kConvolve : mode);
    k = CompatAnchor(k, compat, compare ? core::Mode::kCorrelate : mode);
  }
  const Step stride = ParseStep("--stride", o.stride);
  const Step dilation = ParseStep("--dilation", o.dilation);
  k = DilateKernel(k, dilation, o.kernel_spec);
  conv_k = DilateKernel(conv_k, dilation, o.kernel_spec);
  core::FilterParams params;
  params.mode = mode;
  params.border = o.border_given || compat.tool.empty() ? ParseBorder(o.border)
                                                        : compat.border;
  params.size = ParseSize(o.size);
  params.scale = o.scale;
  // A kernel file's offset (libvips .mat) is added like --bias.
  params.bias = o.bias + k.offset();
  params.abs = o.abs;
  params.filter_alpha = o.filter_alpha;
  // The --compat presets reproduce tools that filter colour as stored
  // (ImageMagick's own weighting is its arithmetic's).
  params.alpha_weighted = !o.no_alpha_weighting && compat.tool.empty();
  params.linear = o.linear;
  params.threads = o.threads;
  params.simd = !o.no_simd;
  params.method = ParseMethod(o.method);
  params.stride_y = stride.y;
  params.stride_x = stride.x;
  params.rounding = compat.rounding;
  // Truncating as SciPy does flips a result that lands a float rounding
  // away from a whole number: the direct strategy sums exactly wherever the
  // products are exact (docs/compat.md). ImageMagick's arithmetic has its
  // own path (core::FilterImageMagick, set per output by FilterFor).
  if (compat.rounding == core::Rounding::kWrap &&
      params.method == core::Method::kAuto) {
    params.method = core::Method::kDirect;
  }
  if (!std::isfinite(o.scale) || !std::isfinite(o.bias) ||
      !std::isfinite(params.bias)) {
    throw Error(ErrorKind::kUsage, "--scale and --bias must be finite numbers");
  }
  // Also checked by CLI11 (app.cc), as the options are read.
  CheckRange(kThreadsRange, o.threads);
  CheckRange(kQualityRange, o.quality);
  std::vector<std::string> notes;
  if (o.normalize) {
    const kernel::Normalization n = kernel::NormalizeScale(k);
    params.scale *= n.scale;
    if (n.used_positive_sum) {
      notes.push_back(fmt::format(
          "kernel '{}' sums to 0: --normalize divides by the sum of its "
          "positive weights ({})",
          o.kernel_spec, FormatDouble(1.0 / n.scale)));
    } else if (n.all_zero) {
      notes.push_back(fmt::format(
          "kernel '{}' is all zeros: --normalize leaves the scale at {}",
          o.kernel_spec, FormatDouble(o.scale)));
    }
  }
  io::DecodeOptions decode;
  decode.gray = o.gray;
  decode.max_pixels = static_cast<uint64_t>(o.max_pixels);
  decode.auto_orient = !o.no_auto_orient;
  io::EncodeOptions encode;
  encode.quality = o.quality;
  // A large PNG deflates on as many threads as the filter runs on.
  encode.threads = o.threads;
  kernel::Analysis analysis = kernel::Analyze(k);
  // compare with two anchors (--compat torch): convolve is correlate of
  // rot180 conv_k, the same result only if that is k itself.
  if (compare && !(conv_k == k)) {
    analysis.convolve_equals_correlate = kernel::Rotate180(conv_k) == k;
  }
  // Prepared once: strategy, factors, tap tables or spectra.
  auto filter = compare
                    ? std::make_unique<core::PreparedFilter>(k, conv_k, params)
                    : std::make_unique<core::PreparedFilter>(
                          k, params, core::PreparedFilter::Use::kFilter);
  const core::Method method = filter->method();
  if (params.method == core::Method::kSeparable &&
      method != core::Method::kSeparable) {
    throw Error(
        ErrorKind::kUsage,
        fmt::format("--method separable: kernel '{}' (rank {}) is "
                    "not a sum of at most {} rank-1 terms; use "
                    "--method auto or direct",
                    o.kernel_spec, analysis.rank, core::kMaxSeparableTerms));
  }
  // A separable run of more than one rank-1 pass says how many it sums,
  // and one of symmetric factors that it adds mirror pairs first.
  const int passes = filter->terms();
  // Integer kernels say that 8-bit inputs run in int16 lanes.
  const std::string strategy =
      method != core::Method::kSeparable
          ? std::string(core::MethodName(method)) +
                (filter->integer_lanes()
                     ? " (int16 lanes for 8-bit gray and RGB)"
                     : "")
      : passes > 1 ? fmt::format("separable ({} rank-1 passes)", passes)
      : filter->symmetric_passes() ? std::string("separable (symmetric passes)")
                                   : std::string("separable");
  // compare names its plan too: fused, symmetric or two passes.
  const std::string plan =
      compare && params.simd
          ? fmt::format(", compare {}", core::PlanName(filter->plan()))
          : std::string();
  std::string engine =
      compat.rounding == core::Rounding::kImageMagick
          ? std::string(
                "engine: ImageMagick Q16 arithmetic (sums in double "
                "on 16-bit quanta)")
          : fmt::format("engine: {}{}",
                        params.simd
                            ? fmt::format("simd {}, strategy {}",
                                          core::SimdTargetName(), strategy)
                            : std::string("reference (--no-simd)"),
                        plan);
  if (stride != Step{} || dilation != Step{}) {
    engine += fmt::format(", stride {},{}, dilation {},{}", stride.y, stride.x,
                          dilation.y, dilation.x);
  }
  if (!compat.tool.empty()) engine += ", compat " + compat.tool;
  // The tool's results are floats unless --depth says otherwise.
  DepthChoice depth = ParseDepth(o.depth);
  if (compat.float_output && !o.depth_given) depth = {false, core::Depth::kF32};
  const diff::DiffRange diff_range = ParseDiffRange(o.diff_range);
  ProvenanceSettings provenance;
  provenance.kernel = k;
  if (compare) provenance.convolve_kernel = conv_k;
  provenance.params = params;
  provenance.depth = depth;
  provenance.decode = decode;
  provenance.strip = o.strip;
  provenance.quality = o.quality;
  provenance.diff_range = diff_range;
  return {std::move(k),
          o.kernel_spec,
          params,
          depth,
          decode,
          encode,
          o.strip,
          std::move(analysis),
          std::move(notes),
          std::move(engine),
          diff_range,
          std::move(filter),
          std::move(provenance),
          std::move(conv_k),
          compare};
}

// The notes and, with -v, the engine line, once the run is going ahead.
void Announce(const Setup& s, const Reporter& reporter, int workers) {
  for (const std::string& note : s.notes) reporter.Note(note);
  const int threads = core::ResolveThreads(s.filter->params().threads);
  reporter.Verbose(fmt::format(
      "{}, {} thread{}{}", s.engine, threads, threads == 1 ? "" : "s",
      workers > 1 ? fmt::format(" per file, {} files at a time", workers)
                  : std::string()));
}

// The batch side of a run: the inputs of --files-from added, the plan made
// and cut to this process's shard, and the work split between files in
// flight and threads inside each filter.
struct Batch {
  Plan plan;
  BatchSettings settings;
  std::optional<Shard> shard;
};

Batch MakeBatch(FilterOptions o, bool compare, Setup& s,
                const Reporter& reporter) {
  CheckRange(kJobsRange, o.jobs);
  if (o.null_separated && o.files_from.empty()) {
    throw Error(ErrorKind::kUsage, "-0 applies to --files-from: add it");
  }
  if (!o.files_from.empty()) {
    if (o.files_from == "-" &&
        std::find(o.inputs.begin(), o.inputs.end(), "-") != o.inputs.end()) {
      throw Error(ErrorKind::kUsage,
                  "--files-from - reads the list from stdin, so '-' cannot "
                  "also be an input image");
    }
    o.listed = ReadInputList(o.files_from, o.null_separated);
  }
  if (o.inputs.empty() && o.listed.empty()) {
    throw Error(ErrorKind::kUsage,
                o.files_from.empty()
                    ? "no inputs: give image files, directories, - for stdin, "
                      "or --files-from FILE"
                    : fmt::format("--files-from '{}': the list names no paths",
                                  o.files_from));
  }
  CheckRange(kShardCountRange, o.shard_count);
  Batch b;
  b.plan = MakePlan(o, compare);
  const std::optional<Shard> shard = ResolveShard(
      o, [](const char* name) -> const char* { return std::getenv(name); });
  b.shard = shard;
  if (shard) {
    const size_t all = b.plan.jobs.size();
    b.plan.jobs = SelectShard(b.plan.jobs, *shard);
    s.notes.push_back(fmt::format("shard {}/{} (from {}): {} of {} inputs",
                                  shard->index, shard->count, shard->source,
                                  b.plan.jobs.size(), all));
  }
  b.settings.jobs = ResolveJobs(o.jobs, b.plan.jobs.size());
  // Files in flight share the cores: each filter gets its share unless
  // --threads says otherwise.
  if (o.threads == 0 && b.settings.jobs > 1) {
    s.params.threads = std::max(1, core::ResolveThreads(0) / b.settings.jobs);
    s.filter->set_threads(s.params.threads);
    s.encode.threads = s.params.threads;
  }
  b.settings.report = o.report;
  b.settings.skip_existing = o.skip_existing;
  b.settings.dry_run = o.dry_run;
  // An image sent to a terminal is refused, as kernel --to npy is.
  for (const Job& job : b.plan.jobs) {
    if (job.to_stdout && !o.dry_run) {
      RefuseBinaryOnTerminal("-o -", "out." + job.ext);
    }
  }
  // The summary line: for several inputs, with -v or on a terminal.
  const bool terminal = ::isatty(STDERR_FILENO) == 1;
  b.settings.summary =
      b.plan.jobs.size() > 1 && (reporter.verbose() || terminal);
  b.settings.progress = terminal;
  if (!o.report.empty()) {
    const fs::path report = fs::path(o.report).lexically_normal();
    for (const Job& job : b.plan.jobs) {
      const bool input = !job.from_stdin && !job.error &&
                         (io::SameFile(report, job.input) ||
                          report == job.input.lexically_normal());
      std::vector<fs::path> outputs = {job.output};
      if (compare) outputs = CompareOutputs(job, o);
      const bool output =
          std::any_of(outputs.begin(), outputs.end(), [&](const fs::path& p) {
            return !p.empty() && report == p.lexically_normal();
          });
      if (input || output) {
        throw Error(
            ErrorKind::kUsage,
            fmt::format("--report '{}' is also {} of '{}'; choose "
                        "another report file",
                        o.report, input ? "the input" : "an output", job.name));
      }
    }
  }
  return b;
}

void CheckKernelFits(const Job& job, int width, int height, const Setup& s);

// A job's input opened, its header checked, the kernel checked to fit.
std::unique_ptr<io::RasterReader> OpenInput(const Job& job, const Setup& s) {
  if (job.error) throw Error(ErrorKind::kInput, *job.error);
  std::unique_ptr<io::RasterReader> reader = io::RasterReader::Open(
      job.from_stdin ? fs::path("-") : job.input, s.decode);
  CheckKernelFits(job, reader->width(), reader->height(), s);
  return reader;
}

// Why a job cannot stream, band by band, from its input to its output
// file; empty when it can: the reader gives the rows as they are
// (io::RasterReader::Streams: no turn, metadata first), the engine reads
// their samples (no stride, no --compat rounding, not float with the fft
// strategy), and the output is a file (standard output gets
// a whole encoded image or nothing).
std::string WholeReason(const io::RasterReader& reader, const Job& job,
                        const Setup& s) {
  if (job.to_stdout) return "written to standard output";
  if (!reader.Streams()) return reader.WhyWhole();
  if (s.filter->params().rounding != core::Rounding::kSaturate) {
    return "--compat rounding";
  }
  if (!s.filter->StreamsSamples(reader.channels(), reader.depth())) {
    if (s.params.stride_x != 1 || s.params.stride_y != 1) return "--stride";
    if (!s.params.simd) return "--no-simd";
    if (s.filter->AlphaWeighted(reader.channels())) {
      return "alpha weighting with the fft strategy";
    }
    if (s.params.linear && reader.depth() != core::Depth::kF32) {
      return "--linear with the fft strategy";
    }
    return "float samples with the fft strategy";
  }
  return {};
}

void CheckKernelFits(const Job& job, int width, int height, const Setup& s) {
  if (s.params.size == core::OutputSize::kValid &&
      (s.kernel.cols() > width || s.kernel.rows() > height)) {
    throw Error(
        ErrorKind::kInput,
        fmt::format("input '{}': the {}x{} kernel is larger than the "
                    "{}x{} image, so --size valid has no output",
                    job.name, s.kernel.cols(), s.kernel.rows(), width, height));
  }
}

// What was written for one input, for the report.
struct Result {
  int width = 0;
  int height = 0;
  int channels = 0;
  core::Depth depth = core::Depth::kU8;
  uint64_t saturated = 0;
};

// The result quantized to the output depth, with its saturated count.
std::pair<core::Image, uint64_t> ToOutputDepth(core::Image img,
                                               core::Depth input_depth,
                                               const DepthChoice& choice,
                                               const core::PreparedFilter& f) {
  const core::Depth depth = choice.keep ? input_depth : choice.depth;
  const uint64_t saturated = f.Quantize(img, depth);
  return {std::move(img), saturated};
}

// The preparation one output uses: the run's, or, under --compat
// imagemagick, one made exact for this output: its depth sets
// ImageMagick's quanta (257 per 8-bit level, whole quanta for integer
// outputs) and its format how 8-bit files are written (the PNG writer
// truncates the quantum, the others round it; docs/compat.md). That one
// is cheap: ImageMagick's arithmetic prepares no engine.
const core::PreparedFilter& FilterFor(
    const Setup& s, core::Depth input_depth, const std::string& ext,
    std::optional<core::PreparedFilter>& own) {
  core::FilterParams params = s.filter->params();
  if (params.rounding != core::Rounding::kImageMagick) return *s.filter;
  const core::Depth depth = s.depth.keep ? input_depth : s.depth.depth;
  params.imagemagick = core::ImageMagickArithmetic{
      depth == core::Depth::kU8 ? 257.0 : 1.0,
      input_depth == core::Depth::kF32 ? 1.0 : core::DepthMax(input_depth),
      depth != core::Depth::kF32};
  if (io::FormatOf(ext) == "png") {
    params.rounding = core::Rounding::kImageMagickPng;
  }
  if (s.compare) {
    own.emplace(s.kernel, s.conv_kernel, params);
  } else {
    own.emplace(s.kernel, params, core::PreparedFilter::Use::kFilter);
  }
  return *own;
}

// Encodes a result with the input's metadata (none for difference maps and
// panels, which are plain sRGB).
std::vector<uint8_t> Encode(const core::Image& img, const std::string& ext,
                            const std::string& name,
                            const io::Metadata& metadata = {},
                            const io::EncodeOptions& options = {}) {
  io::CheckEncodable(ext, img.depth, img.channels(), name);
  return io::EncodeImage(img, ext, name, metadata, options);
}

// Metadata holding a provenance only (difference maps and panels).
io::Metadata WithProvenance(std::string provenance) {
  io::Metadata m;
  m.provenance = std::move(provenance);
  return m;
}

// What --skip-existing expects in each of `texts`' outputs (`paths`):
// nullopt where the format holds no provenance.
std::vector<std::optional<std::string>> Expected(
    const std::vector<fs::path>& paths, std::vector<std::string> texts) {
  std::vector<std::optional<std::string>> out;
  for (size_t i = 0; i < paths.size() && i < texts.size(); ++i) {
    if (io::HoldsProvenance(io::ExtensionOf(paths[i]))) {
      out.emplace_back(std::move(texts[i]));
    } else {
      out.emplace_back(std::nullopt);
    }
  }
  return out;
}

// The panel's title: the spec as typed and the input's file name.
std::string PanelTitle(const Setup& s, const Job& job) {
  return fmt::format("{}  |  {}", s.spec,
                     job.from_stdin ? "stdin" : job.input.filename().string());
}

// The provenance of each of a compare job's outputs, in CompareOutputs'
// order.
std::vector<std::string> CompareProvenance(const Setup& s,
                                           const FilterOptions& o,
                                           const Job& job) {
  const ProvenanceSettings& p = s.provenance;
  std::vector<std::string> out = {
      OutputProvenance(p, OutputRole::kCompareConvolve, job.ext),
      OutputProvenance(p, OutputRole::kCompareCorrelate, job.ext),
      OutputProvenance(p, OutputRole::kDiff, "png")};
  if (o.raw_diff) {
    out.push_back(OutputProvenance(p, OutputRole::kRawDiff, "tif"));
  }
  if (o.panel) {
    out.push_back(
        OutputProvenance(p, OutputRole::kPanel, "png", PanelTitle(s, job)));
  }
  return out;
}

// How the heat map is encoded: with ISA-L's deflate, a quarter of zlib's
// time at about the same size on its colours (docs/performance.md, "PNG
// deflate"); the same bytes whether compare streams or not.
io::EncodeOptions HeatMapEncoding(io::EncodeOptions options) {
  options.png_deflate = io::PngDeflate::kIsal;
  return options;
}

void EnsureDirectory(const fs::path& dir) {
  if (dir.empty()) return;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    throw Error(ErrorKind::kOutput, fmt::format("output directory '{}': {}",
                                                dir.string(), ec.message()));
  }
}

// Peak for PSNR: the integer range, or the float input's own range.
double PsnrPeak(const core::Image& input) {
  if (input.depth != core::Depth::kF32) return core::DepthMax(input.depth);
  const core::Range r = core::ColorRange(input);
  return r.hi > r.lo ? double(r.hi) - r.lo : 1.0;
}

// Why a compare job cannot stream; empty when it can: as WholeReason,
// and the panel (it shrinks the whole input and both results) and float
// inputs (PSNR's peak is the input's own range) hold the image whole.
std::string CompareWholeReason(const io::RasterReader& reader,
                               const FilterOptions& o, const Setup& s) {
  if (!reader.Streams()) return reader.WhyWhole();
  if (o.panel) return "--panel";
  if (reader.depth() == core::Depth::kF32) return "float samples";
  if (s.filter->params().rounding != core::Rounding::kSaturate) {
    return "--compat rounding";
  }
  if (!s.filter->StreamsPair(reader.channels(), reader.depth())) {
    if (s.params.stride_x != 1 || s.params.stride_y != 1) return "--stride";
    if (!s.params.simd) return "--no-simd";
    if (s.filter->AlphaWeighted(reader.channels())) {
      return "alpha weighting with the fft strategy";
    }
    return "--linear with the fft strategy";
  }
  return {};
}

// A staged output and its encoder, fed rows as they come.
struct StagedOutput {
  io::StagedFile file;
  std::unique_ptr<StagedSink> sink;
  std::unique_ptr<EncoderRows> rows;

  StagedOutput(const fs::path& path, const io::PixelFormat& f,
               const std::string& ext, const io::Metadata& metadata,
               const io::EncodeOptions& options)
      : file(io::StageFile(path)),
        sink(std::make_unique<StagedSink>(file)),
        rows(std::make_unique<EncoderRows>(
            io::NewEncoder(f, ext, path.string(), metadata, options, *sink),
            *sink)) {}
};

// compare band by band (core::PreparedFilter::StreamPair, CompareBands):
// the same files and numbers as the whole-image path, in memory of a few
// bands plus one float per pixel for the heat map's range.
JobOutcome StreamCompare(io::RasterReader& reader, const Job& job,
                         const FilterOptions& o, const Setup& s,
                         Reporter& reporter) {
  const int channels = reader.channels();
  // The channels compared: alpha (the last of 2 or 4) never is.
  const int colour = channels == 2 || channels == 4 ? channels - 1 : channels;
  const core::Depth depth = s.depth.keep ? reader.depth() : s.depth.depth;
  const core::Extent e = core::OutputExtent(reader.width(), reader.height(),
                                            s.kernel, s.params.size);
  const std::vector<fs::path> paths = CompareOutputs(job, o);
  const std::vector<std::string> provenance = CompareProvenance(s, o, job);
  io::CheckEncodable(job.ext, depth, channels, paths[0].string());
  io::CheckEncodable(job.ext, depth, channels, paths[1].string());
  if (o.raw_diff) {
    io::CheckEncodable("tif", core::Depth::kF32, colour, paths[3].string());
  }
  io::Metadata metadata = s.strip ? io::Metadata{} : reader.metadata();
  EnsureDirectory(job.out_dir);
  // In CompareOutputs' order: convolve, correlate, heat map, raw.
  std::vector<std::unique_ptr<StagedOutput>> out;
  metadata.provenance = provenance[0];
  out.push_back(std::make_unique<StagedOutput>(
      paths[0], io::PixelFormat{e.width, e.height, channels, depth}, job.ext,
      metadata, s.encode));
  metadata.provenance = provenance[1];
  out.push_back(std::make_unique<StagedOutput>(
      paths[1], io::PixelFormat{e.width, e.height, channels, depth}, job.ext,
      metadata, s.encode));
  out.push_back(std::make_unique<StagedOutput>(
      paths[2], io::PixelFormat{e.width, e.height, 3, core::Depth::kU8}, "png",
      WithProvenance(provenance[2]), HeatMapEncoding(s.encode)));
  if (o.raw_diff) {
    out.push_back(std::make_unique<StagedOutput>(
        paths[3], io::PixelFormat{e.width, e.height, colour, core::Depth::kF32},
        "tif", WithProvenance(provenance[3]), s.encode));
  }
  CompareBands bands(e.width, e.height, channels, colour, depth, o.threshold,
                     s.diff_range, *out[0]->rows, *out[1]->rows,
                     o.raw_diff ? out[3]->rows.get() : nullptr, job.out_dir);
  ReaderRows rows_in(reader);
  s.filter->StreamPair(
      {reader.width(), reader.height(), channels, reader.depth(), depth},
      rows_in, bands);
  diff::DiffStats stats =
      bands.Stats(static_cast<double>(core::DepthMax(reader.depth())));
  bands.WriteHeatMap(*out[2]->rows, stats.map_range);

  std::vector<io::StagedFile> staged;
  for (auto& each : out) staged.push_back(std::move(each->file));
  reporter.Saturated(paths[0].string(), bands.convolve_saturated(), depth,
                     s.filter->params().rounding);
  reporter.Saturated(paths[1].string(), bands.correlate_saturated(), depth,
                     s.filter->params().rounding);
  reporter.CompareResult(job.name, paths, stats, s.analysis, s.spec, e.width,
                         e.height, colour);
  return {
      paths,
      {{"saturated", bands.convolve_saturated() + bands.correlate_saturated()},
       {"diff", DiffStatsJson(stats)}},
      std::move(staged)};
}

}  // namespace

int RunFilter(const FilterOptions& o, core::Mode mode) {
  if (o.html) {
    throw Error(ErrorKind::kUsage,
                "--html applies to compare (a page of convolve, correlate "
                "and their difference); use 'convcorr compare --html -k SPEC "
                "INPUTS... -o DIR'");
  }
  Reporter reporter(o.quiet, o.verbose, o.json);
  Setup s = MakeSetup(o, /*compare=*/false, mode);
  const Batch batch = MakeBatch(o, /*compare=*/false, s, reporter);
  const Plan& plan = batch.plan;
  Announce(s, reporter, batch.settings.jobs);
  if (plan.output_is_dir && !batch.settings.dry_run) {
    EnsureDirectory(plan.out_root);
  }
  const auto outputs = [](const Job& job) {
    return std::vector<fs::path>{job.to_stdout ? fs::path("-") : job.output};
  };
  const auto provenance = [&s](const Job& job) {
    return OutputProvenance(s.provenance, OutputRole::kFiltered, job.ext);
  };
  const auto expected = [&](const Job& job) {
    return Expected({job.output}, {provenance(job)});
  };
  return RunBatch(
      plan, batch.settings, reporter, outputs,
      [&](const Job& job, Reporter& reporter) -> JobOutcome {
        const std::unique_ptr<io::RasterReader> reader = OpenInput(job, s);
        const std::string out_name = job.to_stdout ? "-" : job.output.string();
        Result out;
        std::vector<io::StagedFile> staged;
        std::vector<uint8_t> bytes;
        const std::string whole = WholeReason(*reader, job, s);
        if (whole.empty()) {
          // Band by band: decoded, filtered and encoded into the staged
          // file at once, in memory of a few bands (core/pipeline.h).
          const core::Depth depth =
              s.depth.keep ? reader->depth() : s.depth.depth;
          const core::Extent e = core::OutputExtent(
              reader->width(), reader->height(), s.kernel, s.params.size);
          io::CheckEncodable(job.ext, depth, reader->channels(), out_name);
          io::Metadata metadata = s.strip ? io::Metadata{} : reader->metadata();
          metadata.provenance = provenance(job);
          EnsureDirectory(job.output.parent_path());
          staged.push_back(io::StageFile(job.output));
          StagedSink file(staged.back());
          ReaderRows rows_in(*reader);
          EncoderRows rows_out(
              io::NewEncoder({e.width, e.height, reader->channels(), depth},
                             job.ext, out_name, metadata, s.encode, file),
              file);
          const uint64_t sat =
              s.filter->Stream({reader->width(), reader->height(),
                                reader->channels(), reader->depth(), depth},
                               rows_in, rows_out);
          out = {e.width, e.height, reader->channels(), depth, sat};
        } else if (io::Raster raster = reader->ReadAll();
                   s.filter->ReadsSamples(raster.channels())) {
          io::Metadata metadata =
              s.strip ? io::Metadata{} : std::move(raster.metadata());
          metadata.provenance = provenance(job);
          // The engine reads the decoded samples and writes the output
          // depth directly (the same samples as the planar path).
          const core::Depth depth =
              s.depth.keep ? raster.depth() : s.depth.depth;
          const core::Extent e = core::OutputExtent(
              raster.width(), raster.height(), s.kernel, s.params.size);
          io::CheckEncodable(job.ext, depth, raster.channels(), out_name);
          io::Raster result =
              io::NewRaster(e.width, e.height, raster.channels(), depth);
          const uint64_t sat =
              s.filter->Run(raster.View(), result.MutableView());
          out = {e.width, e.height, raster.channels(), depth, sat};
          bytes =
              io::EncodeRaster(result, job.ext, out_name, metadata, s.encode);
        } else {
          io::Metadata metadata =
              s.strip ? io::Metadata{} : std::move(raster.metadata());
          metadata.provenance = provenance(job);
          const core::Image img = io::ToImage(std::move(raster));
          std::optional<core::PreparedFilter> own;
          const core::PreparedFilter& f = FilterFor(s, img.depth, job.ext, own);
          auto [filtered, sat] =
              ToOutputDepth(f.Filter(img), img.depth, s.depth, f);
          out = {filtered.width, filtered.height, filtered.channels(),
                 filtered.depth, sat};
          bytes = Encode(filtered, job.ext, out_name, metadata, s.encode);
        }
        if (job.to_stdout) {
          io::WriteStdout(bytes);
        } else if (staged.empty()) {  // else written as it was filtered
          EnsureDirectory(job.output.parent_path());
          staged.push_back(io::StageFile(job.output, bytes));
        }
        nlohmann::json j = {
            {"input", job.name},
            {"output", out_name},
            {"mode", mode == core::Mode::kConvolve ? "convolve" : "correlate"},
            {"width", out.width},
            {"height", out.height},
            {"channels", out.channels},
            {"depth", DepthName(out.depth)},
            {"saturated", out.saturated},
            {"streamed", whole.empty()},
        };
        reporter.Saturated(out_name, out.saturated, out.depth,
                           s.filter->params().rounding);
        reporter.Done(
            out_name, j,
            fmt::format("{} -> {} ({}x{}, {} channel{}, {}; {})", job.name,
                        out_name, out.width, out.height, out.channels,
                        out.channels == 1 ? "" : "s", DepthName(out.depth),
                        whole.empty() ? std::string("streamed in bands")
                                      : "held whole: " + whole));
        return {{job.to_stdout ? fs::path("-") : job.output},
                {{"saturated", out.saturated}},
                std::move(staged)};
      },
      expected);
}

int RunCompare(const FilterOptions& o) {
  Reporter reporter(o.quiet, o.verbose, o.json);
  Setup s = MakeSetup(o, /*compare=*/true, core::Mode::kCorrelate);
  Batch batch = MakeBatch(o, /*compare=*/true, s, reporter);
  const Plan& plan = batch.plan;
  Announce(s, reporter, batch.settings.jobs);
  if (!batch.settings.dry_run) EnsureDirectory(plan.out_root);
  // --html: the records collected as inputs finish, the page written once
  // they all have (a run stopped half way leaves none).
  std::unique_ptr<HtmlPage> html;
  if (o.html) {
    HtmlSettings h;
    h.out_root = plan.out_root;
    h.spec = s.spec;
    h.kernel = s.kernel;
    h.analysis = s.analysis;
    h.panel = o.panel;
    h.threshold = o.threshold;
    h.decode.max_pixels = s.decode.max_pixels;
    h.workers = batch.settings.jobs;
    if (batch.shard) {
      h.page_name = fmt::format("index.{}-of-{}.html", batch.shard->index,
                                batch.shard->count);
      h.note = fmt::format(
          "Shard {}/{}: the {} input{} of this shard; the other shards "
          "write pages of their own.",
          batch.shard->index, batch.shard->count, plan.jobs.size(),
          plan.jobs.size() == 1 ? "" : "s");
    }
    html = std::make_unique<HtmlPage>(std::move(h));
    if (!o.report.empty() && (fs::path(o.report).lexically_normal() ==
                                  html->path().lexically_normal() ||
                              io::SameFile(o.report, html->path()))) {
      throw Error(ErrorKind::kUsage,
                  fmt::format("--report '{}' is also the --html page; choose "
                              "another report file",
                              o.report));
    }
    if (!batch.settings.dry_run) html->RemoveOld();
    batch.settings.on_record = [&html](const nlohmann::json& record) {
      html->Add(record);
    };
  }
  const auto outputs = [&o](const Job& job) { return CompareOutputs(job, o); };
  const auto expected = [&](const Job& job) {
    return Expected(CompareOutputs(job, o), CompareProvenance(s, o, job));
  };
  const int status = RunBatch(
      plan, batch.settings, reporter, outputs,
      [&](const Job& job, Reporter& reporter) -> JobOutcome {
        const std::unique_ptr<io::RasterReader> reader = OpenInput(job, s);
        const std::string whole = CompareWholeReason(*reader, o, s);
        reporter.Verbose(
            whole.empty() ? fmt::format("{}: streamed in bands", job.name)
                          : fmt::format("{}: held whole: {}", job.name, whole));
        if (whole.empty()) return StreamCompare(*reader, job, o, s, reporter);
        io::Raster raster = reader->ReadAll();
        io::Metadata metadata =
            s.strip ? io::Metadata{} : std::move(raster.metadata());
        const std::vector<std::string> provenance =
            CompareProvenance(s, o, job);
        const core::Image img = io::ToImage(std::move(raster));
        // Both results in one pass where the engine can fuse them.
        std::optional<core::PreparedFilter> own;
        const core::PreparedFilter& f = FilterFor(s, img.depth, job.ext, own);
        const core::FilterPairResult pair = f.FilterPair(img);
        const core::Image& corr = pair.correlate;
        const core::Image& conv = pair.convolve;

        diff::DiffStats stats =
            diff::ComputeStats(conv, corr, o.threshold, PsnrPeak(img));
        const core::Plane signed_diff = diff::SignedDiff(conv, corr);
        stats.map_range = diff::ChooseRange(signed_diff, s.diff_range);
        stats.map_rule = diff::DiffRangeName(s.diff_range);
        const core::Image heat = diff::HeatMap(signed_diff, stats.map_range);
        auto [conv_q, conv_sat] = ToOutputDepth(conv, img.depth, s.depth, f);
        auto [corr_q, corr_sat] = ToOutputDepth(corr, img.depth, s.depth, f);

        // Encode everything first so a failure leaves no half-written set.
        const std::vector<fs::path> paths = CompareOutputs(job, o);
        std::vector<std::vector<uint8_t>> files;
        metadata.provenance = provenance[0];
        files.push_back(
            Encode(conv_q, job.ext, paths[0].string(), metadata, s.encode));
        metadata.provenance = provenance[1];
        files.push_back(
            Encode(corr_q, job.ext, paths[1].string(), metadata, s.encode));
        files.push_back(Encode(heat, "png", paths[2].string(),
                               WithProvenance(provenance[2]),
                               HeatMapEncoding(s.encode)));
        size_t next = 3;
        if (o.raw_diff) {
          files.push_back(Encode(diff::RawDiff(conv, corr), "tif",
                                 paths[next].string(),
                                 WithProvenance(provenance[next])));
          ++next;
        }
        if (o.panel) {
          files.push_back(
              Encode(diff::Panel(img, corr_q, conv_q, heat, stats.map_range,
                                 stats.max_abs, PanelTitle(s, job)),
                     "png", paths[next].string(),
                     WithProvenance(provenance[next]), s.encode));
          ++next;
        }
        EnsureDirectory(job.out_dir);
        std::vector<io::StagedFile> staged;
        for (size_t i = 0; i < files.size(); ++i) {
          staged.push_back(io::StageFile(paths[i], files[i]));
        }

        reporter.Saturated(paths[0].string(), conv_sat, conv_q.depth,
                           s.filter->params().rounding);
        reporter.Saturated(paths[1].string(), corr_sat, corr_q.depth,
                           s.filter->params().rounding);
        reporter.CompareResult(job.name, paths, stats, s.analysis, s.spec,
                               conv_q.width, conv_q.height,
                               static_cast<int>(conv_q.color.size()));
        return {paths,
                {{"saturated", conv_sat + corr_sat},
                 {"diff", DiffStatsJson(stats)}},
                std::move(staged)};
      },
      expected);
  if (html && !batch.settings.dry_run) html->Write();
  return status;
}

}  // namespace convcorr::cli
