// The BMP / DIB reader (io/legacy_codecs.h).
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

class BmpDecoder final : public RowDecoder {
 public:
  BmpDecoder(Source& source, std::string_view name);

 private:
  enum Compression { kRgb = 0, kRle8 = 1, kRle4 = 2, kBitfields = 3 };

  [[noreturn]] void Corrupt(const std::string& what) const {
    Fail("corrupt BMP (" + what + ")");
  }
  [[noreturn]] void Truncated(const std::string& what) const {
    Fail("truncated BMP (" + what + ")");
  }

  // Uncompressed rows are read at their offsets from a file (a seekable
  // source of known size), a band at a time: a bottom-up band is one run
  // of the file in reverse order.
  bool ReadsAtOffsets() const override {
    return compression_ != kRle8 && compression_ != kRle4 &&
           source_.Seekable() && source_.Size().has_value();
  }
  void Start() override;
  void Fetch(int y0, int rows) override;
  void DecodeRow(int y, uint8_t* out) override;
  void DecodeRle();

  // Writes palette entry `index` as pixel `x` of `out` (gray or B,G,R).
  void PutIndex(uint8_t* out, size_t x, unsigned index) const {
    if (index >= palette_size_) {
      Corrupt("a pixel's palette index is past the palette");
    }
    const Bgr& c = palette_[index];
    if (format_.channels == 1) {
      out[x] = c.b;  // a gray palette: b == g == r
    } else {
      out[3 * x] = c.b;
      out[3 * x + 1] = c.g;
      out[3 * x + 2] = c.r;
    }
  }

  int64_t offset_ = 0;  // of the pixel data
  int bpp_ = 0;         // 15 for 16-bit 5-5-5, as OpenCV names it
  int compression_ = kRgb;
  bool bottom_up_ = true;
  std::array<Bgr, 256> palette_{};
  unsigned palette_size_ = 0;
  size_t pitch_ = 0;  // bytes per stored row
  // 32-bit BI_BITFIELDS masks of red, green, blue and alpha from a V3+
  // header, and their shifts (-1 for a zero mask).
  std::array<uint32_t, 4> masks_{};
  std::array<int, 4> shifts_{-1, -1, -1, -1};
  // RLE images decoded whole (the codes jump across rows), rows in file
  // order, format().RowBytes() each.
  std::vector<uint8_t> rle_pixels_;
  // Where ReadsAtOffsets: the stored rows of the band being decoded, from
  // stored row band_first_ on.
  std::vector<uint8_t> band_;
  size_t band_first_ = 0;
};

BmpDecoder::BmpDecoder(Source& source, std::string_view name)
    : RowDecoder(source, name) {
  Bytes h = PeekUpTo(source_, 18);
  if (h.size() < 2 || h[0] != 'B' || h[1] != 'M') Corrupt("no BM signature");
  if (h.size() < 18) Truncated("the header ends early");
  offset_ = static_cast<int32_t>(Le32(&h[10]));
  const int32_t header_size = static_cast<int32_t>(Le32(&h[14]));
  int64_t width = 0;
  int64_t height = 0;
  int32_t clr_used = 0;
  const bool os2 = header_size == 12;
  // OpenCV reads the header fields it needs and skips the rest, so a
  // header of 36 bytes or more is read as a BITMAPINFOHEADER's first part.
  if (header_size >= 36) {
    h = PeekUpTo(source_, 50);
    if (h.size() < 50) Truncated("the header ends early");
    width = static_cast<int32_t>(Le32(&h[18]));
    height = static_cast<int32_t>(Le32(&h[22]));
    bpp_ = static_cast<int16_t>(Le16(&h[28]));
    compression_ = static_cast<int32_t>(Le32(&h[30]));
    clr_used = static_cast<int32_t>(Le32(&h[46]));
    // OpenCV 4.6 takes the masks of a 32-bit BI_BITFIELDS image from inside
    // a header of 56 bytes or more (BITMAPV3INFOHEADER and later).
    if (bpp_ == 32 && compression_ == kBitfields && header_size >= 56) {
      h = PeekUpTo(source_, 70);
      if (h.size() < 70) Truncated("the header ends early");
      for (int c = 0; c < 4; ++c) {
        masks_[c] = Le32(&h[54 + 4 * c]);
        shifts_[c] = masks_[c] == 0 ? -1 : std::countr_zero(masks_[c]);
      }
    }
  } else if (os2) {
    h = PeekUpTo(source_, 26);
    if (h.size() < 26) Truncated("the header ends early");
    width = Le16(&h[18]);
    height = Le16(&h[20]);
    bpp_ = static_cast<int16_t>(Le16(&h[24]));
    compression_ = kRgb;
  } else {
    Corrupt("unknown header size " + std::to_string(header_size));
  }
  if (width == 0 || height == 0) Fail("image header says the size is 0");
  if (width < 0) Corrupt("negative width");
  if (height == std::numeric_limits<int32_t>::min()) {
    Corrupt("height out of range");
  }
  const bool plain =
      bpp_ == 1 || bpp_ == 4 || bpp_ == 8 || bpp_ == 24 || bpp_ == 32;
  const bool valid =
      os2 ? plain
          : (plain && compression_ == kRgb) ||
                ((bpp_ == 16 || bpp_ == 32) &&
                 (compression_ == kRgb || compression_ == kBitfields)) ||
                (bpp_ == 4 && compression_ == kRle4) ||
                (bpp_ == 8 && compression_ == kRle8);
  if (!valid) {
    Corrupt("unsupported: " + std::to_string(bpp_) +
            " bits per pixel with compression " + std::to_string(compression_));
  }

  // The palette and the 16-bit masks follow the header (OpenCV reads them
  // there even for V4 and V5 headers, which hold the masks inside).
  const uint64_t after_header = 14 + static_cast<uint64_t>(header_size);
  bool color = true;
  if (bpp_ <= 8) {
    size_t entry_bytes = 4;
    if (os2) {
      palette_size_ = 1u << bpp_;
      entry_bytes = 3;
    } else {
      if (clr_used < 0 || clr_used > 256) {
        Corrupt("a palette of " + std::to_string(clr_used) + " colours");
      }
      palette_size_ =
          clr_used == 0 ? 1u << bpp_ : static_cast<unsigned>(clr_used);
    }
    const uint64_t end = after_header + palette_size_ * entry_bytes;
    h = PeekUpTo(source_, end);
    if (h.size() < end) Truncated("the palette ends early");
    for (unsigned i = 0; i < palette_size_; ++i) {
      const uint8_t* p = &h[after_header + i * entry_bytes];
      palette_[i] = {p[0], p[1], p[2]};
    }
    // OpenCV gives 1 channel when the palette's first 2^bpp entries (zero
    // past biClrUsed) are all gray.
    color = false;
    for (unsigned i = 0; i < (1u << bpp_); ++i) {
      const Bgr& c = palette_[i];
      if (c.b != c.g || c.b != c.r) color = true;
    }
  } else if (bpp_ == 16 && compression_ == kBitfields) {
    h = PeekUpTo(source_, after_header + 12);
    if (h.size() < after_header + 12) Truncated("the colour masks end early");
    const uint32_t red = Le32(&h[after_header]);
    const uint32_t green = Le32(&h[after_header + 4]);
    const uint32_t blue = Le32(&h[after_header + 8]);
    if (blue == 0x1f && green == 0x3e0 && red == 0x7c00) {
      bpp_ = 15;
    } else if (!(blue == 0x1f && green == 0x7e0 && red == 0xf800)) {
      Corrupt("16-bit colour masks other than 5-5-5 and 5-6-5");
    }
  } else if (bpp_ == 16) {
    bpp_ = 15;
  }
  bottom_up_ = height > 0;
  const int channels =
      !color ? 1 : (bpp_ == 32 && compression_ != kRgb ? 4 : 3);
  SetFormat(width, bottom_up_ ? height : -height, channels, core::Depth::kU8);
  const uint64_t bits = static_cast<uint64_t>(width) * (bpp_ == 15 ? 16 : bpp_);
  pitch_ = static_cast<size_t>(((bits + 7) / 8 + 3) & ~uint64_t{3});
}

void BmpDecoder::Start() {
  const uint64_t size =
      ReadsAtOffsets() ? source_.Size().value_or(0) : file_.size();
  if (offset_ < 0) Corrupt("negative pixel data offset");
  if (static_cast<uint64_t>(offset_) > size) {
    Corrupt("the pixel data offset is past the end of the file");
  }
  if (compression_ == kRle8 || compression_ == kRle4) {
    DecodeRle();
    return;
  }
  const uint64_t available = size - static_cast<uint64_t>(offset_);
  if (pitch_ > available / static_cast<uint64_t>(format_.height)) {
    Truncated("the pixel data ends early");
  }
}

void BmpDecoder::Fetch(int y0, int rows) {
  if (!ReadsAtOffsets()) return;
  const size_t height = static_cast<size_t>(format_.height);
  band_first_ = bottom_up_ ? height - static_cast<size_t>(y0 + rows)
                           : static_cast<size_t>(y0);
  band_.resize(pitch_ * static_cast<size_t>(rows));
  const size_t got =
      source_.ReadAt(static_cast<uint64_t>(offset_) + band_first_ * pitch_,
                     band_.data(), band_.size());
  // The file was long enough when opened (Start); it may have shrunk.
  if (got < band_.size()) Truncated("the pixel data ends early");
}

void BmpDecoder::DecodeRow(int y, uint8_t* out) {
  const size_t w = width();
  const size_t row =
      static_cast<size_t>(bottom_up_ ? format_.height - 1 - y : y);
  if (!rle_pixels_.empty()) {
    const size_t n = format_.RowBytes();
    std::memcpy(out, rle_pixels_.data() + row * n, n);
    return;
  }
  // band_ holds rows only where ReadsAtOffsets (Fetch).
  const uint8_t* src = !band_.empty()
                           ? band_.data() + (row - band_first_) * pitch_
                           : file_.data() + offset_ + row * pitch_;
  switch (bpp_) {
    case 1:
      for (size_t x = 0; x < w; ++x) {
        PutIndex(out, x, (src[x >> 3] >> (7 - (x & 7))) & 1);
      }
      break;
    case 4:
      for (size_t x = 0; x < w; ++x) {
        PutIndex(out, x, (src[x >> 1] >> ((x & 1) ? 0 : 4)) & 15);
      }
      break;
    case 8:
      for (size_t x = 0; x < w; ++x) PutIndex(out, x, src[x]);
      break;
    case 15:
    case 16:
      // OpenCV widens 5 bits to 8 by shifting, without replicating the top
      // bits into the low ones (31 becomes 248).
      for (size_t x = 0; x < w; ++x) {
        const unsigned t = Le16(src + 2 * x);
        out[3 * x] = static_cast<uint8_t>((t << 3) & 0xf8);
        if (bpp_ == 15) {
          out[3 * x + 1] = static_cast<uint8_t>((t >> 2) & 0xf8);
          out[3 * x + 2] = static_cast<uint8_t>((t >> 7) & 0xf8);
        } else {
          out[3 * x + 1] = static_cast<uint8_t>((t >> 3) & 0xfc);
          out[3 * x + 2] = static_cast<uint8_t>((t >> 8) & 0xf8);
        }
      }
      break;
    case 24:
      std::memcpy(out, src, 3 * w);
      break;
    case 32:
      // BI_RGB: the fourth byte is padding. BI_BITFIELDS: 4 channels, by
      // the masks when the header has red, green and blue ones (each
      // sample the masked bits shifted down, kept to 8 bits; alpha 255
      // without an alpha mask), else the bytes as stored.
      if (format_.channels == 4 && shifts_[0] >= 0 && shifts_[1] >= 0 &&
          shifts_[2] >= 0) {
        for (size_t x = 0; x < w; ++x) {
          const uint32_t v = Le32(src + 4 * x);
          uint8_t* o = out + 4 * x;
          o[0] = static_cast<uint8_t>((v & masks_[2]) >> shifts_[2]);
          o[1] = static_cast<uint8_t>((v & masks_[1]) >> shifts_[1]);
          o[2] = static_cast<uint8_t>((v & masks_[0]) >> shifts_[0]);
          o[3] = shifts_[3] >= 0
                     ? static_cast<uint8_t>((v & masks_[3]) >> shifts_[3])
                     : 255;
        }
      } else if (format_.channels == 4) {
        std::memcpy(out, src, 4 * w);
      } else {
        for (size_t x = 0; x < w; ++x) std::memcpy(out + 3 * x, src + 4 * x, 3);
      }
      break;
    default:
      break;
  }
}

// RLE8 and RLE4 as OpenCV decodes them (grfmt_bmp.cpp, FillUniColor in
// utils.cpp): a cursor over the rows in file order; runs and literal runs
// may not pass the end of the row; end-of-line, end-of-bitmap and delta
// codes fill what they skip with palette entry 0, in reading order
// (a delta of (dx, dy) skips dy rows and dx pixels). A run that fills a row
// to its end moves the cursor to the next row, and in RLE8 an end-of-line
// code right after that is ignored. Decoding stops when the last row is
// done; data that ends before is refused.
void BmpDecoder::DecodeRle() {
  const size_t nch = static_cast<size_t>(format_.channels);
  const size_t width3 = width() * nch;
  const size_t height = static_cast<size_t>(format_.height);
  if (width3 != 0 && height > std::numeric_limits<size_t>::max() / width3) {
    Corrupt("the image is too large to decode");
  }
  rle_pixels_.assign(width3 * height, 0);
  uint8_t* const pixels = rle_pixels_.data();
  size_t at = static_cast<size_t>(offset_);
  const auto need = [&](size_t n) {
    if (file_.size() - at < n) Truncated("the pixel data ends early");
  };
  size_t y = 0;
  size_t pos = 0;            // next sample to write
  size_t line_end = width3;  // end of row y
  const auto put = [&](unsigned index) {
    PutIndex(pixels + pos, 0, index);
    pos += nch;
  };
  // FillUniColor: `count` samples of entry `index`, going on to the next
  // rows; moves to the next row when the cursor ends at a row's end.
  const auto fill = [&](size_t count, unsigned index) {
    do {
      const size_t end = std::min(pos + count, line_end);
      count -= end - pos;
      while (pos < end) put(index);
      if (pos >= line_end) {
        line_end += width3;
        pos = line_end - width3;
        if (++y >= height) break;
      }
    } while (count > 0);
  };
  const bool rle8 = compression_ == kRle8;
  bool line_end_flag = false;  // RLE8: the last run ended a row
  for (;;) {
    need(2);
    const size_t len = file_[at];
    const unsigned code = file_[at + 1];
    at += 2;
    if (len != 0) {  // a run
      if (pos + len * nch > line_end) {
        Corrupt("an RLE run passes the end of a row");
      }
      if (rle8) {
        const size_t prev_y = y;
        fill(len * nch, code);
        line_end_flag = y != prev_y;
        if (y >= height) break;
      } else {
        // Two alternating entries; the cursor stays at the row's end.
        for (size_t i = 0; i < len; ++i)
          put(i % 2 == 0 ? code >> 4 : code & 15);
      }
    } else if (code > 2) {  // literal indices, padded to 16 bits
      if (pos + code * nch > line_end) {
        Corrupt("an RLE literal run passes the end of a row");
      }
      const size_t bytes =
          rle8 ? (code + 1) & ~1u : (((code + 1) >> 1) + 1) & ~1u;
      need(bytes);
      const uint8_t* src = file_.data() + at;
      for (size_t i = 0; i < code; ++i) {
        put(rle8 ? src[i] : (src[i >> 1] >> ((i & 1) ? 0 : 4)) & 15);
      }
      at += bytes;
      line_end_flag = false;
    } else {  // 0 end of line, 1 end of bitmap, 2 delta
      size_t skip = line_end - pos;
      size_t rows = height - y;
      if (code == 2) {
        need(2);
        skip = file_[at] * nch;
        rows = file_[at + 1];
        at += 2;
      }
      if (rle8) {
        if (code != 0 || !line_end_flag || skip < width3) {
          if (code != 0) skip += rows * width3;
          fill(skip, 0);
          if (y >= height) break;
        }
        line_end_flag = false;
      } else {
        // OpenCV's RLE4 skips only the pixels: its end of bitmap acts as
        // an end of line and its delta ignores dy.
        fill(skip, 0);
        if (y >= height) break;
      }
    }
  }
}

}  // namespace

std::unique_ptr<Decoder> OpenBmp(Source& source, std::string_view name) {
  return std::make_unique<BmpDecoder>(source, name);
}

}  // namespace convcorr::io
