#include "cli/parse.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <string_view>

#include "common/error.h"

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

core::Border ParseBorder(const std::string& text) {
  using core::BorderMode;
  if (text == "reflect101" || text == "mirror") return {BorderMode::kReflect101};
  if (text == "reflect") return {BorderMode::kReflect};
  if (text == "replicate" || text == "nearest") return {BorderMode::kReplicate};
  if (text == "wrap") return {BorderMode::kWrap};
  if (text == "constant") return {BorderMode::kConstant, 0.0f};
  if (text.rfind("constant:", 0) == 0) {
    double v = 0;
    if (!ParseDouble(std::string_view(text).substr(9), v)) {
      Usage("--border '" + text + "': the constant must be a finite number");
    }
    return {BorderMode::kConstant, static_cast<float>(v)};
  }
  Usage("--border '" + text +
        "': expected reflect101, reflect, replicate, constant[:V] or wrap");
}

core::OutputSize ParseSize(const std::string& text) {
  if (text == "same") return core::OutputSize::kSame;
  if (text == "valid") return core::OutputSize::kValid;
  if (text == "full") return core::OutputSize::kFull;
  Usage("--size '" + text + "': expected same, valid or full");
}

core::Method ParseMethod(const std::string& text) {
  if (text == "auto") return core::Method::kAuto;
  if (text == "direct") return core::Method::kDirect;
  if (text == "separable") return core::Method::kSeparable;
  if (text == "sparse") return core::Method::kSparse;
  if (text == "fft") return core::Method::kFft;
  Usage("--method '" + text +
        "': expected auto, direct, sparse, separable or fft");
}

DepthChoice ParseDepth(const std::string& text) {
  if (text == "keep") return {};
  if (text == "u8") return {false, core::Depth::kU8};
  if (text == "u16") return {false, core::Depth::kU16};
  if (text == "f32") return {false, core::Depth::kF32};
  Usage("--depth '" + text + "': expected keep, u8, u16 or f32");
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
          "x" + std::to_string(k.rows()) +
          " kernel (columns 0.." + std::to_string(k.cols() - 1) + ", rows 0.." +
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
  using core::BorderMode;
  using core::Rounding;
  Compat c;
  c.tool = text;
  if (text.empty() || text == "opencv") {
    c.border = {BorderMode::kReflect101};
  } else if (text == "scipy") {
    c.border = {BorderMode::kReflect};
    c.rounding = Rounding::kWrap;
  } else if (text == "numpy") {
    c.per_mode_anchor = true;
    c.border = {BorderMode::kConstant};
    c.float_output = true;
    c.images = false;
  } else if (text == "imagemagick") {
    c.low_anchor = true;
    c.border = {BorderMode::kReplicate};
    c.rounding = Rounding::kImageMagick;
  } else if (text == "gmic") {
    c.low_anchor = true;
    c.border = {BorderMode::kReplicate};
    c.float_output = true;
  } else if (text == "torch") {
    c.low_anchor = true;
    c.border = {BorderMode::kConstant};
    c.float_output = true;
  } else {
    Usage("--compat '" + text +
          "': expected scipy, opencv, numpy, imagemagick, gmic or torch");
  }
  return c;
}

kernel::Kernel CompatAnchor(const kernel::Kernel& k, const Compat& compat,
                            core::Mode mode) {
  const bool low = compat.low_anchor ||
                   (compat.per_mode_anchor && mode == core::Mode::kConvolve);
  // A kernel anchored elsewhere by its spec ("3x3+0+0:...") keeps it.
  const bool default_anchor =
      k.anchor_x() == k.cols() / 2 && k.anchor_y() == k.rows() / 2;
  if (!low || !default_anchor) return k;
  return k.WithAnchor((k.cols() - 1) / 2, (k.rows() - 1) / 2);
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
