// The TIFF encoder on libtiff (design: io/tiff_handle.h).
#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/error.h"
#include "io/codec.h"
#include "io/exif.h"
#include "io/tiff_handle.h"

namespace convcorr::io {
namespace {

using namespace tiff;  // NOLINT: the shared handle parts

class TiffEncoder final : public Encoder {
 public:
  TiffEncoder(const PixelFormat& format, const Metadata& metadata, Sink& sink,
              std::string_view name);
  ~TiffEncoder() override {
    if (tif_ != nullptr) {
      st_.discard = true;
      TIFFClose(tif_);
    }
  }
  void WriteRows(const std::byte* src, std::ptrdiff_t stride,
                 int rows) override;
  void Finish() override;

 private:
  [[noreturn]] void Fail(const std::string& fallback);
  void Check(int ok, const char* what) {
    if (ok != 1) Fail(what);
  }
  void WriteExifIfd(const std::vector<ExifText>& texts, uint64_t* offset);

  PixelFormat format_;
  Sink& sink_;
  std::string name_;
  TiffState st_;
  TIFF* tif_ = nullptr;
  std::vector<uint8_t> row_;  // libtiff's predictor works in place
  uint32_t next_row_ = 0;
};

void TiffEncoder::Fail(const std::string& fallback) {
  if (st_.exception) std::rethrow_exception(st_.exception);
  ThrowOutput(name_, "cannot encode TIFF (" +
                         (st_.error.empty() ? fallback : st_.error) + ")");
}

// Writes the Exif IFD's texts as an EXIF custom directory, before the image
// directory exists: TIFFCreateDirectory then starts the image afresh, and
// the image directory points at this one (no reread of a written IFD).
void TiffEncoder::WriteExifIfd(const std::vector<ExifText>& texts,
                               uint64_t* offset) {
  Check(TIFFCreateEXIFDirectory(tif_) == 0, "cannot create the Exif IFD");
  bool any = false;
  for (const ExifText& t : texts) {
    if (t.exif_ifd && TIFFFindField(tif_, t.tag, TIFF_ASCII) != nullptr) {
      any |= TIFFSetField(tif_, t.tag, t.text.c_str()) == 1;
    }
  }
  static const char kVersion[4] = {'0', '2', '3', '1'};
  if (any) {
    Check(TIFFSetField(tif_, EXIFTAG_EXIFVERSION, kVersion),
          "cannot set ExifVersion");
    Check(TIFFWriteCustomDirectory(tif_, offset), "cannot write the Exif IFD");
  }
  // libtiff 4.5's TIFFCreateDirectory does not free the Exif IFD's values.
  TIFFFreeDirectory(tif_);
  Check(TIFFCreateDirectory(tif_) == 0, "cannot start the image IFD");
  if (!any) *offset = 0;
}

TiffEncoder::TiffEncoder(const PixelFormat& format, const Metadata& metadata,
                         Sink& sink, std::string_view name)
    : format_(format), sink_(sink), name_(name) {
  const int ch = format.channels;
  if (ch < 1 || ch > 4 || format.width <= 0 || format.height <= 0) {
    throw Error(ErrorKind::kInternal, "TIFF encoder: bad pixel format");
  }
  // Classic TIFF's offsets are 32-bit: BigTIFF beyond 2 GiB of samples
  // (LZW can grow incompressible data).
  const uint64_t raw = uint64_t{format.RowBytes()} * format.height;
  st_.Reset();
  if (sink.Seekable()) st_.sink = &sink;
  tif_ =
      OpenHandle(st_, raw > (uint64_t{1} << 31) ? "w8" : "w", kMaxSingleAlloc);
  if (tif_ == nullptr) Fail("cannot start the file");

  const std::vector<ExifText> texts = metadata.exif.empty()
                                          ? std::vector<ExifText>{}
                                          : ExifTexts(metadata.exif);
  uint64_t exif_offset = 0;
  if (std::any_of(texts.begin(), texts.end(),
                  [](const ExifText& t) { return t.exif_ifd; })) {
    WriteExifIfd(texts, &exif_offset);
  }

  const bool is_float = format.depth == core::Depth::kF32;
  const int exif_orientation = ExifOrientation(metadata.exif);
  const uint16_t orientation = static_cast<uint16_t>(
      exif_orientation >= 1 ? exif_orientation : ORIENTATION_TOPLEFT);
  const uint16_t bits = static_cast<uint16_t>(format.SampleBytes() * 8);
  const uint32_t rows_per_strip = static_cast<uint32_t>(
      std::clamp<uint64_t>(kStripBytes / format.RowBytes(), 1,
                           static_cast<uint64_t>(format.height)));
  Check(TIFFSetField(tif_, TIFFTAG_IMAGEWIDTH, uint32_t(format.width)) &&
            TIFFSetField(tif_, TIFFTAG_IMAGELENGTH, uint32_t(format.height)) &&
            TIFFSetField(tif_, TIFFTAG_BITSPERSAMPLE, bits) &&
            TIFFSetField(tif_, TIFFTAG_SAMPLESPERPIXEL, uint16_t(ch)) &&
            TIFFSetField(tif_, TIFFTAG_SAMPLEFORMAT,
                         is_float ? SAMPLEFORMAT_IEEEFP : SAMPLEFORMAT_UINT) &&
            TIFFSetField(tif_, TIFFTAG_PHOTOMETRIC,
                         ch >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK) &&
            TIFFSetField(tif_, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) &&
            // The EXIF's orientation where the pixels were kept as stored
            // (--no-auto-orient); 1 otherwise.
            TIFFSetField(tif_, TIFFTAG_ORIENTATION, orientation) &&
            TIFFSetField(tif_, TIFFTAG_COMPRESSION, COMPRESSION_LZW) &&
            // Differencing (integer or floating point) makes LZW worth
            // having on photos and stays lossless.
            TIFFSetField(
                tif_, TIFFTAG_PREDICTOR,
                is_float ? PREDICTOR_FLOATINGPOINT : PREDICTOR_HORIZONTAL) &&
            TIFFSetField(tif_, TIFFTAG_ROWSPERSTRIP, rows_per_strip),
        "cannot set the image fields");
  if (ch == 2 || ch == 4) {
    const uint16_t extra[1] = {EXTRASAMPLE_UNASSALPHA};
    Check(TIFFSetField(tif_, TIFFTAG_EXTRASAMPLES, uint16_t{1}, extra),
          "cannot set ExtraSamples");
  }
  if (!metadata.icc.empty()) {
    Check(TIFFSetField(tif_, TIFFTAG_ICCPROFILE,
                       static_cast<uint32_t>(metadata.icc.size()),
                       metadata.icc.data()),
          "cannot set the ICC profile");
  }
  if (!metadata.xmp.empty()) {
    Check(TIFFSetField(tif_, TIFFTAG_XMLPACKET,
                       static_cast<uint32_t>(metadata.xmp.size()),
                       metadata.xmp.data()),
          "cannot set the XMP packet");
  }
  const bool provenance = !metadata.provenance.empty();
  for (const ExifText& t : texts) {
    // Only TIFF's own ASCII tags: an unknown tag would need a definition.
    // The input's Software gives way to convcorr's provenance: this file
    // is convcorr's.
    if (!t.exif_ifd && TIFFFindField(tif_, t.tag, TIFF_ASCII) != nullptr &&
        !(provenance && t.tag == TIFFTAG_SOFTWARE)) {
      Check(TIFFSetField(tif_, t.tag, t.text.c_str()), "cannot set a text");
    }
  }
  if (provenance) {
    Check(TIFFSetField(tif_, TIFFTAG_SOFTWARE, metadata.provenance.c_str()),
          "cannot set Software");
  }
  if (exif_offset != 0) {
    Check(TIFFSetField(tif_, TIFFTAG_EXIFIFD, exif_offset),
          "cannot set ExifIFD");
  }
  row_.resize(format.RowBytes());
}

void TiffEncoder::WriteRows(const std::byte* src, std::ptrdiff_t stride,
                            int rows) {
  if (tif_ == nullptr || rows < 0 ||
      next_row_ + static_cast<uint64_t>(rows) >
          static_cast<uint64_t>(format_.height)) {
    throw Error(ErrorKind::kInternal, "TIFF encoder: rows past the end");
  }
  const size_t n = format_.SampleBytes();
  const size_t width = static_cast<size_t>(format_.width);
  const int ch = format_.channels;
  for (int i = 0; i < rows; ++i, ++next_row_, src += stride) {
    const auto* s = reinterpret_cast<const uint8_t*>(src);
    if (ch < 3) {
      std::memcpy(row_.data(), s, row_.size());
    } else {
      for (size_t x = 0; x < width; ++x) {  // B,G,R(,A) -> R,G,B(,A)
        const size_t p = x * ch * n;
        std::memcpy(&row_[p], s + p + 2 * n, n);
        std::memcpy(&row_[p + n], s + p + n, n);
        std::memcpy(&row_[p + 2 * n], s + p, n);
        if (ch == 4) std::memcpy(&row_[p + 3 * n], s + p + 3 * n, n);
      }
    }
    st_.Reset();
    if (TIFFWriteScanline(tif_, row_.data(), next_row_, 0) != 1) {
      Fail("cannot write row " + std::to_string(next_row_));
    }
  }
}

void TiffEncoder::Finish() {
  if (tif_ == nullptr || next_row_ != static_cast<uint32_t>(format_.height)) {
    throw Error(ErrorKind::kInternal, "TIFF encoder: finished early");
  }
  st_.Reset();
  Check(TIFFWriteDirectory(tif_), "cannot write the directory");
  TIFFClose(tif_);  // the directory is written: nothing left to fail
  tif_ = nullptr;
  if (st_.exception) std::rethrow_exception(st_.exception);
  if (st_.sink == nullptr) sink_.Write(st_.out.data(), st_.out.size());
  st_.out = {};
}

}  // namespace

std::unique_ptr<Encoder> NewTiffEncoder(const PixelFormat& format,
                                        const Metadata& metadata,
                                        const EncodeOptions& /*options*/,
                                        Sink& sink, std::string_view name) {
  return std::make_unique<TiffEncoder>(format, metadata, sink, name);
}

}  // namespace convcorr::io
