// Reading and writing images through the codec libraries (io/codec.h):
// the size limit checked on the header before any pixel buffer exists,
// photos turned upright with their colour profile and EXIF kept, formats
// that cannot hold a depth refused, and writes that never leave a partial
// file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/engine.h"
#include "core/image.h"
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

// The format of encoded bytes, from their first bytes: "png", "jpeg",
// "tiff", "webp", "pnm" (PNM, PAM, PFM), "bmp", "sunras", "hdr", "jp2";
// "" when none matches.
std::string SniffFormat(std::span<const uint8_t> head);

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
  friend Raster DecodeRaster(Source&, std::string_view,
                             const DecodeOptions&);
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

// Reads a whole file (kInput error naming it on failure).
std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path);
// Reads all of standard input.
std::vector<uint8_t> ReadStdinBytes();

// Reads and decodes an image file.
core::Image ReadImage(const std::filesystem::path& path,
                      const DecodeOptions& options);

// Lowercase extension without the dot ("png"), "" if none.
std::string ExtensionOf(const std::filesystem::path& path);

// The encoding an extension names: "jpeg" for jpg/jpeg/jpe, "tiff" for
// tif/tiff, "pnm" for pbm/pgm/ppm/pnm, else the extension itself.
std::string FormatOf(std::string_view ext);

// True if convcorr writes this extension: png, jpg, jpeg, jpe, tif, tiff,
// webp, bmp, pgm, ppm, pnm, pfm.
bool IsWritableExtension(std::string_view ext);
// The extensions IsWritableExtension accepts, for messages: "png, jpg, ...".
std::string WritableExtensionList();
// True if the extension is one that directory scans pick up as an image.
bool IsImageExtension(std::string_view ext);

// Throws Error(kUsage, ...) naming `name` when format `ext` cannot store
// samples of `depth` with `channels` channels (e.g. 16-bit JPEG).
void CheckEncodable(std::string_view ext, core::Depth depth, int channels,
                    std::string_view name);

// Encodes an already quantized image (samples are exact values of its depth)
// to the format of `ext`, with `metadata`. Float TIFF is written
// losslessly.
std::vector<uint8_t> EncodeImage(const core::Image& img, std::string_view ext,
                                 std::string_view name,
                                 const Metadata& metadata = {},
                                 const EncodeOptions& options = {});

// Files in flight that a batch may run at once (--jobs is capped there).
inline constexpr int kMaxWriters = 256;

// A complete output written to a temporary file in its destination's
// directory, not yet flushed nor renamed: the first half of
// WriteFileAtomic, so that a batch can flush and rename one file while its
// workers go on with the next. Destroying a staged file that was not
// committed removes the temporary file (the destination is untouched).
class StagedFile {
 public:
  StagedFile() = default;
  StagedFile(StagedFile&& other) noexcept;
  StagedFile& operator=(StagedFile&& other) noexcept;
  StagedFile(const StagedFile&) = delete;
  StagedFile& operator=(const StagedFile&) = delete;
  ~StagedFile();

  // Flushes the file (fsync) and renames it over the destination; throws
  // Error(kOutput, "output '<dest>': <reason>"), after which the temporary
  // file is removed when the staged file is destroyed. A second call does
  // nothing.
  void Commit();
  const std::filesystem::path& dest() const { return dest_; }

 private:
  friend StagedFile StageFile(const std::filesystem::path& dest,
                              std::span<const uint8_t> bytes);
  void Discard() noexcept;

  std::filesystem::path dest_;
  int fd_ = -1;
  int slot_ = -1;  // the entry naming the temporary file for the signal handler
};

// Writes `bytes` to a new temporary file beside `dest` (the first half of
// WriteFileAtomic). Thread-safe. Throws Error(kOutput) naming dest.
StagedFile StageFile(const std::filesystem::path& dest,
                     std::span<const uint8_t> bytes);

// Writes `bytes` to a temporary file in dest's directory, flushes it and
// renames it over `dest`: dest is either untouched or complete. Thread-safe.
// Throws Error(kOutput, "output '<dest>': <reason>").
void WriteFileAtomic(const std::filesystem::path& dest,
                     std::span<const uint8_t> bytes);

// Removes the temporary files WriteFileAtomic calls are writing, if any,
// and stops any further one from being created: the process must end
// right after (_exit). Only async-signal-safe calls: meant for the SIGINT
// and SIGTERM handlers.
void RemovePendingTempFile();

// Writes bytes to standard output (kOutput error on failure).
void WriteStdout(std::span<const uint8_t> bytes);

// True if `path` is a non-empty regular file whose image header its codec
// reads and, for PNG and JPEG, that ends with the format's end marker
// (IEND, EOI): what --skip-existing takes as a complete output.
// convcorr's own outputs are complete whenever they exist (atomic writes);
// this also rejects files another tool left truncated.
bool LooksComplete(const std::filesystem::path& path);

// The lines of an input list (--files-from): separated by newlines (a
// trailing carriage return dropped) or, with `nul`, by NUL bytes; empty
// entries skipped.
std::vector<std::string> SplitInputList(std::string_view text, bool nul);

// True if a and b name the same file (through symlinks or hard links);
// false if either does not exist.
bool SameFile(const std::filesystem::path& a, const std::filesystem::path& b);

// An input found by ExpandInputs: its path and its path relative to the
// directory argument it came from (just the file name for file arguments).
struct InputFile {
  std::filesystem::path path;
  std::filesystem::path relative;
};

// The image files of a directory (recursively if asked), sorted by path,
// with their paths relative to `dir`: files whose extension (lowercase,
// without the dot) is in `extensions`, or, when it is empty, any extension
// IsImageExtension accepts.
std::vector<InputFile> ListImages(const std::filesystem::path& dir,
                                  bool recursive,
                                  const std::vector<std::string>& extensions = {});

}  // namespace convcorr::io
