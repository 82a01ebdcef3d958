// Turning option text into engine values; every failure is a usage error
// (exit 2) naming the option and the text. Each option that takes one of a
// few words has one table of them (declared below, written in parse.cc;
// words.h), the one place its words are spelt: the parser below reads it,
// and app.cc makes the option's CLI11 check (which calls the parser, so a
// refused value gets the same message on the command line and in-process),
// --help type and text from it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/words.h"
#include "core/border.h"
#include "core/filter.h"
#include "core/image.h"
#include "diff/diff.h"
#include "kernel/formats.h"
#include "kernel/kernel.h"

namespace convcorr::cli {

// --depth: keep (the input's depth), u8, u16, f32.
struct DepthChoice {
  bool keep = true;
  core::Depth depth = core::Depth::kU8;
};

// --compat TOOL: the conventions that make convcorr's numbers match another
// tool's (docs/compat.md). Explicit --anchor, --border and --depth win.
struct Compat {
  std::string tool;  // empty: convcorr's own defaults
  // Even sizes anchored at (size-1)/2 instead of size/2.
  bool low_anchor = false;
  // NumPy: convolve anchored at (size-1)/2, correlate at size/2.
  bool per_mode_anchor = false;
  // PyTorch, the mirror: correlate (conv2d) anchored at (size-1)/2; its
  // convolution, conv2d with the flipped weights, anchors K at size/2.
  bool correlate_low_anchor = false;
  core::Border border;
  core::Rounding rounding = core::Rounding::kSaturate;
  bool float_output = false;  // the tool's results are floats
  bool images = true;         // false: 1-D only (numpy)
};

// The word tables, in the order --help and the messages list the words.
// reflect101 (alias mirror), reflect, replicate (alias nearest),
// constant[:V], wrap.
const WordTable<core::BorderMode>& BorderWords();
// same, valid, full.
const WordTable<core::OutputSize>& SizeWords();
// keep, u8, u16, f32.
const WordTable<DepthChoice>& DepthWords();
// auto, direct, sparse, separable, fft.
const WordTable<core::Method>& MethodWords();
// scipy, opencv, numpy, imagemagick, gmic, torch.
const WordTable<Compat>& CompatWords();
// kernel --to: kernel::kKernelFormatNames (spec, imagemagick (alias im),
// gmic, vips (alias mat), csv, npy).
const WordTable<kernel::KernelFormat>& KernelFormatWords();

// The words above; anything else is Error(kUsage) naming the option, the
// text and the words ("--size 'half': expected same, valid or full").
// ParseBorder also reads constant:V, V a finite number.
core::Border ParseBorder(const std::string& text);
core::OutputSize ParseSize(const std::string& text);
DepthChoice ParseDepth(const std::string& text);
core::Method ParseMethod(const std::string& text);
// The empty text is convcorr's own conventions (no tool).
Compat ParseCompat(const std::string& text);
kernel::KernelFormat ParseKernelFormat(const std::string& text);
// "X,Y" within the kernel; empty text keeps the kernel's anchor.
kernel::Kernel ApplyAnchor(const kernel::Kernel& k, const std::string& text);
// --stride and --dilation: "N" (both directions) or "Y,X", each 1 to 1024.
struct Step {
  int y = 1;
  int x = 1;
  bool operator==(const Step&) const = default;
};
Step ParseStep(const std::string& option, const std::string& text);
// The same for signal, which takes one number: "2" (not "2,1").
int ParseStep1D(const std::string& option, const std::string& text);
// kernel::Dilate, refused (naming --dilation and the spec) when the dilated
// kernel would be larger than kernel::kMaxKernelSide.
kernel::Kernel DilateKernel(const kernel::Kernel& k, const Step& dilation,
                            const std::string& spec);
// The kernel anchored as the tool anchors it for `mode` (unchanged when no
// tool is set, and for a kernel whose spec or --anchor moved the anchor
// from the default centre).
kernel::Kernel CompatAnchor(const kernel::Kernel& k, const Compat& compat,
                            core::Mode mode);
// --diff-range: "max", "pNN" (a percentile, 0 < NN <= 100) or a positive
// finite value.
diff::DiffRange ParseDiffRange(const std::string& text);
// A comma and/or space separated list of finite numbers (signal values).
std::vector<double> ParseValues(const std::string& text);

// --ext "jpg, .PNG,tif": lowercase, without dots; each must be a format
// convcorr reads.
std::vector<std::string> ParseExtensions(const std::string& text);
// --format: lowercase, without a leading dot ("--format .PNG" is png).
std::string NormaliseFormat(std::string text);
// A (normalised) --format convcorr writes (io::WritableExtensions), or
// empty; anything else is Error(kUsage).
void CheckWritableFormat(const std::string& format);

// A number option's range, and the usage error for a value outside it: the
// CLI11 check of the option and the command both call CheckRange.
struct Range {
  double min;
  double max;
  bool whole;           // a count (--max-pixels is read as a double: 2.5e8)
  const char* message;  // the whole usage error
};
inline constexpr Range kThreadsRange = {
    0, 2147483647, true, "--threads must be 0 (all cores) or more"};
inline constexpr Range kJobsRange = {0, 2147483647, true,
                                     "--jobs must be 0 (one per core) or more"};
inline constexpr Range kQualityRange = {
    0, 100, true, "--quality must be 1 to 100 (0: the format's default)"};
inline constexpr Range kMaxPixelsRange = {
    1, 9.2e18, true, "--max-pixels must be a whole number of at least 1"};
inline constexpr Range kShardCountRange = {0, 2147483647, true,
                                           "--shard-count must be 1 or more"};
// Error(kUsage, range.message) unless min <= value <= max (and whole).
void CheckRange(const Range& range, double value);

// Lowercase names used in output and JSON.
const char* BorderName(core::BorderMode mode);
const char* SizeName(core::OutputSize size);
const char* DepthName(core::Depth depth);

}  // namespace convcorr::cli
