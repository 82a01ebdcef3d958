// Readers of BMP, Sun raster and Radiance HDR, written to deliver what
// OpenCV 4.6's grfmt_bmp.cpp, grfmt_sunras.cpp and grfmt_hdr.cpp (with
// rgbe.cpp) deliver for imdecode(IMREAD_UNCHANGED), sample for sample,
// including OpenCV's own readings of odd files (its RLE delta and
// end-of-line rules, its HDR header read in fgets() chunks of 127 bytes).
//
// Where OpenCV 4.6 is plainly wrong, these readers differ, always by
// refusing bad data or by keeping data OpenCV loses:
// - Truncated files are refused ("truncated ..."); OpenCV zero-fills some
//   (Sun raster) and refuses others.
// - A palette index past the palette (BMP biClrUsed, Sun colour map
//   length) is refused; OpenCV paints it black.
// - OS/2 BMPs (12-byte header) keep their colours; OpenCV turns them all
//   to gray (it never sets its colour flag on that path).
// - Sun rasters without a colour map: 8-bit is gray as stored and 1-bit is
//   white for 0, black for 1 (Sun's convention); OpenCV 4.6 returns zeros
//   (its gray palette is only filled from a colour map).
// - Sun RLE (type 2) and RGB-order (type 3) files are read; OpenCV refuses
//   them (its header check compares the Mat type, not the file type).
// - Image sizes are not capped (OpenCV refuses more than 2^30 pixels or
//   2^20 a side); the caller's pixel limit applies. HDR sizes past INT_MAX
//   are refused (OpenCV's sscanf wraps them).
#include "io/legacy_codecs.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "common/error.h"

namespace convcorr::io {
namespace {

using Bytes = std::span<const uint8_t>;

uint16_t Le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}
uint32_t Le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}
uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 |
         static_cast<uint32_t>(p[2]) << 8 | static_cast<uint32_t>(p[3]);
}

// The first `n` bytes of the source, or all it has if fewer. The peek grows
// by doubling, so that a header claiming a huge length costs at most twice
// the bytes the file really has (a pipe's size is not known up front).
Bytes PeekUpTo(Source& source, uint64_t n) {
  if (const std::optional<uint64_t> size = source.Size(); size && n > *size) {
    n = *size;
  }
  uint64_t step = 4096;
  for (;;) {
    const size_t want = static_cast<size_t>(std::min(n, step));
    const Bytes got = source.Peek(want);
    if (got.size() < want || want == n) return got;
    step *= 2;
  }
}

struct Bgr {
  uint8_t b = 0, g = 0, r = 0;
};

// What the three readers share: the header is read by the constructor; at
// the first ReadRows the file is taken into memory and Start() checks what
// needs the whole file; then DecodeRow() makes each row, top to bottom.
class RowDecoder : public Decoder {
 public:
  void ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) final {
    if (rows < 0 || rows > format_.height - next_row_) {
      throw Error(ErrorKind::kInternal,
                  "input '" + name_ + "': rows asked for past the last row");
    }
    if (rows == 0) return;
    if (!started_) {
      file_ = source_.All();
      Start();
      started_ = true;
    }
    for (int i = 0; i < rows; ++i, ++next_row_) {
      DecodeRow(next_row_, reinterpret_cast<uint8_t*>(dst + i * stride));
    }
  }

 protected:
  RowDecoder(Source& source, std::string_view name)
      : source_(source), name_(name) {}

  virtual void Start() = 0;
  // Writes row `y` (0 at the top) of format().RowBytes() bytes.
  virtual void DecodeRow(int y, uint8_t* out) = 0;

  [[noreturn]] void Fail(const std::string& why) const {
    ThrowInput(name_, why);
  }
  void SetFormat(int64_t width, int64_t height, int channels,
                 core::Depth depth) {
    format_.width = static_cast<int>(width);
    format_.height = static_cast<int>(height);
    format_.channels = channels;
    format_.depth = depth;
  }
  size_t width() const { return static_cast<size_t>(format_.width); }

  Source& source_;
  std::string name_;
  Bytes file_;  // the whole file, from the first ReadRows on

 private:
  bool started_ = false;
  int next_row_ = 0;
};

// ---- BMP ------------------------------------------------------------------

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

  void Start() override;
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
  if (offset_ < 0) Corrupt("negative pixel data offset");
  if (static_cast<uint64_t>(offset_) > file_.size()) {
    Corrupt("the pixel data offset is past the end of the file");
  }
  if (compression_ == kRle8 || compression_ == kRle4) {
    DecodeRle();
    return;
  }
  const size_t available = file_.size() - static_cast<size_t>(offset_);
  if (pitch_ > available / static_cast<size_t>(format_.height)) {
    Truncated("the pixel data ends early");
  }
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
  const uint8_t* src = file_.data() + offset_ + row * pitch_;
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

// ---- Sun raster -------------------------------------------------------------

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

// ---- Radiance HDR
// -------------------------------------------------------------

class HdrDecoder final : public RowDecoder {
 public:
  HdrDecoder(Source& source, std::string_view name);

 private:
  [[noreturn]] void Corrupt(const std::string& what) const {
    Fail("corrupt HDR (" + what + ")");
  }
  [[noreturn]] void Truncated(const std::string& what) const {
    Fail("truncated HDR (" + what + ")");
  }

  // Reads the header from `b` (the file's first bytes, all of it if
  // `whole`); false if it needs more bytes.
  bool ParseHeader(Bytes b, bool whole);
  void Start() override;
  void DecodeRow(int y, uint8_t* out) override;

  size_t offset_ = 0;              // of the pixel data
  bool flat_ = false;              // no RLE scanlines (from here on)
  size_t at_ = 0;                  // read position in the file
  std::vector<uint8_t> scanline_;  // an RLE scanline: R, G, B, E planes
};

HdrDecoder::HdrDecoder(Source& source, std::string_view name)
    : RowDecoder(source, name) {
  const Bytes sig = source_.Peek(10);
  const auto starts = [&](std::string_view s) {
    return sig.size() >= s.size() &&
           std::memcmp(sig.data(), s.data(), s.size()) == 0;
  };
  if (!starts("#?RGBE") && !starts("#?RADIANCE")) {
    Corrupt("no #?RADIANCE or #?RGBE signature");
  }
  for (uint64_t n = 4096;; n *= 2) {
    const Bytes b = PeekUpTo(source_, n);
    if (ParseHeader(b, b.size() < n)) break;
  }
}

bool IsCSpace(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}

// sscanf's %d on `s` from `i`: spaces, a sign, digits. Values too large for
// an int saturate (and are refused by the caller).
bool ScanInt(std::string_view s, size_t& i, int64_t& v) {
  while (i < s.size() && IsCSpace(static_cast<uint8_t>(s[i]))) ++i;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (i >= s.size() || s[i] < '0' || s[i] > '9') return false;
  v = 0;
  for (; i < s.size() && s[i] >= '0' && s[i] <= '9'; ++i) {
    v = std::min<int64_t>(v * 10 + (s[i] - '0'), int64_t{1} << 40);
  }
  if (negative) v = -v;
  return true;
}

bool HdrDecoder::ParseHeader(Bytes b, bool whole) {
  // OpenCV reads the header with fgets() into 128 bytes: a "line" is up to
  // 127 bytes, or up to and including a newline, and is compared as a C
  // string (up to a NUL). The same chunks are read here, so that long lines
  // split where OpenCV splits them.
  size_t at = 0;
  std::string_view line;
  // 1 a chunk read, 0 end of file, -1 more bytes needed.
  const auto next = [&]() -> int {
    if (at >= b.size()) return whole ? 0 : -1;
    size_t n = 0;
    bool ended = false;
    while (n < 127 && at + n < b.size()) {
      if (b[at + n++] == '\n') {
        ended = true;
        break;
      }
    }
    if (!ended && n < 127 && !whole) return -1;
    line = std::string_view(reinterpret_cast<const char*>(b.data() + at), n);
    at += n;
    return 1;
  };
  const auto c_string = [&]() { return line.substr(0, line.find('\0')); };

  int r = next();  // the "#?RADIANCE" line
  if (r < 0) return false;
  if (r == 0) Truncated("the header ends early");
  bool has_format = false;
  bool xyze = false;
  for (;;) {
    r = next();
    if (r < 0) return false;
    if (r == 0) Truncated("the header ends early");
    if (line[0] == '\n') break;  // the blank line that ends the header
    if (line[0] == '#') continue;
    if (c_string() == "FORMAT=32-bit_rle_rgbe\n") has_format = true;
    if (c_string().starts_with("FORMAT=32-bit_rle_xyze")) xyze = true;
  }
  if (!has_format) {
    Corrupt(xyze ? "FORMAT=32-bit_rle_xyze (CIE XYZ) is not read"
                 : "no FORMAT=32-bit_rle_rgbe line");
  }
  r = next();
  if (r < 0) return false;
  if (r == 0) Truncated("the header ends early");
  // sscanf(line, "-Y %d +X %d"): only top-to-bottom, left-to-right images.
  const std::string_view s = c_string();
  size_t i = 2;
  int64_t height = 0;
  int64_t width = 0;
  const auto skip_space = [&] {
    while (i < s.size() && IsCSpace(static_cast<uint8_t>(s[i]))) ++i;
  };
  bool ok = s.starts_with("-Y") && ScanInt(s, i, height);
  if (ok) {
    skip_space();
    ok = s.substr(i).starts_with("+X");
    i += 2;
    ok = ok && ScanInt(s, i, width);
  }
  if (!ok) Corrupt("the size line is not -Y <height> +X <width>");
  if (width == 0 || height == 0) Fail("image header says the size is 0");
  if (width < 0 || height < 0) Corrupt("negative width or height");
  if (width > std::numeric_limits<int>::max() ||
      height > std::numeric_limits<int>::max()) {
    Corrupt("the image size is out of range");
  }
  offset_ = at;
  SetFormat(width, height, 3, core::Depth::kF32);
  return true;
}

void HdrDecoder::Start() {
  at_ = offset_;
  // OpenCV reads widths under 8 or over 32767 flat: they cannot be RLE.
  flat_ = format_.width < 8 || format_.width > 0x7fff;
  if (!flat_) scanline_.assign(4 * width(), 0);
}

// rgbe2float of rgbe.cpp, written B, G, R: the same float operations, so
// the same values (a mantissa byte times a power of two, exact).
void PutRgbe(const uint8_t* e, uint8_t* out) {
  float bgr[3] = {0.0f, 0.0f, 0.0f};
  if (e[3] != 0) {
    const float f = static_cast<float>(std::ldexp(1.0, e[3] - (128 + 8)));
    bgr[2] = e[0] * f;
    bgr[1] = e[1] * f;
    bgr[0] = e[2] * f;
  }
  std::memcpy(out, bgr, sizeof bgr);
}

void HdrDecoder::DecodeRow(int, uint8_t* out) {
  const size_t w = width();
  const auto need = [&](size_t n) {
    if (file_.size() - at_ < n) Truncated("the pixel data ends early");
  };
  size_t x = 0;
  if (!flat_) {
    need(4);
    const uint8_t* head = file_.data() + at_;
    at_ += 4;
    if (head[0] != 2 || head[1] != 2 || (head[2] & 0x80) != 0) {
      // Not an RLE scanline: as OpenCV, this and all that follows is flat.
      flat_ = true;
      PutRgbe(head, out);
      x = 1;
    } else {
      if ((size_t{head[2]} << 8 | head[3]) != w) {
        Corrupt("a scanline's width is not the image width");
      }
      // Four planes (R, G, B, E), each of runs (128 + n, value) and
      // literal runs (n, n values).
      for (size_t c = 0; c < 4; ++c) {
        uint8_t* p = scanline_.data() + c * w;
        uint8_t* const end = p + w;
        while (p < end) {
          need(2);
          const uint8_t lead = file_[at_];
          const uint8_t value = file_[at_ + 1];
          at_ += 2;
          const size_t count = lead > 128 ? lead - 128u : lead;
          if (count == 0) Corrupt("an RLE literal run of length 0");
          if (count > static_cast<size_t>(end - p)) {
            Corrupt("an RLE run passes the end of a scanline");
          }
          if (lead > 128) {
            std::memset(p, value, count);
          } else {
            *p = value;
            need(count - 1);
            std::memcpy(p + 1, file_.data() + at_, count - 1);
            at_ += count - 1;
          }
          p += count;
        }
      }
      for (size_t i = 0; i < w; ++i) {
        const uint8_t e[4] = {scanline_[i], scanline_[i + w],
                              scanline_[i + 2 * w], scanline_[i + 3 * w]};
        PutRgbe(e, out + 12 * i);
      }
      return;
    }
  }
  need((w - x) * 4);
  for (; x < w; ++x, at_ += 4) PutRgbe(file_.data() + at_, out + 12 * x);
}

}  // namespace

std::unique_ptr<Decoder> OpenBmp(Source& source, std::string_view name) {
  return std::make_unique<BmpDecoder>(source, name);
}

std::unique_ptr<Decoder> OpenSunRaster(Source& source, std::string_view name) {
  return std::make_unique<SunRasterDecoder>(source, name);
}

std::unique_ptr<Decoder> OpenHdr(Source& source, std::string_view name) {
  return std::make_unique<HdrDecoder>(source, name);
}

}  // namespace convcorr::io
