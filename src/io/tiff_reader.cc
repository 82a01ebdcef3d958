// The TIFF decoder on libtiff (design: io/tiff_handle.h).
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
#include "io/provenance.h"
#include "io/tiff_handle.h"

namespace convcorr::io {
namespace {

using namespace tiff;  // NOLINT: the shared handle parts

// Sample types of the direct path, as the file stores them.
enum class Kind { kU8, kU16, kF32, kI8, kI16, kI32, kU32, kF64 };

std::optional<Kind> KindOf(uint16_t format, uint16_t bits) {
  if (format == SAMPLEFORMAT_UINT || format == SAMPLEFORMAT_VOID) {
    if (bits == 8) return Kind::kU8;
    if (bits == 16) return Kind::kU16;
    if (bits == 32) return Kind::kU32;
  } else if (format == SAMPLEFORMAT_INT) {
    if (bits == 8) return Kind::kI8;
    if (bits == 16) return Kind::kI16;
    if (bits == 32) return Kind::kI32;
  } else if (format == SAMPLEFORMAT_IEEEFP) {
    if (bits == 32) return Kind::kF32;
    if (bits == 64) return Kind::kF64;
  }
  return std::nullopt;
}

// One row of `width` pixels of `ch` interleaved samples In -> Out, R and B
// swapped when `swap`, the gray sample inverted when `invert` (MINISWHITE).
template <typename In, typename Out>
void ConvertRow(const uint8_t* src, std::byte* dst, size_t width, int ch,
                bool swap, bool invert) {
  for (size_t x = 0; x < width; ++x) {
    for (int c = 0; c < ch; ++c) {
      const int from = swap && c < 3 ? 2 - c : c;
      In v;
      std::memcpy(&v, src + (x * ch + from) * sizeof(In), sizeof v);
      Out o;
      if constexpr (std::is_same_v<In, Out> && std::is_integral_v<In>) {
        o = invert && c == 0
                ? static_cast<In>(std::numeric_limits<In>::max() - v)
                : v;
      } else if constexpr (std::is_same_v<In, double>) {
        // Out-of-range doubles become infinities, as IEEE rounding does.
        o = std::isfinite(v) && std::fabs(v) > std::numeric_limits<float>::max()
                ? std::copysign(std::numeric_limits<float>::infinity(),
                                static_cast<float>(v > 0 ? 1 : -1))
                : static_cast<float>(v);
      } else {
        o = static_cast<Out>(v);
      }
      std::memcpy(dst + (x * ch + c) * sizeof(Out), &o, sizeof o);
    }
  }
}

class TiffDecoder final : public Decoder {
 public:
  TiffDecoder(Source& source, std::string_view name) : name_(name) {
    if (source.Seekable()) {
      st_.source = &source;
      st_.size = source.Size();
    } else {
      st_.data = source.All();
    }
    const uint64_t size =
        st_.source != nullptr ? st_.size.value_or(0) : st_.data.size();
    cap_ = std::max<uint64_t>(kMaxSingleAlloc, size);
  }
  ~TiffDecoder() override {
    if (tif_ != nullptr) TIFFClose(tif_);
  }

  void Open();
  void ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) override;

 private:
  [[noreturn]] void Fail(const std::string& fallback);
  template <typename T>
  T Field(uint32_t tag, T fallback);
  void ReadMetadata();
  void LoadBand(uint32_t row);
  void RgbaDecode();

  std::string name_;
  TiffState st_;
  TIFF* tif_ = nullptr;
  uint64_t cap_ = 0;

  bool rgba_ = false;  // decoded through TIFFReadRGBAImageOriented
  Kind kind_ = Kind::kU8;
  int spp_ = 0;  // samples per pixel, all delivered on the direct path
  size_t sample_bytes_ = 0;
  bool planar_ = false;  // PLANARCONFIG_SEPARATE
  bool tiled_ = false;
  bool swap_ = false;         // RGB -> B,G,R
  bool invert_ = false;       // MINISWHITE
  uint32_t band_height_ = 0;  // rows per strip, or tile length
  uint32_t tile_width_ = 0;

  uint32_t next_row_ = 0;
  uint32_t band_y0_ = 0;
  uint32_t band_rows_ = 0;
  std::vector<uint8_t> band_;     // band_rows_ contiguous rows, as stored
  std::vector<uint8_t> scratch_;  // one planar strip, or one tile
  std::vector<uint32_t> raster_;  // the RGBA path's whole image
};

void TiffDecoder::Fail(const std::string& fallback) {
  if (st_.exception) std::rethrow_exception(st_.exception);
  const std::string& why = st_.error.empty() ? fallback : st_.error;
  ThrowInput(name_, std::string(st_.short_read ? "truncated" : "corrupt") +
                        " TIFF (" + why + ")");
}

template <typename T>
T TiffDecoder::Field(uint32_t tag, T fallback) {
  T v = fallback;
  if (TIFFGetFieldDefaulted(tif_, tag, &v) != 1) return fallback;
  return v;
}

void TiffDecoder::Open() {
  st_.Reset();
  tif_ = OpenHandle(st_, "rm", static_cast<tmsize_t>(cap_));
  if (tif_ == nullptr) Fail("not a TIFF file");

  ReadMetadata();

  uint32_t width = 0, height = 0;
  TIFFGetField(tif_, TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif_, TIFFTAG_IMAGELENGTH, &height);
  if (width == 0 || height == 0) Fail("empty image");
  if (width > INT32_MAX || height > INT32_MAX) Fail("image too large");
  const uint16_t spp = Field<uint16_t>(TIFFTAG_SAMPLESPERPIXEL, 1);
  const uint16_t bits = Field<uint16_t>(TIFFTAG_BITSPERSAMPLE, 1);
  const uint16_t format =
      Field<uint16_t>(TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
  const uint16_t planar =
      Field<uint16_t>(TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  const uint16_t compression =
      Field<uint16_t>(TIFFTAG_COMPRESSION, COMPRESSION_NONE);
  uint16_t photometric = Field<uint16_t>(
      TIFFTAG_PHOTOMETRIC, spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
  const uint16_t orientation = Field<uint16_t>(TIFFTAG_ORIENTATION, 1);
  orientation_ = orientation >= 1 && orientation <= 8 ? orientation : 1;
  // Gray or colour with extra samples beyond one alpha: which of them is
  // what is not known, so nothing is guessed.
  if (spp > 4 && (photometric == PHOTOMETRIC_MINISBLACK ||
                  photometric == PHOTOMETRIC_MINISWHITE ||
                  photometric == PHOTOMETRIC_RGB)) {
    ThrowInput(name_, "TIFF with " + std::to_string(spp) +
                          " samples per pixel is not read (1 to 4 are)");
  }

  // libtiff's JPEG codec turns YCbCr into RGB itself: then the strips read
  // as plain 8-bit RGB.
  if (compression == COMPRESSION_JPEG && photometric == PHOTOMETRIC_YCBCR &&
      planar == PLANARCONFIG_CONTIG && spp == 3 && bits == 8 &&
      TIFFSetField(tif_, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB) == 1) {
    photometric = PHOTOMETRIC_RGB;
  }

  const bool gray = (photometric == PHOTOMETRIC_MINISBLACK ||
                     photometric == PHOTOMETRIC_MINISWHITE) &&
                    (spp == 1 || spp == 2);
  const bool rgb = photometric == PHOTOMETRIC_RGB && (spp == 3 || spp == 4);
  const std::optional<Kind> kind = KindOf(format, bits);
  format_.width = static_cast<int>(width);
  format_.height = static_cast<int>(height);

  if ((gray || rgb) && kind) {
    kind_ = *kind;
    spp_ = spp;
    sample_bytes_ = bits / 8;
    planar_ = planar == PLANARCONFIG_SEPARATE;
    tiled_ = TIFFIsTiled(tif_) != 0;
    swap_ = rgb;
    invert_ = photometric == PHOTOMETRIC_MINISWHITE &&
              (kind_ == Kind::kU8 || kind_ == Kind::kU16);
    format_.channels = spp;
    format_.depth = kind_ == Kind::kU8    ? core::Depth::kU8
                    : kind_ == Kind::kU16 ? core::Depth::kU16
                                          : core::Depth::kF32;
    if (tiled_) {
      tile_width_ = Field<uint32_t>(TIFFTAG_TILEWIDTH, 0);
      band_height_ = Field<uint32_t>(TIFFTAG_TILELENGTH, 0);
      const tmsize_t tile = TIFFTileSize(tif_);
      if (tile_width_ == 0 || band_height_ == 0 || tile <= 0) {
        Fail("bad tile size");
      }
      if (static_cast<uint64_t>(tile) > cap_) Fail("tile too large");
      // A tile is at most a little larger than the image: a 16x16 image
      // in 8192x8192 tiles would take 192 MiB whatever --max-pixels says.
      const uint64_t tile_px = uint64_t{tile_width_} * band_height_;
      if (tile_px >
          std::max<uint64_t>(uint64_t{4} * width * height, uint64_t{1} << 20)) {
        Fail("tiles much larger than the image");
      }
    } else {
      band_height_ =
          std::min(Field<uint32_t>(TIFFTAG_ROWSPERSTRIP, height), height);
      if (band_height_ == 0) Fail("bad rows per strip");
    }
    return;
  }

  // The RGBA path: 8-bit samples, orientation applied by libtiff.
  char emsg[1024] = "";
  TIFFRGBAImage img;
  if (TIFFRGBAImageOK(tif_, emsg) != 1 ||
      TIFFRGBAImageBegin(&img, tif_, 1, emsg) != 1) {
    std::string why = emsg;
    for (char& c : why) {
      if (static_cast<unsigned char>(c) < 0x20) c = '?';
    }
    if (why.size() > kMaxMessage) why.resize(kMaxMessage);
    ThrowInput(name_, "unsupported TIFF (" + why + ")");
  }
  const bool alpha = img.alpha != 0;
  TIFFRGBAImageEnd(&img);
  rgba_ = true;
  const bool gray_rgba = photometric == PHOTOMETRIC_MINISBLACK ||
                         photometric == PHOTOMETRIC_MINISWHITE;
  format_.channels = (gray_rgba ? 1 : 3) + (alpha ? 1 : 0);
  format_.depth = core::Depth::kU8;
  // The raster is read in the file's own orientation (no flips by
  // libtiff), so that the caller turns it, or not (--no-auto-orient), as
  // for every other path.
}

void TiffDecoder::ReadMetadata() {
  uint32_t count = 0;
  const void* data = nullptr;
  if (TIFFGetField(tif_, TIFFTAG_ICCPROFILE, &count, &data) == 1 &&
      data != nullptr) {
    const auto* p = static_cast<const uint8_t*>(data);
    metadata_.icc.assign(p, p + count);
  }
  if (TIFFGetField(tif_, TIFFTAG_XMLPACKET, &count, &data) == 1 &&
      data != nullptr) {
    metadata_.xmp.assign(static_cast<const char*>(data), count);
    // XMP in TIFF is often stored with its terminating NUL.
    while (!metadata_.xmp.empty() && metadata_.xmp.back() == '\0') {
      metadata_.xmp.pop_back();
    }
  }

  std::vector<ExifText> texts;
  const auto text = [&](bool exif_ifd, uint32_t tag) {
    const char* s = nullptr;
    if (TIFFGetField(tif_, tag, &s) == 1 && s != nullptr && *s != '\0' &&
        // A convcorr output's Software is its provenance, which stays
        // with that file (io/provenance.h).
        !(tag == TIFFTAG_SOFTWARE && IsProvenanceText(s))) {
      texts.push_back({exif_ifd, static_cast<uint16_t>(tag), s});
    }
  };
  for (const uint32_t tag :
       {TIFFTAG_IMAGEDESCRIPTION, TIFFTAG_MAKE, TIFFTAG_MODEL, TIFFTAG_SOFTWARE,
        TIFFTAG_DATETIME, TIFFTAG_ARTIST, TIFFTAG_COPYRIGHT}) {
    text(false, tag);
  }
  toff_t exif_offset = 0;
  if (TIFFGetField(tif_, TIFFTAG_EXIFIFD, &exif_offset) == 1 &&
      exif_offset != 0) {
    // A broken Exif IFD costs its tags, not the image; the image directory
    // must come back, though.
    if (TIFFReadEXIFDirectory(tif_, exif_offset) == 1) {
      text(true, EXIFTAG_DATETIMEORIGINAL);
      text(true, EXIFTAG_DATETIMEDIGITIZED);
    }
    st_.Reset();
    if (TIFFSetDirectory(tif_, 0) != 1) Fail("cannot reread the first IFD");
  }
  if (!texts.empty()) metadata_.exif = MakeExif(texts);
}

// Decodes the band holding `row` into band_ as contiguous rows of
// interleaved samples.
void TiffDecoder::LoadBand(uint32_t row) {
  const uint32_t width = static_cast<uint32_t>(format_.width);
  const uint32_t height = static_cast<uint32_t>(format_.height);
  band_y0_ = row / band_height_ * band_height_;
  band_rows_ = std::min(band_height_, height - band_y0_);
  const size_t px = spp_ * sample_bytes_;
  const size_t row_bytes = width * px;
  band_.resize(band_rows_ * row_bytes);
  const int planes = planar_ ? spp_ : 1;
  const size_t plane_px = planar_ ? sample_bytes_ : px;  // bytes per pixel
  st_.Reset();

  if (!tiled_) {
    const uint32_t strip = band_y0_ / band_height_;
    const uint32_t strips_per_plane =
        (height + band_height_ - 1) / band_height_;
    // 64-bit: rows per strip times the width passes 2^32 on large images.
    const uint64_t want64 = uint64_t{band_rows_} * width * plane_px;
    if (want64 > static_cast<uint64_t>(std::numeric_limits<tmsize_t>::max())) {
      Fail("strip too large");
    }
    const tmsize_t want = static_cast<tmsize_t>(want64);
    for (int s = 0; s < planes; ++s) {
      uint8_t* into = band_.data();
      if (planar_) {
        scratch_.resize(static_cast<size_t>(want));
        into = scratch_.data();
      }
      const uint64_t index =
          uint64_t{static_cast<uint32_t>(s)} * strips_per_plane + strip;
      if (index > UINT32_MAX) Fail("strip index out of range");
      const tmsize_t got =
          TIFFReadEncodedStrip(tif_, static_cast<uint32_t>(index), into, want);
      if (got < 0) Fail("cannot read strip " + std::to_string(strip));
      if (got < want) Fail("strip " + std::to_string(strip) + " too short");
      if (planar_) {
        for (size_t i = 0; i < static_cast<size_t>(band_rows_) * width; ++i) {
          std::memcpy(&band_[i * px + s * sample_bytes_],
                      &scratch_[i * sample_bytes_], sample_bytes_);
        }
      }
    }
    return;
  }

  const tmsize_t tile_size = TIFFTileSize(tif_);
  scratch_.resize(static_cast<size_t>(tile_size));
  for (uint32_t x0 = 0; x0 < width; x0 += tile_width_) {
    const uint32_t cols = std::min(tile_width_, width - x0);
    for (int s = 0; s < planes; ++s) {
      const uint32_t tile =
          TIFFComputeTile(tif_, x0, band_y0_, 0, static_cast<uint16_t>(s));
      if (TIFFReadEncodedTile(tif_, tile, scratch_.data(), tile_size) < 0) {
        Fail("cannot read tile " + std::to_string(tile));
      }
      for (uint32_t r = 0; r < band_rows_; ++r) {
        const uint8_t* from = &scratch_[r * tile_width_ * plane_px];
        uint8_t* to = &band_[r * row_bytes + x0 * px];
        if (!planar_) {
          std::memcpy(to, from, cols * px);
          continue;
        }
        for (uint32_t x = 0; x < cols; ++x) {
          std::memcpy(to + x * px + s * sample_bytes_, from + x * sample_bytes_,
                      sample_bytes_);
        }
      }
    }
  }
}

void TiffDecoder::RgbaDecode() {
  const uint32_t width = static_cast<uint32_t>(format_.width);
  const uint32_t height = static_cast<uint32_t>(format_.height);
  // libtiff allocates one decoded strip or tile here: the caller has
  // accepted the image's size, so a strip that size is no forgery.
  const tmsize_t unit =
      TIFFIsTiled(tif_) ? TIFFTileSize(tif_) : TIFFStripSize(tif_);
  const uint64_t image = uint64_t{width} * height * 8;
  if (unit > 0 && static_cast<uint64_t>(unit) > cap_ &&
      static_cast<uint64_t>(unit) <= std::max(image, cap_ * 2)) {
    TIFFClose(tif_);
    tif_ = nullptr;
    cap_ = static_cast<uint64_t>(unit) + (1 << 20);
    st_.Reset();
    tif_ = OpenHandle(st_, "rm", static_cast<tmsize_t>(cap_));
    if (tif_ == nullptr) Fail("cannot reopen");
  }
  raster_.resize(size_t{width} * height);
  st_.Reset();
  if (TIFFReadRGBAImageOriented(tif_, width, height, raster_.data(),
                                orientation_, 1) != 1) {
    Fail("cannot decode the image");
  }
}

void TiffDecoder::ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) {
  if (rows < 0 || next_row_ + static_cast<uint64_t>(rows) >
                      static_cast<uint64_t>(format_.height)) {
    throw Error(ErrorKind::kInternal, "TIFF decoder: rows past the end");
  }
  const size_t width = static_cast<size_t>(format_.width);
  if (rgba_ && raster_.empty()) RgbaDecode();
  for (int i = 0; i < rows; ++i, ++next_row_, dst += stride) {
    if (rgba_) {
      const uint32_t* p = &raster_[next_row_ * width];
      const int ch = format_.channels;
      for (size_t x = 0; x < width; ++x) {
        const uint32_t v = p[x];
        uint8_t* o = reinterpret_cast<uint8_t*>(dst) + x * ch;
        if (ch <= 2) {
          o[0] = static_cast<uint8_t>(TIFFGetR(v));
        } else {
          o[0] = static_cast<uint8_t>(TIFFGetB(v));
          o[1] = static_cast<uint8_t>(TIFFGetG(v));
          o[2] = static_cast<uint8_t>(TIFFGetR(v));
        }
        if (ch == 2 || ch == 4) o[ch - 1] = static_cast<uint8_t>(TIFFGetA(v));
      }
      continue;
    }
    if (band_rows_ == 0 || next_row_ >= band_y0_ + band_rows_) {
      LoadBand(next_row_);
    }
    const uint8_t* src =
        &band_[(next_row_ - band_y0_) * width * spp_ * sample_bytes_];
    switch (kind_) {
      case Kind::kU8:
        ConvertRow<uint8_t, uint8_t>(src, dst, width, spp_, swap_, invert_);
        break;
      case Kind::kU16:
        ConvertRow<uint16_t, uint16_t>(src, dst, width, spp_, swap_, invert_);
        break;
      case Kind::kF32:
        ConvertRow<float, float>(src, dst, width, spp_, swap_, false);
        break;
      case Kind::kI8:
        ConvertRow<int8_t, float>(src, dst, width, spp_, swap_, false);
        break;
      case Kind::kI16:
        ConvertRow<int16_t, float>(src, dst, width, spp_, swap_, false);
        break;
      case Kind::kI32:
        ConvertRow<int32_t, float>(src, dst, width, spp_, swap_, false);
        break;
      case Kind::kU32:
        ConvertRow<uint32_t, float>(src, dst, width, spp_, swap_, false);
        break;
      case Kind::kF64:
        ConvertRow<double, float>(src, dst, width, spp_, swap_, false);
        break;
    }
  }
  // The RGBA raster is the whole image: free it with the last row.
  if (rgba_ && next_row_ == static_cast<uint32_t>(format_.height)) {
    raster_ = {};
  }
}

}  // namespace

std::unique_ptr<Decoder> OpenTiff(Source& source, std::string_view name) {
  auto decoder = std::make_unique<TiffDecoder>(source, name);
  decoder->Open();
  return decoder;
}

}  // namespace convcorr::io
