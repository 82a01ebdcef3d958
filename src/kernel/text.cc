// Text helpers and the spec error shared by the kernel parsers (text.h).
#include "kernel/text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/error.h"

namespace convcorr::kernel::internal {
namespace {

// Quotes longer than this many characters are cut to kQuoteKeep + "...".
constexpr size_t kQuoteMax = 80;
constexpr size_t kQuoteKeep = 77;

char ToLowerAscii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
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

}  // namespace

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

std::string Quoted(std::string_view text) {
  return "'" + Printable(text) + "'";
}

void ThrowSpecError(std::string_view spec, std::string_view reason) {
  throw Error(ErrorKind::kKernelSpec,
              "kernel spec '" + Printable(spec) + "': " + std::string(reason));
}

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

void CheckAbsSumFinite(std::string_view spec,
                       const std::vector<double>& weights) {
  double abs_sum = 0;
  for (double v : weights) abs_sum += std::fabs(v);
  if (!std::isfinite(abs_sum)) {
    ThrowSpecError(spec, "the sum of |weights| must be finite");
  }
}

}  // namespace convcorr::kernel::internal
