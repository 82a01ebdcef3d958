// JPEG on libjpeg-turbo's libjpeg API.
//
// Design:
// - Each decoder and encoder owns its libjpeg struct, its error manager and
//   its source or destination manager; nothing is global, so files decode
//   and encode in parallel threads.
// - libjpeg reports fatal errors by calling error_exit, which must not
//   return. Ours formats the message into the handle and longjmps back to a
//   setjmp taken in a small function (the *Guarded members) whose locals
//   have trivial destructors; the C++ exception is thrown only after setjmp
//   has returned, never through libjpeg's frames. Warnings are recorded per
//   handle, nothing is printed. Exceptions from the Source or Sink are
//   caught in the callback, kept, and rethrown the same way.
// - Decoding matches OpenCV 4.6's imdecode(IMREAD_UNCHANGED) sample for
//   sample: libjpeg's default DCT and fancy upsampling, gray files as one
//   channel, everything else as B,G,R, CMYK and YCCK through OpenCV's
//   CMYK-to-BGR formula (which assumes Adobe's inverted CMYK). Encoding
//   matches cv::imencode(".jpg") byte for byte when there is no metadata.
// - libjpeg decodes a truncated or damaged file without failing: it fills
//   the missing part with grey and warns. Our source inserts a fake EOI at
//   the end of the data (as libjpeg's stdio source does) and remembers it,
//   and the warnings that mean pixels are missing or wrong are recorded;
//   either fails the file, after every band of rows and at Finish. A file
//   that ends without EOI is truncated even if its scans are complete.
#include <algorithm>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// jpeglib.h after <cstdio> (it needs FILE and size_t), jerror.h after
// jpeglib.h (its list of codes depends on jpeglib.h's configuration).
// clang-format off
#include <jpeglib.h>
#include <jerror.h>
// clang-format on

#include "common/error.h"
#include "io/codec.h"

namespace convcorr::io {
namespace {

// Source reads and sink writes go in chunks of this size.
constexpr size_t kChunk = 64 * 1024;

// A legitimate progressive file has about ten scans; a hostile one can
// have thousands, each a pass over the whole image (libjpeg-turbo's own
// fuzzers stop at 500).
constexpr int kMaxScans = 500;

constexpr char kTruncated[] = "truncated JPEG (no end-of-image marker)";
constexpr char kMissingData[] =
    "truncated or corrupt JPEG (the decoder reports missing data)";

constexpr char kExifId[] = "Exif\0\0";  // 6 bytes
constexpr size_t kExifIdSize = 6;
constexpr char kXmpId[] = "http://ns.adobe.com/xap/1.0/";  // then a NUL
constexpr size_t kXmpIdSize = sizeof kXmpId;               // with the NUL
// What one marker segment can carry after its length field.
constexpr size_t kMaxMarkerData = 65533;
// jpeg_write_icc_profile numbers its chunks in one byte.
constexpr size_t kMaxIcc = 255 * (kMaxMarkerData - 14);

// The error manager of one handle. Standard layout with `pub` first, so
// libjpeg's cinfo->err converts back to it.
struct ErrorManager {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool missing_data;  // a warning saying pixels are missing or wrong
};

[[noreturn]] void ErrorExit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void EmitMessage(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
  ++err->pub.num_warnings;
  switch (err->pub.msg_code) {
    // The "Corrupt JPEG data" warnings about entropy-coded data, and the
    // end of the file. Not JWRN_EXTRANEOUS_DATA (bytes skipped between
    // segments: no pixel is lost) nor JWRN_BOGUS_ICC (the profile is
    // dropped, the pixels are fine).
    case JWRN_ARITH_BAD_CODE:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_JPEG_EOF:
    case JWRN_MUST_RESYNC:
      err->missing_data = true;
      break;
    default:
      break;
  }
}

void OutputMessage(j_common_ptr) {}

void InitErrorManager(ErrorManager& err) {
  jpeg_std_error(&err.pub);
  err.pub.error_exit = ErrorExit;
  err.pub.emit_message = EmitMessage;
  err.pub.output_message = OutputMessage;
  err.message[0] = '\0';
  err.missing_data = false;
}

// libjpeg's message, on one printable line.
std::string Printable(const char* message) {
  std::string s = message;
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return s;
}

bool StartsWith(const jpeg_marker_struct* m, const char* id, size_t n) {
  return m->data_length >= n && std::memcmp(m->data, id, n) == 0;
}

class JpegDecoder final : public Decoder {
 public:
  JpegDecoder(Source& source, std::string_view name)
      : source_(source), name_(name), buffer_(new JOCTET[kChunk]) {}
  ~JpegDecoder() override { jpeg_destroy_decompress(&cinfo_); }
  JpegDecoder(const JpegDecoder&) = delete;
  JpegDecoder& operator=(const JpegDecoder&) = delete;

  void Open() {
    JOCTET* icc = nullptr;
    unsigned icc_size = 0;
    const bool ok = OpenGuarded(&icc, &icc_size);
    if (icc != nullptr) {
      metadata_.icc.assign(icc, icc + icc_size);
      std::free(icc);  // jpeg_read_icc_profile allocates with malloc
    }
    if (!ok) Fail();
    for (auto* m = cinfo_.marker_list; m != nullptr; m = m->next) {
      if (m->marker != JPEG_APP0 + 1) continue;
      if (metadata_.exif.empty() && StartsWith(m, kExifId, kExifIdSize)) {
        metadata_.exif.assign(m->data + kExifIdSize, m->data + m->data_length);
      } else if (metadata_.xmp.empty() && StartsWith(m, kXmpId, kXmpIdSize)) {
        metadata_.xmp.assign(
            reinterpret_cast<const char*>(m->data) + kXmpIdSize,
            m->data_length - kXmpIdSize);
      }
    }
    format_.width = static_cast<int>(cinfo_.image_width);
    format_.height = static_cast<int>(cinfo_.image_height);
    format_.channels = cinfo_.num_components > 1 ? 3 : 1;
    format_.depth = core::Depth::kU8;
    cmyk_ = cinfo_.num_components == 4;
    cinfo_.out_color_space = format_.channels == 1 ? JCS_GRAYSCALE
                             : cmyk_               ? JCS_CMYK
                                                   : JCS_EXT_BGR;
    if (cmyk_) cmyk_row_.resize(size_t{cinfo_.image_width} * 4);
  }

  void ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) override {
    if (failed_ || rows < 0 || rows > format_.height - rows_read_) {
      throw Error(ErrorKind::kInternal,
                  "jpeg decoder: rows asked past the end or after an error");
    }
    if (!started_) {
      started_ = true;
      if (!StartGuarded()) Fail();
    }
    if (!ReadGuarded(dst, stride, rows)) Fail();
    rows_read_ += rows;
    CheckData();
  }

  void Finish() override {
    if (failed_ || rows_read_ != format_.height) {
      throw Error(ErrorKind::kInternal, "jpeg decoder: finished early");
    }
    if (!FinishGuarded()) Fail();
    CheckData();
  }

 private:
  // The *Guarded members return false if libjpeg failed (err_.message says
  // why). Their locals must have trivial destructors: a longjmp skips them.
  bool OpenGuarded(JOCTET** icc, unsigned* icc_size) {
    if (setjmp(err_.jump) != 0) return false;
    InitErrorManager(err_);
    cinfo_.err = &err_.pub;
    jpeg_create_decompress(&cinfo_);
    cinfo_.client_data = this;
    src_.init_source = [](j_decompress_ptr) {};
    src_.fill_input_buffer = FillInput;
    src_.skip_input_data = SkipInput;
    src_.resync_to_restart = jpeg_resync_to_restart;
    src_.term_source = [](j_decompress_ptr) {};
    src_.bytes_in_buffer = 0;
    src_.next_input_byte = nullptr;
    cinfo_.src = &src_;
    jpeg_save_markers(&cinfo_, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(&cinfo_, JPEG_APP0 + 2, 0xFFFF);
    jpeg_read_header(&cinfo_, TRUE);
    jpeg_read_icc_profile(&cinfo_, icc, icc_size);
    return true;
  }

  bool StartGuarded() {
    if (setjmp(err_.jump) != 0) return false;
    progress_.progress_monitor = LimitScans;
    cinfo_.progress = &progress_;
    jpeg_start_decompress(&cinfo_);
    return true;
  }

  bool ReadGuarded(std::byte* dst, std::ptrdiff_t stride, int rows) {
    if (setjmp(err_.jump) != 0) return false;
    for (int y = 0; y < rows; ++y) {
      auto* out = reinterpret_cast<JSAMPLE*>(dst + y * stride);
      JSAMPROW row = cmyk_ ? cmyk_row_.data() : out;
      jpeg_read_scanlines(&cinfo_, &row, 1);
      if (cmyk_) CmykToBgr(row, out, format_.width);
    }
    return true;
  }

  bool FinishGuarded() {
    if (setjmp(err_.jump) != 0) return false;
    jpeg_finish_decompress(&cinfo_);
    return true;
  }

  // OpenCV's icvCvt_CMYK2BGR_8u_C4C3R: it takes every CMYK JPEG to be
  // Adobe's inverted CMYK (as Photoshop writes it) and libjpeg passes the
  // stored values through, so C' = K - (255 - C) * K / 256 is R.
  static void CmykToBgr(const JSAMPLE* cmyk, JSAMPLE* bgr, int width) {
    for (int x = 0; x < width; ++x, cmyk += 4, bgr += 3) {
      const int k = cmyk[3];
      bgr[2] = static_cast<JSAMPLE>(k - (((255 - cmyk[0]) * k) >> 8));
      bgr[1] = static_cast<JSAMPLE>(k - (((255 - cmyk[1]) * k) >> 8));
      bgr[0] = static_cast<JSAMPLE>(k - (((255 - cmyk[2]) * k) >> 8));
    }
  }

  static boolean FillInput(j_decompress_ptr cinfo) {
    auto& self = *static_cast<JpegDecoder*>(cinfo->client_data);
    size_t n = 0;
    if (!self.hit_end_) {
      try {
        n = self.source_.Read(self.buffer_.get(), kChunk);
      } catch (...) {
        self.read_error_ = std::current_exception();
      }
      if (self.read_error_) ERREXIT(cinfo, JERR_FILE_READ);
    }
    if (n == 0) {
      if (!self.any_data_) ERREXIT(cinfo, JERR_INPUT_EMPTY);
      // As libjpeg's stdio source does: a fake EOI ends whatever libjpeg
      // is reading, and the file is remembered as truncated.
      self.buffer_[0] = 0xFF;
      self.buffer_[1] = JPEG_EOI;
      n = 2;
      self.hit_end_ = true;
    }
    self.any_data_ = true;
    cinfo->src->next_input_byte = self.buffer_.get();
    cinfo->src->bytes_in_buffer = n;
    return TRUE;
  }

  static void SkipInput(j_decompress_ptr cinfo, long n) {
    if (n <= 0) return;
    jpeg_source_mgr* src = cinfo->src;
    auto skip = static_cast<size_t>(n);
    while (skip > src->bytes_in_buffer) {
      skip -= src->bytes_in_buffer;
      FillInput(cinfo);
      // Past the end: leave the fake EOI for libjpeg to find.
      if (static_cast<JpegDecoder*>(cinfo->client_data)->hit_end_) return;
    }
    src->next_input_byte += skip;
    src->bytes_in_buffer -= skip;
  }

  static void LimitScans(j_common_ptr cinfo) {
    auto* d = reinterpret_cast<j_decompress_ptr>(cinfo);
    if (d->input_scan_number <= kMaxScans) return;
    auto* err = reinterpret_cast<ErrorManager*>(cinfo->err);
    std::snprintf(err->message, sizeof err->message, "more than %d scans",
                  kMaxScans);
    std::longjmp(err->jump, 1);
  }

  // Throws the error that stopped libjpeg.
  [[noreturn]] void Fail() {
    failed_ = true;
    if (read_error_) std::rethrow_exception(read_error_);
    if (hit_end_) ThrowInput(name_, kTruncated);
    ThrowInput(name_, "corrupt JPEG (" + Printable(err_.message) + ")");
  }

  // Throws if the data ended early or the decoder warned of missing data.
  void CheckData() {
    if (hit_end_ || err_.missing_data) {
      failed_ = true;
      ThrowInput(name_, hit_end_ ? kTruncated : kMissingData);
    }
  }

  jpeg_decompress_struct cinfo_{};
  ErrorManager err_{};
  jpeg_source_mgr src_{};
  jpeg_progress_mgr progress_{};
  Source& source_;
  std::string name_;
  std::unique_ptr<JOCTET[]> buffer_;  // kChunk bytes read from source_
  std::vector<JSAMPLE> cmyk_row_;     // one CMYK row, for CMYK files
  std::exception_ptr read_error_;     // what source_.Read threw
  bool cmyk_ = false;
  bool any_data_ = false;
  bool hit_end_ = false;
  bool started_ = false;
  bool failed_ = false;
  int rows_read_ = 0;
};

class JpegEncoder final : public Encoder {
 public:
  JpegEncoder(Sink& sink, std::string_view name)
      : sink_(sink), name_(name), buffer_(new JOCTET[kChunk]) {}
  ~JpegEncoder() override { jpeg_destroy_compress(&cinfo_); }
  JpegEncoder(const JpegEncoder&) = delete;
  JpegEncoder& operator=(const JpegEncoder&) = delete;

  void Start(const PixelFormat& format, const Metadata& metadata, int quality) {
    height_ = format.height;
    std::vector<JOCTET> exif;
    if (!metadata.exif.empty() &&
        metadata.exif.size() <= kMaxMarkerData - kExifIdSize) {
      exif.assign(kExifId, kExifId + kExifIdSize);
      exif.insert(exif.end(), metadata.exif.begin(), metadata.exif.end());
    }
    std::vector<JOCTET> xmp;
    if (!metadata.xmp.empty() &&
        metadata.xmp.size() <= kMaxMarkerData - kXmpIdSize) {
      xmp.assign(kXmpId, kXmpId + kXmpIdSize);
      xmp.insert(xmp.end(), metadata.xmp.begin(), metadata.xmp.end());
    }
    const size_t icc_size =
        metadata.icc.size() <= kMaxIcc ? metadata.icc.size() : 0;
    std::vector<JOCTET> comment(metadata.provenance.begin(),
                                metadata.provenance.end());
    if (comment.size() > kMaxMarkerData) comment.clear();
    if (!StartGuarded(format, quality, exif, metadata.icc.data(), icc_size, xmp,
                      comment)) {
      Fail();
    }
  }

  void WriteRows(const std::byte* src, std::ptrdiff_t stride,
                 int rows) override {
    if (failed_ || rows < 0 || rows > height_ - rows_written_) {
      throw Error(ErrorKind::kInternal,
                  "jpeg encoder: rows given past the end or after an error");
    }
    if (!WriteGuarded(src, stride, rows)) Fail();
    rows_written_ += rows;
  }

  void Finish() override {
    if (failed_) throw Error(ErrorKind::kInternal, "jpeg encoder: failed");
    if (!FinishGuarded()) Fail();
  }

 private:
  // As in JpegDecoder: locals with trivial destructors only.
  bool StartGuarded(const PixelFormat& format, int quality,
                    const std::vector<JOCTET>& exif, const JOCTET* icc,
                    size_t icc_size, const std::vector<JOCTET>& xmp,
                    const std::vector<JOCTET>& comment) {
    if (setjmp(err_.jump) != 0) return false;
    InitErrorManager(err_);
    cinfo_.err = &err_.pub;
    jpeg_create_compress(&cinfo_);
    cinfo_.client_data = this;
    dest_.init_destination = [](j_compress_ptr) {};
    dest_.empty_output_buffer = EmptyOutput;
    dest_.term_destination = TermDestination;
    dest_.next_output_byte = buffer_.get();
    dest_.free_in_buffer = kChunk;
    cinfo_.dest = &dest_;
    cinfo_.image_width = static_cast<JDIMENSION>(format.width);
    cinfo_.image_height = static_cast<JDIMENSION>(format.height);
    cinfo_.input_components = format.channels;
    cinfo_.in_color_space = format.channels == 1 ? JCS_GRAYSCALE : JCS_EXT_BGR;
    // OpenCV's settings: libjpeg's defaults (4:2:0, not optimized, not
    // progressive, JFIF header) and baseline quantization tables.
    jpeg_set_defaults(&cinfo_);
    jpeg_set_quality(&cinfo_, quality, TRUE);
    jpeg_start_compress(&cinfo_, TRUE);
    if (!exif.empty()) {
      jpeg_write_marker(&cinfo_, JPEG_APP0 + 1, exif.data(),
                        static_cast<unsigned>(exif.size()));
    }
    if (icc_size > 0) {
      jpeg_write_icc_profile(&cinfo_, icc, static_cast<unsigned>(icc_size));
    }
    if (!xmp.empty()) {
      jpeg_write_marker(&cinfo_, JPEG_APP0 + 1, xmp.data(),
                        static_cast<unsigned>(xmp.size()));
    }
    // The provenance: a comment, before the frame (ReadProvenance stops at
    // the first scan).
    if (!comment.empty()) {
      jpeg_write_marker(&cinfo_, JPEG_COM, comment.data(),
                        static_cast<unsigned>(comment.size()));
    }
    return true;
  }

  bool WriteGuarded(const std::byte* src, std::ptrdiff_t stride, int rows) {
    if (setjmp(err_.jump) != 0) return false;
    for (int y = 0; y < rows; ++y) {
      // libjpeg reads the row only; its API is not const-correct.
      JSAMPROW row = const_cast<JSAMPLE*>(
          reinterpret_cast<const JSAMPLE*>(src + y * stride));
      jpeg_write_scanlines(&cinfo_, &row, 1);
    }
    return true;
  }

  bool FinishGuarded() {
    if (setjmp(err_.jump) != 0) return false;
    jpeg_finish_compress(&cinfo_);
    return true;
  }

  // Writes `n` bytes of the buffer to the sink; on failure keeps the
  // exception and stops libjpeg.
  static void Flush(j_compress_ptr cinfo, size_t n) {
    auto& self = *static_cast<JpegEncoder*>(cinfo->client_data);
    try {
      self.sink_.Write(self.buffer_.get(), n);
    } catch (...) {
      self.write_error_ = std::current_exception();
    }
    if (self.write_error_) ERREXIT(cinfo, JERR_FILE_WRITE);
    cinfo->dest->next_output_byte = self.buffer_.get();
    cinfo->dest->free_in_buffer = kChunk;
  }

  static boolean EmptyOutput(j_compress_ptr cinfo) {
    Flush(cinfo, kChunk);
    return TRUE;
  }

  static void TermDestination(j_compress_ptr cinfo) {
    Flush(cinfo, kChunk - cinfo->dest->free_in_buffer);
  }

  [[noreturn]] void Fail() {
    failed_ = true;
    if (write_error_) std::rethrow_exception(write_error_);
    ThrowOutput(name_, "jpeg encoder failed (" + Printable(err_.message) + ")");
  }

  jpeg_compress_struct cinfo_{};
  ErrorManager err_{};
  jpeg_destination_mgr dest_{};
  Sink& sink_;
  std::string name_;
  std::unique_ptr<JOCTET[]> buffer_;  // kChunk bytes on their way to sink_
  std::exception_ptr write_error_;    // what sink_.Write threw
  int height_ = 0;
  int rows_written_ = 0;
  bool failed_ = false;
};

}  // namespace

std::unique_ptr<Decoder> OpenJpeg(Source& source, std::string_view name) {
  auto decoder = std::make_unique<JpegDecoder>(source, name);
  decoder->Open();
  return decoder;
}

std::unique_ptr<Encoder> NewJpegEncoder(const PixelFormat& format,
                                        const Metadata& metadata,
                                        const EncodeOptions& options,
                                        Sink& sink, std::string_view name) {
  if (format.depth == core::Depth::kU16) {
    ThrowOutput(name, "jpeg cannot store 16-bit samples");
  }
  if (format.depth == core::Depth::kF32) {
    ThrowOutput(name, "jpeg cannot store float samples");
  }
  if (format.channels == 2 || format.channels == 4) {
    ThrowOutput(name, "jpeg cannot store an alpha channel");
  }
  if (format.channels != 1 && format.channels != 3) {
    throw Error(ErrorKind::kInternal, "jpeg encoder: bad channel count");
  }
  // 95 is OpenCV's default, so unset quality writes what OpenCV wrote.
  const int quality = options.quality == 0
                          ? kDefaultJpegQuality
                          : std::clamp(options.quality, 1, 100);
  auto encoder = std::make_unique<JpegEncoder>(sink, name);
  encoder->Start(format, metadata, quality);
  return encoder;
}

}  // namespace convcorr::io
