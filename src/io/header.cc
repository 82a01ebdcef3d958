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
  std::string_view Text(size_t o, size_t n) const {
    return {reinterpret_cast<const char*>(b_.data()) + o, n};
  }
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
// SamplesPerPixel (277). A repeated size tag counts with its largest value:
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
    // The integer types libtiff accepts for these tags (BYTE, SHORT, LONG,
    // their signed forms, LONG8 in BigTIFF); a negative value is read as a
    // huge one and refused. Any other type is not probed.
    uint64_t value = 0;
    if (type == 1 || type == 6) {
      value = r.at(v);
    } else if (type == 3 || type == 8) {
      value = u16(v);
    } else if (type == 4 || type == 9) {
      value = u32(v);
    } else if ((type == 16 || type == 17) && big) {
      value = u64(v);
    } else {
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


// Radiance HDR as OpenCV's RGBE_ReadHeader reads it: fgets into a 128-byte
// buffer (chunks of at most 127 bytes, each ending at a '\n'), chunks up
// to one that is exactly "FORMAT=32-bit_rle_rgbe\n" (a chunk starting with
// '\n' or NUL before it is an error), then a chunk "\n", then "-Y H +X W"
// read by sscanf. Read any other way, a long header line could hide the
// real size.
std::optional<HeaderInfo> Hdr(const Reader& r) {
  size_t o = 0;
  size_t start = 0;
  size_t length = 0;
  const auto next = [&]() {
    if (o >= r.size()) return false;
    start = o;
    length = 0;
    while (o < r.size() && length < 127) {
      ++length;
      if (r.at(o++) == '\n') break;
    }
    return true;
  };
  // The chunk as a C string (up to its first NUL) equals `text`.
  const auto is = [&](std::string_view text) {
    size_t n = 0;
    while (n < length && r.at(start + n) != 0) ++n;
    return n == text.size() && r.Starts(text, start);
  };
  if (!next()) return std::nullopt;
  for (int chunks = 0;; ++chunks) {
    if (chunks > 100000) return std::nullopt;
    if (r.at(start) == 0 || r.at(start) == '\n') return std::nullopt;
    if (is("FORMAT=32-bit_rle_rgbe\n")) break;
    if (!next()) return std::nullopt;
  }
  if (!next() || !is("\n")) return std::nullopt;
  if (!next()) return std::nullopt;
  // sscanf(buf, "-Y %d +X %d"): literals, whitespace runs, signed numbers.
  size_t p = start;
  const size_t end = start + length;
  const auto space = [&] {
    while (p < end && (r.at(p) == ' ' || r.at(p) == '\t' || r.at(p) == '\n' ||
                       r.at(p) == '\r' || r.at(p) == '\v' || r.at(p) == '\f')) {
      ++p;
    }
  };
  const auto literal = [&](char c) { return p < end && r.at(p++) == c; };
  const auto number = [&]() -> std::optional<uint64_t> {
    space();
    bool negative = false;
    if (p < end && (r.at(p) == '+' || r.at(p) == '-')) {
      negative = r.at(p++) == '-';
    }
    uint64_t v = 0;
    int digits = 0;
    while (p < end && r.at(p) >= '0' && r.at(p) <= '9') {
      if (++digits > 12) return std::nullopt;
      v = v * 10 + (r.at(p++) - '0');
    }
    if (digits == 0) return std::nullopt;
    return negative ? 0 : v;  // a negative size is refused as 0
  };
  if (!literal('-') || !literal('Y')) return std::nullopt;
  const std::optional<uint64_t> height = number();
  if (!height) return std::nullopt;
  space();
  if (!literal('+') || !literal('X')) return std::nullopt;
  const std::optional<uint64_t> width = number();
  if (!width) return std::nullopt;
  return HeaderInfo{"hdr", *width, *height};
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

// JPEG 2000 file: boxes. The image header box (ihdr, in jp2h) gives a
// size and the codestream box (jp2c) another in its SIZ marker, which is
// the one the decoder uses; a file may make them disagree, so the larger
// of each counts, and a file without both is not probed.
std::optional<HeaderInfo> Jp2(const Reader& r) {
  std::optional<HeaderInfo> ihdr;
  std::optional<HeaderInfo> siz;
  size_t o = 0;
  for (int boxes = 0; boxes < 64 && r.Has(o, 8); ++boxes) {
    uint64_t len = r.Be32(o);
    size_t header = 8;
    if (len == 1) {
      if (!r.Has(o, 16)) return std::nullopt;
      len = (uint64_t{r.Be32(o + 8)} << 32) | r.Be32(o + 12);
      header = 16;
    } else if (len == 0) {
      len = r.size() - o;  // the last box runs to the end of the file
    }
    if (len < header || len > r.size() - o) return std::nullopt;
    if (r.Starts("jp2h", o + 4)) {
      const size_t inner = o + header;
      if (!r.Has(inner, 16) || !r.Starts("ihdr", inner + 4)) {
        return std::nullopt;
      }
      ihdr = HeaderInfo{"jp2", r.Be32(inner + 12), r.Be32(inner + 8)};
    } else if (r.Starts("jp2c", o + 4)) {
      siz = J2kCodestream(r, o + header);
      if (!siz) return std::nullopt;
    }
    if (ihdr && siz) {
      return HeaderInfo{"jp2", std::max(ihdr->width, siz->width),
                        std::max(ihdr->height, siz->height)};
    }
    o += static_cast<size_t>(len);
  }
  return std::nullopt;
}

// PAM (P7) as OpenCV reads it: lines ended by '\n' or '\r', each an
// identifier after optional whitespace, then its value; WIDTH and HEIGHT
// may not repeat; the header ends at ENDHDR. What does not parse is not
// probed.
std::optional<HeaderInfo> Pam(const Reader& r) {
  const auto space = [&](size_t i) {
    const uint8_t c = r.at(i);
    return c == ' ' || c == '\t' || c == '\v' || c == '\f';
  };
  std::optional<uint64_t> width;
  std::optional<uint64_t> height;
  size_t o = 3;
  for (int lines = 0; lines < 1024; ++lines) {
    size_t end = o;
    while (r.Has(end, 1) && r.at(end) != '\n' && r.at(end) != '\r') ++end;
    if (!r.Has(end, 1)) return std::nullopt;  // no line end: no ENDHDR
    size_t i = o;
    while (i < end && space(i)) ++i;
    size_t word_end = i;
    while (word_end < end && !space(word_end)) ++word_end;
    const std::string_view word = r.Text(i, word_end - i);
    if (word == "ENDHDR") {
      if (!width || !height) return std::nullopt;
      return HeaderInfo{"pam", *width, *height};
    }
    if (word == "WIDTH" || word == "HEIGHT") {
      std::optional<uint64_t>& field = word == "WIDTH" ? width : height;
      if (field) return std::nullopt;  // repeated: OpenCV refuses it
      size_t v = word_end;
      while (v < end && space(v)) ++v;
      field = Decimal(r, v);
      while (v < end && space(v)) ++v;
      if (!field || v != end) return std::nullopt;
    }
    o = end + 1;
  }
  return std::nullopt;
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
  if (r.Starts("P7") && r.Has(2, 1) && (r.at(2) == '\n' || r.at(2) == '\r')) {
    return Pam(r);
  }
  if (r.Starts("RIFF") && r.Starts("WEBP", 8)) return Webp(r);
  return std::nullopt;
}

}  // namespace convcorr::io
