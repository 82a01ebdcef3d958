// The panel's text: UTF-8 decoded by hand, glyphs from GNU Unifont. The
// font's own text files are embedded at build time (diff/unifont.S) and
// searched where they lie: a lookup is a binary search over the lines, so
// nothing is parsed or allocated before the first glyph is drawn.
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "diff/panel_internal.h"

// The embedded files (diff/unifont.S): their bytes and their sizes.
extern "C" {
[[gnu::visibility("hidden")]] extern const char convcorr_unifont_hex[];
[[gnu::visibility("hidden")]] extern const uint32_t convcorr_unifont_hex_size;
[[gnu::visibility("hidden")]] extern const char convcorr_unifont_combining[];
[[gnu::visibility(
    "hidden")]] extern const uint32_t convcorr_unifont_combining_size;
}

namespace convcorr::diff::internal {

namespace {

constexpr char32_t kReplacement = 0xFFFD;

// Value of hex digit `c`, or -1.
int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// The code point a line "XXXX:..." starts with; nullopt if it does not.
std::optional<char32_t> LineCode(std::string_view line) {
  const size_t colon = line.find(':');
  if (colon == 0 || colon > 6 || colon == std::string_view::npos) {
    return std::nullopt;
  }
  char32_t code = 0;
  for (size_t i = 0; i < colon; ++i) {
    const int d = HexDigit(line[i]);
    if (d < 0) return std::nullopt;
    code = code * 16 + static_cast<char32_t>(d);
  }
  return code;
}

// What follows "XXXX:" on the line for `c` in `text`, whose lines are
// sorted by code point (both Unifont files are); nullopt if no line is for
// `c`. Binary search over byte positions: a probe backs up to the start of
// its line, and [lo, hi) always starts and ends at line boundaries.
std::optional<std::string_view> FindLine(std::string_view text, char32_t c) {
  size_t lo = 0;
  size_t hi = text.size();
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    size_t start = mid;
    while (start > lo && text[start - 1] != '\n') --start;
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos || end > hi) end = hi;
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::optional<char32_t> code = LineCode(line);
    if (!code) return std::nullopt;  // not a Unifont file
    if (*code == c) return line.substr(line.find(':') + 1);
    if (*code < c) {
      lo = end + 1;
    } else {
      hi = start;
    }
  }
  return std::nullopt;
}

std::string_view UnifontHex() {
  return {convcorr_unifont_hex, convcorr_unifont_hex_size};
}

std::string_view UnifontCombining() {
  return {convcorr_unifont_combining, convcorr_unifont_combining_size};
}

// The glyph drawn for `c`: its own, else U+FFFD's, else '?''s.
Glyph GlyphOrReplacement(char32_t c) {
  for (char32_t k : {c, kReplacement, char32_t{'?'}}) {
    if (std::optional<Glyph> g = FindGlyph(k)) return *g;
  }
  return Glyph{8, {}};
}

// Places every glyph of `text` at `scale`: calls place(glyph, x) with x
// relative to the start of the text, and returns the text's width. Glyphs
// advance the pen by their width; a combining mark with a negative Unifont
// offset that follows a glyph is placed at pen + offset and does not move
// the pen (a leading one is drawn as an ordinary glyph).
template <typename Place>
int LayOut(std::string_view text, int scale, Place&& place) {
  int pen = 0;
  int right = 0;
  for (const char32_t c : DecodeUtf8(text)) {
    const std::optional<Glyph> own = FindGlyph(c);
    const Glyph glyph = own ? *own : GlyphOrReplacement(c);
    const int offset = own && pen > 0 ? CombiningOffset(c) : 0;
    int x = pen;
    if (offset < 0) {
      x = std::max(0, pen + offset * scale);
    } else {
      pen += glyph.width * scale;
    }
    place(glyph, x);
    right = std::max(right, x + glyph.width * scale);
  }
  return std::max(pen, right);
}

}  // namespace

std::u32string DecodeUtf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<uint8_t>(text[i]);
    if (lead < 0x80) {
      out.push_back(lead);
      ++i;
      continue;
    }
    // Unicode's table of well-formed sequences (Table 3-7): the lead byte
    // fixes the length and the range of the second byte, which excludes
    // overlong forms, surrogates and code points above U+10FFFF.
    int length = 0;
    char32_t code = 0;
    uint8_t lo = 0x80;
    uint8_t hi = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
      code = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      code = lead & 0x0F;
      if (lead == 0xE0) lo = 0xA0;
      if (lead == 0xED) hi = 0x9F;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      code = lead & 0x07;
      if (lead == 0xF0) lo = 0x90;
      if (lead == 0xF4) hi = 0x8F;
    } else {
      out.push_back(kReplacement);  // a continuation byte, C0, C1, F5..FF
      ++i;
      continue;
    }
    // Continuation bytes are taken while they fit; a sequence cut short is
    // one U+FFFD for the bytes taken, and the next byte starts afresh.
    int taken = 1;
    while (taken < length && i + taken < text.size()) {
      const auto next = static_cast<uint8_t>(text[i + taken]);
      if (next < lo || next > hi) break;
      code = (code << 6) | (next & 0x3F);
      lo = 0x80;
      hi = 0xBF;
      ++taken;
    }
    out.push_back(taken == length ? code : kReplacement);
    i += taken;
  }
  return out;
}

std::optional<Glyph> FindGlyph(char32_t c) {
  const std::optional<std::string_view> hex = FindLine(UnifontHex(), c);
  // 32 hex digits are 16 rows of 8 pixels, 64 are 16 rows of 16.
  if (!hex || (hex->size() != 32 && hex->size() != 64)) return std::nullopt;
  Glyph g;
  g.width = hex->size() == 32 ? 8 : 16;
  const size_t digits = hex->size() / kGlyphHeight;
  for (int y = 0; y < kGlyphHeight; ++y) {
    uint32_t row = 0;
    for (size_t k = 0; k < digits; ++k) {
      const int d = HexDigit((*hex)[y * digits + k]);
      if (d < 0) return std::nullopt;
      row = row * 16 + static_cast<uint32_t>(d);
    }
    g.rows[y] = static_cast<uint16_t>(row << (16 - g.width));
  }
  return g;
}

int CombiningOffset(char32_t c) {
  const std::optional<std::string_view> value = FindLine(UnifontCombining(), c);
  if (!value || value->empty()) return 0;
  // "-8", "-16", "0": a sign and decimal digits.
  const bool negative = value->front() == '-';
  int offset = 0;
  for (char d : value->substr(negative ? 1 : 0)) {
    if (d < '0' || d > '9' || offset > 1000) return 0;
    offset = offset * 10 + (d - '0');
  }
  return negative ? -offset : offset;
}

int TextWidth(std::string_view text, int scale) {
  return LayOut(text, scale, [](const Glyph&, int) {});
}

void DrawText(Raster& r, std::string_view text, int x, int top, int scale,
              Bgr color) {
  LayOut(text, scale, [&](const Glyph& g, int at) {
    for (int gy = 0; gy < kGlyphHeight; ++gy) {
      for (int gx = 0; gx < g.width; ++gx) {
        if ((g.rows[gy] >> (15 - gx)) & 1) {
          r.Fill(x + at + gx * scale, top + gy * scale, scale, scale, color);
        }
      }
    }
  });
}

}  // namespace convcorr::diff::internal
