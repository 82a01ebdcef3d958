#include "cli/provenance.h"

#include <fmt/format.h>

#include <cstdint>

#include "cli/format.h"
#include "io/format.h"

#ifndef CONVCORR_VERSION
#define CONVCORR_VERSION "0.0.0"
#endif

namespace convcorr::cli {

namespace {

constexpr size_t kMaxKernelValue = 1024;
constexpr size_t kMaxTextValue = 256;

// FNV-1a, 64 bits: a stable fingerprint of a long value (settings, not
// secrets: an accidental collision is what it must avoid).
std::string Fingerprint(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325u;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3u;
  }
  return fmt::format("fnv1a64={:016x}", h);
}

const char* YesNo(bool b) { return b ? "yes" : "no"; }

const char* RoundingName(core::Rounding r) {
  switch (r) {
    case core::Rounding::kSaturate:
      return "saturate";
    case core::Rounding::kWrap:
      return "wrap";
    case core::Rounding::kImageMagick:
      return "imagemagick";
    case core::Rounding::kImageMagickPng:
      return "imagemagick-png";
  }
  return "?";
}

std::string BorderValue(const core::Border& b) {
  std::string s = BorderName(b.mode);
  if (b.mode == core::BorderMode::kConstant) s += ":" + FormatFloat(b.value);
  return s;
}

std::string DiffRangeValue(const diff::DiffRange& r) {
  switch (r.kind) {
    case diff::DiffRange::Kind::kMax:
      return "max";
    case diff::DiffRange::Kind::kPercentile:
      return "p" + FormatDouble(r.value);
    case diff::DiffRange::Kind::kValue:
      return FormatDouble(r.value);
  }
  return "?";
}

const char* RoleName(OutputRole role) {
  switch (role) {
    case OutputRole::kFiltered:
      return "";
    case OutputRole::kCompareConvolve:
      return "convolve";
    case OutputRole::kCompareCorrelate:
      return "correlate";
    case OutputRole::kDiff:
      return "diff";
    case OutputRole::kRawDiff:
      return "raw-diff";
    case OutputRole::kPanel:
      return "panel";
  }
  return "?";
}

}  // namespace

std::string KernelValue(const kernel::Kernel& k) {
  std::string weights;
  for (size_t i = 0; i < k.weights().size(); ++i) {
    if (i > 0) weights += ',';
    weights += FormatDouble(k.weights()[i]);
  }
  return fmt::format(
      "{}x{}+{}+{}:{}", k.cols(), k.rows(), k.anchor_x(), k.anchor_y(),
      weights.size() > kMaxKernelValue ? Fingerprint(weights) : weights);
}

std::string TextValue(std::string_view text) {
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c > 0x20 && c < 0x7f && c != '%') {
      out += ch;
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out.size() > kMaxTextValue ? Fingerprint(text) : out;
}

std::string OutputProvenance(const ProvenanceSettings& s, OutputRole role,
                             std::string_view ext, std::string_view title) {
  const core::FilterParams& p = s.params;
  const bool filtered = role == OutputRole::kFiltered ||
                        role == OutputRole::kCompareConvolve ||
                        role == OutputRole::kCompareCorrelate;
  std::string t = "convcorr " CONVCORR_VERSION;
  if (role == OutputRole::kFiltered) {
    t += p.mode == core::Mode::kConvolve ? " command=convolve"
                                         : " command=correlate";
  } else {
    t += fmt::format(" command=compare output={}", RoleName(role));
  }
  t += " kernel=" + KernelValue(s.kernel);
  if (s.convolve_kernel && !(*s.convolve_kernel == s.kernel)) {
    t += " convolve-kernel=" + KernelValue(*s.convolve_kernel);
  }
  t += fmt::format(
      " border={} size={} stride={},{} scale={} bias={} abs={} "
      "filter-alpha={} alpha-weighted={} rounding={} depth={} gray={} "
      "auto-orient={}",
      BorderValue(p.border), SizeName(p.size), p.stride_y, p.stride_x,
      FormatDouble(p.scale), FormatDouble(p.bias), YesNo(p.abs),
      YesNo(p.filter_alpha), YesNo(p.alpha_weighted && !p.imagemagick),
      RoundingName(p.rounding),
      s.depth.keep ? "keep" : DepthName(s.depth.depth), YesNo(s.decode.gray),
      YesNo(s.decode.auto_orient));
  // Recorded only when on, so that earlier outputs stay current.
  if (p.linear) t += " linear=yes";
  if (role == OutputRole::kDiff || role == OutputRole::kPanel) {
    t += " diff-range=" + DiffRangeValue(s.diff_range);
  }
  if (role == OutputRole::kPanel) t += " title=" + TextValue(title);
  if (filtered) {
    // The input's ICC, EXIF and XMP go to the filtered images only.
    t += s.strip ? " metadata=strip" : " metadata=keep";
    const std::string format = io::FormatOf(ext);
    if (format == "jpeg") {
      t += fmt::format(" quality={}",
                       s.quality == 0 ? io::kDefaultJpegQuality : s.quality);
    } else if (format == "webp") {
      t += s.quality == 0 ? std::string(" quality=lossless")
                          : fmt::format(" quality={}", s.quality);
    }
  }
  return t;
}

}  // namespace convcorr::cli
