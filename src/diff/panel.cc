// The labelled panel. OpenCV draws the text (Hershey fonts) and resizes;
// everything else is plain arithmetic on the engine's images.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "diff/diff.h"

namespace convcorr::diff {

namespace {

constexpr int kMaxTileWidth = 1024;
constexpr int kGap = 8;
constexpr int kTitleHeight = 34;
constexpr int kLabelHeight = 26;
constexpr int kBarHeight = 14;
constexpr int kBarTextHeight = 22;
const cv::Scalar kBackground(255, 255, 255);
const cv::Scalar kText(60, 60, 60);

// A tile's 8-bit BGR view of an image, and what its grey levels mean.
struct Tile {
  cv::Mat bgr;
  std::string note;  // e.g. the value range shown for float images
};

Tile ToTile(const core::Image& img) {
  const int w = img.width;
  const int h = img.height;
  double scale = 1.0;
  double offset = 0.0;
  std::string note;
  if (img.depth == core::Depth::kU16) {
    scale = 255.0 / 65535.0;
  } else if (img.depth == core::Depth::kF32) {
    // Float results can be negative: show min..max so edges stay visible.
    const core::Range range = core::ColorRange(img);
    const double lo = range.lo;
    const double hi = range.hi;
    scale = hi > lo ? 255.0 / (hi - lo) : 1.0;
    offset = -lo * scale;
    note = fmt::format(" [{:.3g}..{:.3g}]", lo, hi);
  }
  cv::Mat bgr(h, w, CV_8UC3);
  const size_t channels = img.color.size();
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      double v[3];
      for (int c = 0; c < 3; ++c) {
        const core::Plane& p = img.color[channels == 1 ? 0 : c];
        v[c] = p.at(y, x) * scale + offset;
      }
      if (img.alpha) {
        // Composite over a light checkerboard so transparency shows.
        const double a =
            std::clamp(img.alpha->at(y, x) *
                           (img.depth == core::Depth::kU16 ? 1.0 / 65535.0
                            : img.depth == core::Depth::kU8 ? 1.0 / 255.0
                                                            : 1.0),
                       0.0, 1.0);
        const double check = ((x / 8 + y / 8) % 2) ? 204.0 : 240.0;
        for (double& c : v) c = a * c + (1.0 - a) * check;
      }
      cv::Vec3b& px = bgr.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) px[c] = cv::saturate_cast<uint8_t>(v[c]);
    }
  }
  return {bgr, note};
}

// `m` centred on a white canvas of w x h.
cv::Mat Fit(const cv::Mat& m, int w, int h) {
  cv::Mat canvas(h, w, CV_8UC3, kBackground);
  m.copyTo(canvas(cv::Rect((w - m.cols) / 2, (h - m.rows) / 2, m.cols, m.rows)));
  return canvas;
}

void Text(cv::Mat& img, const std::string& text, cv::Point org, double scale) {
  cv::putText(img, text, org, cv::FONT_HERSHEY_SIMPLEX, scale, kText, 1,
              cv::LINE_AA);
}

int TextWidth(const std::string& text, double scale) {
  int baseline = 0;
  return cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, 1, &baseline)
      .width;
}

core::Image FromBgr(const cv::Mat& m) {
  core::Image out;
  out.width = m.cols;
  out.height = m.rows;
  out.depth = core::Depth::kU8;
  out.color.assign(3, core::Plane(m.cols, m.rows));
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) {
      const cv::Vec3b px = m.at<cv::Vec3b>(y, x);
      for (int c = 0; c < 3; ++c) out.color[c].at(y, x) = px[c];
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
  const std::string labels[] = {"input" + tiles[0].note,
                                "correlate" + tiles[1].note,
                                "convolve" + tiles[2].note,
                                "convolve - correlate"};
  int tile_w = 0;
  int tile_h = 0;
  for (const Tile& t : tiles) {
    tile_w = std::max(tile_w, t.bgr.cols);
    tile_h = std::max(tile_h, t.bgr.rows);
  }
  // Keep the panel at most about 4 x 1024 pixels wide.
  if (tile_w > kMaxTileWidth) {
    const double f = static_cast<double>(kMaxTileWidth) / tile_w;
    for (Tile& t : tiles) {
      cv::resize(t.bgr, t.bgr,
                 cv::Size(std::max(1, static_cast<int>(t.bgr.cols * f)),
                          std::max(1, static_cast<int>(t.bgr.rows * f))),
                 0, 0, cv::INTER_AREA);
    }
    tile_w = kMaxTileWidth;
    tile_h = std::max(1, static_cast<int>(tile_h * f));
  }
  const double font = tile_w < 200 ? 0.35 : 0.5;
  const int width = 4 * tile_w + 5 * kGap;
  const int height = kTitleHeight + kLabelHeight + tile_h + kGap + kBarHeight +
                     kBarTextHeight + kGap;
  cv::Mat panel(height, width, CV_8UC3, kBackground);
  Text(panel, title, cv::Point(kGap, kTitleHeight - 12), font * 1.2);

  const int tiles_y = kTitleHeight + kLabelHeight;
  for (int i = 0; i < 4; ++i) {
    const int x = kGap + i * (tile_w + kGap);
    Fit(tiles[i].bgr, tile_w, tile_h).copyTo(
        panel(cv::Rect(x, tiles_y, tile_w, tile_h)));
    Text(panel, labels[i], cv::Point(x, tiles_y - 8), font);
  }

  // Colour bar under the difference tile: -range .. 0 .. +range.
  const int bar_x = kGap + 3 * (tile_w + kGap);
  const int bar_y = tiles_y + tile_h + kGap;
  for (int x = 0; x < tile_w; ++x) {
    const double t = tile_w > 1 ? 2.0 * x / (tile_w - 1) - 1.0 : 0.0;
    const Bgr c = DivergingColor(t);
    cv::line(panel, cv::Point(bar_x + x, bar_y),
             cv::Point(bar_x + x, bar_y + kBarHeight - 1),
             cv::Scalar(c.b, c.g, c.r));
  }
  cv::rectangle(panel, cv::Rect(bar_x, bar_y, tile_w, kBarHeight), kText);
  const std::string lo = fmt::format("{:.3g}", -range);
  const std::string hi = fmt::format("{:.3g}", range);
  const int text_y = bar_y + kBarHeight + kBarTextHeight - 6;
  Text(panel, lo, cv::Point(bar_x, text_y), font);
  Text(panel, "0", cv::Point(bar_x + tile_w / 2 - TextWidth("0", font) / 2,
                             text_y),
       font);
  Text(panel, hi, cv::Point(bar_x + tile_w - TextWidth(hi, font), text_y),
       font);
  return FromBgr(panel);
}

}  // namespace convcorr::diff
