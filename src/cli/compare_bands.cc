#include "cli/compare_bands.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <functional>

#include "core/threads.h"

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

// The outputs' room at most (uncompressed): both results, the 8-bit BGR
// heat map and the float raw difference. The record goes to a file only
// where this much stays free beside it.
uint64_t OutputRoom(int width, int height, int channels, int colour,
                    core::Depth depth, bool raw) {
  const uint64_t pixels = static_cast<uint64_t>(width) * height;
  return pixels * (2 * channels * core::SampleBytes(depth) + 3 +
                   (raw ? sizeof(float) * colour : 0));
}

// Rows of `row_bytes` each handled at a time within a band: about 256
// KiB, so that the buffers stay small and in the cache however tall a band
// is (one row of 512-pixel FFT tiles is 450 rows of a 4K image), instead
// of a band's worth of fresh pages each.
int ChunkRows(size_t row_bytes) {
  constexpr size_t kChunkBytes = size_t{256} << 10;
  return static_cast<int>(std::clamp<size_t>(
      kChunkBytes / std::max<size_t>(row_bytes, 1), 1, size_t{1} << 20));
}

}  // namespace

CompareBands::CompareBands(int width, int height, int channels, int colour,
                           core::Depth depth, double threshold,
                           const diff::DiffRange& range,
                           core::RowSink& convolve, core::RowSink& correlate,
                           core::RowSink* raw,
                           const std::filesystem::path& scratch_dir)
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
      record_(
          scratch_dir, sizeof(float) * static_cast<size_t>(width) * height,
          OutputRoom(width, height, channels, colour, depth, raw != nullptr)) {}

uint64_t CompareBands::Emit(const core::ImageView& v, int y0, int y1,
                            core::RowSink& sink, EmitBuffers& buf) const {
  const size_t row_bytes =
      static_cast<size_t>(width_) * channels_ * core::SampleBytes(depth_);
  const int chunk = ChunkRows(row_bytes);
  buf.band.resize(row_bytes * static_cast<size_t>(std::min(chunk, y1 - y0)));
  uint64_t saturated = 0;
  for (int c0 = y0; c0 < y1; c0 += chunk) {
    const int c1 = std::min(c0 + chunk, y1);
    for (int y = c0; y < c1; ++y) {
      // As Quantize does to the whole image, then the encoder's narrowing.
      saturated += core::QuantizeInterleave(
          RowsAt(v, y).data(), channels_, static_cast<size_t>(width_), depth_,
          buf.band.data() + row_bytes * static_cast<size_t>(y - c0),
          buf.scratch);
    }
    sink.Write(buf.band.data(), static_cast<std::ptrdiff_t>(row_bytes),
               c1 - c0);
  }
  return saturated;
}

void CompareBands::Rows(const core::ImageView& correlate,
                        const core::ImageView& convolve, int y0, int y1) {
  // Both results are quantized and encoded on threads of their own (from
  // core::Async's cache: a band's tasks are short) while this one sums the
  // statistics and records the difference: each of the three is a third of
  // the work, and the rows are read, not changed. The tasks are joined on
  // the way out of an exception too.
  uint64_t saturated[2] = {0, 0};
  core::Async tasks[2] = {
      core::Async(
          [&] { saturated[0] = Emit(convolve, y0, y1, convolve_, emit_[0]); }),
      core::Async([&] {
        saturated[1] = Emit(correlate, y0, y1, correlate_, emit_[1]);
      })};
  // In chunks of rows, as Emit: the record's and the raw difference's
  // buffers stay small.
  const int chunk = ChunkRows(sizeof(float) * width_);
  std::vector<float> raw_rows;
  record_band_.resize(static_cast<size_t>(width_) * std::min(chunk, y1 - y0));
  if (raw_ != nullptr) {
    raw_band_.resize(static_cast<size_t>(width_) * colour_ *
                     std::min(chunk, y1 - y0));
    raw_rows.resize(static_cast<size_t>(width_) * colour_);
  }
  for (int c0 = y0; c0 < y1; c0 += chunk) {
    const int c1 = std::min(c0 + chunk, y1);
    for (int y = c0; y < c1; ++y) {
      const std::array<const float*, 4> conv = RowsAt(convolve, y);
      const std::array<const float*, 4> corr = RowsAt(correlate, y);
      stats_.AddRow(conv.data(), corr.data());
      float* d = record_band_.data() + static_cast<size_t>(y - c0) * width_;
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
            raw_band_.data() + static_cast<size_t>(y - c0) * width_ * colour_;
        for (int c = 0; c < colour_; ++c) {
          for (int x = 0; x < width_; ++x) {
            out[static_cast<size_t>(x) * colour_ + c] = planes[c][x];
          }
        }
      }
    }
    record_.Write(sizeof(float) * width_ * static_cast<size_t>(c0),
                  record_band_.data(),
                  sizeof(float) * width_ * static_cast<size_t>(c1 - c0));
    if (raw_ != nullptr) {
      raw_->Write(reinterpret_cast<const std::byte*>(raw_band_.data()),
                  static_cast<std::ptrdiff_t>(sizeof(float) * width_ * colour_),
                  c1 - c0);
    }
  }
  // The first failure is thrown; the other task is joined on the way out.
  for (core::Async& t : tasks) t.Join();
  saturated_[0] += saturated[0];
  saturated_[1] += saturated[1];
}

void CompareBands::Finish() {
  convolve_.Finish();
  correlate_.Finish();
  if (raw_ != nullptr) raw_->Finish();
}

// Rows of the record read back at once: 64 rows of a 4K image are 1 MB.
constexpr int kRecordRows = 64;

void CompareBands::ReadRecord(int y0, int rows) {
  record_band_.resize(static_cast<size_t>(width_) * rows);
  record_.Read(sizeof(float) * width_ * static_cast<size_t>(y0),
               record_band_.data(), sizeof(float) * record_band_.size());
}

diff::DiffStats CompareBands::Stats(double peak) {
  diff::DiffStats s = stats_.Finish(peak);
  if (range_.NeedsSecondPass()) {
    for (int y0 = 0; y0 < height_; y0 += kRecordRows) {
      const int rows = std::min(kRecordRows, height_ - y0);
      ReadRecord(y0, rows);
      for (int r = 0; r < rows; ++r) {
        range_.AddRowSecond(
            record_band_.data() + static_cast<size_t>(r) * width_, width_);
      }
    }
  }
  s.map_range = range_.Result();
  s.map_rule = diff::DiffRangeName(range_choice_);
  return s;
}

void CompareBands::WriteHeatMap(core::RowSink& heat, double range) {
  const size_t row_bytes = static_cast<size_t>(width_) * 3;
  std::vector<uint8_t> band(row_bytes * kRecordRows);
  for (int y0 = 0; y0 < height_; y0 += kRecordRows) {
    const int rows = std::min(kRecordRows, height_ - y0);
    ReadRecord(y0, rows);
    for (int r = 0; r < rows; ++r) {
      diff::HeatMapRow(record_band_.data() + static_cast<size_t>(r) * width_,
                       width_, range, band.data() + row_bytes * r);
    }
    // Read for the last time: its disk space goes to the heat map.
    record_.Release(sizeof(float) * width_ * static_cast<size_t>(y0),
                    sizeof(float) * width_ * static_cast<size_t>(rows));
    heat.Write(reinterpret_cast<const std::byte*>(band.data()),
               static_cast<std::ptrdiff_t>(row_bytes), rows);
  }
  heat.Finish();
}

}  // namespace convcorr::cli
