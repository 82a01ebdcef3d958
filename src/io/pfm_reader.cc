// The PFM reader (design: io/pnm_reader.h).
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
#include "io/pnm_reader.h"

namespace convcorr::io {
namespace {

using namespace pnm;  // NOLINT: the shared reader parts

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
      CorruptHeader(std::string("no line break after P") +
                    static_cast<char>(magic));
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
      CorruptHeader("scale '" + Printable(scale_text) +
                    "' is not a finite number");
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
    if (!total ||
        *total > std::numeric_limits<uint64_t>::max() - data_offset_ ||
        *total > std::numeric_limits<size_t>::max()) {
      ThrowInput(name_, "image is too large to address (" +
                            std::to_string(width) + "x" +
                            std::to_string(height) + ")");
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
        const uint64_t at =
            data_offset_ + file_row(first + rows - 1) * row_bytes;
        if (source_.ReadAt(at, dst, n) != n) Truncated("pixel data");
        for (int a = 0, b = rows - 1; a < b; ++a, --b) {
          std::swap_ranges(dst + a * stride, dst + a * stride + row_bytes,
                           dst + b * stride);
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
        std::memcpy(dst + r * stride,
                    whole_.data() + file_row(first + r) * row_bytes, row_bytes);
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
      CorruptHeader(std::string(what) + " '" + Printable(field) +
                    "' is not a number");
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

}  // namespace

namespace pnm {

std::unique_ptr<Decoder> OpenPfm(Source& source, std::string_view name,
                                 int magic) {
  return std::make_unique<PfmDecoder>(source, name, magic);
}

}  // namespace pnm

}  // namespace convcorr::io
