// The PNM and PFM writers (design: io/pnm_reader.h).
#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.h"
#include "io/codec.h"
#include "io/pnm_reader.h"

namespace convcorr::io {
namespace {

using namespace pnm;  // NOLINT: the shared reader parts

// Takes rows, checks their count, and hands each to `Row`.
class RowCounter {
 public:
  RowCounter(int height, std::string_view name)
      : height_(height), name_(name) {}
  void Take(int rows) {
    if (rows < 0 || rows > height_ - done_) {
      throw Error(
          ErrorKind::kInternal,
          "output '" + name_ + "': rows written past the end of the image");
    }
    done_ += rows;
  }
  void CheckDone() const {
    if (done_ != height_) {
      throw Error(ErrorKind::kInternal, "output '" + name_ +
                                            "': finished after " +
                                            std::to_string(done_) + " of " +
                                            std::to_string(height_) + " rows");
    }
  }

 private:
  int height_;
  int done_ = 0;
  std::string name_;
};

// P5 (one channel) or P6 (three): the header at once, rows as they come.
class PnmEncoder : public Encoder {
 public:
  PnmEncoder(const PixelFormat& format, bool color, Sink& sink,
             std::string_view name, std::string_view provenance)
      : format_(format),
        color_(color),
        sink_(sink),
        counter_(format.height, name) {
    const bool wide = format.depth == core::Depth::kU16;
    // The provenance is one line of printable text: a comment after the
    // magic number, which every PNM reader skips.
    const std::string comment =
        provenance.empty() ||
                provenance.find_first_of("\r\n") != std::string_view::npos
            ? std::string()
            : "# " + std::string(provenance) + "\n";
    const std::string header = std::string(color ? "P6\n" : "P5\n") + comment +
                               std::to_string(format.width) + " " +
                               std::to_string(format.height) + "\n" +
                               (wide ? "65535" : "255") + "\n";
    sink_.Write(header.data(), header.size());
    row_bytes_ = static_cast<size_t>(format.width) * (color ? 3 : 1) *
                 format.SampleBytes();
  }

  void WriteRows(const std::byte* src, std::ptrdiff_t stride,
                 int rows) override {
    counter_.Take(rows);
    // Up to kBatchBytes of file rows at a time, one sink write each.
    const size_t file_row = row_bytes_;
    const int batch = static_cast<int>(
        std::max<size_t>(1, kBatchBytes / std::max<size_t>(file_row, 1)));
    for (int r0 = 0; r0 < rows; r0 += batch) {
      const int n = std::min(batch, rows - r0);
      buffer_.resize(file_row * static_cast<size_t>(n));
      for (int r = 0; r < n; ++r) {
        ToFileRow(src + (r0 + r) * stride,
                  buffer_.data() + file_row * static_cast<size_t>(r));
      }
      sink_.Write(buffer_.data(), buffer_.size());
    }
  }

  void Finish() override { counter_.CheckDone(); }

 private:
  // Rows are batched into writes of about this many bytes.
  static constexpr size_t kBatchBytes = size_t{256} << 10;

  // One row in the file's layout: B,G,R in, R,G,B out (a gray sample to
  // all three of a P6 row), 16-bit samples big-endian.
  void ToFileRow(const std::byte* in, uint8_t* out) const {
    const size_t w = static_cast<size_t>(format_.width);
    const size_t s = format_.SampleBytes();
    const size_t in_channels = static_cast<size_t>(format_.channels);
    const size_t out_channels = color_ ? 3 : 1;
    const auto* bytes = reinterpret_cast<const uint8_t*>(in);
    if (s == 1 && in_channels == out_channels) {
      if (in_channels == 1) {
        std::memcpy(out, bytes, w);
        return;
      }
      for (size_t x = 0; x < w; ++x) {
        out[3 * x] = bytes[3 * x + 2];
        out[3 * x + 1] = bytes[3 * x + 1];
        out[3 * x + 2] = bytes[3 * x];
      }
      return;
    }
    for (size_t x = 0; x < w; ++x) {
      for (size_t c = 0; c < out_channels; ++c) {
        const size_t from = in_channels == 1 ? 0 : out_channels - 1 - c;
        const uint8_t* sample = bytes + (x * in_channels + from) * s;
        uint8_t* to = out + (x * out_channels + c) * s;
        if (s == 1) {
          to[0] = sample[0];
        } else {
          uint16_t v = 0;
          std::memcpy(&v, sample, 2);
          to[0] = static_cast<uint8_t>(v >> 8);
          to[1] = static_cast<uint8_t>(v & 0xFF);
        }
      }
    }
  }

  PixelFormat format_;
  bool color_;
  Sink& sink_;
  RowCounter counter_;
  size_t row_bytes_ = 0;         // one row in the file
  std::vector<uint8_t> buffer_;  // rows in the file's layout, being written
};

// PFM: rows bottom to top, so they are kept until Finish.
class PfmEncoder : public Encoder {
 public:
  PfmEncoder(const PixelFormat& format, Sink& sink, std::string_view name)
      : format_(format), sink_(sink), counter_(format.height, name) {
    data_.reserve(format.RowBytes() * static_cast<size_t>(format.height));
  }

  void WriteRows(const std::byte* src, std::ptrdiff_t stride,
                 int rows) override {
    counter_.Take(rows);
    const size_t row_bytes = format_.RowBytes();
    for (int r = 0; r < rows; ++r) {
      const size_t at = data_.size();
      data_.resize(at + row_bytes);
      std::memcpy(data_.data() + at, src + r * stride, row_bytes);
      if (format_.channels == 3) {  // B,G,R to R,G,B
        for (size_t x = 0; x < static_cast<size_t>(format_.width); ++x) {
          uint8_t* p = data_.data() + at + 12 * x;
          std::swap_ranges(p, p + 4, p + 8);
        }
      }
    }
  }

  void Finish() override {
    counter_.CheckDone();
    // Native floats; the scale's sign says their byte order.
    const bool little = std::endian::native == std::endian::little;
    const std::string header =
        std::string(format_.channels == 3 ? "PF\n" : "Pf\n") +
        std::to_string(format_.width) + " " + std::to_string(format_.height) +
        "\n" + (little ? "-1\n" : "1\n");
    sink_.Write(header.data(), header.size());
    const size_t row_bytes = format_.RowBytes();
    for (size_t y = static_cast<size_t>(format_.height); y-- > 0;) {
      sink_.Write(data_.data() + y * row_bytes, row_bytes);
    }
  }

 private:
  PixelFormat format_;
  Sink& sink_;
  RowCounter counter_;
  std::vector<uint8_t> data_;
};

}  // namespace

std::unique_ptr<Encoder> NewPnmEncoder(std::string_view kind,
                                       const PixelFormat& format, Sink& sink,
                                       std::string_view name,
                                       std::string_view provenance) {
  const std::string k(kind);
  if (k != "pgm" && k != "ppm" && k != "pnm" && k != "pfm") {
    ThrowOutput(name, "cannot encode as " + Printable(k));
  }
  if (format.width <= 0 || format.height <= 0)
    ThrowOutput(name, "the image is empty");
  if (k == "pgm" && format.channels != 1) {
    ThrowOutput(name, "pgm stores one channel; use ppm or png, or --gray");
  }
  if (format.channels == 2 || format.channels == 4) {
    ThrowOutput(
        name, k + " cannot store an alpha channel; use png or tif, or --gray");
  }
  if (format.channels != 1 && format.channels != 3) {
    ThrowOutput(name, k + " cannot store " + std::to_string(format.channels) +
                          " channels");
  }
  if (k == "pfm") {
    if (format.depth != core::Depth::kF32) {
      ThrowOutput(
          name,
          "pfm stores only float samples; use png or tif, or --depth f32");
    }
    return std::make_unique<PfmEncoder>(format, sink, name);
  }
  if (format.depth == core::Depth::kF32) {
    ThrowOutput(name, k + " cannot store float samples; use tif (or pfm), or "
                          "--depth u8 or u16");
  }
  return std::make_unique<PnmEncoder>(
      format, k == "ppm" || format.channels == 3, sink, name, provenance);
}

}  // namespace convcorr::io
