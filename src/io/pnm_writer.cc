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
    row_.resize(static_cast<size_t>(format.width) * (color ? 3 : 1) *
                format.SampleBytes());
  }

  void WriteRows(const std::byte* src, std::ptrdiff_t stride,
                 int rows) override {
    counter_.Take(rows);
    const size_t w = static_cast<size_t>(format_.width);
    const size_t s = format_.SampleBytes();
    const size_t in_channels = static_cast<size_t>(format_.channels);
    const size_t out_channels = color_ ? 3 : 1;
    for (int r = 0; r < rows; ++r) {
      const std::byte* in = src + r * stride;
      for (size_t x = 0; x < w; ++x) {
        for (size_t c = 0; c < out_channels; ++c) {
          // B,G,R in, R,G,B out; a gray sample goes to all three.
          const size_t from = in_channels == 1 ? 0 : out_channels - 1 - c;
          const std::byte* sample = in + (x * in_channels + from) * s;
          uint8_t* out = row_.data() + (x * out_channels + c) * s;
          if (s == 1) {
            out[0] = std::to_integer<uint8_t>(sample[0]);
          } else {
            uint16_t v = 0;
            std::memcpy(&v, sample, 2);
            out[0] = static_cast<uint8_t>(v >> 8);
            out[1] = static_cast<uint8_t>(v & 0xFF);
          }
        }
      }
      sink_.Write(row_.data(), row_.size());
    }
  }

  void Finish() override { counter_.CheckDone(); }

 private:
  PixelFormat format_;
  bool color_;
  Sink& sink_;
  RowCounter counter_;
  std::vector<uint8_t> row_;
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
