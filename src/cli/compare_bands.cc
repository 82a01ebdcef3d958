#include "cli/compare_bands.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>

namespace convcorr::cli {

namespace {

// Channel rows of a planar view at row y (views hold at most four).
std::array<const float*, 4> RowsAt(const core::ImageView& v, int y) {
  std::array<const float*, 4> rows{};
  for (int c = 0; c < v.channels; ++c) {
    rows[c] = reinterpret_cast<const float*>(v.base[c] + core::RowOffset(v, y));
  }
  return rows;
}

// Samples of `n` floats (already whole numbers of T's range, or any float
// for T = float) stored as T every `step` samples from dst.
template <typename T>
void Store(const float* src, size_t n, int step, std::byte* dst) {
  T* out = reinterpret_cast<T*>(dst);
  for (size_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, float>) {
      out[i * step] = src[i];
    } else {
      out[i * step] = static_cast<T>(src[i]);
    }
  }
}

}  // namespace

CompareBands::CompareBands(int width, int height, int channels, int colour,
                           core::Depth depth, double threshold,
                           const diff::DiffRange& range,
                           core::RowSink& convolve, core::RowSink& correlate,
                           core::RowSink* raw)
    : width_(width),
      height_(height),
      channels_(channels),
      colour_(colour),
      depth_(depth),
      range_choice_(range),
      convolve_(convolve),
      correlate_(correlate),
      raw_(raw),
      stats_(width, colour, threshold),
      range_(range),
      record_(static_cast<size_t>(width) * height),
      row_(static_cast<size_t>(width)) {}

uint64_t CompareBands::Emit(const core::ImageView& v, int y0, int y1,
                            core::RowSink& sink) {
  const size_t sample = core::SampleBytes(depth_);
  const size_t row_bytes = static_cast<size_t>(width_) * channels_ * sample;
  band_.resize(row_bytes * static_cast<size_t>(y1 - y0));
  uint64_t saturated = 0;
  for (int y = y0; y < y1; ++y) {
    const std::array<const float*, 4> rows = RowsAt(v, y);
    std::byte* out = band_.data() + row_bytes * static_cast<size_t>(y - y0);
    for (int c = 0; c < channels_; ++c) {
      std::copy(rows[c], rows[c] + width_, row_.begin());
      // As Quantize does to the whole image, then the encoder's narrowing.
      saturated += core::QuantizeSaturate(row_.data(), row_.size(), depth_);
      std::byte* dst = out + c * sample;
      switch (depth_) {
        case core::Depth::kU8:
          Store<uint8_t>(row_.data(), row_.size(), channels_, dst);
          break;
        case core::Depth::kU16:
          Store<uint16_t>(row_.data(), row_.size(), channels_, dst);
          break;
        case core::Depth::kF32:
          Store<float>(row_.data(), row_.size(), channels_, dst);
          break;
      }
    }
  }
  sink.Write(band_.data(), static_cast<std::ptrdiff_t>(row_bytes), y1 - y0);
  return saturated;
}

void CompareBands::Rows(const core::ImageView& correlate,
                        const core::ImageView& convolve, int y0, int y1) {
  std::vector<float> raw_band;
  std::vector<float> raw_rows;
  if (raw_ != nullptr) {
    raw_band.resize(static_cast<size_t>(width_) * colour_ * (y1 - y0));
    raw_rows.resize(static_cast<size_t>(width_) * colour_);
  }
  for (int y = y0; y < y1; ++y) {
    const std::array<const float*, 4> conv = RowsAt(convolve, y);
    const std::array<const float*, 4> corr = RowsAt(correlate, y);
    stats_.AddRow(conv.data(), corr.data());
    float* d = record_.data() + static_cast<size_t>(y) * width_;
    diff::SignedDiffRow(conv.data(), corr.data(), colour_, width_, d);
    range_.AddRow(d, width_);
    if (raw_ != nullptr) {
      std::array<float*, 4> planes{};
      for (int c = 0; c < colour_; ++c) {
        planes[c] = raw_rows.data() + static_cast<size_t>(c) * width_;
      }
      diff::RawDiffRow(conv.data(), corr.data(), colour_, width_,
                       planes.data());
      float* out =
          raw_band.data() + static_cast<size_t>(y - y0) * width_ * colour_;
      for (int c = 0; c < colour_; ++c) {
        for (int x = 0; x < width_; ++x) {
          out[static_cast<size_t>(x) * colour_ + c] = planes[c][x];
        }
      }
    }
  }
  saturated_[0] += Emit(convolve, y0, y1, convolve_);
  saturated_[1] += Emit(correlate, y0, y1, correlate_);
  if (raw_ != nullptr) {
    raw_->Write(reinterpret_cast<const std::byte*>(raw_band.data()),
                static_cast<std::ptrdiff_t>(sizeof(float) * width_ * colour_),
                y1 - y0);
  }
}

void CompareBands::Finish() {
  convolve_.Finish();
  correlate_.Finish();
  if (raw_ != nullptr) raw_->Finish();
}

diff::DiffStats CompareBands::Stats(double peak) {
  diff::DiffStats s = stats_.Finish(peak);
  if (range_.NeedsSecondPass()) {
    for (int y = 0; y < height_; ++y) {
      range_.AddRowSecond(record_.data() + static_cast<size_t>(y) * width_,
                          width_);
    }
  }
  s.map_range = range_.Result();
  s.map_rule = diff::DiffRangeName(range_choice_);
  return s;
}

void CompareBands::WriteHeatMap(core::RowSink& heat, double range) const {
  constexpr int kBand = 64;
  const size_t row_bytes = static_cast<size_t>(width_) * 3;
  std::vector<uint8_t> band(row_bytes * kBand);
  for (int y0 = 0; y0 < height_; y0 += kBand) {
    const int rows = std::min(kBand, height_ - y0);
    for (int r = 0; r < rows; ++r) {
      diff::HeatMapRow(record_.data() + static_cast<size_t>(y0 + r) * width_,
                       width_, range, band.data() + row_bytes * r);
    }
    heat.Write(reinterpret_cast<const std::byte*>(band.data()),
               static_cast<std::ptrdiff_t>(row_bytes), rows);
  }
  heat.Finish();
}

}  // namespace convcorr::cli
