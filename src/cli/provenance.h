// The provenance convcorr writes into each output (io/provenance.h says
// where): one canonical line naming convcorr's version, the command and
// output, the kernel as the engine uses it and every setting that decides
// the file's pixels, so that --skip-existing keeps an output only if this
// run would write it the same (docs/batch.md, "Resume").
//
// Canonical: the values are those the options resolve to, not the text
// typed (`-k sobel-x` and its weights typed out, `--normalize` and the
// scale it sets, `--compat` and the anchor, border, rounding and depth it
// picks agree), numbers in their shortest round-trip form; and
// deterministic: no time, path, thread count or machine in it. Left out:
// --threads, --jobs, --max-pixels, --threshold, the report and the batch
// options, which change no pixel; --method and --no-simd, whose strategies
// agree to float rounding (a sample on a rounding boundary may differ by
// one), so an output of another strategy is kept.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cli/parse.h"
#include "core/filter.h"
#include "diff/diff.h"
#include "io/image_io.h"
#include "kernel/kernel.h"

namespace convcorr::cli {

// Everything of a run that an output's provenance records.
struct ProvenanceSettings {
  // The kernel as the engine takes it: anchor (--anchor, --compat),
  // dilation applied; its offset is in params.bias. For compare, the one
  // correlate uses.
  kernel::Kernel kernel = kernel::Kernel(1, 1, {1.0});
  // compare: the kernel convolve uses, when anchored elsewhere (--compat
  // torch on an even size).
  std::optional<kernel::Kernel> convolve_kernel;
  core::FilterParams params;  // mode, border, size, scale, bias, ...
  DepthChoice depth;
  io::DecodeOptions decode;  // --gray, auto-orient
  bool strip = false;
  int quality = 0;  // --quality, 0 the format's default
  diff::DiffRange diff_range;
};

// Which output of a run.
enum class OutputRole {
  kFiltered,          // convolve's or correlate's output (params.mode)
  kCompareConvolve,   // compare's <stem>.convolve.<ext>
  kCompareCorrelate,  // compare's <stem>.correlate.<ext>
  kDiff,              // compare's heat map, <stem>.diff.png
  kRawDiff,           // compare's --raw-diff, <stem>.diff.tif
  kPanel,             // compare's --panel, <stem>.panel.png
};

// The provenance of one output of extension `ext`, e.g. "convcorr 1.2.0
// command=correlate kernel=3x3+1+1:... border=reflect101 ... quality=95".
// `title` is the panel's title (kPanel only: it is drawn in the pixels).
std::string OutputProvenance(const ProvenanceSettings& s, OutputRole role,
                             std::string_view ext, std::string_view title = {});

// The kernel as a provenance value: "WxH+X+Y:w,w,..." (columns x rows,
// anchor, row-major weights in shortest round-trip form); when that would
// be longer than 1024 characters, "WxH+X+Y:fnv1a64=<16 hex digits>", the
// FNV-1a hash of the weights' text.
std::string KernelValue(const kernel::Kernel& k);

// Free text (a title) as a value: bytes other than '!' to '~', and '%',
// as %XX; when longer than 256 characters, "fnv1a64=<16 hex digits>".
std::string TextValue(std::string_view text);

}  // namespace convcorr::cli
