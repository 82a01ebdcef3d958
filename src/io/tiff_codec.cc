// TIFF on libtiff's own API.
//
// Design. Every TIFF handle gets its error and warning handlers, its memory
// cap and its I/O through TIFFOpenOptions and client procs, with user data
// pointing at a per-handle TiffState: nothing process-wide is touched, so
// files decode and encode in parallel threads, and nothing is printed. The
// handlers keep libtiff's first error message; the call that failed is then
// reported as one line, "corrupt TIFF (...)", or "truncated TIFF (...)" when
// a read came up short during it. Exceptions never cross libtiff's C frames:
// the procs catch them and the failing call rethrows them.
//
// Decoding reads from the Source at offsets (ReadAt) when it is seekable,
// else from the whole data in memory (All). Open reads the first directory
// only. Gray (1-2 samples) and RGB (3-4 samples) images of 8/16-bit
// unsigned, 8/16/32-bit signed, 32-bit unsigned and 32/64-bit float samples
// are decoded band by band: one strip, or one row of tiles, at a time, into
// a per-handle buffer, planar or not, with any compression libtiff decodes
// (JPEG's YCbCr converted to RGB by libtiff). Everything else (palette,
// subsampled YCbCr, CMYK, 1/2/4-bit, LogLuv, ...) goes through libtiff's
// RGBA interface: 8-bit, decoded whole at the first ReadRows.
//
// Encoding writes LZW-compressed strips of about 64 KiB, scanline by
// scanline, into a growing buffer (libtiff seeks back to write the
// directory), copied to the Sink at Finish.
#include <tiffio.h>

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <exception>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/error.h"
#include "io/codec.h"
#include "io/exif.h"

namespace convcorr::io {
namespace {

// libtiff's cap on any one allocation it makes (tag arrays, strip and tile
// buffers). 256 MiB stops a forged header from reserving gigabytes, but a
// legitimate compressed strip is read whole, so the cap is raised to the
// input's size when that is larger; and the RGBA path, whose decoded strips
// libtiff allocates itself, reopens the file with a cap fitting the image
// once the caller has accepted its size (see RgbaDecode).
constexpr tmsize_t kMaxSingleAlloc = tmsize_t{256} << 20;
constexpr size_t kMaxMessage = 160;
constexpr size_t kStripBytes = 64 << 10;

// What libtiff's callbacks reach through their user data, one per handle.
struct TiffState {
  // Decoding: the input, read at offsets or from memory.
  Source* source = nullptr;
  std::span<const uint8_t> data;
  std::optional<uint64_t> size;
  // Encoding: the output file being built.
  std::vector<uint8_t> out;
  uint64_t pos = 0;
  // The first error libtiff reported since the last Reset.
  std::string error;
  bool short_read = false;
  std::exception_ptr exception;

  void Reset() {
    error.clear();
    short_read = false;
    exception = nullptr;
  }
};

int OnError(TIFF*, void* user, const char* module, const char* fmt,
            va_list ap) {
  auto* st = static_cast<TiffState*>(user);
  if (!st->error.empty()) return 1;  // the first error is the telling one
  char buf[512];
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  // Messages that start with the file's name start with ": " here: the
  // handle's name is empty (errors quote the name once, in front).
  std::string_view text = buf;
  if (text.starts_with(": ")) text.remove_prefix(2);
  std::string m = module != nullptr && *module != '\0'
                      ? std::string(module) + ": " + std::string(text)
                      : std::string(text);
  for (char& c : m) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = '?';
  }
  if (m.size() > kMaxMessage) m = m.substr(0, kMaxMessage) + "...";
  st->error = m.empty() ? "unknown error" : m;
  return 1;  // handled: libtiff must not call its global handler
}

int OnWarning(TIFF*, void*, const char*, const char*, va_list) { return 1; }

TiffState* StateOf(thandle_t h) { return static_cast<TiffState*>(h); }

tmsize_t ReadProc(thandle_t h, void* dst, tmsize_t n) {
  TiffState* st = StateOf(h);
  if (n <= 0) return 0;
  size_t got = 0;
  try {
    if (st->source != nullptr) {
      got = st->source->ReadAt(st->pos, dst, static_cast<size_t>(n));
    } else {
      // Memory: the input, or the output being built (libtiff reads back
      // what it wrote when it links directories).
      const std::span<const uint8_t> mem =
          st->data.empty() ? std::span<const uint8_t>(st->out) : st->data;
      if (st->pos < mem.size()) {
        got = std::min<uint64_t>(static_cast<uint64_t>(n),
                                 mem.size() - st->pos);
        std::memcpy(dst, mem.data() + st->pos, got);
      }
    }
  } catch (...) {
    st->exception = std::current_exception();
    return -1;
  }
  if (got < static_cast<size_t>(n)) st->short_read = true;
  st->pos += got;
  return static_cast<tmsize_t>(got);
}

tmsize_t WriteProc(thandle_t h, void* src, tmsize_t n) {
  TiffState* st = StateOf(h);
  if (n <= 0) return 0;
  try {
    const uint64_t end = st->pos + static_cast<uint64_t>(n);
    if (end > st->out.size()) st->out.resize(end);
    std::memcpy(st->out.data() + st->pos, src, static_cast<size_t>(n));
    st->pos = end;
  } catch (...) {
    st->exception = std::current_exception();
    return -1;
  }
  return n;
}

toff_t SizeProc(thandle_t h) {
  const TiffState* st = StateOf(h);
  if (st->source == nullptr) {
    return st->data.empty() ? st->out.size() : st->data.size();
  }
  return st->size.value_or(std::numeric_limits<toff_t>::max());
}

toff_t SeekProc(thandle_t h, toff_t off, int whence) {
  TiffState* st = StateOf(h);
  uint64_t base = 0;
  if (whence == SEEK_CUR) {
    base = st->pos;
  } else if (whence == SEEK_END) {
    if (st->source != nullptr && !st->size) return static_cast<toff_t>(-1);
    base = SizeProc(h);
  }
  st->pos = base + off;
  return st->pos;
}

int CloseProc(thandle_t) { return 0; }

// Opens `st` for reading ("r") or writing ("w", "w8") with the handlers and
// memory cap on the handle itself. Mapping is off ("m"): reads go through
// ReadProc, which sees where the data ends.
TIFF* OpenHandle(TiffState& st, const char* mode, tmsize_t cap) {
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  if (opts == nullptr) throw std::bad_alloc();
  TIFFOpenOptionsSetErrorHandlerExtR(opts, OnError, &st);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, OnWarning, &st);
  TIFFOpenOptionsSetMaxSingleMemAlloc(opts, cap);
  TIFF* tif = TIFFClientOpenExt("", mode, &st, ReadProc, WriteProc, SeekProc,
                                CloseProc, SizeProc, nullptr, nullptr, opts);
  TIFFOpenOptionsFree(opts);
  return tif;
}

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
        o = invert && c == 0 ? static_cast<In>(std::numeric_limits<In>::max() - v)
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
    const uint64_t size = st_.source != nullptr ? st_.size.value_or(0)
                                                : st_.data.size();
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
  int spp_ = 0;          // samples per pixel, all delivered on the direct path
  size_t sample_bytes_ = 0;
  bool planar_ = false;  // PLANARCONFIG_SEPARATE
  bool tiled_ = false;
  bool swap_ = false;    // RGB -> B,G,R
  bool invert_ = false;  // MINISWHITE
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
  const uint16_t format = Field<uint16_t>(TIFFTAG_SAMPLEFORMAT,
                                          SAMPLEFORMAT_UINT);
  const uint16_t planar = Field<uint16_t>(TIFFTAG_PLANARCONFIG,
                                          PLANARCONFIG_CONTIG);
  const uint16_t compression = Field<uint16_t>(TIFFTAG_COMPRESSION,
                                               COMPRESSION_NONE);
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
      if (tile_px > std::max<uint64_t>(uint64_t{4} * width * height,
                                       uint64_t{1} << 20)) {
        Fail("tiles much larger than the image");
      }
    } else {
      band_height_ = std::min(Field<uint32_t>(TIFFTAG_ROWSPERSTRIP, height),
                              height);
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
    if (TIFFGetField(tif_, tag, &s) == 1 && s != nullptr && *s != '\0') {
      texts.push_back({exif_ifd, static_cast<uint16_t>(tag), s});
    }
  };
  for (const uint32_t tag :
       {TIFFTAG_IMAGEDESCRIPTION, TIFFTAG_MAKE, TIFFTAG_MODEL,
        TIFFTAG_SOFTWARE, TIFFTAG_DATETIME, TIFFTAG_ARTIST,
        TIFFTAG_COPYRIGHT}) {
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
      const uint64_t index = uint64_t{static_cast<uint32_t>(s)} *
                                 strips_per_plane + strip;
      if (index > UINT32_MAX) Fail("strip index out of range");
      const tmsize_t got = TIFFReadEncodedStrip(
          tif_, static_cast<uint32_t>(index), into, want);
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
      const uint32_t tile = TIFFComputeTile(tif_, x0, band_y0_, 0,
                                            static_cast<uint16_t>(s));
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
          std::memcpy(to + x * px + s * sample_bytes_,
                      from + x * sample_bytes_, sample_bytes_);
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
  const tmsize_t unit = TIFFIsTiled(tif_) ? TIFFTileSize(tif_)
                                          : TIFFStripSize(tif_);
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

class TiffEncoder final : public Encoder {
 public:
  TiffEncoder(const PixelFormat& format, const Metadata& metadata, Sink& sink,
              std::string_view name);
  ~TiffEncoder() override {
    if (tif_ != nullptr) TIFFClose(tif_);
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
  tif_ = OpenHandle(st_, raw > (uint64_t{1} << 31) ? "w8" : "w",
                    kMaxSingleAlloc);
  if (tif_ == nullptr) Fail("cannot start the file");

  const std::vector<ExifText> texts =
      metadata.exif.empty() ? std::vector<ExifText>{}
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
  const uint32_t rows_per_strip = static_cast<uint32_t>(std::clamp<uint64_t>(
      kStripBytes / format.RowBytes(), 1, static_cast<uint64_t>(format.height)));
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
            TIFFSetField(tif_, TIFFTAG_PREDICTOR,
                         is_float ? PREDICTOR_FLOATINGPOINT
                                  : PREDICTOR_HORIZONTAL) &&
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
  for (const ExifText& t : texts) {
    // Only TIFF's own ASCII tags: an unknown tag would need a definition.
    if (!t.exif_ifd && TIFFFindField(tif_, t.tag, TIFF_ASCII) != nullptr) {
      Check(TIFFSetField(tif_, t.tag, t.text.c_str()), "cannot set a text");
    }
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
  sink_.Write(st_.out.data(), st_.out.size());
  st_.out = {};
}

}  // namespace

std::unique_ptr<Decoder> OpenTiff(Source& source, std::string_view name) {
  auto decoder = std::make_unique<TiffDecoder>(source, name);
  decoder->Open();
  return decoder;
}

std::unique_ptr<Encoder> NewTiffEncoder(const PixelFormat& format,
                                        const Metadata& metadata,
                                        const EncodeOptions& /*options*/,
                                        Sink& sink, std::string_view name) {
  return std::make_unique<TiffEncoder>(format, metadata, sink, name);
}

}  // namespace convcorr::io
