// PNG on libpng's own API.
//
// Errors: libpng reports an error by calling an error function that must
// not return. Each png struct gets its own (through a Handler owned by the
// codec object): it records the message and longjmps to the one setjmp, in
// Guarded(). Every libpng call that can fail runs inside Guarded() in a
// lambda whose frames hold only trivially destructible locals, so the
// longjmp skips no destructor, and the C++ exception is thrown only after
// Guarded() has returned. Exceptions from the Source or the Sink are caught
// in the I/O callbacks, parked in the Handler and rethrown the same way.
// The png structs belong to RAII owners outside those frames, so they are
// freed on every path. Warnings are dropped, never printed. Nothing is
// shared between handles, so files decode and encode in parallel.
//
// Decoding follows OpenCV 4.6's imread(IMREAD_UNCHANGED) (grfmt_png.cpp):
// palette and 1/2/4-bit gray expanded to 8 bits, tRNS made an alpha
// channel, 16 bits kept, colour as B,G,R(,A), no gamma conversion; but gray
// with alpha (or with tRNS) stays 2 channels where OpenCV makes 4. Rows are
// decoded as they are asked for, except for interlaced (Adam7) files, whose
// rows are complete only after the last pass: those are decoded whole at
// the first ReadRows.
//
// Encoding uses OpenCV's default imencode(".png") settings (SUB filter,
// zlib level 1, Z_RLE), so that both write the same bytes, for images of
// less than png::kBandedMinBytes of samples. Larger ones are filtered and
// deflated in bands on the encoder's own threads (png_deflate.h): libpng
// still writes the signature, IHDR and the metadata chunks
// (png_write_info), then each band's deflated bytes go out as an IDAT
// chunk through png_write_chunk, and IEND the same way (png_write_end
// refuses a file whose IDAT it did not write). The samples decoded are
// the same; the bytes are not OpenCV's.
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "io/codec.h"
#include "io/png_deflate.h"
#include "io/provenance.h"

namespace convcorr::io {
namespace {

constexpr bool kLittleEndian = std::endian::native == std::endian::little;
// libpng's own default refuses images wider or higher than 1,000,000.
constexpr png_uint_32 kMaxSide = 0x7fffffff;
// Bounds what an iCCP, zTXt or iTXt chunk may decompress to (libpng drops
// a chunk past it): far above any real profile or XMP packet, far below
// what a decompression bomb would take.
// What one ancillary chunk may decompress to, and how many such chunks
// are kept: libpng keeps every text chunk while reading the header, before
// the caller checks the size, so together they bound that memory (128 MiB
// at most, whatever the file).
constexpr png_alloc_size_t kChunkMallocMax = png_alloc_size_t{8} << 20;
constexpr png_uint_32 kChunkCacheMax = 16;
constexpr char kXmpKey[] = "XML:com.adobe.xmp";
constexpr char kRawExifKey[] = "Raw profile type exif";
constexpr std::string_view kExifPrefix("Exif\0\0", 6);
// libpng's own eXIf reader drops a chunk that starts "Exif\0\0" (it wants
// the byte order first), so eXIf is read as an unknown chunk, raw.
constexpr png_byte kExifChunk[] = {'e', 'X', 'I', 'f', '\0'};
constexpr png_byte kIdatChunk[] = {'I', 'D', 'A', 'T', '\0'};
constexpr png_byte kIendChunk[] = {'I', 'E', 'N', 'D', '\0'};

// What the callbacks of one png struct share with its codec.
// The largest single allocation libpng may make for a decoder while it
// reads the chunks before the image data: a chunk's data is at most
// kChunkMallocMax, and so is a decompressed text or profile. libpng 1.6.39
// only warns about a chunk longer than png_set_chunk_malloc_max (a benign
// error) and then allocates and zeroes the whole length, 2 GiB for a
// corrupt tEXt length; the allocator below refuses that instead, and
// libpng reports the chunk as out of memory.
constexpr size_t kHeaderAllocMax = 2 * kChunkMallocMax + (size_t{1} << 20);

struct Handler {
  char message[256] = {};        // libpng's error
  std::exception_ptr exception;  // thrown by the Source or Sink
  Source* source = nullptr;
  Sink* sink = nullptr;
  bool source_ended = false;  // a read came back short
  // A decoder's libpng allocations of more than this fail (CappedMalloc);
  // raised to the rows' needs once the caller has checked the size.
  size_t alloc_max = kHeaderAllocMax;
};

png_voidp CappedMalloc(png_structp png, png_alloc_size_t size) {
  const auto* h = static_cast<const Handler*>(png_get_mem_ptr(png));
  if (h != nullptr && size > h->alloc_max) return nullptr;
  return std::malloc(size);
}

void CappedFree(png_structp, png_voidp p) { std::free(p); }

Handler& HandlerOf(png_structp png, bool io) {
  return *static_cast<Handler*>(io ? png_get_io_ptr(png)
                                   : png_get_error_ptr(png));
}

[[noreturn]] void OnError(png_structp png, png_const_charp msg) {
  char* out = HandlerOf(png, false).message;
  size_t i = 0;
  for (; msg != nullptr && msg[i] != '\0' && i + 1 < sizeof(Handler::message);
       ++i) {
    out[i] = msg[i];
  }
  out[i] = '\0';
  png_longjmp(png, 1);
}

// Warnings (e.g. a known incorrect sRGB profile, a dropped ancillary
// chunk) never change the samples delivered: dropped, not printed.
void OnWarning(png_structp, png_const_charp) {}

// png_error() is called after the catch block has ended: a longjmp must
// not leave a handler.
void ReadData(png_structp png, png_bytep dst, size_t n) {
  Handler& h = HandlerOf(png, true);
  size_t got = 0;
  bool failed = false;
  try {
    got = h.source->Read(dst, n);
  } catch (...) {
    h.exception = std::current_exception();
    failed = true;
  }
  if (failed) png_error(png, "read failed");
  if (got < n) {
    h.source_ended = true;
    png_error(png, "unexpected end of data");
  }
}

void WriteData(png_structp png, png_bytep data, size_t n) {
  Handler& h = HandlerOf(png, true);
  bool failed = false;
  try {
    h.sink->Write(data, n);
  } catch (...) {
    h.exception = std::current_exception();
    failed = true;
  }
  if (failed) png_error(png, "write failed");
}

void FlushData(png_structp) {}  // the Sink flushes when it is done

// Runs `f` (calls into libpng) with libpng's longjmp target set here; false
// if libpng reported an error. Neither this frame nor f's may hold a local
// with a non-trivial destructor.
template <typename F>
bool Guarded(png_structp png, const F& f) {
  if (setjmp(png_jmpbuf(png))) return false;
  f();
  return true;
}

std::string Printable(const char* s) {
  std::string r(s);
  for (char& c : r) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return r;
}

// EXIF as a TIFF structure: some writers put APP1's "Exif\0\0" first.
std::vector<uint8_t> TiffExif(std::string_view data) {
  if (data.starts_with(kExifPrefix)) data.remove_prefix(kExifPrefix.size());
  return std::vector<uint8_t>(data.begin(), data.end());
}

// ImageMagick's "Raw profile type exif": "\nexif\n   <length>\n" then the
// bytes in hex, in lines. Empty if malformed.
std::vector<uint8_t> RawProfile(std::string_view text) {
  const size_t name_end = text.find('\n', text.starts_with('\n') ? 1 : 0);
  if (name_end == std::string_view::npos) return {};
  size_t i = name_end + 1, length = 0;
  while (i < text.size() && text[i] == ' ') ++i;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    length = length * 10 + static_cast<size_t>(text[i] - '0');
    if (length > text.size()) return {};
  }
  std::string bytes;
  int high = -1;
  for (; i < text.size() && bytes.size() < length; ++i) {
    const char c = text[i];
    const int v = c >= '0' && c <= '9'   ? c - '0'
                  : c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                         : -1;
    if (v < 0) continue;  // line breaks
    if (high < 0) {
      high = v;
    } else {
      bytes.push_back(static_cast<char>(high << 4 | v));
      high = -1;
    }
  }
  if (length == 0 || bytes.size() != length) return {};
  return TiffExif(bytes);
}

// Owns a read struct and its two info structs.
class ReadStructs {
 public:
  explicit ReadStructs(Handler* handler)
      : png_(png_create_read_struct_2(PNG_LIBPNG_VER_STRING, handler, OnError,
                                      OnWarning, handler, CappedMalloc,
                                      CappedFree)) {
    if (png_ != nullptr) {
      info_ = png_create_info_struct(png_);
      end_ = png_create_info_struct(png_);
    }
    if (info_ == nullptr || end_ == nullptr) {
      Destroy();
      throw std::bad_alloc();
    }
  }
  ~ReadStructs() { Destroy(); }
  ReadStructs(const ReadStructs&) = delete;
  ReadStructs& operator=(const ReadStructs&) = delete;

  png_structp png() const { return png_; }
  png_infop info() const { return info_; }
  png_infop end() const { return end_; }

 private:
  void Destroy() {
    if (png_ != nullptr) png_destroy_read_struct(&png_, &info_, &end_);
  }
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
  png_infop end_ = nullptr;
};

class PngDecoder final : public Decoder {
 public:
  PngDecoder(Source& source, std::string_view name)
      : name_(name), structs_(&handler_) {
    handler_.source = &source;
    png_structp png = structs_.png();
    png_infop info = structs_.info();
    Check(Guarded(png, [&] {
      png_set_read_fn(png, &handler_, ReadData);
      png_set_user_limits(png, kMaxSide, kMaxSide);
      png_set_chunk_malloc_max(png, kChunkMallocMax);
      png_set_chunk_cache_max(png, kChunkCacheMax);
      png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_ALWAYS, kExifChunk, 1);
      png_read_info(png, info);
      const int color = png_get_color_type(png, info);
      const int bits = png_get_bit_depth(png, info);
      if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
      if (color == PNG_COLOR_TYPE_GRAY && bits < 8) {
        png_set_expand_gray_1_2_4_to_8(png);
      }
      png_set_tRNS_to_alpha(png);
      if (bits == 16 && kLittleEndian) png_set_swap(png);
      if ((color & PNG_COLOR_MASK_COLOR) != 0) png_set_bgr(png);
      if (png_get_interlace_type(png, info) != PNG_INTERLACE_NONE) {
        passes_ = png_set_interlace_handling(png);
      }
    }));
    // The delivered format from IHDR and tRNS alone: png_read_update_info
    // allocates row buffers of the image's width, so it waits for the
    // first ReadRows, after the caller has checked the size.
    const int color = png_get_color_type(png, info);
    const bool trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    format_.width = static_cast<int>(png_get_image_width(png, info));
    format_.height = static_cast<int>(png_get_image_height(png, info));
    format_.channels = color == PNG_COLOR_TYPE_GRAY_ALPHA  ? 2
                       : color == PNG_COLOR_TYPE_RGB_ALPHA ? 4
                       : color == PNG_COLOR_TYPE_GRAY      ? 1 + trns
                                                           : 3 + trns;
    format_.depth = png_get_bit_depth(png, info) == 16 ? core::Depth::kU16
                                                       : core::Depth::kU8;
    AddMetadata(info);
    metadata_first_ = NoMetadataAfterData(source);
  }

  bool MetadataFirst() const override { return metadata_first_; }

  void ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) override {
    if (failure_) std::rethrow_exception(failure_);
    if (rows < 0 || rows > format_.height - next_row_) {
      throw Error(ErrorKind::kInternal, "png decoder: rows past the end");
    }
    const size_t row_bytes = format_.RowBytes();
    png_structp png = structs_.png();
    if (!started_) Start();
    if (passes_ > 1) {
      if (decoded_ < format_.height) DecodeWhole();
      for (int i = 0; i < rows; ++i) {
        std::memcpy(dst + i * stride,
                    image_.data() + (next_row_ + i) * row_bytes, row_bytes);
      }
    } else {
      auto* out = reinterpret_cast<png_bytep>(dst);
      Check(Guarded(png, [&] {
        for (int i = 0; i < rows; ++i) {
          png_read_row(png, out + i * stride, nullptr);
          ++decoded_;
        }
      }));
    }
    next_row_ += rows;
  }

  void Finish() override {
    if (failure_) std::rethrow_exception(failure_);
    if (next_row_ < format_.height) {
      throw Error(ErrorKind::kInternal, "png decoder: Finish before the end");
    }
    png_structp png = structs_.png();
    png_infop end = structs_.end();
    Check(Guarded(png, [&] { png_read_end(png, end); }));
    image_ = {};
    AddMetadata(end);
  }

 private:
  // The transforms applied to the info, with libpng's row buffers.
  void Start() {
    png_structp png = structs_.png();
    png_infop info = structs_.info();
    // Row buffers (the row, the previous row, the expanded row) of a size
    // the caller has accepted; chunks after the image data stay bounded.
    const size_t widest_row =
        static_cast<size_t>(png_get_image_width(png, info)) * 8 + 64;
    handler_.alloc_max = std::max(kHeaderAllocMax, 2 * widest_row);
    Check(Guarded(png, [&] { png_read_update_info(png, info); }));
    if (png_get_channels(png, info) != format_.channels ||
        png_get_rowbytes(png, info) != format_.RowBytes()) {
      throw Error(ErrorKind::kInternal, "png decoder: unexpected row size");
    }
    started_ = true;
  }

  // All passes of an interlaced image into image_ (as png_read_image does).
  void DecodeWhole() {
    const size_t row_bytes = format_.RowBytes();
    image_.resize(row_bytes * static_cast<size_t>(format_.height));
    png_structp png = structs_.png();
    Check(Guarded(png, [&] {
      for (int pass = 0; pass < passes_; ++pass) {
        for (int y = 0; y < format_.height; ++y) {
          png_read_row(png, image_.data() + y * row_bytes, nullptr);
        }
      }
    }));
    decoded_ = format_.height;
  }

  void AddMetadata(png_infop info) {
    png_structp png = structs_.png();
    png_charp icc_name = nullptr;
    int compression = 0;
    png_bytep icc = nullptr;
    png_uint_32 icc_size = 0;
    if (metadata_.icc.empty() &&
        png_get_iCCP(png, info, &icc_name, &compression, &icc, &icc_size) &&
        icc != nullptr) {
      metadata_.icc.assign(icc, icc + icc_size);
    }
    png_unknown_chunkp chunks = nullptr;
    const int chunk_count = png_get_unknown_chunks(png, info, &chunks);
    for (int i = 0; i < chunk_count && metadata_.exif.empty(); ++i) {
      if (std::memcmp(chunks[i].name, kExifChunk, 4) == 0) {
        metadata_.exif = TiffExif(
            {reinterpret_cast<const char*>(chunks[i].data), chunks[i].size});
      }
    }
    png_textp texts = nullptr;
    const int count = png_get_text(png, info, &texts, nullptr);
    for (int i = 0; i < count; ++i) {
      const std::string_view key = texts[i].key;
      const char* text = texts[i].text != nullptr ? texts[i].text : "";
      if (key == kXmpKey && metadata_.xmp.empty()) {
        metadata_.xmp = text;
      } else if (key == kRawExifKey && metadata_.exif.empty()) {
        metadata_.exif = RawProfile(text);
      }
    }
  }

  void Check(bool ok) {
    if (!ok) Fail();
  }

  // Throws the error libpng reported, and again at every later call (the
  // png struct is unusable after a longjmp).
  [[noreturn]] void Fail() {
    try {
      if (handler_.exception) std::rethrow_exception(handler_.exception);
      if (handler_.source_ended) {
        const bool all_rows = format_.height > 0 && decoded_ == format_.height;
        ThrowInput(name_, all_rows ? "truncated PNG (no IEND chunk)"
                                   : "truncated PNG (the image data ends "
                                     "early)");
      }
      ThrowInput(name_, "corrupt PNG (" + Printable(handler_.message) + ")");
    } catch (...) {
      failure_ = std::current_exception();
      throw;
    }
  }

  // Looks over the chunk headers of a seekable file (12 bytes each, the
  // data skipped): true if no chunk that could carry the metadata the
  // decoder keeps follows the first IDAT: no iCCP or eXIf, and no text
  // chunk (tEXt, zTXt, iTXt) keyed for XMP or a raw EXIF profile, whose
  // keyword (the data's first bytes, up to a NUL) is read for the test.
  // Other text after the image data, such as the date chunks ImageMagick
  // writes there, carries nothing an output keeps, so such a file still
  // streams.
  static bool NoMetadataAfterData(Source& source) {
    if (!source.Seekable()) return false;
    const std::optional<uint64_t> size = source.Size();
    if (!size) return false;
    static constexpr std::string_view kBinary[] = {"iCCP", "eXIf"};
    static constexpr std::string_view kText[] = {"tEXt", "zTXt", "iTXt"};
    // The keyword of the text chunk at `at`: whether it is one AddMetadata
    // reads (a keyword is 1 to 79 bytes).
    const auto kept_text = [&](uint64_t at, uint64_t length) {
      char key[80] = {};
      const size_t n = static_cast<size_t>(std::min<uint64_t>(length, 80));
      if (source.ReadAt(at + 8, key, n) != n) return true;
      std::string_view k(key, n);
      k = k.substr(0, k.find('\0'));
      return k == kXmpKey || k == kRawExifKey;
    };
    uint64_t at = 8;  // after the signature
    bool data_seen = false;
    // A bound on the walk: a file of millions of tiny chunks is read whole.
    for (int chunks = 0; chunks < (1 << 20) && at + 12 <= *size; ++chunks) {
      uint8_t head[8];
      if (source.ReadAt(at, head, 8) != 8) return false;
      const uint64_t length = uint64_t{head[0]} << 24 |
                              uint64_t{head[1]} << 16 | uint64_t{head[2]} << 8 |
                              uint64_t{head[3]};
      const std::string_view type(reinterpret_cast<const char*>(head + 4), 4);
      if (type == "IEND") return true;
      if (type == "IDAT") {
        data_seen = true;
      } else if (data_seen) {
        for (const std::string_view t : kBinary) {
          if (type == t) return false;
        }
        for (const std::string_view t : kText) {
          if (type == t && kept_text(at, length)) return false;
        }
      }
      at += 12 + length;
    }
    return false;
  }

  std::string name_;
  Handler handler_;  // before structs_, which points to it
  ReadStructs structs_;
  bool metadata_first_ = false;
  int passes_ = 1;
  bool started_ = false;
  int decoded_ = 0;             // rows libpng has completed
  int next_row_ = 0;            // rows delivered
  std::vector<uint8_t> image_;  // an interlaced image, whole
  std::exception_ptr failure_;
};

// Owns a write struct and its info struct.
class WriteStructs {
 public:
  explicit WriteStructs(Handler* handler)
      : png_(png_create_write_struct(PNG_LIBPNG_VER_STRING, handler, OnError,
                                     OnWarning)) {
    if (png_ != nullptr) info_ = png_create_info_struct(png_);
    if (info_ == nullptr) {
      Destroy();
      throw std::bad_alloc();
    }
  }
  ~WriteStructs() { Destroy(); }
  WriteStructs(const WriteStructs&) = delete;
  WriteStructs& operator=(const WriteStructs&) = delete;

  png_structp png() const { return png_; }
  png_infop info() const { return info_; }

 private:
  void Destroy() {
    if (png_ != nullptr) png_destroy_write_struct(&png_, &info_);
  }
  png_structp png_ = nullptr;
  png_infop info_ = nullptr;
};

class PngEncoder final : public Encoder {
 public:
  PngEncoder(const PixelFormat& format, const Metadata& metadata, int threads,
             PngDeflate png_deflate, Sink& sink, std::string_view name)
      : name_(name), height_(format.height), structs_(&handler_) {
    handler_.sink = &sink;
    static constexpr int kColorTypes[] = {
        PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
        PNG_COLOR_TYPE_RGB_ALPHA};
    const int color = kColorTypes[format.channels - 1];
    const int bits = format.depth == core::Depth::kU16 ? 16 : 8;
    png_structp png = structs_.png();
    png_infop info = structs_.info();
    Check(Guarded(png, [&] {
      png_set_write_fn(png, &handler_, WriteData, FlushData);
      png_set_user_limits(png, kMaxSide, kMaxSide);
      // A profile libpng rejects (malformed, or not for this colour type)
      // is then left out with a warning instead of failing the file.
      png_set_benign_errors(png, 1);
      // OpenCV's imencode(".png") defaults: fast, and the same bytes.
      png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
      png_set_compression_level(png, Z_BEST_SPEED);
      png_set_compression_strategy(png, Z_RLE);
      png_set_IHDR(png, info, static_cast<png_uint_32>(format.width),
                   static_cast<png_uint_32>(format.height), bits, color,
                   PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                   PNG_FILTER_TYPE_DEFAULT);
      if (!metadata.icc.empty()) {
        png_set_iCCP(png, info, "ICC Profile", PNG_COMPRESSION_TYPE_BASE,
                     metadata.icc.data(),
                     static_cast<png_uint_32>(metadata.icc.size()));
      }
      if (!metadata.exif.empty()) {
        png_set_eXIf_1(png, info,
                       static_cast<png_uint_32>(metadata.exif.size()),
                       const_cast<png_bytep>(metadata.exif.data()));
      }
      if (!metadata.xmp.empty()) {
        png_text text{};
        text.compression = PNG_ITXT_COMPRESSION_NONE;
        text.key = const_cast<png_charp>(kXmpKey);
        text.text = const_cast<png_charp>(metadata.xmp.c_str());
        png_set_text(png, info, &text, 1);
      }
      if (!metadata.provenance.empty()) {
        // tEXt (Latin-1, uncompressed): the text is printable ASCII, and
        // written before IDAT, where ReadProvenance looks.
        png_text text{};
        text.compression = PNG_TEXT_COMPRESSION_NONE;
        text.key = const_cast<png_charp>(kPngProvenanceKey);
        text.text = const_cast<png_charp>(metadata.provenance.c_str());
        png_set_text(png, info, &text, 1);
      }
      png_write_info(png, info);
      if ((color & PNG_COLOR_MASK_COLOR) != 0) png_set_bgr(png);
      if (bits == 16 && kLittleEndian) png_set_swap(png);
    }));
    if (format.RowBytes() * static_cast<size_t>(format.height) >=
        png::kBandedMinBytes) {
      banded_ = std::make_unique<png::BandedIdat>(
          format, threads, name,
          [this](const uint8_t* data, size_t size) {
            // A chunk holds at most 2^31 - 1 bytes; a band (one row of a
            // very wide image) may deflate to more.
            constexpr size_t kMaxChunk = size_t{1} << 30;
            for (size_t at = 0; at < size; at += kMaxChunk) {
              WriteChunk(kIdatChunk, data + at, std::min(kMaxChunk, size - at));
            }
          },
          png_deflate);
    }
  }

  void WriteRows(const std::byte* src, std::ptrdiff_t stride,
                 int rows) override {
    if (failure_) std::rethrow_exception(failure_);
    if (rows < 0 || rows > height_ - written_) {
      throw Error(ErrorKind::kInternal, "png encoder: rows past the end");
    }
    if (banded_) {
      Banded([&] { banded_->WriteRows(src, stride, rows); });
      written_ += rows;
      return;
    }
    png_structp png = structs_.png();
    const auto* in = reinterpret_cast<png_const_bytep>(src);
    Check(Guarded(png, [&] {
      for (int i = 0; i < rows; ++i) {
        png_write_row(png, in + i * stride);
        ++written_;
      }
    }));
  }

  void Finish() override {
    if (failure_) std::rethrow_exception(failure_);
    if (written_ < height_) {
      throw Error(ErrorKind::kInternal, "png encoder: Finish before the end");
    }
    if (banded_) {
      Banded([&] {
        banded_->Finish();
        WriteChunk(kIendChunk, nullptr, 0);
      });
      return;
    }
    png_structp png = structs_.png();
    Check(Guarded(png, [&] { png_write_end(png, nullptr); }));
  }

 private:
  // One chunk (length, type, data, CRC) through libpng and the Sink.
  void WriteChunk(const png_byte* type, const uint8_t* data, size_t size) {
    png_structp png = structs_.png();
    Check(Guarded(png, [&] { png_write_chunk(png, type, data, size); }));
  }

  // Runs `f` on the banded path: any failure (the Sink's, zlib's, libpng's)
  // is thrown again by every later call. BandedIdat has stopped its
  // threads before it throws.
  template <typename F>
  void Banded(const F& f) {
    try {
      f();
    } catch (...) {
      if (!failure_) failure_ = std::current_exception();
      throw;
    }
  }

  void Check(bool ok) {
    if (ok) return;
    try {
      if (handler_.exception) std::rethrow_exception(handler_.exception);
      ThrowOutput(name_,
                  "cannot write PNG (" + Printable(handler_.message) + ")");
    } catch (...) {
      failure_ = std::current_exception();
      throw;
    }
  }

  std::string name_;
  int height_;
  int written_ = 0;
  Handler handler_;  // before structs_, which points to it
  WriteStructs structs_;
  std::exception_ptr failure_;
  // Large images: the image data in bands on threads (after structs_,
  // which its chunks go through; destroyed first, joining its threads).
  std::unique_ptr<png::BandedIdat> banded_;
};

}  // namespace

std::unique_ptr<Decoder> OpenPng(Source& source, std::string_view name) {
  return std::make_unique<PngDecoder>(source, name);
}

std::unique_ptr<Encoder> NewPngEncoder(const PixelFormat& format,
                                       const Metadata& metadata,
                                       const EncodeOptions& options, Sink& sink,
                                       std::string_view name) {
  if (format.depth == core::Depth::kF32) {
    ThrowOutput(name, "png cannot store float samples");
  }
  if (format.channels < 1 || format.channels > 4) {
    ThrowOutput(name, "png cannot store " + std::to_string(format.channels) +
                          " channels");
  }
  return std::make_unique<PngEncoder>(format, metadata, options.threads,
                                      options.png_deflate, sink, name);
}

}  // namespace convcorr::io
