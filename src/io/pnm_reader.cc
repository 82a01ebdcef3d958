// The PNM (P1-P6) and PAM (P7) reader (design: io/pnm_reader.h).
#include "io/pnm_reader.h"

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

namespace convcorr::io {
namespace {

using namespace pnm;  // NOLINT: the shared reader parts

// ---- PNM (P1-P6) and PAM (P7) ----
//
// As OpenCV 4.6 reads them: header numbers are decimal, after whitespace
// and '#' comments (which run to the end of the line); the character after
// a number is consumed whatever it is, so "2#12" is 2 then 12, and binary
// samples start right after the one character that ends the maxval.
// P1/P4 bits are 1 = black: 0 and 255. ASCII samples over the maxval are
// clamped; ASCII 8-bit samples are scaled to 0..255 (v * 255 / maxval)
// while binary ones are delivered as stored, as OpenCV does. A maxval over
// 255 gives 16-bit samples (big-endian in the file). Colour is R,G,B in
// the file and B,G,R delivered.
//
// Unlike OpenCV: an ASCII sample may end at the end of the file (OpenCV
// wants one more byte); PAM's RGB and RGB_ALPHA are delivered as B,G,R(,A)
// like P3/P6 (OpenCV 4.6 hands PAM samples over unswapped, so red and blue
// trade places); PAM with MAXVAL 1 delivers 0 and 255 (OpenCV unpacks the
// bytes as if they were bits); a PAM without TUPLTYPE is read at every
// DEPTH and MAXVAL (OpenCV refuses 16-bit and 2- or 4-channel ones), but a
// TUPLTYPE must agree with DEPTH.
class PnmDecoder : public DecoderBase {
 public:
  PnmDecoder(Source& source, std::string_view name, int magic)
      : DecoderBase(source, name, magic == '7' ? "PAM" : "PNM"), magic_(magic) {
    if (magic_ == '7') {
      ReadPamHeader();
    } else {
      ReadPnmHeader();
    }
    format_.depth = maxval_ > 255 ? core::Depth::kU16 : core::Depth::kU8;
  }

  void ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) override {
    TakeRows(rows);
    if (magic_ >= '4') {
      ReadBinary(dst, stride, rows);
      return;
    }
    for (int r = 0; r < rows; ++r) ReadAsciiRow(dst + r * stride);
  }

 private:
  // OpenCV's ReadNumber: skips whitespace and comments, then reads digits
  // (only one if `one_digit`) and the character after them. Saturates
  // instead of overflowing. In the header, the end of the data anywhere is
  // an error; in the samples, it may end the last number.
  uint64_t ReadNumber(bool header, bool one_digit = false) {
    const auto ends_early = [&] {
      Truncated(header ? "header" : "pixel data");
    };
    int c = reader_.Get();
    while (!IsDigit(c)) {
      if (c == '#') {
        do {
          c = reader_.Get();
          if (c < 0) ends_early();
        } while (c != '\n' && c != '\r');
        c = reader_.Get();
      } else if (IsSpace(c)) {
        c = reader_.Get();
      } else if (c < 0) {
        ends_early();
      } else if (header) {
        CorruptHeader("unexpected " + ByteText(c));
      } else {
        ThrowInput(name_, "corrupt PNM data (unexpected " + ByteText(c) + ")");
      }
    }
    uint64_t value = 0;
    for (;;) {
      value = AddDigit(value, c - '0');
      if (one_digit) return value;
      c = reader_.Get();
      if (!IsDigit(c)) break;
    }
    if (c < 0 && header) ends_early();
    return value;
  }

  void ReadPnmHeader() {
    const uint64_t width = ReadNumber(true);
    const uint64_t height = ReadNumber(true);
    CheckSize(name_, width, height);
    format_.width = static_cast<int>(width);
    format_.height = static_cast<int>(height);
    format_.channels = magic_ == '3' || magic_ == '6' ? 3 : 1;
    swap_rb_ = format_.channels == 3;
    if (magic_ == '1' || magic_ == '4') {
      maxval_ = 1;
      return;
    }
    const uint64_t maxval = ReadNumber(true);
    if (maxval == 0) CorruptHeader("maxval 0");
    if (maxval > 65535) {
      CorruptHeader("maxval " +
                    (maxval == kSaturated ? std::string("too large")
                                          : std::to_string(maxval)) +
                    " is over 65535");
    }
    maxval_ = static_cast<int>(maxval);
  }

  // One header line: a field name and its value (both trimmed), or an
  // empty name for a blank or comment line.
  std::pair<std::string, std::string> ReadPamLine() {
    int c = reader_.Get();
    while (c == ' ' || c == '\t' || c == '\v' || c == '\f') c = reader_.Get();
    if (c < 0) Truncated("header");
    if (c == '\n' || c == '\r') return {};
    if (c == '#') {
      while (c != '\n' && c != '\r') {
        c = reader_.Get();
        if (c < 0) Truncated("header");
      }
      return {};
    }
    std::string field;
    while (!IsSpace(c)) {
      if (c < 0) Truncated("header");
      // OpenCV's fields are at most 8 characters.
      if (field.size() == 8)
        CorruptHeader("unknown field '" + Printable(field) + "...'");
      field += static_cast<char>(c);
      c = reader_.Get();
    }
    std::string value;
    while (c != '\n' && c != '\r') {
      if (c < 0) Truncated("header");
      // OpenCV keeps at most 255 characters of a value.
      if (value.size() == 256) CorruptHeader(field + " line too long");
      value += static_cast<char>(c);
      c = reader_.Get();
    }
    const size_t b = value.find_first_not_of(" \t\v\f");
    const size_t e = value.find_last_not_of(" \t\v\f");
    value = b == std::string::npos ? "" : value.substr(b, e - b + 1);
    return {std::move(field), std::move(value)};
  }

  void ReadPamHeader() {
    if (const int c = reader_.Get(); c != '\n' && c != '\r') {
      CorruptHeader("no line break after P7");
    }
    std::optional<uint64_t> width, height, depth, maxval;
    std::string tupltype;
    for (;;) {
      auto [field, value] = ReadPamLine();
      if (field.empty()) continue;
      if (field == "ENDHDR") {
        if (!value.empty()) CorruptHeader("text after ENDHDR");
        break;
      }
      if (field == "TUPLTYPE") {  // the last one counts, as in OpenCV
        tupltype = value;
        continue;
      }
      std::optional<uint64_t>* slot = field == "WIDTH"    ? &width
                                      : field == "HEIGHT" ? &height
                                      : field == "DEPTH"  ? &depth
                                      : field == "MAXVAL" ? &maxval
                                                          : nullptr;
      if (slot == nullptr)
        CorruptHeader("unknown field '" + Printable(field) + "'");
      if (slot->has_value()) CorruptHeader("repeated " + field);
      if (value.empty() || !std::all_of(value.begin(), value.end(), IsDigit)) {
        CorruptHeader(field + " '" + Printable(value) + "' is not a number");
      }
      uint64_t v = 0;
      for (char ch : value) v = AddDigit(v, ch - '0');
      *slot = v;
    }
    if (!width) CorruptHeader("no WIDTH");
    if (!height) CorruptHeader("no HEIGHT");
    if (!depth) CorruptHeader("no DEPTH");
    if (!maxval) CorruptHeader("no MAXVAL");
    CheckSize(name_, *width, *height);
    if (*depth == 0) CorruptHeader("DEPTH 0");
    if (*depth > 4) {
      ThrowInput(name_, "PAM with DEPTH " +
                            (*depth == kSaturated ? std::string("too large")
                                                  : std::to_string(*depth)) +
                            " is not supported (1 to 4 channels are read)");
    }
    if (*maxval == 0) CorruptHeader("MAXVAL 0");
    if (*maxval > 65535) {
      CorruptHeader("MAXVAL " +
                    (*maxval == kSaturated ? std::string("too large")
                                           : std::to_string(*maxval)) +
                    " is over 65535");
    }
    if (!tupltype.empty()) {
      static constexpr std::pair<std::string_view, uint64_t> kTypes[] = {
          {"BLACKANDWHITE", 1},
          {"GRAYSCALE", 1},
          {"RGB", 3},
          {"RGB_ALPHA", 4},
          {"GRAYSCALE_ALPHA", 2},
          {"BLACKANDWHITE_ALPHA", 2}};
      const auto* t =
          std::find_if(std::begin(kTypes), std::end(kTypes),
                       [&](const auto& k) { return k.first == tupltype; });
      if (t == std::end(kTypes)) {
        CorruptHeader("unknown TUPLTYPE '" + Printable(tupltype) + "'");
      }
      if (t->second != *depth) {
        CorruptHeader("TUPLTYPE " + tupltype + " with DEPTH " +
                      std::to_string(*depth));
      }
    }
    format_.width = static_cast<int>(*width);
    format_.height = static_cast<int>(*height);
    format_.channels = static_cast<int>(*depth);
    maxval_ = static_cast<int>(*maxval);
    swap_rb_ = format_.channels >= 3;
  }

  // P4, P5, P6, P7: each file row is read into the caller's row (it is
  // never longer) and widened there.
  void ReadBinary(std::byte* dst, std::ptrdiff_t stride, int rows) {
    const size_t out_bytes = format_.RowBytes();
    const size_t in_bytes = magic_ == '4'
                                ? (static_cast<size_t>(format_.width) + 7) / 8
                                : out_bytes;
    if (in_bytes == out_bytes &&
        stride == static_cast<std::ptrdiff_t>(out_bytes)) {
      // Contiguous rows of the file's own size: one read for the band.
      const size_t n = out_bytes * static_cast<size_t>(rows);
      if (reader_.Read(dst, n) != n) Truncated("pixel data");
    } else {
      for (int r = 0; r < rows; ++r) {
        if (reader_.Read(dst + r * stride, in_bytes) != in_bytes) {
          Truncated("pixel data");
        }
      }
    }
    for (int r = 0; r < rows; ++r) WidenRow(dst + r * stride);
  }

  void WidenRow(std::byte* row) const {
    const size_t w = static_cast<size_t>(format_.width);
    const size_t samples = w * static_cast<size_t>(format_.channels);
    if (magic_ == '4') {
      // Back to front, so no bit is overwritten before it is read.
      for (size_t x = w; x-- > 0;) {
        const unsigned bits = std::to_integer<unsigned>(row[x >> 3]);
        row[x] = std::byte{((bits >> (7 - (x & 7))) & 1) != 0 ? uint8_t{0}
                                                              : uint8_t{255}};
      }
      return;
    }
    if (format_.depth == core::Depth::kU16) {
      for (size_t i = 0; i < samples; ++i) {
        const uint16_t v = LoadBe16(row + 2 * i);
        std::memcpy(row + 2 * i, &v, 2);
      }
    } else if (magic_ == '7' && maxval_ == 1) {
      for (size_t i = 0; i < samples; ++i) {
        row[i] = row[i] != std::byte{0} ? std::byte{255} : std::byte{0};
      }
    }
    if (swap_rb_) SwapRedBlue(row);
  }

  void SwapRedBlue(std::byte* row) const {
    const size_t s = format_.SampleBytes();
    const size_t pixel = s * static_cast<size_t>(format_.channels);
    const size_t w = static_cast<size_t>(format_.width);
    for (size_t x = 0; x < w; ++x) {
      std::swap_ranges(row + x * pixel, row + x * pixel + s,
                       row + x * pixel + 2 * s);
    }
  }

  // P1, P2, P3.
  void ReadAsciiRow(std::byte* row) {
    const size_t samples = static_cast<size_t>(format_.width) *
                           static_cast<size_t>(format_.channels);
    const bool wide = format_.depth == core::Depth::kU16;
    for (size_t i = 0; i < samples; ++i) {
      if (magic_ == '1') {
        row[i] = ReadNumber(false, true) != 0 ? std::byte{0} : std::byte{255};
        continue;
      }
      const uint64_t v = ReadNumber(false);
      if (v > kMaxSide) {
        ThrowInput(name_, "corrupt PNM data (a sample is over 2147483647)");
      }
      const auto code = static_cast<uint32_t>(std::min<uint64_t>(v, maxval_));
      if (wide) {
        const auto s = static_cast<uint16_t>(code);
        std::memcpy(row + 2 * i, &s, 2);
      } else {
        row[i] =
            static_cast<std::byte>(code * 255 / static_cast<uint32_t>(maxval_));
      }
    }
    if (swap_rb_) SwapRedBlue(row);
  }

  int magic_;
  int maxval_ = 0;
  bool swap_rb_ = false;
};

}  // namespace

std::unique_ptr<Decoder> OpenPnm(Source& source, std::string_view name) {
  const std::span<const uint8_t> head = source.Peek(3);
  const int magic = head.size() >= 2 && head[0] == 'P' ? head[1] : 0;
  const bool pnm = magic >= '1' && magic <= '6';
  if (!pnm && magic != '7' && magic != 'F' && magic != 'f') {
    ThrowInput(name, "not a PNM, PAM or PFM file");
  }
  if (pnm && (head.size() < 3 || !IsSpace(head[2]))) {
    ThrowInput(name, "corrupt PNM header (no whitespace after P" +
                         std::string(1, static_cast<char>(magic)) + ")");
  }
  if (magic == 'F' || magic == 'f') return OpenPfm(source, name, magic);
  return std::make_unique<PnmDecoder>(source, name, magic);
}

}  // namespace convcorr::io
