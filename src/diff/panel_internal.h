// The panel's drawing primitives (panel.cc, panel_text.cc), declared here
// for the tests: an 8-bit raster, its two resizes, and text in GNU Unifont.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "diff/diff.h"

namespace convcorr::diff::internal {

// An 8-bit, 3-channel raster, row-major, one Bgr per pixel: the channel
// order of core::Image's colour planes (B, G, R).
struct Raster {
  int width = 0;
  int height = 0;
  std::vector<Bgr> pixels;

  Raster() = default;
  Raster(int w, int h, Bgr fill = {})
      : width(w), height(h), pixels(static_cast<size_t>(w) * h, fill) {}
  Bgr& at(int y, int x) { return pixels[static_cast<size_t>(y) * width + x]; }
  const Bgr& at(int y, int x) const {
    return pixels[static_cast<size_t>(y) * width + x];
  }
  // Paints the w x h rectangle at (x, y), clipped to the raster.
  void Fill(int x, int y, int w, int h, Bgr c);
};

// `src` shrunk to width x height (each at least 1 and at most src's) by
// area averaging, as OpenCV's INTER_AREA shrinks: every output pixel is the
// mean of the input area it covers, input pixels cut by its edges counting
// by the fraction covered. The mean is exact (integer arithmetic) and
// rounded half up. An empty `src` gives black.
Raster ShrinkArea(const Raster& src, int width, int height);

// `src` enlarged `factor` times (a whole number, at least 1) by nearest
// neighbour: every pixel becomes a factor x factor square.
Raster EnlargeNearest(const Raster& src, int factor);

// The code points of UTF-8 `text`. Every maximal ill-formed subsequence
// (an invalid byte, or a sequence cut short, overlong or out of range)
// becomes one U+FFFD, as Unicode recommends; code points above U+FFFF are
// kept.
std::u32string DecodeUtf8(std::string_view text);

// A glyph of GNU Unifont: 16 rows of `width` (8 or 16) pixels; bit 15 of a
// row is its leftmost pixel.
constexpr int kGlyphHeight = 16;
struct Glyph {
  int width = 0;
  std::array<uint16_t, kGlyphHeight> rows{};
  bool operator==(const Glyph&) const = default;
};

// The glyph of `c` in the Unifont embedded at build time (unifont.hex: the
// Basic Multilingual Plane, surrogates and private use excepted), if any.
std::optional<Glyph> FindGlyph(char32_t c);

// Unifont's horizontal offset of combining mark `c` (plane00-combining.txt;
// negative: drawn that many pixels left of the pen), 0 for anything else.
int CombiningOffset(char32_t c);

// Width in pixels of `text` (UTF-8) drawn by DrawText at `scale`.
int TextWidth(std::string_view text, int scale);

// Draws `text` (UTF-8) with the top-left corner of its first glyph cell at
// (x, top), every pixel of a glyph a scale x scale square of `color`, clipped
// to `r`. A code point with no glyph, and every ill-formed UTF-8
// subsequence, is drawn as U+FFFD (or '?' if the font had none). Glyphs are
// 16 pixels high and 8 or 16 wide (CJK and other wide characters); a
// combining mark after another glyph is drawn at its Unifont offset and
// takes no room, so decomposed accents (e + U+0301) sit on their letter.
void DrawText(Raster& r, std::string_view text, int x, int top, int scale,
              Bgr color);

}  // namespace convcorr::diff::internal
