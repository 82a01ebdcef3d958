// The labelled panel. OpenCV draws the text (Hershey fonts) and resizes;
// everything else is plain arithmetic on the engine's images.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "diff/diff.h"

namespace convcorr::diff {

namespace {

// Tiles are scaled to fit in kMaxTileSide so four of them stay about 4096
// pixels wide; tiny images are enlarged (nearest neighbour, whole factors)
// towards kMinTileWidth so their pixels and the labels above them are legible.
constexpr int kMaxTileSide = 1024;
constexpr int kMinTileWidth = 192;
constexpr int kGap = 10;
constexpr int kTickLength = 4;
const cv::Scalar kBackground(255, 255, 255);
const cv::Scalar kText(60, 60, 60);
// A thin frame keeps white tiles (a zero difference) visible on the white
// background.
const cv::Scalar kFrame(200, 200, 200);
constexpr double kCheckLight = 240.0;
constexpr double kCheckDark = 204.0;
constexpr int kCheckSize = 8;

// A tile's 8-bit BGR view of an image, and what its grey levels mean.
struct Tile {
  cv::Mat bgr;
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

Tile ToTile(const core::Image& img) {
  const int w = img.width;
  const int h = img.height;
  double scale = 1.0;
  double offset = 0.0;
  std::string note;
  if (img.depth == core::Depth::kU16) {
    scale = 255.0 / 65535.0;
  } else if (img.depth == core::Depth::kF32) {
    // Float results can be negative or tiny: stretch min..max to 0..255 so
    // edge responses stay visible, and say which range that was.
    const core::Range range = core::ColorRange(img);
    const double lo = range.lo;
    const double hi = range.hi;
    if (hi > lo) {
      scale = 255.0 / (hi - lo);
      offset = -lo * scale;
    } else {
      offset = 128.0 - lo;  // a constant image is shown mid-grey
    }
    note = fmt::format(" [{:.3g}, {:.3g}]", lo, hi);
  }
  const double alpha_scale = AlphaScale(img.depth);
  const bool gray = img.color.size() == 1;
  cv::Mat bgr(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y) {
    auto* row = bgr.ptr<cv::Vec3b>(y);
    for (int x = 0; x < w; ++x) {
      std::array<double, 3> v;
      for (int c = 0; c < 3; ++c) {
        v[c] = img.color[gray ? 0 : c].at(y, x) * scale + offset;
      }
      if (img.alpha) {
        // Composite over a light checkerboard so transparency shows.
        const double a =
            std::clamp(img.alpha->at(y, x) * alpha_scale, 0.0, 1.0);
        const double check =
            ((x / kCheckSize + y / kCheckSize) % 2) ? kCheckDark : kCheckLight;
        for (double& c : v) c = a * c + (1.0 - a) * check;
      }
      for (int c = 0; c < 3; ++c) row[x][c] = cv::saturate_cast<uint8_t>(v[c]);
    }
  }
  return {bgr, note};
}

// Brings every tile to one scale: the largest fits in kMaxTileSide, tiny ones
// grow towards kMinTileWidth. Returns the common tile size (the largest).
cv::Size ScaleTiles(std::vector<Tile>& tiles) {
  int w = 1;
  int h = 1;
  for (const Tile& t : tiles) {
    w = std::max(w, t.bgr.cols);
    h = std::max(h, t.bgr.rows);
  }
  double f = 1.0;
  int interpolation = cv::INTER_AREA;
  if (w > kMaxTileSide || h > kMaxTileSide) {
    f = static_cast<double>(kMaxTileSide) / std::max(w, h);
  } else if (w < kMinTileWidth) {
    // Whole factors and nearest neighbour keep every pixel a crisp square,
    // which matters when the difference is a one-pixel shift.
    const int by_width = (kMinTileWidth + w - 1) / w;
    f = std::max(1, std::min(by_width, kMaxTileSide / h));
    interpolation = cv::INTER_NEAREST;
  }
  if (f == 1.0) return {w, h};
  const auto scaled = [f](int n) {
    return std::max(1, static_cast<int>(std::lround(n * f)));
  };
  for (Tile& t : tiles) {
    cv::resize(t.bgr, t.bgr, cv::Size(scaled(t.bgr.cols), scaled(t.bgr.rows)),
               0, 0, interpolation);
  }
  return {scaled(w), scaled(h)};
}

// Text style, sized to the tiles so labels stay readable on big panels.
struct Font {
  double scale;
  int thickness;

  explicit Font(int tile_width)
      : scale(tile_width >= 768   ? 0.8
              : tile_width >= 384 ? 0.6
                                  : 0.45),
        thickness(tile_width >= 768 ? 2 : 1) {}
  Font(double s, int t) : scale(s), thickness(t) {}

  // Width of `text`, and its height including the part below the baseline.
  cv::Size Measure(const std::string& text) const {
    int baseline = 0;
    cv::Size size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale,
                                    thickness, &baseline);
    size.height += baseline;
    return size;
  }
  int Width(const std::string& text) const { return Measure(text).width; }
  // Height of a line of text, ascenders and descenders included.
  int LineHeight() const { return Measure("Hgy|").height; }
  // Distance from the top of a line to its baseline.
  int Ascent() const {
    int baseline = 0;
    return cv::getTextSize("Hgy|", cv::FONT_HERSHEY_SIMPLEX, scale, thickness,
                           &baseline)
        .height;
  }

  // Draws `text` with the top of its line at `top`.
  void Draw(cv::Mat& img, const std::string& text, int x, int top) const {
    cv::putText(img, text, cv::Point(x, top + Ascent()),
                cv::FONT_HERSHEY_SIMPLEX, scale, kText, thickness, cv::LINE_AA);
  }
};

// `tile` onto `panel` with its top-left corner at `at`, framed just outside.
void PlaceTile(cv::Mat& panel, const cv::Mat& tile, cv::Point at) {
  cv::rectangle(panel,
                cv::Rect(at.x - 1, at.y - 1, tile.cols + 2, tile.rows + 2),
                kFrame);
  tile.copyTo(panel(cv::Rect(at.x, at.y, tile.cols, tile.rows)));
}

core::Image FromBgr(const cv::Mat& m) {
  core::Image out;
  out.width = m.cols;
  out.height = m.rows;
  out.depth = core::Depth::kU8;
  out.color.assign(3, core::Plane(m.cols, m.rows));
  for (int y = 0; y < m.rows; ++y) {
    const auto* row = m.ptr<cv::Vec3b>(y);
    for (int x = 0; x < m.cols; ++x) {
      for (int c = 0; c < 3; ++c) out.color[c].at(y, x) = row[x][c];
    }
  }
  return out;
}

}  // namespace

core::Image Panel(const core::Image& input, const core::Image& correlated,
                  const core::Image& convolved, const core::Image& heat_map,
                  double range, const std::string& title) {
  std::vector<Tile> tiles = {ToTile(input), ToTile(correlated),
                             ToTile(convolved), ToTile(heat_map)};
  const std::array<std::string, 4> labels = {
      "input" + tiles[0].note, "correlate" + tiles[1].note,
      "convolve" + tiles[2].note, "convolve - correlate"};
  const cv::Size tile = ScaleTiles(tiles);

  const Font font(tile.width);
  const Font title_font(font.scale * 1.25, font.thickness);
  // Ticks of the colour bar; "-0" and "+0" would be noise when the range is
  // empty (identical results), so then every tick reads 0.
  const bool has_range = range > 0;
  const std::string tick_lo = has_range ? fmt::format("{:.3g}", -range) : "0";
  const std::string tick_hi = has_range ? fmt::format("{:+.3g}", range) : "0";

  // Columns are as wide as the widest of the tile, its label and the colour
  // bar's tick labels, so no text runs into the next column.
  int column = tile.width;
  for (const std::string& label : labels) {
    column = std::max(column, font.Width(label));
  }
  column = std::max(column, font.Width(tick_lo) + font.Width("0") +
                                font.Width(tick_hi) + 2 * kGap);

  const int line = font.LineHeight();
  const int title_top = kGap;
  const int label_top = title_top + title_font.LineHeight() + kGap;
  const int tiles_top = label_top + line + kGap / 2;
  const int bar_top = tiles_top + tile.height + kGap;
  const int bar_height = std::max(10, line);
  const int ticks_top = bar_top + bar_height + kTickLength + 2;
  const int height = ticks_top + line + kGap;
  const int width =
      std::max(4 * column + 5 * kGap, title_font.Width(title) + 2 * kGap);

  cv::Mat panel(height, width, CV_8UC3, kBackground);
  title_font.Draw(panel, title, kGap, title_top);
  for (int i = 0; i < 4; ++i) {
    const int column_x = kGap + i * (column + kGap);
    const cv::Mat& bgr = tiles[i].bgr;
    // Tiles of different sizes (a 'full' or 'valid' result beside its input)
    // share the row's top edge and are centred in their column.
    PlaceTile(panel, bgr, {column_x + (column - bgr.cols) / 2, tiles_top});
    font.Draw(panel, labels[i], column_x + (column - font.Width(labels[i])) / 2,
              label_top);
  }

  // Colour bar under the difference tile, across its column: -range on the
  // left, 0 in the middle, +range on the right, as in the heat map.
  const int bar_x = kGap + 3 * (column + kGap);
  for (int x = 0; x < column; ++x) {
    const double t = column > 1 ? 2.0 * x / (column - 1) - 1.0 : 0.0;
    const Bgr c = DivergingColor(t);
    cv::line(panel, cv::Point(bar_x + x, bar_top),
             cv::Point(bar_x + x, bar_top + bar_height - 1),
             cv::Scalar(c.b, c.g, c.r));
  }
  cv::rectangle(panel,
                cv::Rect(bar_x - 1, bar_top - 1, column + 2, bar_height + 2),
                kFrame);
  const int bar_bottom = bar_top + bar_height;
  for (int x : {bar_x, bar_x + column / 2, bar_x + column - 1}) {
    cv::line(panel, cv::Point(x, bar_bottom),
             cv::Point(x, bar_bottom + kTickLength - 1), kText);
  }
  font.Draw(panel, tick_lo, bar_x, ticks_top);
  font.Draw(panel, "0", bar_x + column / 2 - font.Width("0") / 2, ticks_top);
  font.Draw(panel, tick_hi, bar_x + column - font.Width(tick_hi), ticks_top);
  return FromBgr(panel);
}

}  // namespace convcorr::diff
