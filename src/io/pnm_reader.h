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
//
// One file per part: pnm_reader.h (this header: what the readers share),
// pnm_reader.cc (PNM and PAM, and OpenPnm), pfm_reader.cc, pnm_writer.cc.
#pragma once

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

namespace convcorr::io::pnm {

inline constexpr uint64_t kMaxSide = std::numeric_limits<int>::max();
// What a number too long for 64 bits reads as (always over kMaxSide).
inline constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();

// C's isspace in the "C" locale, as OpenCV tests header bytes.
inline bool IsSpace(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
         c == '\r';
}
inline bool IsDigit(int c) { return c >= '0' && c <= '9'; }

// Appends a decimal digit to `v`, saturating instead of overflowing.
inline uint64_t AddDigit(uint64_t v, int digit) {
  if (v > (kSaturated - 9) / 10) return kSaturated;
  return v * 10 + static_cast<uint64_t>(digit);
}

// A byte as a message may show it: printable ones quoted, others in hex,
// so hostile bytes never break the one-line message.
inline std::string ByteText(int c) {
  if (c > 0x20 && c < 0x7f)
    return std::string("'") + static_cast<char>(c) + "'";
  static const char kHex[] = "0123456789abcdef";
  return std::string("byte 0x") + kHex[(c >> 4) & 15] + kHex[c & 15];
}

// Header text as a message may quote it: at most 24 characters, anything
// unprintable as '?'.
inline std::string Printable(std::string_view s) {
  std::string out;
  for (char ch : s.substr(0, 24)) {
    const auto c = static_cast<unsigned char>(ch);
    out += c >= 0x20 && c < 0x7f ? ch : '?';
  }
  if (s.size() > 24) out += "...";
  return out;
}

// a * b, or nullopt if it does not fit in 64 bits.
inline std::optional<uint64_t> Mul(uint64_t a, uint64_t b) {
  uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// The checks every form makes on its size before anything is allocated.
inline void CheckSize(std::string_view name, uint64_t width, uint64_t height) {
  if (width == 0 || height == 0)
    ThrowInput(name, "image header says the size is 0");
  if (width > kMaxSide || height > kMaxSide) {
    ThrowInput(name, "image header says the size is " + std::to_string(width) +
                         "x" + std::to_string(height) +
                         ", over 2147483647 pixels a side");
  }
}

inline uint16_t LoadBe16(const std::byte* p) {
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
    ThrowInput(name_,
               std::string("corrupt ") + form_ + " header (" + what + ")");
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

// The PFM decoder for `magic` 'F' or 'f' (pfm_reader.cc).
std::unique_ptr<Decoder> OpenPfm(Source& source, std::string_view name,
                                 int magic);

}  // namespace convcorr::io::pnm
