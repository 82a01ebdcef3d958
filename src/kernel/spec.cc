// Kernel spec parsing: inline rows, the ImageMagick form and @FILE, plus the
// dispatch to named kernels (named.cc). Every failure is one
// convcorr::Error(kKernelSpec, "kernel spec '<spec>': <reason>"); nothing else
// escapes, whatever bytes the spec holds (docs/kernels.md).
#include "kernel/spec.h"

#include <cerrno>
#include <charconv>
#include <cctype>
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

#include "common/error.h"
#include "kernel/kernel.h"
#include "kernel/spec_internal.h"

namespace convcorr::kernel {
namespace {

using internal::ParseNumberOrThrow;
using internal::Printable;
using internal::ThrowSpecError;

// Quotes longer than this many characters are cut to kQuoteKeep + "...".
constexpr size_t kQuoteMax = 80;
constexpr size_t kQuoteKeep = 77;

// A kernel file larger than this is refused before it is parsed: the largest
// kernel written out with long decimals stays well below it.
constexpr std::uintmax_t kMaxFileBytes = 64u << 20;

// Whitespace between values and around a spec. '\n' is listed too: it
// separates rows in inline specs but is plain whitespace in the IM form.
constexpr std::string_view kSpace = " \t\n\r\v\f";

bool IsSpace(char c) { return kSpace.find(c) != std::string_view::npos; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiLetter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
char ToLowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string_view Trim(std::string_view text) {
  const size_t first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const size_t last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

// Length of the valid UTF-8 sequence starting at s[i] and its code point, or
// 0 when the bytes there are not valid UTF-8 (overlong forms, surrogates and
// code points above U+10FFFF included).
size_t DecodeUtf8(std::string_view s, size_t i, char32_t* code_point) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  }
  size_t length = 0;
  unsigned char low = 0x80;
  unsigned char high = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) low = 0xA0;
    if (b0 == 0xED) high = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) low = 0x90;
    if (b0 == 0xF4) high = 0x8F;
  } else {
    return 0;
  }
  if (i + length > s.size()) return 0;
  const unsigned char b1 = byte(i + 1);
  if (b1 < low || b1 > high) return 0;
  char32_t cp = b0 & (0xFF >> (length + 1));
  cp = (cp << 6) | (b1 & 0x3F);
  for (size_t k = 2; k < length; ++k) {
    const unsigned char b = byte(i + k);
    if (b < 0x80 || b > 0xBF) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  *code_point = cp;
  return length;
}

// Parses a decimal as std::from_chars does (digits, point, exponent, inf,
// nan), with a leading sign only when `allow_sign`. Out-of-range values
// become +-inf or +-0 so the caller's finiteness check reports them.
std::optional<double> ParseDecimal(std::string_view s, bool allow_sign);

// Whether a decimal that std::from_chars found out of range overflowed
// (true) or underflowed (false): libstdc++ leaves the value unspecified, so
// the decimal exponent of the leading digit decides.
bool OverflowsDouble(std::string_view s) {
  size_t i = 0;
  int64_t order = 0;  // decimal exponent of the leading non-zero digit
  bool found = false;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (found) {
      ++order;
    } else if (s[i] != '0') {
      found = true;
    }
  }
  if (i < s.size() && s[i] == '.') {
    for (++i; i < s.size() && IsDigit(s[i]); ++i) {
      if (!found) {
        --order;
        if (s[i] != '0') found = true;
      }
    }
  }
  int64_t exponent = 0;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    bool negative = false;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
    for (; i < s.size() && IsDigit(s[i]); ++i) {
      // Clamped: only the sign of order + exponent matters.
      if (exponent < (int64_t{1} << 40))
        exponent = exponent * 10 + (s[i] - '0');
    }
    if (negative) exponent = -exponent;
  }
  return order + exponent >= 0;
}

std::optional<double> ParseDecimal(std::string_view s, bool allow_sign) {
  bool negative = false;
  if (allow_sign && !s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  // from_chars takes a '-' of its own: refuse it so "--1" is not a number.
  if (s.empty() || s[0] == '+' || s[0] == '-') return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value,
                                         std::chars_format::general);
  if (ec == std::errc::invalid_argument || end != s.data() + s.size()) {
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range) {
    value = OverflowsDouble(s) ? std::numeric_limits<double>::infinity() : 0.0;
  }
  return negative ? -value : value;
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

// Refuses kernels whose weights are so large that sums over them overflow:
// the engine and --normalize add them up.
void CheckAbsSumFinite(std::string_view spec, const std::vector<double>& w) {
  double abs_sum = 0;
  for (double v : w) abs_sum += std::fabs(v);
  if (!std::isfinite(abs_sum)) {
    ThrowSpecError(spec, "the sum of |weights| must be finite");
  }
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
  // Built with append: `"'" + std::string` trips GCC 12's bogus -Wrestrict
  // at -O2 (GCC bug 105329), fatal with CONVCORR_WERROR.
  std::string quoted = "'";
  quoted.append(Printable(path)).append("'");
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
    if (content.size() > kMaxFileBytes) {
      ThrowSpecError(spec, "file " + quoted + " is larger than 64 MiB");
    }
  }
  if (in.bad()) fail(errno != 0 ? std::strerror(errno) : "read error");
  return content;
}

// @FILE: the inline syntax, one row per line (';' also ends a row), '#'
// starts a comment, blank lines are skipped; errors name the line.
Kernel ParseFile(std::string_view spec, std::string_view path) {
  if (path.empty()) {
    ThrowSpecError(spec, "missing file name after '@'");
  }
  const std::string content = ReadKernelFile(spec, path);
  const auto ends_with = [&](std::string_view ext) {
    if (path.size() < ext.size()) return false;
    std::string tail(path.substr(path.size() - ext.size()));
    for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return tail == ext;
  };
  if (ends_with(".npy")) return internal::ReadNpy(spec, path, content);
  if (ends_with(".mat")) return internal::ReadVipsMat(spec, path, content);
  std::string_view text = content;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // BOM
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
    ThrowSpecError(spec, "file '" + Printable(path) + "' has no weights");
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

namespace internal {

std::string ReadFile(std::string_view spec, std::string_view path) {
  return ReadKernelFile(spec, path);
}

void CheckWeights(std::string_view spec, const std::vector<double>& weights) {
  CheckAbsSumFinite(spec, weights);
}

std::string Printable(std::string_view text) {
  std::string out;
  size_t chars = 0;
  size_t keep_bytes = 0;  // size of `out` after kQuoteKeep characters
  for (size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    const size_t length = DecodeUtf8(text, i, &cp);
    if (length == 0) {
      out += '?';  // keeps messages valid UTF-8, e.g. for --json
      ++i;
    } else if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F)) {
      out += ' ';  // control characters would break the one-line message
      i += length;
    } else {
      out.append(text.substr(i, length));
      i += length;
    }
    ++chars;
    if (chars == kQuoteKeep) keep_bytes = out.size();
    if (chars > kQuoteMax) {
      out.resize(keep_bytes);
      return out + "...";
    }
  }
  return out;
}

void ThrowSpecError(std::string_view spec, std::string_view reason) {
  throw Error(ErrorKind::kKernelSpec,
              "kernel spec '" + Printable(spec) + "': " + std::string(reason));
}

// Parses [+-]DECIMAL or [+-]DECIMAL/DECIMAL. The result may be inf or nan
// (the caller says what must be finite); a malformed token throws
// "<prefix>'<token>' is not a number".
double ParseNumberOrThrow(std::string_view spec, std::string_view prefix,
                          std::string_view token) {
  const auto fail = [&](std::string_view what) {
    ThrowSpecError(spec, std::string(prefix) + "'" + Printable(token) + "' " +
                             std::string(what));
  };
  const size_t slash = token.find('/');
  const std::optional<double> numerator =
      ParseDecimal(token.substr(0, slash), /*allow_sign=*/true);
  if (!numerator) fail("is not a number");
  if (slash == std::string_view::npos) return *numerator;
  const std::optional<double> denominator =
      ParseDecimal(token.substr(slash + 1), /*allow_sign=*/false);
  if (!denominator) fail("is not a number");
  if (*denominator == 0) fail("divides by zero");
  return *numerator / *denominator;
}

}  // namespace internal

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
