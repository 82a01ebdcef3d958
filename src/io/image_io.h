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
// The planar float image of a raster (alpha apart).
core::Image ToImage(Raster raster);
// Encodes a raster's samples to the format of `ext` with `metadata` (what
// the format can hold of it).
std::vector<uint8_t> EncodeRaster(const Raster& raster, std::string_view ext,
                                  std::string_view name,
                                  const Metadata& metadata = {},
                                  const EncodeOptions& options = {});

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
