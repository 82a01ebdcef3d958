// The Sun raster reader (io/legacy_codecs.h).
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/legacy_codecs.h"
#include "io/legacy_reader.h"

namespace convcorr::io {
namespace {

using namespace legacy;  // NOLINT: the shared reader parts

class SunRasterDecoder final : public RowDecoder {
 public:
  SunRasterDecoder(Source& source, std::string_view name);

 private:
  [[noreturn]] void Corrupt(const std::string& what) const {
    Fail("corrupt Sun raster (" + what + ")");
  }
  [[noreturn]] void Truncated(const std::string& what) const {
    Fail("truncated Sun raster (" + what + ")");
  }

  void Start() override;
  void DecodeRow(int y, uint8_t* out) override;
  const uint8_t* NextRleRow();

  void PutIndex(uint8_t* out, size_t x, unsigned index) const {
    if (index >= palette_size_) {
      Corrupt("a pixel's colour map index is past the colour map");
    }
    const Bgr& c = palette_[index];
    if (format_.channels == 1) {
      out[x] = c.b;
    } else {
      out[3 * x] = c.b;
      out[3 * x + 1] = c.g;
      out[3 * x + 2] = c.r;
    }
  }

  int depth_ = 0;
  bool rle_ = false;
  bool rgb_order_ = false;  // type 3: R,G,B (X,R,G,B) for B,G,R (X,B,G,R)
  std::array<Bgr, 256> palette_{};
  unsigned palette_size_ = 0;
  size_t offset_ = 0;  // of the pixel data
  size_t pitch_ = 0;   // bytes per row: rows are padded to 16 bits
  // RLE: the byte stream's cursor, a pending run and the row it makes.
  size_t at_ = 0;
  size_t run_left_ = 0;
  uint8_t run_value_ = 0;
  std::vector<uint8_t> row_;
};

SunRasterDecoder::SunRasterDecoder(Source& source, std::string_view name)
    : RowDecoder(source, name) {
  Bytes h = PeekUpTo(source_, 32);
  if (h.size() < 4 || Be32(h.data()) != 0x59A66A95u) {
    Corrupt("no Sun raster signature");
  }
  if (h.size() < 32) Truncated("the header ends early");
  const int32_t width = static_cast<int32_t>(Be32(&h[4]));
  const int32_t height = static_cast<int32_t>(Be32(&h[8]));
  depth_ = static_cast<int32_t>(Be32(&h[12]));
  const int32_t type = static_cast<int32_t>(Be32(&h[20]));
  const int32_t map_type = static_cast<int32_t>(Be32(&h[24]));
  const int32_t map_length = static_cast<int32_t>(Be32(&h[28]));
  if (width == 0 || height == 0) Fail("image header says the size is 0");
  if (width < 0 || height < 0) Corrupt("negative width or height");
  if (depth_ != 1 && depth_ != 8 && depth_ != 24 && depth_ != 32) {
    Corrupt("unsupported depth " + std::to_string(depth_));
  }
  if (type < 0 || type > 3) Corrupt("unsupported type " + std::to_string(type));
  rle_ = type == 2;
  rgb_order_ = type == 3;
  bool color = depth_ > 8;
  if (map_type == 0) {
    if (map_length != 0) Corrupt("a colour map length without a colour map");
    // No map: 8-bit is gray as stored; 1-bit is white for 0, black for 1.
    if (depth_ == 8) {
      for (unsigned i = 0; i < 256; ++i) {
        const auto v = static_cast<uint8_t>(i);
        palette_[i] = {v, v, v};
      }
      palette_size_ = 256;
    } else if (depth_ == 1) {
      palette_[0] = {255, 255, 255};
      palette_[1] = {0, 0, 0};
      palette_size_ = 2;
    }
  } else if (map_type == 1) {
    if (depth_ > 8) {
      Corrupt("a colour map on a " + std::to_string(depth_) + "-bit image");
    }
    if (map_length <= 0 || map_length > 3 << depth_) {
      Corrupt("a colour map of " + std::to_string(map_length) + " bytes");
    }
    const size_t end = 32 + static_cast<size_t>(map_length);
    h = PeekUpTo(source_, end);
    if (h.size() < end) Truncated("the colour map ends early");
    // Planes of red, green and blue; a byte or two past the last whole
    // entry is ignored, as OpenCV does.
    palette_size_ = static_cast<unsigned>(map_length) / 3;
    const uint8_t* m = &h[32];
    for (unsigned i = 0; i < palette_size_; ++i) {
      palette_[i] = {m[i + 2 * palette_size_], m[i + palette_size_], m[i]};
    }
    color = false;
    for (unsigned i = 0; i < (1u << depth_); ++i) {
      const Bgr& c = palette_[i];
      if (c.b != c.g || c.b != c.r) color = true;
    }
  } else {
    Corrupt("unsupported colour map type " + std::to_string(map_type));
  }
  offset_ = 32 + static_cast<size_t>(map_length);
  SetFormat(width, height, color ? 3 : 1, core::Depth::kU8);
  const uint64_t bits =
      static_cast<uint64_t>(width) * static_cast<uint64_t>(depth_);
  pitch_ = static_cast<size_t>(((bits + 7) / 8 + 1) & ~uint64_t{1});
}

void SunRasterDecoder::Start() {
  if (offset_ > file_.size()) Truncated("the colour map ends early");
  if (rle_) {
    at_ = offset_;
    row_.assign(pitch_, 0);
    return;
  }
  if (pitch_ > (file_.size() - offset_) / static_cast<size_t>(format_.height)) {
    Truncated("the pixel data ends early");
  }
}

// The RLE of type 2 packs the padded rows as one byte stream: 0x80 n v is
// n + 1 bytes v (n > 0), 0x80 0 is one byte 0x80, any other byte is itself.
// Runs go on across rows; what runs past the image's end is ignored.
const uint8_t* SunRasterDecoder::NextRleRow() {
  size_t i = 0;
  while (i < pitch_) {
    if (run_left_ > 0) {
      const size_t n = std::min(run_left_, pitch_ - i);
      std::memset(row_.data() + i, run_value_, n);
      i += n;
      run_left_ -= n;
      continue;
    }
    if (at_ >= file_.size()) Truncated("the pixel data ends early");
    const uint8_t b = file_[at_++];
    if (b != 0x80) {
      row_[i++] = b;
      continue;
    }
    if (at_ >= file_.size()) Truncated("the pixel data ends early");
    const uint8_t n = file_[at_++];
    if (n == 0) {
      row_[i++] = 0x80;
      continue;
    }
    if (at_ >= file_.size()) Truncated("the pixel data ends early");
    run_value_ = file_[at_++];
    run_left_ = size_t{n} + 1;
  }
  return row_.data();
}

void SunRasterDecoder::DecodeRow(int y, uint8_t* out) {
  const size_t w = width();
  const uint8_t* src =
      rle_ ? NextRleRow()
           : file_.data() + offset_ + static_cast<size_t>(y) * pitch_;
  switch (depth_) {
    case 1:
      for (size_t x = 0; x < w; ++x) {
        PutIndex(out, x, (src[x >> 3] >> (7 - (x & 7))) & 1);
      }
      break;
    case 8:
      for (size_t x = 0; x < w; ++x) PutIndex(out, x, src[x]);
      break;
    case 24:
      if (rgb_order_) {
        for (size_t x = 0; x < w; ++x) {
          out[3 * x] = src[3 * x + 2];
          out[3 * x + 1] = src[3 * x + 1];
          out[3 * x + 2] = src[3 * x];
        }
      } else {
        std::memcpy(out, src, 3 * w);
      }
      break;
    case 32:  // X,B,G,R (or X,R,G,B); the first byte is dropped
      for (size_t x = 0; x < w; ++x) {
        const uint8_t* p = src + 4 * x;
        out[3 * x] = rgb_order_ ? p[3] : p[1];
        out[3 * x + 1] = p[2];
        out[3 * x + 2] = rgb_order_ ? p[1] : p[3];
      }
      break;
    default:
      break;
  }
}

}  // namespace

std::unique_ptr<Decoder> OpenSunRaster(Source& source, std::string_view name) {
  return std::make_unique<SunRasterDecoder>(source, name);
}

}  // namespace convcorr::io
