// Image dimensions from file headers, without decoding: the basis of the
// --max-pixels check. Every format OpenCV 4.6 decodes from memory is read
// (PNG, JPEG, BMP, PNM, PAM, PFM, TIFF and BigTIFF, WebP, Sun raster,
// Radiance HDR, JPEG 2000); DecodeRaster refuses what is not. Every read is
// bounds-checked; unknown or short input gives nullopt.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>

#include "io/image_io.h"

namespace convcorr::io {

namespace {

class Reader {
 public:
  explicit Reader(std::span<const uint8_t> b) : b_(b) {}
  bool Has(size_t off, size_t n) const {
    return off <= b_.size() && n <= b_.size() - off;
  }
  uint32_t Be16(size_t o) const { return (b_[o] << 8) | b_[o + 1]; }
  uint32_t Le16(size_t o) const { return b_[o] | (b_[o + 1] << 8); }
  uint32_t Be32(size_t o) const {
    return (uint32_t{b_[o]} << 24) | (uint32_t{b_[o + 1]} << 16) |
           (uint32_t{b_[o + 2]} << 8) | b_[o + 3];
  }
  uint32_t Le32(size_t o) const {
    return b_[o] | (uint32_t{b_[o + 1]} << 8) | (uint32_t{b_[o + 2]} << 16) |
           (uint32_t{b_[o + 3]} << 24);
  }
  bool Starts(std::string_view magic, size_t off = 0) const {
    return Has(off, magic.size()) &&
           std::memcmp(b_.data() + off, magic.data(), magic.size()) == 0;
  }
  uint8_t at(size_t o) const { return b_[o]; }
  size_t size() const { return b_.size(); }

 private:
  std::span<const uint8_t> b_;
};

std::optional<HeaderInfo> Png(const Reader& r) {
  // Signature, then the IHDR chunk: length, "IHDR", width, height.
  if (!r.Has(0, 24) || !r.Starts("IHDR", 12)) return std::nullopt;
  return HeaderInfo{"png", r.Be32(16), r.Be32(20)};
}

std::optional<HeaderInfo> Jpeg(const Reader& r) {
  size_t o = 2;
  while (r.Has(o, 4)) {
    if (r.at(o) != 0xFF) return std::nullopt;
    const uint8_t marker = r.at(o + 1);
    if (marker == 0xFF) {  // fill byte
      ++o;
      continue;
    }
    if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      o += 2;  // markers without a length
      continue;
    }
    const uint32_t len = r.Be16(o + 2);
    if (len < 2) return std::nullopt;
    const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 &&
                     marker != 0xC8 && marker != 0xCC;
    if (sof) {
      if (!r.Has(o + 4, 5)) return std::nullopt;
      return HeaderInfo{"jpeg", r.Be16(o + 7), r.Be16(o + 5)};
    }
    if (marker == 0xDA || marker == 0xD9) return std::nullopt;  // no SOF
    o += 2 + len;
  }
  return std::nullopt;
}

std::optional<HeaderInfo> Bmp(const Reader& r) {
  if (!r.Has(0, 26)) return std::nullopt;
  const uint32_t info_size = r.Le32(14);
  if (info_size == 12) {  // OS/2 BITMAPCOREHEADER: 16-bit sizes
    return HeaderInfo{"bmp", r.Le16(18), r.Le16(20)};
  }
  const auto w = static_cast<int32_t>(r.Le32(18));
  const auto h = static_cast<int32_t>(r.Le32(22));
  const auto abs = [](int32_t v) {
    return v < 0 ? -static_cast<uint64_t>(static_cast<int64_t>(v))
                 : static_cast<uint64_t>(v);
  };
  return HeaderInfo{"bmp", abs(w), abs(h)};  // negative height: top-down
}

// Reads a decimal number at `o` (at most 12 digits), advancing `o`.
std::optional<uint64_t> Decimal(const Reader& r, size_t& o) {
  uint64_t value = 0;
  int digits = 0;
  while (r.Has(o, 1) && r.at(o) >= '0' && r.at(o) <= '9') {
    if (++digits > 12) return std::nullopt;
    value = value * 10 + (r.at(o) - '0');
    ++o;
  }
  if (digits == 0) return std::nullopt;
  return value;
}

// PNM: magic, then whitespace-separated decimal fields with '#' comments,
// as OpenCV's PxM reader reads them.
std::optional<HeaderInfo> Pnm(const Reader& r, const char* format) {
  size_t o = 2;
  uint64_t fields[2] = {0, 0};
  for (uint64_t& field : fields) {
    for (;;) {
      if (!r.Has(o, 1)) return std::nullopt;
      const uint8_t c = r.at(o);
      if (c == '#') {
        while (r.Has(o, 1) && r.at(o) != '\n' && r.at(o) != '\r') ++o;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
                 c == '\v' || c == '\f') {
        ++o;
      } else {
        break;
      }
    }
    const std::optional<uint64_t> number = Decimal(r, o);
    if (!number) return std::nullopt;
    field = *number;
    // OpenCV consumes the character after a number, whatever it is: in
    // "2#12" the 12 is the next number, not a comment.
    ++o;
  }
  return HeaderInfo{format, fields[0], fields[1]};
}

// PFM as OpenCV reads it: one character after the magic, then each number
// is the text up to the next whitespace character, read by atoi ("12#3" is
// 12; no comments; an empty field is 0).
std::optional<HeaderInfo> Pfm(const Reader& r) {
  const auto space = [](uint8_t c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
  };
  size_t o = 2;
  if (!r.Has(o, 1) || !space(r.at(o))) return std::nullopt;
  ++o;
  uint64_t fields[2] = {0, 0};
  for (uint64_t& field : fields) {
    // At most 2048 characters a field, as OpenCV's buffer holds.
    const size_t start = o;
    while (r.Has(o, 1) && !space(r.at(o)) && o - start < 2048) ++o;
    if (!r.Has(o, 1)) return std::nullopt;  // the field may go on
    const bool ended_by_space = space(r.at(o));
    size_t i = start;
    bool negative = false;
    if (i < o && (r.at(i) == '+' || r.at(i) == '-')) {
      negative = r.at(i) == '-';
      ++i;
    }
    int digits = 0;
    for (; i < o && r.at(i) >= '0' && r.at(i) <= '9'; ++i) {
      if (++digits > 12) return std::nullopt;
      field = field * 10 + (r.at(i) - '0');
    }
    if (negative) field = 0;  // refused as a size of 0
    if (ended_by_space) ++o;  // the whitespace that ended the field
  }
  return HeaderInfo{"pfm", fields[0], fields[1]};
}

// TIFF and BigTIFF: the first IFD's ImageWidth (256), ImageLength (257) and
// SamplesPerPixel (277). A size tag of another type than SHORT, LONG (or
// LONG8) is not probed. A repeated size tag counts with its largest value:
// the decoder may read either, and the limit must hold for both.
std::optional<HeaderInfo> Tiff(const Reader& r) {
  if (!r.Has(0, 8)) return std::nullopt;
  const bool le = r.at(0) == 'I';
  const auto u16 = [&](size_t o) { return le ? r.Le16(o) : r.Be16(o); };
  const auto u32 = [&](size_t o) { return le ? r.Le32(o) : r.Be32(o); };
  const auto u64 = [&](size_t o) {
    const uint64_t a = u32(o);
    const uint64_t b = u32(o + 4);
    return le ? a | (b << 32) : (a << 32) | b;
  };
  const uint32_t version = u16(2);
  const bool big = version == 43;
  if (version != 42 && !big) return std::nullopt;
  if (big && (!r.Has(0, 16) || u16(4) != 8 || u16(6) != 0)) return std::nullopt;
  const uint64_t ifd64 = big ? u64(8) : u32(4);
  if (ifd64 > r.size()) return std::nullopt;
  const size_t ifd = static_cast<size_t>(ifd64);
  const size_t count_size = big ? 8 : 2;
  const size_t entry_size = big ? 20 : 12;
  const size_t value_offset = big ? 12 : 8;
  if (!r.Has(ifd, count_size)) return std::nullopt;
  const uint64_t count = big ? u64(ifd) : u16(ifd);
  uint64_t width = 0;
  uint64_t height = 0;
  int samples = 1;  // the TIFF default
  for (uint64_t i = 0; i < count; ++i) {
    if (i > r.size() / entry_size) return std::nullopt;
    const size_t e = ifd + count_size + entry_size * static_cast<size_t>(i);
    if (!r.Has(e, entry_size)) return std::nullopt;
    const uint32_t tag = u16(e);
    if (tag != 256 && tag != 257 && tag != 277) continue;
    const uint32_t type = u16(e + 2);
    const size_t v = e + value_offset;
    uint64_t value = 0;
    if (type == 3) {
      value = u16(v);
    } else if (type == 4) {
      value = u32(v);
    } else if (type == 16 && big) {
      value = u64(v);
    } else if (tag != 277) {
      return std::nullopt;
    }
    if (tag == 256) width = std::max(width, value);
    if (tag == 257) height = std::max(height, value);
    if (tag == 277) samples = static_cast<int>(std::min<uint64_t>(value, 1 << 16));
  }
  if (width == 0 || height == 0) return std::nullopt;
  return HeaderInfo{"tiff", width, height, samples};
}

// Sun raster: magic, then big-endian width and height.
std::optional<HeaderInfo> SunRaster(const Reader& r) {
  if (!r.Has(0, 12)) return std::nullopt;
  return HeaderInfo{"sunras", r.Be32(4), r.Be32(8)};
}


// Radiance HDR: "#?..." text lines up to an empty line, then the resolution
// line, e.g. "-Y 512 +X 768": the first axis counts the rows.
std::optional<HeaderInfo> Hdr(const Reader& r) {
  size_t o = 0;
  // Header lines end at "\n\n"; at most 64 KiB of them.
  for (;;) {
    if (!r.Has(o, 2) || o > (64u << 10)) return std::nullopt;
    if (r.at(o) == '\n' && r.at(o + 1) == '\n') break;
    ++o;
  }
  o += 2;
  uint64_t sizes[2] = {0, 0};
  char axes[2] = {0, 0};
  for (int i = 0; i < 2; ++i) {
    while (r.Has(o, 1) && r.at(o) == ' ') ++o;
    if (!r.Has(o, 2) || (r.at(o) != '+' && r.at(o) != '-') ||
        (r.at(o + 1) != 'X' && r.at(o + 1) != 'Y')) {
      return std::nullopt;
    }
    axes[i] = static_cast<char>(r.at(o + 1));
    o += 2;
    while (r.Has(o, 1) && r.at(o) == ' ') ++o;
    const std::optional<uint64_t> n = Decimal(r, o);
    if (!n) return std::nullopt;
    sizes[i] = *n;
  }
  if (axes[0] == axes[1]) return std::nullopt;
  return axes[0] == 'Y' ? HeaderInfo{"hdr", sizes[1], sizes[0]}
                        : HeaderInfo{"hdr", sizes[0], sizes[1]};
}

// JPEG 2000 codestream: SOC, then the SIZ segment's Xsiz, Ysiz, XOsiz and
// YOsiz (the image area is Xsiz - XOsiz by Ysiz - YOsiz).
std::optional<HeaderInfo> J2kCodestream(const Reader& r, size_t o) {
  if (!r.Has(o, 24) || r.Be16(o) != 0xFF4F || r.Be16(o + 2) != 0xFF51) {
    return std::nullopt;
  }
  const uint32_t x = r.Be32(o + 8);
  const uint32_t y = r.Be32(o + 12);
  const uint32_t x0 = r.Be32(o + 16);
  const uint32_t y0 = r.Be32(o + 20);
  if (x0 >= x || y0 >= y) return std::nullopt;
  return HeaderInfo{"jp2", uint64_t{x} - x0, uint64_t{y} - y0};
}

// JP2 file: boxes; the JP2 header box (jp2h) holds the image header box
// (ihdr): height, then width. The codestream's SIZ is not read: the decoder
// follows ihdr, and a file whose codestream disagrees is its problem.
std::optional<HeaderInfo> Jp2(const Reader& r) {
  size_t o = 0;
  for (int boxes = 0; boxes < 64 && r.Has(o, 8); ++boxes) {
    uint64_t len = r.Be32(o);
    size_t header = 8;
    if (len == 1) {
      if (!r.Has(o, 16)) return std::nullopt;
      len = (uint64_t{r.Be32(o + 8)} << 32) | r.Be32(o + 12);
      header = 16;
    }
    if (r.Starts("jp2h", o + 4)) {
      const size_t inner = o + header;
      if (!r.Has(inner, 16) || !r.Starts("ihdr", inner + 4)) {
        return std::nullopt;
      }
      return HeaderInfo{"jp2", r.Be32(inner + 12), r.Be32(inner + 8)};
    }
    if (len == 0 || len < header || len > r.size() - o) return std::nullopt;
    o += static_cast<size_t>(len);
  }
  return std::nullopt;
}

// PAM (P7): "WIDTH n" and "HEIGHT n" lines before ENDHDR.
std::optional<HeaderInfo> Pam(const Reader& r) {
  uint64_t width = 0;
  uint64_t height = 0;
  size_t o = 3;
  for (int lines = 0; lines < 64 && r.Has(o, 1); ++lines) {
    if (r.Starts("ENDHDR", o)) break;
    if (r.Starts("WIDTH", o) || r.Starts("HEIGHT", o)) {
      const bool is_width = r.at(o) == 'W';
      o += is_width ? 5 : 6;
      while (r.Has(o, 1) && (r.at(o) == ' ' || r.at(o) == '\t')) ++o;
      const std::optional<uint64_t> n = Decimal(r, o);
      if (!n) return std::nullopt;
      (is_width ? width : height) = *n;
    }
    while (r.Has(o, 1) && r.at(o) != '\n') ++o;
    ++o;
  }
  if (width == 0 || height == 0) return std::nullopt;
  return HeaderInfo{"pam", width, height};
}

std::optional<HeaderInfo> Webp(const Reader& r) {
  if (!r.Has(0, 30)) return std::nullopt;
  if (r.Starts("VP8 ", 12)) {
    return HeaderInfo{"webp", r.Le16(26) & 0x3FFF, r.Le16(28) & 0x3FFF};
  }
  if (r.Starts("VP8L", 12)) {
    if (r.at(20) != 0x2F) return std::nullopt;
    const uint32_t bits = r.Le32(21);
    return HeaderInfo{"webp", (bits & 0x3FFF) + 1u, ((bits >> 14) & 0x3FFF) + 1u};
  }
  if (r.Starts("VP8X", 12)) {
    const uint32_t w = r.at(24) | (r.at(25) << 8) | (r.at(26) << 16);
    const uint32_t h = r.at(27) | (r.at(28) << 8) | (r.at(29) << 16);
    return HeaderInfo{"webp", w + 1ull, h + 1ull};
  }
  return std::nullopt;
}

}  // namespace

std::optional<HeaderInfo> ProbeHeader(std::span<const uint8_t> bytes) {
  using namespace std::string_view_literals;
  const Reader r(bytes);
  if (r.Starts("\x89PNG\r\n\x1a\n")) return Png(r);
  if (r.Has(0, 3) && r.at(0) == 0xFF && r.at(1) == 0xD8 && r.at(2) == 0xFF) {
    return Jpeg(r);
  }
  if (r.Starts("BM")) return Bmp(r);
  if (r.Has(0, 2) && r.at(0) == 'P' && r.at(1) >= '1' && r.at(1) <= '6') {
    return Pnm(r, "pnm");
  }
  if (r.Starts("PF") || r.Starts("Pf")) return Pfm(r);
  if (r.Starts("II*") || r.Starts("II+") || r.Starts("MM")) return Tiff(r);
  if (r.Starts("\x59\xa6\x6a\x95")) return SunRaster(r);
  if (r.Starts("#?")) return Hdr(r);
  if (r.Starts("\xFF\x4F\xFF\x51")) return J2kCodestream(r, 0);
  if (r.Starts("\x00\x00\x00\x0CjP  \r\n\x87\n"sv)) return Jp2(r);
  if (r.Starts("P7") && r.Has(2, 1) && r.at(2) == '\n') return Pam(r);
  if (r.Starts("RIFF") && r.Starts("WEBP", 8)) return Webp(r);
  return std::nullopt;
}

}  // namespace convcorr::io
