// The labelled panel, drawn on an 8-bit BGR raster of its own
// (panel_internal.h): tiles are shrunk by area averaging or enlarged by
// whole-factor nearest neighbour, frames and the colour bar are filled
// rectangles, and the text is GNU Unifont, embedded at build time
// (panel_text.cc). No OpenCV.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "diff/diff.h"
#include "diff/panel_internal.h"

namespace convcorr::diff {

namespace internal {

void Raster::Fill(int x, int y, int w, int h, Bgr c) {
  const int x0 = std::max(x, 0);
  const int y0 = std::max(y, 0);
  const int x1 = std::min(x + w, width);
  const int y1 = std::min(y + h, height);
  for (int yy = y0; yy < y1; ++yy) {
    for (int xx = x0; xx < x1; ++xx) at(yy, xx) = c;
  }
}

namespace {

// How input pixels [0, n) cover output pixels [0, m), m <= n, along one
// axis: on a grid n * m units long, input pixel i spans [i m, (i + 1) m)
// and output pixel j spans [j n, (j + 1) n), so every overlap is a whole
// number of units and an output's overlaps add up to n.
struct Coverage {
  struct Tap {
    int index;        // input pixel
    uint64_t weight;  // units of it inside the output pixel
  };
  std::vector<Tap> taps;
  std::vector<size_t> first;  // output j's taps: [first[j], first[j + 1])

  Coverage(int n, int m) {
    first.reserve(static_cast<size_t>(m) + 1);
    for (int64_t j = 0; j < m; ++j) {
      first.push_back(taps.size());
      const int64_t begin = j * n;
      const int64_t end = begin + n;
      for (int64_t i = begin / m; i * m < end; ++i) {
        const int64_t overlap =
            std::min((i + 1) * m, end) - std::max(i * m, begin);
        if (overlap > 0) {
          taps.push_back({static_cast<int>(i), static_cast<uint64_t>(overlap)});
        }
      }
    }
    first.push_back(taps.size());
  }
};

// One output row of ShrinkArea from its vertical sums (per input column,
// weight x sample, B, G, R): the horizontal pass and the mean over `total`
// units, rounded half up in integers (floor(sum / total + 1/2)).
void ShrinkRow(const Coverage& cx, const std::array<uint64_t, 3>* sums,
               uint64_t total, Bgr* out) {
  for (size_t x = 0; x + 1 < cx.first.size(); ++x) {
    std::array<uint64_t, 3> sum{};
    for (size_t t = cx.first[x]; t < cx.first[x + 1]; ++t) {
      const uint64_t w = cx.taps[t].weight;
      for (int c = 0; c < 3; ++c) sum[c] += w * sums[cx.taps[t].index][c];
    }
    const auto mean = [&](uint64_t s) {
      return static_cast<uint8_t>((2 * s + total) / (2 * total));
    };
    out[x] = {mean(sum[0]), mean(sum[1]), mean(sum[2])};
  }
}

}  // namespace

Raster ShrinkArea(const Raster& src, int width, int height) {
  const Coverage cx(src.width, width);
  const Coverage cy(src.height, height);
  // Sums of weight x sample, exact in 64 bits: the weights of one output
  // pixel add up to src.width * src.height, so a sum is at most 255 times
  // the input's pixel count.
  const uint64_t total = static_cast<uint64_t>(src.width) * src.height;
  Raster out(width, height);
  if (total == 0) return out;
  std::vector<std::array<uint64_t, 3>> row(src.width);
  for (int y = 0; y < height; ++y) {
    std::fill(row.begin(), row.end(), std::array<uint64_t, 3>{});
    for (size_t t = cy.first[y]; t < cy.first[y + 1]; ++t) {
      const uint64_t w = cy.taps[t].weight;
      const Bgr* in = &src.at(cy.taps[t].index, 0);
      for (int x = 0; x < src.width; ++x) {
        row[x][0] += w * in[x].b;
        row[x][1] += w * in[x].g;
        row[x][2] += w * in[x].r;
      }
    }
    ShrinkRow(cx, row.data(), total, &out.at(y, 0));
  }
  return out;
}

Raster EnlargeNearest(const Raster& src, int factor) {
  Raster out(src.width * factor, src.height * factor);
  for (int y = 0; y < out.height; ++y) {
    for (int x = 0; x < out.width; ++x) {
      out.at(y, x) = src.at(y / factor, x / factor);
    }
  }
  return out;
}

}  // namespace internal

namespace {

using internal::Raster;

// Tiles are scaled to fit in kMaxTileSide so four of them stay about 4096
// pixels wide; tiny images are enlarged (nearest neighbour, whole factors)
// towards kMinTileWidth so their pixels and the labels above them are legible.
constexpr int kMaxTileSide = 1024;
constexpr int kMinTileWidth = 192;
constexpr int kGap = 10;
constexpr int kTickLength = 4;
constexpr Bgr kBackground{255, 255, 255};
constexpr Bgr kText{60, 60, 60};
// A thin frame keeps white tiles (a zero difference) visible on the white
// background.
constexpr Bgr kFrame{200, 200, 200};
constexpr double kCheckLight = 240.0;
constexpr double kCheckDark = 204.0;
constexpr int kCheckSize = 8;

// A tile's 8-bit BGR view of an image, and what its grey levels mean.
struct Tile {
  Raster bgr;
  std::string note;  // the value range shown, for float images
};

// Factor that brings an alpha sample to [0, 1]; the depth's maximum for
// integer images, and float alpha is taken to be in [0, 1] already.
double AlphaScale(core::Depth depth) {
  switch (depth) {
    case core::Depth::kU8:
      return 1.0 / 255.0;
    case core::Depth::kU16:
      return 1.0 / 65535.0;
    case core::Depth::kF32:
      return 1.0;
  }
  return 1.0;
}

// A sample on the 8-bit scale: rounded half to even and clamped to
// [0, 255], NaN giving 0, as core::Quantize does.
uint8_t ToByte(double v) {
  if (std::isnan(v)) return 0;
  return static_cast<uint8_t>(std::nearbyint(std::clamp(v, 0.0, 255.0)));
}

// How a tile maps samples to 8-bit values: v * scale + offset for the
// colour samples, alpha (its sample times alpha_scale, clamped to [0, 1])
// over a light checkerboard.
struct TileMap {
  double scale = 1.0;
  double offset = 0.0;
  double alpha_scale = 1.0;

  // The pixel at (x, y) of colour samples b, g, r (a gray sample three
  // times) and, if not null, alpha sample *a.
  Bgr Pixel(double b, double g, double r, const double* a, int x, int y) const {
    std::array<double, 3> v = {b * scale + offset, g * scale + offset,
                               r * scale + offset};
    if (a != nullptr) {
      // Composite over a light checkerboard so transparency shows.
      const double k = std::clamp(*a * alpha_scale, 0.0, 1.0);
      const double check =
          ((x / kCheckSize + y / kCheckSize) % 2) ? kCheckDark : kCheckLight;
      for (double& c : v) c = k * c + (1.0 - k) * check;
    }
    return {ToByte(v[0]), ToByte(v[1]), ToByte(v[2])};
  }
};

// An integer depth's map: 16-bit samples scaled to 8 bits.
TileMap IntegerMap(core::Depth depth) {
  TileMap m;
  if (depth == core::Depth::kU16) m.scale = 255.0 / 65535.0;
  m.alpha_scale = AlphaScale(depth);
  return m;
}

// A depth's map; float samples stretched from `range` (ColorRange) to
// 0..255, so that negative or tiny results stay visible.
TileMap MapFor(core::Depth depth, core::Range range) {
  TileMap map = IntegerMap(depth);
  if (depth == core::Depth::kF32) {
    const double lo = range.lo;
    const double hi = range.hi;
    if (hi > lo) {
      map.scale = 255.0 / (hi - lo);
      map.offset = -lo * map.scale;
    } else {
      map.offset = 128.0 - lo;  // a constant image is shown mid-grey
    }
  }
  return map;
}

Tile ToTile(const core::Image& img) {
  const int w = img.width;
  const int h = img.height;
  std::string note;
  core::Range range;
  if (img.depth == core::Depth::kF32) {
    // Say which range the grey levels stretch.
    range = core::ColorRange(img);
    note = fmt::format(" [{:.3g}, {:.3g}]", static_cast<double>(range.lo),
                       static_cast<double>(range.hi));
  }
  const TileMap map = MapFor(img.depth, range);
  const bool gray = img.color.size() == 1;
  Raster bgr(w, h);
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      const auto v = [&](int c) -> double {
        return img.color[gray ? 0 : c].at(y, x);
      };
      double a = 0;
      if (img.alpha) a = img.alpha->at(y, x);
      bgr.at(y, x) =
          map.Pixel(v(0), v(1), v(2), img.alpha ? &a : nullptr, x, y);
    }
  }
  return {bgr, note};
}

struct Size {
  int width;
  int height;
};

// Brings every tile to one scale: the largest fits in kMaxTileSide, tiny ones
// grow towards kMinTileWidth. Returns the common tile size (the largest).
Size ScaleTiles(std::vector<Tile>& tiles) {
  int w = 1;
  int h = 1;
  for (const Tile& t : tiles) {
    w = std::max(w, t.bgr.width);
    h = std::max(h, t.bgr.height);
  }
  if (w > kMaxTileSide || h > kMaxTileSide) {
    // Area averaging. f < 1, so no side grows (ShrinkArea only shrinks).
    const double f = static_cast<double>(kMaxTileSide) / std::max(w, h);
    const auto scaled = [f](int n) {
      return std::max(1, static_cast<int>(std::lround(n * f)));
    };
    for (Tile& t : tiles) {
      if (t.bgr.pixels.empty()) continue;
      t.bgr = internal::ShrinkArea(t.bgr, scaled(t.bgr.width),
                                   scaled(t.bgr.height));
    }
    return {scaled(w), scaled(h)};
  }
  if (w < kMinTileWidth) {
    // Whole factors and nearest neighbour keep every pixel a crisp square,
    // which matters when the difference is a one-pixel shift.
    const int by_width = (kMinTileWidth + w - 1) / w;
    const int f = std::max(1, std::min(by_width, kMaxTileSide / h));
    if (f == 1) return {w, h};
    for (Tile& t : tiles) t.bgr = internal::EnlargeNearest(t.bgr, f);
    return {w * f, h * f};
  }
  return {w, h};
}

// Text style, sized to the tiles so labels stay readable on big panels:
// Unifont's 8x16 and 16x16 glyphs, every font pixel a scale x scale square.
struct Font {
  int scale;

  explicit Font(int tile_width) : scale(tile_width >= 768 ? 2 : 1) {}

  int Width(std::string_view text) const {
    return internal::TextWidth(text, scale);
  }
  // Height of a line of text, ascenders and descenders included.
  int LineHeight() const { return internal::kGlyphHeight * scale; }

  // Draws `text` with the top of its line at `top`.
  void Draw(Raster& img, std::string_view text, int x, int top) const {
    internal::DrawText(img, text, x, top, scale, kText);
  }
};

// The 1-pixel outline of the w x h rectangle at (x, y).
void Frame(Raster& img, int x, int y, int w, int h, Bgr c) {
  img.Fill(x, y, w, 1, c);
  img.Fill(x, y + h - 1, w, 1, c);
  img.Fill(x, y, 1, h, c);
  img.Fill(x + w - 1, y, 1, h, c);
}

// `tile` onto `panel` with its top-left corner at (x, y), framed just
// outside; clipped to the panel.
void PlaceTile(Raster& panel, const Raster& tile, int x, int y) {
  Frame(panel, x - 1, y - 1, tile.width + 2, tile.height + 2, kFrame);
  for (int ty = std::max(0, -y); ty < tile.height && y + ty < panel.height;
       ++ty) {
    for (int tx = std::max(0, -x); tx < tile.width && x + tx < panel.width;
         ++tx) {
      panel.at(y + ty, x + tx) = tile.at(ty, tx);
    }
  }
}

core::Image FromBgr(const Raster& m) {
  core::Image out;
  out.width = m.width;
  out.height = m.height;
  out.depth = core::Depth::kU8;
  out.color.assign(3, core::Plane(m.width, m.height));
  for (int y = 0; y < m.height; ++y) {
    for (int x = 0; x < m.width; ++x) {
      const Bgr p = m.at(y, x);
      out.color[0].at(y, x) = p.b;
      out.color[1].at(y, x) = p.g;
      out.color[2].at(y, x) = p.r;
    }
  }
  return out;
}

}  // namespace

core::Image Panel(const core::Image& input, const core::Image& correlated,
                  const core::Image& convolved, const core::Image& heat_map,
                  double range, double max_abs, const std::string& title) {
  std::vector<Tile> tiles = {ToTile(input), ToTile(correlated),
                             ToTile(convolved), ToTile(heat_map)};
  const std::array<std::string, 4> labels = {
      "input" + tiles[0].note, "correlate" + tiles[1].note,
      "convolve" + tiles[2].note, "convolve - correlate"};
  const Size tile = ScaleTiles(tiles);

  // One font for the title and the labels: whole-factor scales leave no
  // size between 1 and 2 for a larger title.
  const Font font(tile.width);
  // Ticks of the colour bar, in compare's own number format. An empty
  // range (identical results) has one tick, "0", on a white bar; a range
  // below the largest difference saturates, which the end labels say
  // ("<=", ">=") and arrows at the bar's ends show.
  const bool has_range = range > 0;
  const bool clipped = has_range && max_abs > range;
  const std::string tick_lo =
      has_range ? (clipped ? "\u2264" : "") + FormatDiff(-range) : "";
  const std::string tick_hi =
      has_range ? (clipped ? "\u2265+" : "+") + FormatDiff(range) : "";

  const int line = font.LineHeight();
  const int bar_height = std::max(10, line);
  // An arrow is a triangle as tall as the bar, half as wide.
  const int arrow = clipped ? bar_height / 2 + 1 : 0;

  // Columns are as wide as the widest of the tile, its label and the colour
  // bar's tick labels (with the arrows), so no text runs into the next
  // column.
  int column = tile.width;
  for (const std::string& label : labels) {
    column = std::max(column, font.Width(label));
  }
  column = std::max(column, font.Width(tick_lo) + font.Width("0") +
                                font.Width(tick_hi) + 2 * kGap + 2 * arrow);

  const int title_top = kGap;
  const int label_top = title_top + font.LineHeight() + kGap;
  const int tiles_top = label_top + line + kGap / 2;
  const int bar_top = tiles_top + tile.height + kGap;
  const int ticks_top = bar_top + bar_height + kTickLength + 2;
  const int height = ticks_top + line + kGap;
  const int width =
      std::max(4 * column + 5 * kGap, font.Width(title) + 2 * kGap);

  Raster panel(width, height, kBackground);
  font.Draw(panel, title, kGap, title_top);
  for (int i = 0; i < 4; ++i) {
    const int column_x = kGap + i * (column + kGap);
    const Raster& bgr = tiles[i].bgr;
    // Tiles of different sizes (a 'full' or 'valid' result beside its input)
    // share the row's top edge and are centred in their column.
    PlaceTile(panel, bgr, column_x + (column - bgr.width) / 2, tiles_top);
    font.Draw(panel, labels[i], column_x + (column - font.Width(labels[i])) / 2,
              label_top);
  }

  // Colour bar under the difference tile, across its column (less the
  // arrows): -range on the left, 0 in the middle, +range on the right, as
  // in the heat map; all white for an empty range.
  const int bar_x = kGap + 3 * (column + kGap) + arrow;
  const int bar_width = column - 2 * arrow;
  for (int x = 0; x < bar_width; ++x) {
    const double t =
        has_range && bar_width > 1 ? 2.0 * x / (bar_width - 1) - 1.0 : 0.0;
    panel.Fill(bar_x + x, bar_top, 1, bar_height, DivergingColor(t));
  }
  Frame(panel, bar_x - 1, bar_top - 1, bar_width + 2, bar_height + 2, kFrame);
  if (clipped) {
    // Outward triangles in the end colours, one column per step.
    const Bgr lo = DivergingColor(-1.0);
    const Bgr hi = DivergingColor(1.0);
    for (int i = 0; i < arrow; ++i) {
      const int half = (bar_height * (arrow - i)) / (2 * arrow);
      const int y = bar_top + bar_height / 2 - half;
      const int h = std::max(1, 2 * half);
      panel.Fill(bar_x - 2 - i, y, 1, h, lo);
      panel.Fill(bar_x + bar_width + 1 + i, y, 1, h, hi);
    }
  }
  const int bar_bottom = bar_top + bar_height;
  const int middle = bar_x + bar_width / 2;
  if (has_range) {
    for (int x : {bar_x, middle, bar_x + bar_width - 1}) {
      panel.Fill(x, bar_bottom, 1, kTickLength, kText);
    }
    font.Draw(panel, tick_lo, bar_x - arrow, ticks_top);
    font.Draw(panel, tick_hi, bar_x + bar_width + arrow - font.Width(tick_hi),
              ticks_top);
  } else {
    panel.Fill(middle, bar_bottom, 1, kTickLength, kText);
  }
  font.Draw(panel, "0", middle - font.Width("0") / 2, ticks_top);
  return FromBgr(panel);
}

namespace {

// A thumbnail's size for an image of width x height: the long side brought
// to max_side, never enlarged.
Size ThumbnailSize(int width, int height, int max_side) {
  const int longest = std::max(width, height);
  if (longest <= max_side || width == 0 || height == 0) return {width, height};
  const double f = static_cast<double>(max_side) / longest;
  const auto scaled = [f](int n) {
    return std::max(1, static_cast<int>(std::lround(n * f)));
  };
  return {scaled(width), scaled(height)};
}

}  // namespace

core::Image Thumbnail(const core::Image& img, int max_side) {
  Raster bgr = ToTile(img).bgr;
  const Size size = ThumbnailSize(bgr.width, bgr.height, max_side);
  if (size.width != bgr.width || size.height != bgr.height) {
    bgr = internal::ShrinkArea(bgr, size.width, size.height);
  }
  return FromBgr(bgr);
}

// ShrinkArea's sums made row by row: input row y adds its weights times
// its samples to the sums of the (at most two: the output is no taller)
// output rows it overlaps, and an output row is finished, by ShrinkArea's
// horizontal pass, once its last input row is in. The sums are the same
// integers in another order, so the pixels are ShrinkArea's.
struct ThumbnailRows::Impl {
  int width, height, channels;
  core::Depth depth;
  Size size;
  bool shrink;
  TileMap map;
  internal::Coverage cx, cy;
  int y_in = 0;   // the next input row
  int y_out = 0;  // the first output row not finished
  // Sums of output rows y_out and y_out + 1, per input column.
  std::vector<std::array<uint64_t, 3>> sums[2];
  std::vector<Bgr> row;  // the input row as 8-bit pixels
  Raster out;

  Impl(int w, int h, int c, core::Depth d, int max_side, core::Range range)
      : width(w),
        height(h),
        channels(c),
        depth(d),
        size(ThumbnailSize(w, h, max_side)),
        shrink(size.width != w || size.height != h),
        map(MapFor(d, range)),
        cx(shrink ? w : 0, shrink ? size.width : 0),
        cy(shrink ? h : 0, shrink ? size.height : 0),
        row(static_cast<size_t>(w)),
        out(size.width, size.height) {
    if (shrink) {
      for (auto& s : sums) s.assign(static_cast<size_t>(w), {});
    }
  }

  template <typename T>
  void Convert(const T* in) {
    const bool gray = channels <= 2;
    const bool alpha = channels == 2 || channels == 4;
    for (int x = 0; x < width; ++x) {
      const T* p = in + static_cast<size_t>(x) * channels;
      const double b = p[0];
      const double g = gray ? p[0] : p[1];
      const double r = gray ? p[0] : p[2];
      const double a = alpha ? p[channels - 1] : 0.0;
      row[x] = map.Pixel(b, g, r, alpha ? &a : nullptr, x, y_in);
    }
  }

  // The output row y_out from its sums, as ShrinkArea's horizontal pass.
  void FinishRow() {
    internal::ShrinkRow(cx, sums[0].data(),
                        static_cast<uint64_t>(width) * height,
                        &out.at(y_out, 0));
    std::swap(sums[0], sums[1]);
    std::fill(sums[1].begin(), sums[1].end(), std::array<uint64_t, 3>{});
    ++y_out;
  }

  void AddRow() {
    if (!shrink) {
      std::copy(row.begin(), row.end(), &out.at(y_in, 0));
      return;
    }
    for (int k = 0; k < 2 && y_out + k < size.height; ++k) {
      const size_t first = cy.first[y_out + k];
      const size_t end = cy.first[y_out + k + 1];
      const int lo = cy.taps[first].index;
      if (y_in < lo || y_in > cy.taps[end - 1].index) continue;
      const uint64_t w = cy.taps[first + (y_in - lo)].weight;
      std::array<uint64_t, 3>* s = sums[k].data();
      for (int x = 0; x < width; ++x) {
        s[x][0] += w * row[x].b;
        s[x][1] += w * row[x].g;
        s[x][2] += w * row[x].r;
      }
    }
    while (y_out < size.height &&
           cy.taps[cy.first[y_out + 1] - 1].index == y_in) {
      FinishRow();
    }
  }
};

ThumbnailRows::ThumbnailRows(int width, int height, int channels,
                             core::Depth depth, int max_side, core::Range range)
    : impl_(std::make_unique<Impl>(width, height, channels, depth, max_side,
                                   range)) {}

ThumbnailRows::~ThumbnailRows() = default;

void ThumbnailRows::Add(const std::byte* src, std::ptrdiff_t stride, int rows) {
  Impl& m = *impl_;
  for (int r = 0; r < rows && m.y_in < m.height; ++r) {
    const std::byte* in = src + r * stride;
    if (m.depth == core::Depth::kF32) {
      m.Convert(reinterpret_cast<const float*>(in));
    } else if (m.depth == core::Depth::kU16) {
      m.Convert(reinterpret_cast<const uint16_t*>(in));
    } else {
      m.Convert(reinterpret_cast<const uint8_t*>(in));
    }
    m.AddRow();
    ++m.y_in;
  }
}

core::Image ThumbnailRows::Finish() { return FromBgr(impl_->out); }

void ColorRangeOfRows(const std::byte* src, std::ptrdiff_t stride, int rows,
                      int width, int channels, core::Range& range,
                      bool& first) {
  const int colour = channels == 2 || channels == 4 ? channels - 1 : channels;
  for (int r = 0; r < rows; ++r) {
    const auto* row = reinterpret_cast<const float*>(src + r * stride);
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < colour; ++c) {
        const float v = row[static_cast<size_t>(x) * channels + c];
        if (!std::isfinite(v)) continue;
        if (first || v < range.lo) range.lo = v;
        if (first || v > range.hi) range.hi = v;
        first = false;
      }
    }
  }
}

}  // namespace convcorr::diff
