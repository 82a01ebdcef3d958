// PNM (P1-P6), PAM (P7) and PFM (PF, Pf): a reader and writers of
// convcorr's own, so bytes from anywhere meet no library code.
//
// The reader reads what OpenCV 4.6 reads (IMREAD_UNCHANGED) and delivers
// the same samples, with the exceptions listed at each form below. Every
// number is parsed with a saturating, overflow-free loop; every size is
// computed in 64 bits and checked; nothing larger than a 64 KiB read
// buffer is allocated before the first ReadRows, when the caller has
// checked the size. The header is read through that buffer (ByteReader);
// the binary forms then read each band of rows straight into the caller's
// rows and convert them there (a file row is never longer than the row it
// becomes). PFM stores its rows bottom to top: a seekable source is read
// band by band at computed offsets, any other is read whole at the first
// ReadRows (the size was checked by then).
//
// The writers produce the bytes cv::imencode writes: "P5\n<w> <h>\n255\n"
// (P6 for colour, 65535 and big-endian samples for 16 bits), and for PFM
// "Pf\n<w> <h>\n-1\n" with little-endian rows bottom to top, which are
// therefore buffered until Finish.
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

constexpr uint64_t kMaxSide = std::numeric_limits<int>::max();
// What a number too long for 64 bits reads as (always over kMaxSide).
constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();

// C's isspace in the "C" locale, as OpenCV tests header bytes.
bool IsSpace(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}
bool IsDigit(int c) { return c >= '0' && c <= '9'; }

// Appends a decimal digit to `v`, saturating instead of overflowing.
uint64_t AddDigit(uint64_t v, int digit) {
  if (v > (kSaturated - 9) / 10) return kSaturated;
  return v * 10 + static_cast<uint64_t>(digit);
}

// A byte as a message may show it: printable ones quoted, others in hex,
// so hostile bytes never break the one-line message.
std::string ByteText(int c) {
  if (c > 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
  static const char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[(c >> 4) & 15] + kHex[c & 15];
}

// Header text as a message may quote it: at most 24 characters, anything
// unprintable as '?'.
std::string Printable(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 24)) {
    const auto c = static_cast<unsigned char>(ch);
    out += c >= 0x20 && c < 0x7f ? ch : '?';
  }
  if (s.size() > 24) out += "...";
  return out;
}

// a * b, or nullopt if it does not fit in 64 bits.
std::optional<uint64_t> Mul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// The checks every form makes on its size before anything is allocated.
void CheckSize(std::string_view name, uint64_t width, uint64_t height) {
  if (width == 0 || height == 0) ThrowInput(name, "image header says the size is 0");
  if (width > kMaxSide || height > kMaxSide) {
    ThrowInput(name, "image header says the size is " + std::to_string(width) +
                         "x" + std::to_string(height) +
                         ", over 2147483647 pixels a side");
  }
}

uint16_t LoadBe16(const std::byte* p) {
  return static_cast<uint16_t>((std::to_integer<unsigned>(p[0]) << 8) |
                               std::to_integer<unsigned>(p[1]));
}

// The source read through a buffer of its own: headers and ASCII samples
// are read a byte at a time, binary rows in bulk (what the buffer does not
// hold comes straight from the source).
class ByteReader {
 public:
  explicit ByteReader(Source& source) : source_(source), buf_(1 << 16) {}

  // The next byte, or -1 at the end of the data.
  int Get() {
    if (pos_ == end_) {
      if (eof_) return -1;
      pos_ = 0;
      end_ = source_.Read(buf_.data(), buf_.size());
      if (end_ == 0) {
        eof_ = true;
        return -1;
      }
    }
    ++consumed_;
    return buf_[pos_++];
  }

  // Reads `n` bytes; fewer only at the end of the data.
  size_t Read(void* dst, size_t n) {
    auto* out = static_cast<uint8_t*>(dst);
    size_t k = std::min(n, end_ - pos_);
    if (k > 0) std::memcpy(out, buf_.data() + pos_, k);
    pos_ += k;
    if (k < n && !eof_) {
      const size_t more = source_.Read(out + k, n - k);
      if (more < n - k) eof_ = true;
      k += more;
    }
    consumed_ += k;
    return k;
  }

  // Bytes handed out so far: where the pixel data starts, after a header.
  uint64_t consumed() const { return consumed_; }

 private:
  Source& source_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  size_t end_ = 0;
  bool eof_ = false;
  uint64_t consumed_ = 0;
};

// Bookkeeping every decoder here shares: the name errors quote and the
// rows handed out so far.
class DecoderBase : public Decoder {
 protected:
  DecoderBase(Source& source, std::string_view name, const char* form)
      : source_(source), reader_(source), name_(name), form_(form) {
    // The magic number, which OpenPnm has checked.
    reader_.Get();
    reader_.Get();
  }

  [[noreturn]] void Truncated(const char* where) const {
    ThrowInput(name_, std::string("truncated ") + form_ + " (the " + where +
                          " ends early)");
  }
  [[noreturn]] void CorruptHeader(const std::string& what) const {
    ThrowInput(name_, std::string("corrupt ") + form_ + " header (" + what + ")");
  }
  // Checks a ReadRows call against the rows left; returns the first row.
  int TakeRows(int rows) {
    if (rows < 0 || rows > format_.height - next_row_) {
      throw Error(ErrorKind::kInternal,
                  "input '" + name_ + "': rows read past the end of the image");
    }
    const int first = next_row_;
    next_row_ += rows;
    return first;
  }

  Source& source_;
  ByteReader reader_;
  std::string name_;
  const char* form_;
  int next_row_ = 0;
};

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
    const auto ends_early = [&] { Truncated(header ? "header" : "pixel data"); };
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
      if (field.size() == 8) CorruptHeader("unknown field '" + Printable(field) + "...'");
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
      if (slot == nullptr) CorruptHeader("unknown field '" + Printable(field) + "'");
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
          {"BLACKANDWHITE", 1}, {"GRAYSCALE", 1},       {"RGB", 3},
          {"RGB_ALPHA", 4},     {"GRAYSCALE_ALPHA", 2}, {"BLACKANDWHITE_ALPHA", 2}};
      const auto* t = std::find_if(std::begin(kTypes), std::end(kTypes),
                                   [&](const auto& k) { return k.first == tupltype; });
      if (t == std::end(kTypes)) {
        CorruptHeader("unknown TUPLTYPE '" + Printable(tupltype) + "'");
      }
      if (t->second != *depth) {
        CorruptHeader("TUPLTYPE " + tupltype + " with DEPTH " + std::to_string(*depth));
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
    const size_t in_bytes =
        magic_ == '4' ? (static_cast<size_t>(format_.width) + 7) / 8 : out_bytes;
    if (in_bytes == out_bytes && stride == static_cast<std::ptrdiff_t>(out_bytes)) {
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
        row[x] = std::byte{((bits >> (7 - (x & 7))) & 1) != 0 ? uint8_t{0} : uint8_t{255}};
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
      std::swap_ranges(row + x * pixel, row + x * pixel + s, row + x * pixel + 2 * s);
    }
  }

  // P1, P2, P3.
  void ReadAsciiRow(std::byte* row) {
    const size_t samples =
        static_cast<size_t>(format_.width) * static_cast<size_t>(format_.channels);
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
        row[i] = static_cast<std::byte>(code * 255 / static_cast<uint32_t>(maxval_));
      }
    }
    if (swap_rb_) SwapRedBlue(row);
  }

  int magic_;
  int maxval_ = 0;
  bool swap_rb_ = false;
};

// ---- PFM ----
//
// As OpenCV 4.6 reads it: "PF" (R,G,B, delivered B,G,R) or "Pf" (gray),
// a line break, then width, height and scale, each ended by one
// whitespace character; a negative scale means little-endian floats, any
// other big-endian; rows bottom to top; samples divided by |scale| (in
// float, as OpenCV multiplies by 1/|scale|; untouched when that is 1).
// Stricter than OpenCV, which reads each field with atoi/atof: a field
// must be a whole number (the scale a whole finite, nonzero float).
class PfmDecoder : public DecoderBase {
 public:
  PfmDecoder(Source& source, std::string_view name, int magic)
      : DecoderBase(source, name, "PFM") {
    if (reader_.Get() != '\n') {
      CorruptHeader(std::string("no line break after P") + static_cast<char>(magic));
    }
    const uint64_t width = ReadSize("width");
    const uint64_t height = ReadSize("height");
    const std::string scale_text = ReadField("scale");
    double scale = 0;
    // from_chars takes no '+', which atof (OpenCV) does.
    const bool plus = scale_text[0] == '+';
    const char* first = scale_text.data() + (plus ? 1 : 0);
    const char* last = scale_text.data() + scale_text.size();
    const auto [end, ec] = std::from_chars(first, last, scale);
    // OpenCV keeps the scale as a float (atof, then a float variable).
    const auto scale_f = static_cast<float>(scale);
    if (ec != std::errc() || end != last || (plus && *first == '-') ||
        !std::isfinite(scale_f)) {
      CorruptHeader("scale '" + Printable(scale_text) + "' is not a finite number");
    }
    if (scale_f == 0) CorruptHeader("scale 0");
    CheckSize(name_, width, height);
    format_.width = static_cast<int>(width);
    format_.height = static_cast<int>(height);
    format_.channels = magic == 'F' ? 3 : 1;
    format_.depth = core::Depth::kF32;
    data_offset_ = reader_.consumed();
    const bool little = scale_f < 0;
    swap_bytes_ = little != (std::endian::native == std::endian::little);
    inverse_scale_ = 1.f / std::fabs(scale_f);
    // The offsets of every row must be computable: the data's size in 64
    // bits (width * channels * 4 fits: width < 2^31).
    const std::optional<uint64_t> total = Mul(format_.RowBytes(), height);
    if (!total || *total > std::numeric_limits<uint64_t>::max() - data_offset_ ||
        *total > std::numeric_limits<size_t>::max()) {
      ThrowInput(name_, "image is too large to address (" + std::to_string(width) +
                            "x" + std::to_string(height) + ")");
    }
  }

  void ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) override {
    const int first = TakeRows(rows);
    const size_t row_bytes = format_.RowBytes();
    const auto file_row = [&](int y) {  // file rows run bottom to top
      return static_cast<uint64_t>(format_.height - 1 - y);
    };
    if (source_.Seekable()) {
      if (stride == static_cast<std::ptrdiff_t>(row_bytes) && rows > 0) {
        // The band is contiguous in the file, upside down: one read, then
        // the rows swapped end for end.
        const size_t n = row_bytes * static_cast<size_t>(rows);
        const uint64_t at = data_offset_ + file_row(first + rows - 1) * row_bytes;
        if (source_.ReadAt(at, dst, n) != n) Truncated("pixel data");
        for (int a = 0, b = rows - 1; a < b; ++a, --b) {
          std::swap_ranges(dst + a * stride, dst + a * stride + row_bytes, dst + b * stride);
        }
      } else {
        for (int r = 0; r < rows; ++r) {
          const uint64_t at = data_offset_ + file_row(first + r) * row_bytes;
          if (source_.ReadAt(at, dst + r * stride, row_bytes) != row_bytes) {
            Truncated("pixel data");
          }
        }
      }
    } else {
      if (whole_.empty()) {
        const size_t n = row_bytes * static_cast<size_t>(format_.height);
        whole_.resize(n);
        if (reader_.Read(whole_.data(), n) != n) Truncated("pixel data");
      }
      for (int r = 0; r < rows; ++r) {
        std::memcpy(dst + r * stride, whole_.data() + file_row(first + r) * row_bytes,
                    row_bytes);
      }
    }
    for (int r = 0; r < rows; ++r) ConvertRow(dst + r * stride);
  }

 private:
  // A header field: the bytes up to the next whitespace character, which
  // is consumed. Longer than any number needs: corrupt.
  std::string ReadField(const char* what) {
    std::string field;
    for (;;) {
      const int c = reader_.Get();
      if (c < 0) Truncated("header");
      if (IsSpace(c)) break;
      if (field.size() == 64) CorruptHeader(std::string(what) + " too long");
      field += static_cast<char>(c);
    }
    if (field.empty()) CorruptHeader(std::string("no ") + what);
    return field;
  }

  uint64_t ReadSize(const char* what) {
    const std::string field = ReadField(what);
    if (!std::all_of(field.begin(), field.end(), IsDigit)) {
      CorruptHeader(std::string(what) + " '" + Printable(field) + "' is not a number");
    }
    uint64_t v = 0;
    for (char ch : field) v = AddDigit(v, ch - '0');
    return v;
  }

  void ConvertRow(std::byte* row) const {
    const size_t w = static_cast<size_t>(format_.width);
    const size_t n = w * static_cast<size_t>(format_.channels);
    for (size_t i = 0; i < n; ++i) {
      uint32_t bits = 0;
      std::memcpy(&bits, row + 4 * i, 4);
      if (swap_bytes_) bits = __builtin_bswap32(bits);
      float v = std::bit_cast<float>(bits);
      // "+ 0.f" as OpenCV's convertTo computes v * alpha + beta: -0 turns
      // to +0 when it scales.
      if (inverse_scale_ != 1.f) v = v * inverse_scale_ + 0.f;
      std::memcpy(row + 4 * i, &v, 4);
    }
    if (format_.channels == 3) {
      for (size_t x = 0; x < w; ++x) {
        std::swap_ranges(row + 12 * x, row + 12 * x + 4, row + 12 * x + 8);
      }
    }
  }

  uint64_t data_offset_ = 0;
  bool swap_bytes_ = false;
  float inverse_scale_ = 1.f;
  std::vector<uint8_t> whole_;  // the pixel data of an unseekable source
};

// ---- Writers ----

// Takes rows, checks their count, and hands each to `Row`.
class RowCounter {
 public:
  RowCounter(int height, std::string_view name) : height_(height), name_(name) {}
  void Take(int rows) {
    if (rows < 0 || rows > height_ - done_) {
      throw Error(ErrorKind::kInternal,
                  "output '" + name_ + "': rows written past the end of the image");
    }
    done_ += rows;
  }
  void CheckDone() const {
    if (done_ != height_) {
      throw Error(ErrorKind::kInternal, "output '" + name_ + "': finished after " +
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
  PnmEncoder(const PixelFormat& format, bool color, Sink& sink, std::string_view name)
      : format_(format), color_(color), sink_(sink), counter_(format.height, name) {
    const bool wide = format.depth == core::Depth::kU16;
    const std::string header = std::string(color ? "P6\n" : "P5\n") +
                               std::to_string(format.width) + " " +
                               std::to_string(format.height) + "\n" +
                               (wide ? "65535" : "255") + "\n";
    sink_.Write(header.data(), header.size());
    row_.resize(static_cast<size_t>(format.width) * (color ? 3 : 1) *
                format.SampleBytes());
  }

  void WriteRows(const std::byte* src, std::ptrdiff_t stride, int rows) override {
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

  void WriteRows(const std::byte* src, std::ptrdiff_t stride, int rows) override {
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
    const std::string header = std::string(format_.channels == 3 ? "PF\n" : "Pf\n") +
                               std::to_string(format_.width) + " " +
                               std::to_string(format_.height) + "\n" +
                               (little ? "-1\n" : "1\n");
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
  if (magic == 'F' || magic == 'f') return std::make_unique<PfmDecoder>(source, name, magic);
  return std::make_unique<PnmDecoder>(source, name, magic);
}

std::unique_ptr<Encoder> NewPnmEncoder(std::string_view kind, const PixelFormat& format,
                                       Sink& sink, std::string_view name) {
  const std::string k(kind);
  if (k != "pgm" && k != "ppm" && k != "pnm" && k != "pfm") {
    ThrowOutput(name, "cannot encode as " + Printable(k));
  }
  if (format.width <= 0 || format.height <= 0) ThrowOutput(name, "the image is empty");
  if (k == "pgm" && format.channels != 1) {
    ThrowOutput(name, "pgm stores one channel; use ppm or png, or --gray");
  }
  if (format.channels == 2 || format.channels == 4) {
    ThrowOutput(name, k + " cannot store an alpha channel; use png or tif, or --gray");
  }
  if (format.channels != 1 && format.channels != 3) {
    ThrowOutput(name, k + " cannot store " + std::to_string(format.channels) + " channels");
  }
  if (k == "pfm") {
    if (format.depth != core::Depth::kF32) {
      ThrowOutput(name, "pfm stores only float samples; use png or tif, or --depth f32");
    }
    return std::make_unique<PfmEncoder>(format, sink, name);
  }
  if (format.depth == core::Depth::kF32) {
    ThrowOutput(name, k + " cannot store float samples; use tif (or pfm), or --depth u8 or u16");
  }
  return std::make_unique<PnmEncoder>(format, k == "ppm" || format.channels == 3, sink, name);
}

}  // namespace convcorr::io
