// Decoding and encoding images through the codecs of io/codec.h: the size
// limit checked on the header before any pixel buffer exists, photos
// turned upright with their colour profile and EXIF kept, and the samples
// held in their own type (Raster) for the engine. Formats and extensions
// are in io/format.h, atomic writes in io/atomic_write.h, files and
// directory listings in io/files.h.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/image.h"
#include "core/view.h"
#include "io/codec.h"

namespace convcorr::io {

// Default for --max-pixels: 100 megapixels.
inline constexpr uint64_t kDefaultMaxPixels = 100'000'000;

struct DecodeOptions {
  bool gray = false;  // convert to one channel (alpha dropped)
  uint64_t max_pixels = kDefaultMaxPixels;
  // Turn the pixels as the EXIF (or TIFF) orientation says, and write the
  // orientation back as 1 (--no-auto-orient keeps the stored pixels and
  // the tag).
  bool auto_orient = true;
};

// Decodes an encoded image. `name` is what errors quote (a path, or "-" for
// stdin). Throws Error(kInput, "input '<name>': <reason>") for unreadable,
// truncated, corrupt or too large images.
core::Image DecodeImage(std::span<const uint8_t> bytes, std::string_view name,
                        const DecodeOptions& options);

// An image decoded in its own sample type and layout: 8-bit, 16-bit or
// float samples, 1 to 4 channels interleaved as OpenCV holds them (gray,
// gray+alpha, BGR, BGRA), for the engine to read and write through views
// with no conversion.
class Raster {
 public:
  Raster();
  ~Raster();
  Raster(Raster&&) noexcept;
  Raster& operator=(Raster&&) noexcept;

  int width() const;
  int height() const;
  int channels() const;
  core::Depth depth() const;
  // The ICC profile, EXIF (thumbnail dropped, orientation reset once
  // applied) and XMP of the decoded file, for the outputs.
  const Metadata& metadata() const;
  Metadata& metadata();
  // Views of all channels (interleaved: step == channels).
  core::ConstImageView View() const;
  core::ImageView MutableView();

  struct Impl;  // the interleaved samples

 private:
  friend Raster NewRaster(int, int, int, core::Depth);
  friend Raster DecodeRaster(Source&, std::string_view, const DecodeOptions&);
  friend Raster DecodeOpened(Decoder&, const DecodeOptions&);
  friend core::Image ToImage(Raster raster);
  friend std::vector<uint8_t> EncodeRaster(const Raster&, std::string_view,
                                           std::string_view, const Metadata&,
                                           const EncodeOptions&);
  std::unique_ptr<Impl> impl_;
};

// A raster of the given size, channels and depth (contents unset).
Raster NewRaster(int width, int height, int channels, core::Depth depth);
// Decodes the image `source` holds: the header is read first and
// --max-pixels checked on it before any pixel buffer exists, then the rows
// are read in bands; the image is turned upright (options.auto_orient).
// Throws Error(kInput, "input '<name>': <reason>") for unreadable,
// truncated, corrupt or too large images.
Raster DecodeRaster(Source& source, std::string_view name,
                    const DecodeOptions& options);
// The same over bytes in memory.
Raster DecodeRaster(std::span<const uint8_t> bytes, std::string_view name,
                    const DecodeOptions& options);
// Opens and decodes an image file, or standard input for "-", streaming
// from the descriptor.
Raster ReadRaster(const std::filesystem::path& path,
                  const DecodeOptions& options);
// An image opened for reading, the header read and checked (the size
// against --max-pixels, the channel count) and no pixel buffer made: its
// rows are then read band by band (a streaming run), or all at once.
class RasterReader {
 public:
  // Opens an image file, or standard input for "-". Throws Error(kInput).
  static std::unique_ptr<RasterReader> Open(const std::filesystem::path& path,
                                            const DecodeOptions& options);
  ~RasterReader();
  RasterReader(const RasterReader&) = delete;
  RasterReader& operator=(const RasterReader&) = delete;

  // The samples ReadRows gives (one channel with --gray).
  int width() const;
  int height() const;
  int channels() const;
  core::Depth depth() const;
  // True when ReadRows gives the rows DecodeRaster would hold, top to
  // bottom, and metadata() is already complete: the image needs no turn
  // (or --no-auto-orient), and the file keeps nothing for the outputs
  // after its pixels (Decoder::MetadataFirst).
  bool Streams() const;
  // Why not, in a few words ("turned upright (orientation 6)"); empty
  // where Streams().
  std::string WhyWhole() const;
  // The ICC, EXIF and XMP for the outputs, as Raster::metadata; only
  // where Streams().
  Metadata& metadata();
  // The next `rows` rows into dst (`stride` bytes apart), converted to
  // gray with --gray; only where Streams(). Throws Error(kInput).
  void ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows);
  // After the last row: the end of the file checked.
  void Finish();
  // The whole image, as ReadRaster gives it (turned upright); instead of
  // ReadRows.
  Raster ReadAll();

  struct Impl;

 private:
  RasterReader();
  std::unique_ptr<Impl> impl_;
};

// An encoder for the format of `ext` writing to `sink`, for rows of
// format `f` (not gray+alpha to WebP: EncodeRaster converts those).
std::unique_ptr<Encoder> NewEncoder(const PixelFormat& f, std::string_view ext,
                                    std::string_view name,
                                    const Metadata& metadata,
                                    const EncodeOptions& options, Sink& sink);

// The planar float image of a raster (alpha apart).
core::Image ToImage(Raster raster);
// Encodes a raster's samples to the format of `ext` with `metadata` (what
// the format can hold of it).
std::vector<uint8_t> EncodeRaster(const Raster& raster, std::string_view ext,
                                  std::string_view name,
                                  const Metadata& metadata = {},
                                  const EncodeOptions& options = {});

// The samples of a raster as one plane of kernel weights, row-major (-k
// @FILE.png; docs/kernels.md, "Image kernels"): gray as it is, colour as
// its BT.601 luma 0.299 R + 0.587 G + 0.114 B (the weights of --gray,
// computed exactly instead of rounded to the sample type), multiplied by
// alpha where there is one. 8- and 16-bit samples (alpha too) are scaled to
// 0..1, dividing by 255 or 65535; float samples are taken as they are.
std::vector<double> WeightPlane(const Raster& raster);

// Reads and decodes an image file.
core::Image ReadImage(const std::filesystem::path& path,
                      const DecodeOptions& options);

// Encodes an already quantized image (samples are exact values of its depth)
// to the format of `ext`, with `metadata`. Float TIFF is written
// losslessly.
std::vector<uint8_t> EncodeImage(const core::Image& img, std::string_view ext,
                                 std::string_view name,
                                 const Metadata& metadata = {},
                                 const EncodeOptions& options = {});

}  // namespace convcorr::io
