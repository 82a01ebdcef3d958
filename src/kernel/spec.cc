// Kernel spec parsing: inline rows, the ImageMagick form and @FILE, with the
// dispatch to named kernels (named.h) and to the .npy and .mat readers
// (formats.h). Every failure is one
// convcorr::Error(kKernelSpec, "kernel spec '<spec>': <reason>"); nothing else
// escapes, whatever bytes the spec holds (docs/kernels.md).
#include "kernel/spec.h"

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "kernel/formats.h"
#include "kernel/image_kernel.h"
#include "kernel/kernel.h"
#include "kernel/named.h"
#include "kernel/text.h"

namespace convcorr::kernel {
namespace {

using internal::CheckAbsSumFinite;
using internal::EqualsIgnoreCase;
using internal::IsDigit;
using internal::IsSpace;
using internal::ParseNumberOrThrow;
using internal::Printable;
using internal::Quoted;
using internal::ThrowSpecError;
using internal::Trim;

bool IsAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// A piece of the spec that holds one kernel row, and the number shown in
// messages for it (row number inline, line number in a file).
struct RowText {
  std::string_view text;
  int number = 0;
};

enum class SplitStatus { kOk, kEmptyValue, kTooMany };

// Splits `text` into values: one comma with any whitespace around it, or
// whitespace alone, separates two values; a leading, trailing or doubled
// comma is an empty value. Stops once more than `max_values` are found so a
// huge spec never builds a huge list.
SplitStatus SplitValues(std::string_view text, size_t max_values,
                        std::vector<std::string_view>* values) {
  values->clear();
  size_t i = 0;
  const auto skip_space = [&] {
    while (i < text.size() && IsSpace(text[i])) ++i;
  };
  skip_space();
  while (i < text.size()) {
    if (text[i] == ',') return SplitStatus::kEmptyValue;
    const size_t start = i;
    while (i < text.size() && text[i] != ',' && !IsSpace(text[i])) ++i;
    if (values->size() == max_values) return SplitStatus::kTooMany;
    values->push_back(text.substr(start, i - start));
    skip_space();
    if (i < text.size() && text[i] == ',') {
      ++i;
      skip_space();
      if (i == text.size()) return SplitStatus::kEmptyValue;
    }
  }
  return SplitStatus::kOk;
}

std::string Plural(size_t n, std::string_view word) {
  std::string s = std::to_string(n) + " " + std::string(word);
  if (n != 1) s += "s";
  return s;
}

// Turns rows of values into a kernel with the default anchor. `unit` names
// the rows in messages ("row" inline, "line" in a file); with
// `prefix_value_errors` per-value errors start with "line N: " so that a bad
// value in a long file can be found.
Kernel KernelFromRows(std::string_view spec, const std::vector<RowText>& rows,
                      std::string_view unit, bool prefix_value_errors) {
  std::vector<double> weights;
  std::vector<std::string_view> values;
  size_t cols = 0;
  for (const RowText& row : rows) {
    const std::string label =
        std::string(unit) + " " + std::to_string(row.number);
    switch (SplitValues(row.text, kMaxKernelSide, &values)) {
      case SplitStatus::kOk:
        break;
      case SplitStatus::kEmptyValue:
        ThrowSpecError(spec,
                       label + " has an empty value: remove the extra comma");
      case SplitStatus::kTooMany:
        ThrowSpecError(spec, label + " has more than " +
                                 std::to_string(kMaxKernelSide) +
                                 " values (the largest kernel is 1025x1025)");
    }
    if (&row == &rows.front()) {
      cols = values.size();
    } else if (values.size() != cols) {
      ThrowSpecError(spec, label + " has " + Plural(values.size(), "value") +
                               ", " + std::string(unit) + " " +
                               std::to_string(rows.front().number) + " has " +
                               std::to_string(cols));
    }
    const std::string prefix = prefix_value_errors ? label + ": " : "";
    for (std::string_view token : values) {
      const double v = ParseNumberOrThrow(spec, prefix, token);
      if (!std::isfinite(v))
        ThrowSpecError(spec, prefix + "weights must be finite");
      weights.push_back(v + 0.0);  // + 0.0 turns a -0 into 0
    }
  }
  CheckAbsSumFinite(spec, weights);
  return Kernel(static_cast<int>(rows.size()), static_cast<int>(cols),
                std::move(weights));
}

[[noreturn]] void ThrowTooManyRows(std::string_view spec) {
  ThrowSpecError(spec, "more than " + std::to_string(kMaxKernelSide) +
                           " rows (the largest kernel is 1025x1025)");
}

// Inline rows: split by ';' or newline. Empty rows at the end (a trailing
// ';' or newline) are dropped; an empty row before a real one is an error.
Kernel ParseInline(std::string_view spec, std::string_view text) {
  std::vector<RowText> rows;
  int number = 0;
  int first_empty = 0;  // number of the first empty row not yet followed up
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find_first_of(";\n", start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view row = text.substr(start, end - start);
    ++number;
    if (Trim(row).empty()) {
      if (first_empty == 0) first_empty = number;
    } else {
      if (first_empty != 0) {
        ThrowSpecError(spec, "row " + std::to_string(first_empty) +
                                 " is empty: remove the extra ';' or newline");
      }
      if (rows.size() == static_cast<size_t>(kMaxKernelSide)) {
        ThrowTooManyRows(spec);
      }
      rows.push_back({row, number});
    }
    start = end + 1;
  }
  if (rows.empty()) {
    ThrowSpecError(spec,
                   "has no weights (give weights like '1,2,1', a name "
                   "like 'box:3', or '@FILE')");
  }
  return KernelFromRows(spec, rows, "row", /*prefix_value_errors=*/false);
}

// Reads a whole file of at most kMaxFileBytes, or throws with the reason.
std::string ReadKernelFile(std::string_view spec, std::string_view path) {
  const std::string quoted = Quoted(path);
  const auto fail = [&](const std::string& reason) {
    ThrowSpecError(spec, "cannot read file " + quoted + ": " + reason);
  };
  // A NUL would silently cut the name short when it reaches the OS.
  if (path.find('\0') != std::string_view::npos) {
    fail("the name contains a NUL byte");
  }
  const std::filesystem::path fs_path{std::string(path)};
  std::error_code ec;
  // Linux opens directories for reading and only fails on the first read.
  if (std::filesystem::is_directory(fs_path, ec)) fail(std::strerror(EISDIR));
  errno = 0;
  std::ifstream in(fs_path, std::ios::binary);
  if (!in) fail(errno != 0 ? std::strerror(errno) : "cannot open it");
  std::string content;
  char buffer[1 << 16];
  while (in) {
    in.read(buffer, sizeof buffer);
    content.append(buffer, static_cast<size_t>(in.gcount()));
    CheckKernelFileSize(spec, path, content.size());
  }
  if (in.bad()) fail(errno != 0 ? std::strerror(errno) : "read error");
  return content;
}

bool LooksLikeImageMagick(std::string_view text);
Kernel ParseImageMagick(std::string_view spec, std::string_view text);

// @FILE: the inline syntax, one row per line (';' also ends a row), '#'
// starts a comment, blank lines are skipped; errors name the line. A file
// in another tool's one-line form (ImageMagick, G'MIC) or a NumPy file is
// read as such.
Kernel ParseFile(std::string_view spec, std::string_view path) {
  if (path.empty()) {
    ThrowSpecError(spec, "missing file name after '@'");
  }
  const std::string content = ReadKernelFile(spec, path);
  const auto ends_with = [&](std::string_view ext) {
    return path.size() >= ext.size() &&
           EqualsIgnoreCase(path.substr(path.size() - ext.size()), ext);
  };
  // NumPy files by their magic too, whatever their name.
  if (ends_with(".npy") || std::string_view(content).substr(0, 6) ==
                               std::string_view("\x93NUMPY", 6)) {
    return internal::ReadNpy(spec, path, content);
  }
  if (ends_with(".mat")) return internal::ReadVipsMat(spec, path, content);
  std::string_view text = content;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
  // A file holding another tool's one-line form, as `kernel --to` writes
  // it: ImageMagick's "WxH+X+Y: v,v,..." or G'MIC's "(a,b;c,d)". Comments
  // ('#' to the end of a line) are dropped and line breaks read as spaces.
  std::string joined;
  for (size_t at = 0; at < text.size();) {
    size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(at, end - at);
    joined.append(line.substr(0, line.find('#')));
    joined.push_back(' ');
    at = end + 1;
  }
  const std::string_view body = Trim(joined);
  if (LooksLikeImageMagick(body)) return ParseImageMagick(spec, body);
  if (body.size() >= 2 && body.front() == '(' && body.back() == ')') {
    return ParseInline(spec, Trim(body.substr(1, body.size() - 2)));
  }
  std::vector<RowText> rows;
  int line_number = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    ++line_number;
    line = line.substr(0, line.find('#'));
    size_t piece_start = 0;
    while (piece_start <= line.size()) {
      size_t piece_end = line.find(';', piece_start);
      if (piece_end == std::string_view::npos) piece_end = line.size();
      const std::string_view piece =
          line.substr(piece_start, piece_end - piece_start);
      if (!Trim(piece).empty()) {
        if (rows.size() == static_cast<size_t>(kMaxKernelSide)) {
          ThrowTooManyRows(spec);
        }
        rows.push_back({piece, line_number});
      }
      piece_start = piece_end + 1;
    }
    start = end + 1;
  }
  if (rows.empty()) {
    ThrowSpecError(spec, "file " + Quoted(path) + " has no weights");
  }
  return KernelFromRows(spec, rows, "line", /*prefix_value_errors=*/true);
}

// Reads the unsigned decimal at the front of `s`, clamped to a value above
// any kernel side so overflow still reads as "too large".
std::optional<int64_t> TakeUnsigned(std::string_view* s) {
  size_t i = 0;
  int64_t value = 0;
  while (i < s->size() && IsDigit((*s)[i])) {
    if (value <= 1'000'000'000) value = value * 10 + ((*s)[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  s->remove_prefix(i);
  return value;
}

// Whether `text` is meant as the ImageMagick form: it starts with a digit and
// has a ':' before any separator an inline spec would use.
bool LooksLikeImageMagick(std::string_view text) {
  if (text.empty() || !IsDigit(text[0])) return false;
  const size_t colon = text.find(':');
  if (colon == std::string_view::npos) return false;
  return text.substr(0, colon).find_first_of(",;/ \t\n\r\v\f") ==
         std::string_view::npos;
}

// WxH[+X+Y]:v,v,... or N:v,v,... (N x N). 'nan' and '-' are zero weights.
Kernel ParseImageMagick(std::string_view spec, std::string_view text) {
  const size_t colon = text.find(':');
  const std::string_view geometry = text.substr(0, colon);
  const auto bad_geometry = [&] {
    ThrowSpecError(spec, "bad geometry '" + Printable(geometry) +
                             "' (use WxH:..., WxH+X+Y:... or N:...)");
  };
  std::string_view g = geometry;
  const std::optional<int64_t> width = TakeUnsigned(&g);
  std::optional<int64_t> height = width;
  if (!g.empty() && (g[0] == 'x' || g[0] == 'X')) {
    g.remove_prefix(1);
    height = TakeUnsigned(&g);
    if (!height) bad_geometry();
  }
  std::optional<int64_t> anchor_x;
  std::optional<int64_t> anchor_y;
  if (!g.empty() && g[0] == '+') {
    g.remove_prefix(1);
    anchor_x = TakeUnsigned(&g);
    if (!anchor_x || g.empty() || g[0] != '+') bad_geometry();
    g.remove_prefix(1);
    anchor_y = TakeUnsigned(&g);
    if (!anchor_y) bad_geometry();
  }
  if (!g.empty()) bad_geometry();
  if (*width < 1 || *width > kMaxKernelSide || *height < 1 ||
      *height > kMaxKernelSide) {
    ThrowSpecError(spec, "width and height must be from 1 to " +
                             std::to_string(kMaxKernelSide));
  }
  const int cols = static_cast<int>(*width);
  const int rows = static_cast<int>(*height);
  if (anchor_x && (*anchor_x >= cols || *anchor_y >= rows)) {
    ThrowSpecError(spec, "anchor +" + std::to_string(*anchor_x) + "+" +
                             std::to_string(*anchor_y) +
                             " is outside the kernel (x must be < " +
                             std::to_string(cols) + ", y < " +
                             std::to_string(rows) + ")");
  }

  const size_t expected = static_cast<size_t>(rows) * cols;
  std::vector<std::string_view> values;
  // One more than expected is enough to tell "too many" apart; the real
  // count is then found by a cheap second pass.
  const SplitStatus status =
      SplitValues(text.substr(colon + 1), expected + 1, &values);
  if (status == SplitStatus::kEmptyValue) {
    ThrowSpecError(spec, "value " + std::to_string(values.size() + 1) +
                             " is empty: remove the extra comma");
  }
  if (values.size() != expected) {
    size_t count = values.size();
    if (status == SplitStatus::kTooMany) {
      SplitValues(text.substr(colon + 1), std::numeric_limits<size_t>::max(),
                  &values);
      count = values.size();
    }
    ThrowSpecError(spec, "expected " + Plural(expected, "value") + " (" +
                             std::to_string(cols) + "x" + std::to_string(rows) +
                             "), got " + std::to_string(count));
  }
  std::vector<double> weights;
  weights.reserve(expected);
  for (std::string_view token : values) {
    const std::string_view digits =
        (token.size() > 1 && (token[0] == '+' || token[0] == '-'))
            ? token.substr(1)
            : token;
    if (token == "-" || EqualsIgnoreCase(digits, "nan")) {
      weights.push_back(0.0);
      continue;
    }
    const double v = ParseNumberOrThrow(spec, "", token);
    if (!std::isfinite(v)) ThrowSpecError(spec, "weights must be finite");
    weights.push_back(v + 0.0);
  }
  CheckAbsSumFinite(spec, weights);
  if (anchor_x) {
    return Kernel(rows, cols, std::move(weights), static_cast<int>(*anchor_x),
                  static_cast<int>(*anchor_y));
  }
  return Kernel(rows, cols, std::move(weights));
}

// Whether the first value of an inline spec is a number spelled with letters
// ("nan", "inf"), which must not be mistaken for a kernel name.
bool StartsWithNumberWord(std::string_view text) {
  const std::string_view first =
      text.substr(0, text.find_first_of(",;/: \t\n\r\v\f"));
  return EqualsIgnoreCase(first, "nan") || EqualsIgnoreCase(first, "inf") ||
         EqualsIgnoreCase(first, "infinity");
}

}  // namespace

Kernel ParseSpec(std::string_view spec) {
  const std::string_view text = Trim(spec);
  if (text.empty()) {
    ThrowSpecError(spec,
                   "is empty (give weights like '1,2,1', a name like "
                   "'box:3', or '@FILE')");
  }
  if (text[0] == '@') return ParseFile(spec, Trim(text.substr(1)));
  if (LooksLikeImageMagick(text)) return ParseImageMagick(spec, text);
  // G'MIC's matrix form: "(a,b;c,d)", rows split by ';'.
  if (text.size() >= 2 && text.front() == '(' && text.back() == ')') {
    return ParseInline(spec, Trim(text.substr(1, text.size() - 2)));
  }
  if (IsAsciiLetter(text[0]) && !StartsWithNumberWord(text)) {
    const size_t colon = text.find(':');
    if (colon == std::string_view::npos) return MakeNamedKernel(spec, text, {});
    const std::string_view params = Trim(text.substr(colon + 1));
    if (params.empty()) {
      ThrowSpecError(spec, "missing parameters after ':'");
    }
    return MakeNamedKernel(spec, Trim(text.substr(0, colon)), params);
  }
  return ParseInline(spec, text);
}

}  // namespace convcorr::kernel
