// Image dimensions from file headers, without decoding: the basis of the
// --max-pixels check. Every read is bounds-checked; unknown or short input
// gives nullopt.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

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
  bool Starts(const char* magic, size_t off = 0) const {
    const size_t n = std::strlen(magic);
    return Has(off, n) && std::memcmp(b_.data() + off, magic, n) == 0;
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

// PNM and PFM: magic, then whitespace-separated decimal fields with
// '#' comments (PFM has none, but skipping them costs nothing).
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
    int digits = 0;
    while (r.Has(o, 1) && r.at(o) >= '0' && r.at(o) <= '9') {
      if (++digits > 12) return std::nullopt;
      field = field * 10 + (r.at(o) - '0');
      ++o;
    }
    if (digits == 0) return std::nullopt;
  }
  return HeaderInfo{format, fields[0], fields[1]};
}

std::optional<HeaderInfo> Tiff(const Reader& r) {
  if (!r.Has(0, 8)) return std::nullopt;
  const bool le = r.at(0) == 'I';
  const auto u16 = [&](size_t o) { return le ? r.Le16(o) : r.Be16(o); };
  const auto u32 = [&](size_t o) { return le ? r.Le32(o) : r.Be32(o); };
  if (u16(2) != 42) return std::nullopt;  // BigTIFF (43) is not probed
  const size_t ifd = u32(4);
  if (!r.Has(ifd, 2)) return std::nullopt;
  const uint32_t count = u16(ifd);
  uint64_t width = 0;
  uint64_t height = 0;
  int samples = 1;  // the TIFF default
  for (uint32_t i = 0; i < count; ++i) {
    const size_t e = ifd + 2 + 12 * static_cast<size_t>(i);
    if (!r.Has(e, 12)) return std::nullopt;
    const uint32_t tag = u16(e);
    const uint32_t type = u16(e + 2);
    const uint64_t value = type == 3 ? u16(e + 8) : type == 4 ? u32(e + 8) : 0;
    if (tag == 256) width = value;
    if (tag == 257) height = value;
    if (tag == 277) samples = static_cast<int>(std::min<uint64_t>(value, 1 << 16));
  }
  if (width == 0 || height == 0) return std::nullopt;
  return HeaderInfo{"tiff", width, height, samples};
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
  const Reader r(bytes);
  if (r.Starts("\x89PNG\r\n\x1a\n")) return Png(r);
  if (r.Has(0, 3) && r.at(0) == 0xFF && r.at(1) == 0xD8 && r.at(2) == 0xFF) {
    return Jpeg(r);
  }
  if (r.Starts("BM")) return Bmp(r);
  if (r.Has(0, 2) && r.at(0) == 'P' && r.at(1) >= '1' && r.at(1) <= '6') {
    return Pnm(r, "pnm");
  }
  if (r.Starts("PF") || r.Starts("Pf")) return Pnm(r, "pfm");
  if (r.Starts("II*") || r.Starts("MM")) return Tiff(r);
  if (r.Starts("RIFF") && r.Starts("WEBP", 8)) return Webp(r);
  return std::nullopt;
}

}  // namespace convcorr::io
