// The Radiance HDR (RGBE) reader (io/legacy_codecs.h).
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

std::unique_ptr<Decoder> OpenHdr(Source& source, std::string_view name) {
  return std::make_unique<HdrDecoder>(source, name);
}

}  // namespace convcorr::io
