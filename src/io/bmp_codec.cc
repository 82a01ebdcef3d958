// The BMP writer (BMP input is read elsewhere): the bytes cv::imencode
// (".bmp") writes. A 14-byte file header and a 40-byte BITMAPINFOHEADER
// (uncompressed, resolution and colour counts 0), then for 8-bit gray a
// 256-entry grey palette, or for B,G,R 24-bit pixels; rows bottom to top,
// each padded to a multiple of 4 bytes. Since the first row written is
// the last in the file, rows are kept until Finish.
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "io/codec.h"

namespace convcorr::io {

namespace {

void PutLe16(std::vector<uint8_t>& out, uint32_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}

void PutLe32(std::vector<uint8_t>& out, uint32_t v) {
  PutLe16(out, v & 0xFFFF);
  PutLe16(out, v >> 16);
}

class BmpEncoder : public Encoder {
 public:
  BmpEncoder(const PixelFormat& format, Sink& sink, std::string_view name)
      : format_(format), sink_(sink), name_(name) {
    const uint64_t row =
        (static_cast<uint64_t>(format.width) * format.channels + 3) &
        ~uint64_t{3};
    const uint64_t header = 54 + (format.channels == 1 ? 1024 : 0);
    const uint64_t file = header + row * static_cast<uint64_t>(format.height);
    // BMP's sizes are 32-bit fields.
    if (file > std::numeric_limits<uint32_t>::max()) {
      ThrowOutput(
          name,
          "bmp cannot store an image this large (over 4 GiB); use png or tif");
    }
    file_row_ = static_cast<size_t>(row);
    header_size_ = static_cast<uint32_t>(header);
    file_size_ = static_cast<uint32_t>(file);
    // Zeroed: the padding bytes are 0, as OpenCV writes them. A seekable
    // sink takes each band of rows at its place as it comes (the file's
    // rows run bottom-up, so a band's rows are one run in reverse order);
    // otherwise the file's rows are gathered here until Finish.
    if (!sink.Seekable()) {
      data_.assign(
          static_cast<size_t>(row) * static_cast<size_t>(format.height), 0);
    }
  }

  void WriteRows(const std::byte* src, std::ptrdiff_t stride,
                 int rows) override {
    if (rows < 0 || rows > format_.height - done_) {
      throw Error(
          ErrorKind::kInternal,
          "output '" + name_ + "': rows written past the end of the image");
    }
    if (data_.empty()) {
      if (rows == 0) return;
      band_.assign(static_cast<size_t>(rows) * file_row_, 0);
      for (int r = 0; r < rows; ++r) {
        std::memcpy(
            band_.data() + static_cast<size_t>(rows - 1 - r) * file_row_,
            src + r * stride, format_.RowBytes());
      }
      done_ += rows;
      const uint64_t first_file_row =
          static_cast<uint64_t>(format_.height - done_);
      sink_.WriteAt(header_size_ + first_file_row * file_row_, band_.data(),
                    band_.size());
      return;
    }
    for (int r = 0; r < rows; ++r, ++done_) {
      const size_t file_y = static_cast<size_t>(format_.height - 1 - done_);
      std::memcpy(data_.data() + file_y * file_row_, src + r * stride,
                  format_.RowBytes());
    }
  }

  void Finish() override {
    if (done_ != format_.height) {
      throw Error(ErrorKind::kInternal,
                  "output '" + name_ + "': finished after " +
                      std::to_string(done_) + " of " +
                      std::to_string(format_.height) + " rows");
    }
    std::vector<uint8_t> head;
    head.reserve(header_size_);
    head.push_back('B');
    head.push_back('M');
    PutLe32(head, file_size_);
    PutLe32(head, 0);             // reserved
    PutLe32(head, header_size_);  // where the pixels start
    PutLe32(head, 40);            // BITMAPINFOHEADER
    PutLe32(head, static_cast<uint32_t>(format_.width));
    PutLe32(head,
            static_cast<uint32_t>(format_.height));  // positive: bottom-up
    PutLe16(head, 1);                                // planes
    PutLe16(head, format_.channels == 1 ? 8 : 24);
    for (int i = 0; i < 6; ++i) PutLe32(head, 0);  // BI_RGB, sizes and counts 0
    if (format_.channels == 1) {
      for (uint32_t i = 0; i < 256; ++i) PutLe32(head, i * 0x010101);
    }
    if (data_.empty()) {
      sink_.WriteAt(0, head.data(), head.size());
      return;
    }
    sink_.Write(head.data(), head.size());
    sink_.Write(data_.data(), data_.size());
  }

 private:
  PixelFormat format_;
  Sink& sink_;
  std::string name_;
  size_t file_row_ = 0;
  uint32_t header_size_ = 0;
  uint32_t file_size_ = 0;
  std::vector<uint8_t> data_;  // the whole file's rows, or
  std::vector<uint8_t> band_;  // a band's, in file order
  int done_ = 0;
};

}  // namespace

std::unique_ptr<Encoder> NewBmpEncoder(const PixelFormat& format, Sink& sink,
                                       std::string_view name) {
  if (format.width <= 0 || format.height <= 0)
    ThrowOutput(name, "the image is empty");
  if (format.depth == core::Depth::kF32) {
    ThrowOutput(
        name,
        "bmp cannot store float samples; use tif (or pfm), or --depth u8");
  }
  if (format.depth == core::Depth::kU16) {
    ThrowOutput(
        name, "bmp cannot store 16-bit samples; use png or tif, or --depth u8");
  }
  if (format.channels == 2 || format.channels == 4) {
    ThrowOutput(name,
                "bmp cannot store an alpha channel; use png or tif, or --gray");
  }
  if (format.channels != 1 && format.channels != 3) {
    ThrowOutput(name, "bmp cannot store " + std::to_string(format.channels) +
                          " channels");
  }
  return std::make_unique<BmpEncoder>(format, sink, name);
}

}  // namespace convcorr::io
