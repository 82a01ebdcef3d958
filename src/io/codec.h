// The codec layer: one decoder and one encoder per format, each on its own
// library's API (libpng, libjpeg-turbo, libtiff, libwebp) or on a reader of
// convcorr's own (PNM, PAM, PFM, BMP output). Every codec reports its
// errors to its caller through per-handle callbacks: nothing is printed,
// nothing touches the process's stderr, and no lock is shared between
// files, so files in flight decode and encode in parallel.
//
// Decoders and encoders work in bands of rows: a decoder reads the header
// when it is opened (the size is then known, and no pixel buffer exists
// yet), then hands out rows top to bottom; an encoder takes rows top to
// bottom and writes them as they come.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/image.h"

namespace convcorr::io {

// The samples of an image as codecs exchange them: rows of interleaved
// samples in native byte order, channels in OpenCV's order: 1 gray,
// 2 gray+alpha, 3 B,G,R, 4 B,G,R,A. Depth kU8 is uint8_t, kU16 uint16_t,
// kF32 float.
struct PixelFormat {
  int width = 0;
  int height = 0;
  int channels = 0;
  core::Depth depth = core::Depth::kU8;

  size_t SampleBytes() const;
  // width * channels * SampleBytes().
  size_t RowBytes() const;
};

// What a photo carries besides its pixels, carried from input to output,
// and what convcorr says of the output it writes.
struct Metadata {
  std::vector<uint8_t> icc;   // ICC colour profile, as stored
  std::vector<uint8_t> exif;  // EXIF as a TIFF structure ("II*\0" or
                              // "MM\0*" first), without "Exif\0\0"
  std::string xmp;            // the XMP packet (XML text)
  // What made the output (io/provenance.h): written by the encoders in
  // their format's text slot, never read by the decoders (so never
  // carried from an input); empty writes none.
  std::string provenance;

  bool empty() const {
    return icc.empty() && exif.empty() && xmp.empty() && provenance.empty();
  }
};

// The bytes of an encoded image, read front to back. A source over memory
// (tests, fuzzers, a buffered pipe) or over a file descriptor: then bytes
// are read as the decoder asks for them, so a header is checked before the
// rest of the file is read.
class Source {
 public:
  // A source over `bytes`, which must outlive it.
  static std::unique_ptr<Source> FromMemory(std::span<const uint8_t> bytes);
  // A source reading the open descriptor `fd` (not closed by the source)
  // from its current position; `name` is what errors quote.
  static std::unique_ptr<Source> FromFd(int fd, std::string name);

  virtual ~Source() = default;

  // Reads up to `n` bytes at the read position; fewer only at the end of
  // the data. Throws Error(kInput) on a read error.
  virtual size_t Read(void* dst, size_t n) = 0;
  // The first bytes of the data (at most `n`, fewer if the data is
  // shorter), without moving the read position. Only before any Read.
  virtual std::span<const uint8_t> Peek(size_t n) = 0;
  // Reads up to `n` bytes at `offset` from the start of the data (random
  // access, for TIFF). Only on seekable sources: see Seekable().
  virtual size_t ReadAt(uint64_t offset, void* dst, size_t n) = 0;
  virtual bool Seekable() const = 0;
  // Size of the whole data, where known (memory, regular files).
  virtual std::optional<uint64_t> Size() const = 0;
  // The whole data in memory, from the first byte, for formats whose
  // decoder needs the whole file (WebP, BMP, ...). Only before any Read.
  virtual std::span<const uint8_t> All() = 0;
};

// Where an encoder's bytes go.
class Sink {
 public:
  virtual ~Sink() = default;
  // Appends bytes after the last byte written so far (by Write or
  // WriteAt). Throws Error(kOutput) if they cannot be written.
  virtual void Write(const void* data, size_t n) = 0;
  // Whether WriteAt works: a file or memory, not a pipe. Encoders of
  // formats whose early bytes point at later ones (TIFF's header at its
  // directory) or whose rows are stored bottom-up (BMP) write as they go
  // when it does, and keep the file in memory until the end when not.
  virtual bool Seekable() const { return false; }
  // Writes bytes at `offset`: over bytes written before, or past the end
  // (the gap reads as zeros until written). Only when Seekable().
  virtual void WriteAt(uint64_t offset, const void* data, size_t n);
};

// A sink collecting the bytes in memory.
class VectorSink : public Sink {
 public:
  void Write(const void* data, size_t n) override;
  bool Seekable() const override { return true; }
  void WriteAt(uint64_t offset, const void* data, size_t n) override;
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

// An open image: header read, size and sample type known, pixels not yet.
class Decoder {
 public:
  virtual ~Decoder() = default;
  // The samples ReadRows delivers (what the file holds, widened where the
  // file's sample type has no depth of its own: see each decoder).
  const PixelFormat& format() const { return format_; }
  // ICC, EXIF and XMP found in the header (and, for formats that keep them
  // after the pixels, complete after Finish).
  Metadata& metadata() { return metadata_; }
  // The file format's own orientation tag (TIFF tag 274), 1 to 8, or 0
  // when the format has none and the EXIF says it.
  int orientation() const { return orientation_; }

  // Reads the next `rows` rows, top to bottom, into `dst` (rows `stride`
  // bytes apart, each format().RowBytes() long). Throws Error(kInput,
  // "input '<name>': <reason>") if the data is truncated or corrupt.
  virtual void ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) = 0;
  // Called after the last row: checks that the file ends as it should
  // (PNG's IEND, JPEG's end of image) and reads trailing metadata.
  virtual void Finish() {}
  // True when metadata() is complete before the first row: nothing the
  // outputs carry can follow the pixels. False for a PNG that keeps ICC,
  // EXIF or text after its image data, or whose chunks could not be
  // looked over first (a pipe).
  virtual bool MetadataFirst() const { return true; }

 protected:
  PixelFormat format_;
  Metadata metadata_;
  int orientation_ = 0;
};

// JPEG's quality when none is given (OpenCV's default).
inline constexpr int kDefaultJpegQuality = 95;

// Output settings the user chooses.
// How a large PNG's bands are deflated (png_deflate.h): zlib level 1 with
// Z_RLE, as libpng does for convcorr, or ISA-L's igzip level 1: three to
// four times faster, files about as large on colourful images (compare's
// heat maps) and up to 18% larger on flat ones (docs/performance.md, "PNG
// deflate").
enum class PngDeflate { kZlib, kIsal };

struct EncodeOptions {
  // JPEG and WebP quality, 1 to 100; 0 takes the format's default (JPEG
  // 95; WebP lossless).
  int quality = 0;
  // Threads deflating a large PNG (png_deflate.h); 0: the machine's
  // hardware concurrency. The bytes written do not depend on it.
  int threads = 0;
  // The deflate of a large PNG's bands; smaller PNGs always take libpng's
  // zlib stream.
  PngDeflate png_deflate = PngDeflate::kZlib;
};

// An encoder: rows in, bytes out to its sink.
class Encoder {
 public:
  virtual ~Encoder() = default;
  // Encodes the next `rows` rows (top to bottom, `stride` bytes apart, in
  // the PixelFormat the encoder was made for). Throws Error(kOutput,
  // "output '<name>': <reason>").
  virtual void WriteRows(const std::byte* src, std::ptrdiff_t stride,
                         int rows) = 0;
  // After the last row: writes what remains to the sink.
  virtual void Finish() = 0;
};

// The one-line errors every codec throws.
[[noreturn]] void ThrowInput(std::string_view name, const std::string& why);
[[noreturn]] void ThrowOutput(std::string_view name, const std::string& why);
// strerror(err) starting lowercase, as every convcorr message does.
std::string ErrnoText(int err);

// ---- The codecs (one file each: io/<format>_codec.cc). ----
// A decoder opened on `source` (positioned at the first byte) has read the
// header only. `name` is what errors quote (a path, or "-").

std::unique_ptr<Decoder> OpenPng(Source& source, std::string_view name);
std::unique_ptr<Decoder> OpenJpeg(Source& source, std::string_view name);
std::unique_ptr<Decoder> OpenTiff(Source& source, std::string_view name);
std::unique_ptr<Decoder> OpenWebp(Source& source, std::string_view name);
// PNM (P1-P6), PAM (P7) and PFM (PF, Pf).
std::unique_ptr<Decoder> OpenPnm(Source& source, std::string_view name);

// Encoders for `format` of the given samples. Metadata the format can
// hold is written (an empty Metadata writes none).
std::unique_ptr<Encoder> NewPngEncoder(const PixelFormat& format,
                                       const Metadata& metadata,
                                       const EncodeOptions& options, Sink& sink,
                                       std::string_view name);
std::unique_ptr<Encoder> NewJpegEncoder(const PixelFormat& format,
                                        const Metadata& metadata,
                                        const EncodeOptions& options,
                                        Sink& sink, std::string_view name);
std::unique_ptr<Encoder> NewTiffEncoder(const PixelFormat& format,
                                        const Metadata& metadata,
                                        const EncodeOptions& options,
                                        Sink& sink, std::string_view name);
std::unique_ptr<Encoder> NewWebpEncoder(const PixelFormat& format,
                                        const Metadata& metadata,
                                        const EncodeOptions& options,
                                        Sink& sink, std::string_view name);
// `kind`: "pgm" (1 channel), "ppm" (3 channels), "pnm" (either), "pfm"
// (float, 1 or 3 channels). A non-empty `provenance` is a comment line of
// the PGM or PPM header (PFM has none).
std::unique_ptr<Encoder> NewPnmEncoder(std::string_view kind,
                                       const PixelFormat& format, Sink& sink,
                                       std::string_view name,
                                       std::string_view provenance = {});
// 8-bit gray (with a grey palette) or B,G,R: no metadata, no provenance.
std::unique_ptr<Encoder> NewBmpEncoder(const PixelFormat& format, Sink& sink,
                                       std::string_view name);

}  // namespace convcorr::io
