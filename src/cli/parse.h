// Turning option text into engine values; every failure is a usage error
// (exit 2) naming the option and the text.
#pragma once

#include <string>
#include <vector>

#include "core/border.h"
#include "core/filter.h"
#include "core/image.h"
#include "kernel/kernel.h"

namespace convcorr::cli {

// reflect101 (mirror), reflect, replicate (nearest), constant[:V], wrap.
core::Border ParseBorder(const std::string& text);
// same, valid, full.
core::OutputSize ParseSize(const std::string& text);
// keep (empty optional), u8, u16, f32.
struct DepthChoice {
  bool keep = true;
  core::Depth depth = core::Depth::kU8;
};
DepthChoice ParseDepth(const std::string& text);
// auto, direct, separable.
core::Method ParseMethod(const std::string& text);
// "X,Y" within the kernel; empty text keeps the kernel's anchor.
kernel::Kernel ApplyAnchor(const kernel::Kernel& k, const std::string& text);
// --stride and --dilation: "N" (both directions) or "Y,X", each 1 to 1024.
struct Step {
  int y = 1;
  int x = 1;
  bool operator==(const Step&) const = default;
};
Step ParseStep(const std::string& option, const std::string& text);
// kernel::Dilate, refused (naming --dilation and the spec) when the dilated
// kernel would be larger than kernel::kMaxKernelSide.
kernel::Kernel DilateKernel(const kernel::Kernel& k, const Step& dilation,
                            const std::string& spec);
// --compat TOOL: the conventions that make convcorr's numbers match another
// tool's (docs/compat.md). Explicit --anchor, --border and --depth win.
struct Compat {
  std::string tool;              // empty: convcorr's own defaults
  // Even sizes anchored at (size-1)/2 instead of size/2.
  bool low_anchor = false;
  // NumPy: convolve anchored at (size-1)/2, correlate at size/2.
  bool per_mode_anchor = false;
  core::Border border;
  core::Rounding rounding = core::Rounding::kSaturate;
  bool float_output = false;     // the tool's results are floats
  bool images = true;            // false: 1-D only (numpy)
};
Compat ParseCompat(const std::string& text);
// The kernel anchored as the tool anchors it for `mode` (unchanged when no
// tool is set, and for a kernel whose spec or --anchor moved the anchor
// from the default centre).
kernel::Kernel CompatAnchor(const kernel::Kernel& k, const Compat& compat,
                            core::Mode mode);
// A comma and/or space separated list of finite numbers (signal values).
std::vector<double> ParseValues(const std::string& text);

// Lowercase names used in output and JSON.
const char* BorderName(core::BorderMode mode);
const char* SizeName(core::OutputSize size);
const char* DepthName(core::Depth depth);

}  // namespace convcorr::cli
