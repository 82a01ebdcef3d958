#include "cli/parse.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "common/error.h"
#include "io/format.h"

namespace convcorr::cli {

namespace {

[[noreturn]] void Usage(const std::string& message) {
  throw Error(ErrorKind::kUsage, message);
}

// Parses a whole string as a finite double; false if it is not one.
bool ParseDouble(std::string_view text, double& out) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc() && ptr == end && std::isfinite(out);
}

bool ParseInt(std::string_view text, int& out) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return !text.empty() && ec == std::errc() && ptr == end;
}

}  // namespace

const WordTable<core::BorderMode>& BorderWords() {
  using core::BorderMode;
  static const WordTable<BorderMode> table = {
      "--border",
      {
          {"reflect101", BorderMode::kReflect101},
          {"mirror", BorderMode::kReflect101, "", true},
          {"reflect", BorderMode::kReflect},
          {"replicate", BorderMode::kReplicate},
          {"nearest", BorderMode::kReplicate, "", true},
          {"constant", BorderMode::kConstant, "", false, "[:V]"},
          {"wrap", BorderMode::kWrap},
      },
      "SciPy"};
  return table;
}

const WordTable<core::OutputSize>& SizeWords() {
  using core::OutputSize;
  static const WordTable<OutputSize> table = {"--size",
                                              {
                                                  {"same", OutputSize::kSame},
                                                  {"valid", OutputSize::kValid},
                                                  {"full", OutputSize::kFull},
                                              }};
  return table;
}

const WordTable<DepthChoice>& DepthWords() {
  using core::Depth;
  static const WordTable<DepthChoice> table = {
      "--depth",
      {
          {"keep", {}},
          {"u8", {false, Depth::kU8}},
          {"u16", {false, Depth::kU16}},
          {"f32", {false, Depth::kF32}, "keeps negative values: write TIFF"},
      }};
  return table;
}

const WordTable<core::Method>& MethodWords() {
  using core::Method;
  static const WordTable<Method> table = {
      "--method",
      {
          {"auto", Method::kAuto, "by the cost model"},
          {"direct", Method::kDirect},
          {"sparse", Method::kSparse, "non-zero taps only"},
          {"separable", Method::kSeparable,
           "1-D passes, kernels of rank 1 to " +
               std::to_string(core::kMaxSeparableTerms)},
          {"fft", Method::kFft},
      }};
  return table;
}

const WordTable<Compat>& CompatWords() {
  static const WordTable<Compat> table = [] {
    using core::BorderMode;
    using core::Rounding;
    WordTable<Compat> t{"--compat", {}};
    const auto add = [&t](const char* tool, Compat c) {
      c.tool = tool;
      t.words.push_back({tool, std::move(c)});
    };
    Compat scipy;
    scipy.border = {BorderMode::kReflect};
    scipy.rounding = Rounding::kWrap;
    add("scipy", scipy);
    Compat opencv;
    opencv.border = {BorderMode::kReflect101};
    add("opencv", opencv);
    Compat numpy;
    numpy.per_mode_anchor = true;
    numpy.border = {BorderMode::kConstant};
    numpy.float_output = true;
    numpy.images = false;
    add("numpy", numpy);
    Compat imagemagick;
    imagemagick.low_anchor = true;
    imagemagick.border = {BorderMode::kReplicate};
    imagemagick.rounding = Rounding::kImageMagick;
    add("imagemagick", imagemagick);
    Compat gmic;
    gmic.low_anchor = true;
    gmic.border = {BorderMode::kReplicate};
    gmic.float_output = true;
    add("gmic", gmic);
    Compat torch;
    torch.correlate_low_anchor = true;
    torch.border = {BorderMode::kConstant};
    torch.float_output = true;
    add("torch", torch);
    return t;
  }();
  return table;
}

const WordTable<kernel::KernelFormat>& KernelFormatWords() {
  static const WordTable<kernel::KernelFormat> table = [] {
    WordTable<kernel::KernelFormat> t{"--to", {}};
    t.one_of = true;
    for (const kernel::KernelFormatName& n : kernel::kKernelFormatNames) {
      t.words.push_back({std::string(n.name), n.format,
                         n.format == kernel::KernelFormat::kNpy && !n.alias
                             ? "binary: redirect it to a file"
                             : "",
                         n.alias});
    }
    return t;
  }();
  return table;
}

core::Border ParseBorder(const std::string& text) {
  const WordTable<core::BorderMode>& table = BorderWords();
  if (const core::BorderMode* mode = FindWord(table, text)) return {*mode};
  // A word with a suffix ("constant[:V]") followed by ":V".
  for (const Word<core::BorderMode>& w : table.words) {
    if (w.suffix.empty() || text.rfind(w.text + ":", 0) != 0) continue;
    double v = 0;
    if (!ParseDouble(std::string_view(text).substr(w.text.size() + 1), v)) {
      Usage(table.option + " '" + text + "': the " + w.text +
            " must be a finite number");
    }
    return {w.value, static_cast<float>(v)};
  }
  return {ParseWord(table, text)};
}

core::OutputSize ParseSize(const std::string& text) {
  return ParseWord(SizeWords(), text);
}

core::Method ParseMethod(const std::string& text) {
  return ParseWord(MethodWords(), text);
}

DepthChoice ParseDepth(const std::string& text) {
  return ParseWord(DepthWords(), text);
}

kernel::KernelFormat ParseKernelFormat(const std::string& text) {
  return ParseWord(KernelFormatWords(), text);
}

kernel::Kernel ApplyAnchor(const kernel::Kernel& k, const std::string& text) {
  if (text.empty()) return k;
  const size_t comma = text.find(',');
  int x = 0;
  int y = 0;
  if (comma == std::string::npos ||
      !ParseInt(std::string_view(text).substr(0, comma), x) ||
      !ParseInt(std::string_view(text).substr(comma + 1), y)) {
    Usage("--anchor '" + text + "': expected X,Y (column,row), e.g. 1,1");
  }
  if (x < 0 || x >= k.cols() || y < 0 || y >= k.rows()) {
    Usage("--anchor '" + text + "': outside the " + std::to_string(k.cols()) +
          "x" + std::to_string(k.rows()) + " kernel (columns 0.." +
          std::to_string(k.cols() - 1) + ", rows 0.." +
          std::to_string(k.rows() - 1) + ")");
  }
  return k.WithAnchor(x, y);
}

Step ParseStep(const std::string& option, const std::string& text) {
  const auto bad = [&]() {
    Usage(option + " '" + text + "': expected N or Y,X with whole numbers " +
          "from 1 to 1024, e.g. 2 or 2,1");
  };
  const size_t comma = text.find(',');
  Step step;
  const std::string_view t(text);
  if (comma == std::string::npos) {
    if (!ParseInt(t, step.y)) bad();
    step.x = step.y;
  } else if (!ParseInt(t.substr(0, comma), step.y) ||
             !ParseInt(t.substr(comma + 1), step.x)) {
    bad();
  }
  if (step.y < 1 || step.y > 1024 || step.x < 1 || step.x > 1024) bad();
  return step;
}

int ParseStep1D(const std::string& option, const std::string& text) {
  if (text.find(',') != std::string::npos) {
    Usage(option + " '" + text + "': signal takes one number, e.g. 2");
  }
  return ParseStep(option, text).x;
}

kernel::Kernel DilateKernel(const kernel::Kernel& k, const Step& dilation,
                            const std::string& spec) {
  if (dilation == Step{}) return k;
  const int64_t rows = int64_t{k.rows() - 1} * dilation.y + 1;
  const int64_t cols = int64_t{k.cols() - 1} * dilation.x + 1;
  if (rows > kernel::kMaxKernelSide || cols > kernel::kMaxKernelSide) {
    Usage("--dilation " + std::to_string(dilation.y) + "," +
          std::to_string(dilation.x) + ": kernel '" + spec + "' would span " +
          std::to_string(cols) + "x" + std::to_string(rows) +
          ", over the largest kernel side " +
          std::to_string(kernel::kMaxKernelSide));
  }
  return kernel::Dilate(k, dilation.y, dilation.x);
}

Compat ParseCompat(const std::string& text) {
  if (text.empty()) {
    Compat c;
    c.border = {core::BorderMode::kReflect101};
    return c;
  }
  return ParseWord(CompatWords(), text);
}

kernel::Kernel CompatAnchor(const kernel::Kernel& k, const Compat& compat,
                            core::Mode mode) {
  const bool low =
      compat.low_anchor ||
      (compat.per_mode_anchor && mode == core::Mode::kConvolve) ||
      (compat.correlate_low_anchor && mode == core::Mode::kCorrelate);
  // A kernel anchored elsewhere by its spec ("3x3+0+0:...") keeps it.
  const bool default_anchor =
      k.anchor_x() == k.cols() / 2 && k.anchor_y() == k.rows() / 2;
  if (!low || !default_anchor) return k;
  return k.WithAnchor((k.cols() - 1) / 2, (k.rows() - 1) / 2);
}

diff::DiffRange ParseDiffRange(const std::string& text) {
  using Kind = diff::DiffRange::Kind;
  if (text == "max") return {Kind::kMax, 0};
  double v = 0;
  if (!text.empty() && text[0] == 'p' &&
      ParseDouble(std::string_view(text).substr(1), v) && v > 0 && v <= 100) {
    return {Kind::kPercentile, v};
  }
  if (!text.empty() && text[0] != 'p' && ParseDouble(text, v) && v > 0) {
    return {Kind::kValue, v};
  }
  Usage("--diff-range '" + text +
        "': expected max, pNN (a percentile above 0, up to 100, e.g. p99.5) "
        "or a positive value");
}

std::vector<double> ParseValues(const std::string& text) {
  std::vector<double> values;
  size_t i = 0;
  while (i < text.size()) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == ',' || std::isspace(c)) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < text.size() && text[j] != ',' &&
           !std::isspace(static_cast<unsigned char>(text[j]))) {
      ++j;
    }
    double v = 0;
    const std::string token = text.substr(i, j - i);
    if (!ParseDouble(token, v)) {
      Usage("values '" + text + "': '" + token + "' is not a finite number");
    }
    values.push_back(v);
    i = j;
  }
  if (values.empty()) Usage("values '" + text + "': no numbers given");
  return values;
}

std::vector<std::string> ParseExtensions(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size() && !text.empty()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string ext = text.substr(start, end - start);
    ext.erase(0, ext.find_first_not_of(" \t"));
    ext.erase(ext.find_last_not_of(" \t") + 1);
    if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (ext == "jp2") {
      // Known by its bytes (io::OpenDecoder refuses it with the reason),
      // never taken from a directory.
      Usage("--ext '" + text +
            "': 'jp2' is JPEG 2000, which convcorr does not read (convert it "
            "to png or tiff)");
    }
    if (!io::IsImageExtension(ext)) {
      Usage("--ext '" + text + "': '" + ext +
            "' is not an image format convcorr reads (e.g. jpg, png, tif)");
    }
    out.push_back(ext);
    start = end + 1;
  }
  return out;
}

std::string NormaliseFormat(std::string text) {
  if (!text.empty() && text.front() == '.') text.erase(0, 1);
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return text;
}

void CheckWritableFormat(const std::string& format) {
  if (!format.empty() && !io::IsWritableExtension(format)) {
    Usage("--format '" + format +
          "': not an image format convcorr can write (e.g. png, tif, jpg)");
  }
}

void CheckRange(const Range& range, double value) {
  if (!(value >= range.min && value <= range.max) ||
      (range.whole && std::floor(value) != value)) {
    Usage(range.message);
  }
}

const char* BorderName(core::BorderMode mode) {
  switch (mode) {
    case core::BorderMode::kReflect101:
      return "reflect101";
    case core::BorderMode::kReflect:
      return "reflect";
    case core::BorderMode::kReplicate:
      return "replicate";
    case core::BorderMode::kConstant:
      return "constant";
    case core::BorderMode::kWrap:
      return "wrap";
  }
  return "?";
}

const char* SizeName(core::OutputSize size) {
  switch (size) {
    case core::OutputSize::kSame:
      return "same";
    case core::OutputSize::kValid:
      return "valid";
    case core::OutputSize::kFull:
      return "full";
  }
  return "?";
}

const char* DepthName(core::Depth depth) {
  switch (depth) {
    case core::Depth::kU8:
      return "u8";
    case core::Depth::kU16:
      return "u16";
    case core::Depth::kF32:
      return "f32";
  }
  return "?";
}

}  // namespace convcorr::cli
