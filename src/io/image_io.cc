// Decoding and encoding through OpenCV, with the checks OpenCV does not
// make (header limits, truncation, depth per format), and atomic writes.
#include "io/image_io.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <mutex>
#include <optional>
#include <thread>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>
#include <string>

#include "common/error.h"

namespace convcorr::io {

std::mutex& StderrMutex() {
  static std::mutex mutex;
  return mutex;
}

namespace fs = std::filesystem;

namespace {

[[noreturn]] void InputError(std::string_view name, const std::string& why) {
  throw Error(ErrorKind::kInput,
              "input '" + std::string(name) + "': " + why);
}

[[noreturn]] void OutputError(std::string_view name, const std::string& why) {
  throw Error(ErrorKind::kOutput,
              "output '" + std::string(name) + "': " + why);
}

// strerror text starting lowercase, as every convcorr message does.
std::string ErrnoText(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(s[0]));
  return s;
}

bool IsPng(std::span<const uint8_t> b) {
  static const uint8_t kSig[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  return b.size() >= 8 && std::equal(kSig, kSig + 8, b.begin());
}

bool IsJpeg(std::span<const uint8_t> b) {
  return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
}

// A PNG is complete when its chunk chain reaches IEND inside the data.
bool PngHasIend(std::span<const uint8_t> b) {
  size_t o = 8;
  while (o + 8 <= b.size()) {
    const uint64_t len = (uint64_t{b[o]} << 24) | (uint64_t{b[o + 1]} << 16) |
                         (uint64_t{b[o + 2]} << 8) | b[o + 3];
    if (std::memcmp(b.data() + o + 4, "IEND", 4) == 0) {
      return o + 12 + len <= b.size();
    }
    o += 12 + len;
  }
  return false;
}

// A JPEG is complete when, walking its segments and entropy-coded scans,
// an EOI marker is reached. (libjpeg decodes a truncated file silently,
// filling the rest with grey.) EOI inside an EXIF thumbnail does not count:
// segments are skipped by their lengths.
bool JpegHasEoi(std::span<const uint8_t> b) {
  size_t o = 2;
  for (;;) {
    while (o < b.size() && b[o] == 0xFF && o + 1 < b.size() &&
           b[o + 1] == 0xFF) {
      ++o;  // fill bytes
    }
    if (o + 2 > b.size() || b[o] != 0xFF) return false;
    const uint8_t marker = b[o + 1];
    if (marker == 0xD9) return true;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
      o += 2;
      continue;
    }
    if (o + 4 > b.size()) return false;
    const size_t len = (size_t{b[o + 2]} << 8) | b[o + 3];
    if (len < 2) return false;
    o += 2 + len;
    if (marker != 0xDA) continue;
    // Entropy-coded data: runs until a marker other than a stuffed 0xFF00
    // or a restart marker.
    for (;;) {
      while (o < b.size() && b[o] != 0xFF) ++o;
      if (o + 1 >= b.size()) return false;
      const uint8_t next = b[o + 1];
      if (next == 0x00 || (next >= 0xD0 && next <= 0xD7) || next == 0xFF) {
        o += next == 0xFF ? 1 : 2;
        continue;
      }
      break;
    }
  }
}

// Codec libraries (libpng, libjpeg, libtiff) print warnings such as
// "libpng warning: iCCP: known incorrect sRGB profile" straight to stderr.
// convcorr reports every problem itself in one line, so while OpenCV codes
// or decodes their output is captured in a memory file instead: kept from
// the user, and read for the libjpeg warnings that mean data is missing.
// The descriptor is the process's, so captures are taken one at a time,
// under the mutex that printing threads also hold (StderrMutex).
class CaptureStderr {
 public:
  CaptureStderr() : lock_(StderrMutex()) {
    std::fflush(stderr);
    saved_ = ::dup(STDERR_FILENO);
    capture_ = ::memfd_create("convcorr-codec-messages", MFD_CLOEXEC);
    if (saved_ >= 0 && capture_ >= 0) ::dup2(capture_, STDERR_FILENO);
  }
  ~CaptureStderr() {
    Restore();
    if (capture_ >= 0) ::close(capture_);
  }
  CaptureStderr(const CaptureStderr&) = delete;
  CaptureStderr& operator=(const CaptureStderr&) = delete;

  // Puts stderr back and returns what was written meanwhile.
  std::string Finish() {
    Restore();
    std::string text;
    if (capture_ < 0) return text;
    char buf[4096];
    ::lseek(capture_, 0, SEEK_SET);
    for (ssize_t n; (n = ::read(capture_, buf, sizeof buf)) > 0;) {
      text.append(buf, static_cast<size_t>(n));
      if (text.size() > 65536) break;
    }
    ::close(capture_);
    capture_ = -1;
    return text;
  }

 private:
  void Restore() {
    std::fflush(stderr);
    if (saved_ >= 0) {
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
      saved_ = -1;
    }
  }

  std::unique_lock<std::mutex> lock_;
  int saved_ = -1;
  int capture_ = -1;
};

// libjpeg decodes a JPEG whose entropy-coded data ends early (or is
// damaged) by filling the rest with grey, and only warns. These warnings
// mean pixels are missing; "extraneous bytes before marker" does not.
bool JpegWarnsOfMissingData(const std::string& messages) {
  std::string lower = messages;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  if (lower.find("premature end") != std::string::npos) return true;
  size_t at = 0;
  while ((at = lower.find("corrupt jpeg data", at)) != std::string::npos) {
    const size_t eol = lower.find('\n', at);
    const std::string line = lower.substr(at, eol - at);
    if (line.find("extraneous bytes") == std::string::npos) return true;
    at = eol == std::string::npos ? lower.size() : eol;
  }
  return false;
}

const char* CvDepthName(int depth) {
  switch (depth) {
    case CV_8S:
      return "CV_8S";
    case CV_16S:
      return "CV_16S";
    case CV_32S:
      return "CV_32S";
    case CV_64F:
      return "CV_64F";
    case CV_16F:
      return "CV_16F";
    default:
      return "unknown";
  }
}

// The temporary files being written, one slot per concurrent writer (the
// batch driver runs at most kMaxWriters jobs), for the signal handler.
struct PendingSlot {
  char path[PATH_MAX];
  std::atomic<bool> active{false};  // path names a file to remove
  std::atomic<bool> taken{false};   // a writer owns the slot
  std::atomic<bool> creating{false};  // mkstemp may be creating the file
};
PendingSlot g_pending[kMaxWriters];
// Set by RemovePendingTempFile: the process is about to end, so no writer
// may create another temporary file.
std::atomic<bool> g_exiting{false};

// A free slot, claimed; slots are released by the writer that took them.
PendingSlot& ClaimSlot() {
  for (;;) {
    for (PendingSlot& slot : g_pending) {
      bool expected = false;
      if (slot.taken.compare_exchange_strong(expected, true)) return slot;
    }
    std::this_thread::yield();
  }
}

}  // namespace

std::string FormatOf(std::string_view ext) {
  if (ext == "jpg" || ext == "jpeg" || ext == "jpe") return "jpeg";
  if (ext == "tif" || ext == "tiff") return "tiff";
  if (ext == "pbm" || ext == "pgm" || ext == "ppm" || ext == "pnm") {
    return "pnm";
  }
  return std::string(ext);
}

struct Raster::Impl {
  cv::Mat mat;
  core::Depth depth = core::Depth::kU8;
};

Raster::Raster() : impl_(std::make_unique<Impl>()) {}
Raster::~Raster() = default;
Raster::Raster(Raster&&) noexcept = default;
Raster& Raster::operator=(Raster&&) noexcept = default;
int Raster::width() const { return impl_->mat.cols; }
int Raster::height() const { return impl_->mat.rows; }
int Raster::channels() const { return impl_->mat.channels(); }
core::Depth Raster::depth() const { return impl_->depth; }

namespace {

template <typename ViewT, typename Byte>
ViewT ViewOfMat(const cv::Mat& m, Byte* data, core::Depth depth) {
  ViewT v;
  v.channels = m.channels();
  v.width = m.cols;
  v.height = m.rows;
  v.type = depth;
  v.row_bytes = static_cast<std::ptrdiff_t>(m.step[0]);
  v.step = m.channels();
  for (int c = 0; c < m.channels(); ++c) v.base[c] = data + c * m.elemSize1();
  return v;
}

int CvDepthOf(core::Depth depth) {
  return depth == core::Depth::kU8    ? CV_8U
         : depth == core::Depth::kU16 ? CV_16U
                                      : CV_32F;
}

}  // namespace

core::ConstImageView Raster::View() const {
  return ViewOfMat<core::ConstImageView>(
      impl_->mat, reinterpret_cast<const std::byte*>(impl_->mat.data),
      impl_->depth);
}

core::ImageView Raster::MutableView() {
  return ViewOfMat<core::ImageView>(
      impl_->mat, reinterpret_cast<std::byte*>(impl_->mat.data), impl_->depth);
}

Raster NewRaster(int width, int height, int channels, core::Depth depth) {
  Raster r;
  r.impl_->mat.create(height, width, CV_MAKETYPE(CvDepthOf(depth), channels));
  r.impl_->depth = depth;
  return r;
}

Raster DecodeRaster(std::span<const uint8_t> bytes, std::string_view name,
                    const DecodeOptions& options) {
  if (bytes.empty()) InputError(name, "empty file");
  const std::optional<HeaderInfo> header = ProbeHeader(bytes);
  if (header) {
    const uint64_t pixels = header->width * header->height;
    const bool overflow =
        header->width != 0 && pixels / header->width != header->height;
    if (overflow || pixels > options.max_pixels) {
      InputError(name, "image is " + std::to_string(header->width) + "x" +
                           std::to_string(header->height) + " (" +
                           (overflow ? std::string("too many")
                                     : std::to_string(pixels)) +
                           " pixels), over the limit of " +
                           std::to_string(options.max_pixels) +
                           " (--max-pixels)");
    }
    if (header->width == 0 || header->height == 0) {
      InputError(name, "image header says the size is 0");
    }
  }
  if (IsPng(bytes) && !PngHasIend(bytes)) {
    InputError(name, "truncated PNG (no IEND chunk)");
  }
  if (IsJpeg(bytes) && !JpegHasEoi(bytes)) {
    InputError(name, "truncated JPEG (no end-of-image marker)");
  }
  if (!header) {
    // The size cannot be checked before decoding, so nothing is decoded:
    // every format OpenCV reads has its header probed (io/header.cc).
    InputError(name, "cannot decode image (unknown format or corrupt data)");
  }
  if (header->format == "jp2") {
    // OpenJPEG sizes its buffers from the codestream's tiles, precincts and
    // code-blocks, not from the image: the decode fuzzer found 2 KB files
    // of 64x48 pixels that take 3.7 GB. --max-pixels cannot bound that.
    InputError(name,
               "JPEG 2000 is not read: its decoder's memory is not bounded by "
               "the image size (--max-pixels cannot protect it); convert it "
               "to png or tiff");
  }
  if (header->format == "tiff" && header->samples_per_pixel == 2) {
    // OpenCV 4.6's TIFF reader drops the second sample: refuse rather than
    // lose the alpha channel without a word.
    InputError(name,
               "gray+alpha TIFF is not supported (the decoder drops alpha); "
               "convert it to png");
  }

  cv::Mat m;
  std::string codec_messages;
  {
    CaptureStderr capture;
    try {
      const cv::Mat raw(
          1, static_cast<int>(std::min<size_t>(bytes.size(), INT_MAX)), CV_8U,
          const_cast<uint8_t*>(bytes.data()));
      m = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception&) {
      m = cv::Mat();
    }
    codec_messages = capture.Finish();
  }
  if (m.empty()) {
    InputError(name, "cannot decode image (unknown format or corrupt data)");
  }
  if (IsJpeg(bytes) && JpegWarnsOfMissingData(codec_messages)) {
    InputError(name, "truncated or corrupt JPEG (the decoder reports missing "
                     "data)");
  }
  // A decoder that reads another size than the header said is held to the
  // limit too.
  if (m.total() > options.max_pixels) {
    InputError(name, "image is " + std::to_string(m.cols) + "x" +
                         std::to_string(m.rows) + " (" +
                         std::to_string(m.total()) +
                         " pixels), over the limit of " +
                         std::to_string(options.max_pixels) +
                         " (--max-pixels)");
  }
  if (m.channels() < 1 || m.channels() > 4) {
    InputError(name, "unsupported channel count " +
                         std::to_string(m.channels()) + " (1 to 4 are read)");
  }
  core::Depth depth = core::Depth::kU8;
  switch (m.depth()) {
    case CV_8U:
      depth = core::Depth::kU8;
      break;
    case CV_16U:
      depth = core::Depth::kU16;
      break;
    case CV_32F:
      depth = core::Depth::kF32;
      break;
    case CV_8S:
    case CV_16S:
    case CV_32S:
    case CV_64F:
      // Signed integers and doubles are read as float: their values are
      // kept (doubles to float precision) and the output depth is f32.
      m.convertTo(m, CV_MAKETYPE(CV_32F, m.channels()));
      depth = core::Depth::kF32;
      break;
    default:
      InputError(name, std::string("unsupported sample type ") +
                           CvDepthName(m.depth()));
  }
  if (options.gray && m.channels() > 1) {
    if (m.channels() == 2) {
      cv::extractChannel(m, m, 0);
    } else {
      cv::cvtColor(m, m, m.channels() == 3 ? cv::COLOR_BGR2GRAY
                                           : cv::COLOR_BGRA2GRAY);
    }
  }
  Raster raster;
  raster.impl_->mat = std::move(m);
  raster.impl_->depth = depth;
  return raster;
}

core::Image ToImage(Raster raster) {
  const cv::Mat& m = raster.impl_->mat;
  core::Image img;
  img.width = m.cols;
  img.height = m.rows;
  img.depth = raster.impl_->depth;
  std::vector<cv::Mat> planes;
  cv::split(m, planes);
  const bool has_alpha = planes.size() == 2 || planes.size() == 4;
  for (size_t c = 0; c < planes.size(); ++c) {
    // Widened straight into the plane's storage (same size and type, so
    // convertTo writes into the header's memory).
    core::Plane p(m.cols, m.rows);
    cv::Mat f(m.rows, m.cols, CV_32F, p.data.data());
    planes[c].convertTo(f, CV_32F);
    if (has_alpha && c + 1 == planes.size()) {
      img.alpha = std::move(p);
    } else {
      img.color.push_back(std::move(p));
    }
  }
  return img;
}

core::Image DecodeImage(std::span<const uint8_t> bytes, std::string_view name,
                        const DecodeOptions& options) {
  return ToImage(DecodeRaster(bytes, name, options));
}

std::vector<uint8_t> ReadFileBytes(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) InputError(name, "no such file or directory");
  if (fs::is_directory(st)) InputError(name, "is a directory");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) InputError(name, ErrnoText(errno));
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      InputError(name, ErrnoText(err));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  ::close(fd);
  return bytes;
}

std::vector<uint8_t> ReadStdinBytes() {
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      InputError("-", ErrnoText(errno));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  return bytes;
}

core::Image ReadImage(const fs::path& path, const DecodeOptions& options) {
  return DecodeImage(ReadFileBytes(path), path.string(), options);
}

std::string ExtensionOf(const fs::path& path) {
  std::string ext = path.extension().string();
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool IsWritableExtension(std::string_view ext) {
  static const std::set<std::string, std::less<>> kWritable = {
      // No pbm: it is bilevel, and filtered images are not.
      "png", "jpg", "jpeg", "jpe", "tif", "tiff", "bmp",
      "pgm", "ppm", "pnm", "pfm", "webp"};
  if (kWritable.find(ext) == kWritable.end()) return false;
  return cv::haveImageWriter("x." + std::string(ext));
}

bool IsImageExtension(std::string_view ext) {
  static const std::set<std::string, std::less<>> kReadable = {
      "png", "jpg", "jpeg", "jpe", "tif", "tiff", "bmp", "dib", "pbm", "pgm",
      "ppm", "pnm", "pfm",  "pxm", "webp", "sr", "ras", "hdr", "pic", "jp2"};
  return kReadable.find(ext) != kReadable.end();
}

void CheckEncodable(std::string_view ext, core::Depth depth, int channels,
                    std::string_view name) {
  const std::string format = FormatOf(ext);
  const bool alpha = channels == 2 || channels == 4;
  const auto refuse = [&](const std::string& why) {
    throw Error(ErrorKind::kUsage,
                "output '" + std::string(name) + "': " + format + " " + why);
  };
  const bool eight_only =
      format == "jpeg" || format == "webp" || format == "bmp";
  if (format == "pfm") {
    if (depth != core::Depth::kF32) {
      refuse("stores only float samples; use png or tif, or --depth f32");
    }
  } else if (depth == core::Depth::kF32 && format != "tiff") {
    refuse(eight_only
               ? "cannot store float samples; use tif (or pfm), or --depth u8"
               : "cannot store float samples; use tif (or pfm), or --depth u8 "
                 "or u16");
  } else if (depth == core::Depth::kU16 && eight_only) {
    refuse("cannot store 16-bit samples; use png or tif, or --depth u8");
  }
  // BMP would be written with 4 channels but read back without alpha.
  if (alpha && (format == "jpeg" || format == "pnm" || format == "pfm" ||
                format == "bmp")) {
    refuse("cannot store an alpha channel; use png or tif, or --gray");
  }
  if (ext == "pgm" && channels > 1) {
    throw Error(ErrorKind::kUsage,
                "output '" + std::string(name) +
                    "': pgm stores one channel; use ppm or png, or --gray");
  }
}

namespace {

std::vector<uint8_t> EncodeMat(const cv::Mat& merged, std::string_view ext,
                               std::string_view name) {

  std::vector<int> params;
  if (FormatOf(ext) == "tiff") {
    // Lossless LZW for every depth: OpenCV would otherwise store 3-channel
    // float with the lossy SGILOG (LogLuv) scheme.
    params = {cv::IMWRITE_TIFF_COMPRESSION, 5};
  }
  std::vector<uint8_t> bytes;
  try {
    CaptureStderr quiet;  // the encoders' chatter is not shown
    if (!cv::imencode("." + std::string(ext), merged, bytes, params)) {
      OutputError(name, "cannot encode as " + std::string(ext));
    }
  } catch (const cv::Exception& e) {
    OutputError(name, "cannot encode as " + std::string(ext) + ": " +
                          e.err);
  }
  return bytes;
}

}  // namespace

std::vector<uint8_t> EncodeImage(const core::Image& img, std::string_view ext,
                                 std::string_view name) {
  const int type = img.depth == core::Depth::kU8    ? CV_8U
                   : img.depth == core::Depth::kU16 ? CV_16U
                                                    : CV_32F;
  std::vector<cv::Mat> planes;
  const auto add = [&](const core::Plane& p) {
    cv::Mat f(p.height, p.width, CV_32F, const_cast<float*>(p.data.data()));
    cv::Mat m;
    f.convertTo(m, type);
    planes.push_back(m);
  };
  for (const core::Plane& p : img.color) add(p);
  // PPM is colour only: gray goes out as three equal channels.
  if (ext == "ppm" && img.color.size() == 1 && !img.alpha) {
    add(img.color[0]);
    add(img.color[0]);
  }
  // Gray+alpha goes out as BGRA: OpenCV's encoders do not write 2 channels.
  if (img.alpha && img.color.size() == 1) {
    add(img.color[0]);
    add(img.color[0]);
  }
  if (img.alpha) add(*img.alpha);
  cv::Mat merged;
  cv::merge(planes, merged);
  return EncodeMat(merged, ext, name);
}

std::vector<uint8_t> EncodeRaster(const Raster& raster, std::string_view ext,
                                  std::string_view name) {
  const cv::Mat& m = raster.impl_->mat;
  // PPM is colour only: gray goes out as three equal channels.
  if (ext == "ppm" && m.channels() == 1) {
    cv::Mat bgr;
    cv::merge(std::vector<cv::Mat>{m, m, m}, bgr);
    return EncodeMat(bgr, ext, name);
  }
  return EncodeMat(m, ext, name);
}



void RemovePendingTempFile() {
  g_exiting.store(true);
  for (PendingSlot& slot : g_pending) {
    // A file being created right now is named once mkstemp returns; the
    // creating thread blocks the signals, so it is not this one.
    while (slot.creating.load()) {
    }
    if (slot.active.load()) ::unlink(slot.path);
  }
}

void WriteFileAtomic(const fs::path& dest, std::span<const uint8_t> bytes) {
  const std::string name = dest.string();
  const fs::path dir = dest.has_parent_path() ? dest.parent_path() : ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    OutputError(name, "directory '" + dir.string() + "' does not exist");
  }
  if (fs::is_directory(dest, ec)) OutputError(name, "is a directory");

  std::string tmpl = (dir / ("." + dest.filename().string() +
                             ".convcorr-XXXXXX"))
                         .string();
  if (tmpl.size() >= PATH_MAX) OutputError(name, "path too long");
  // mkstemp fills in the name inside the buffer the signal handler reads,
  // so a signal at any point after this finds the temporary file (unlink of
  // a name not yet created is harmless).
  PendingSlot& slot = ClaimSlot();
  const auto release = [&] {
    slot.active.store(false);
    slot.taken.store(false);
  };
  // While mkstemp runs, SIGINT and SIGTERM wait (a handler on another
  // thread waits for `creating` to clear, then removes the file); once the
  // process is exiting, no new file is made.
  sigset_t stop, old;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, &old);
  slot.creating.store(true);
  if (g_exiting.load()) {
    slot.creating.store(false);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    for (;;) ::pause();  // the handler is ending the process
  }
  std::memcpy(slot.path, tmpl.c_str(), tmpl.size() + 1);
  char* buf = slot.path;
  slot.active.store(true);
  const int fd = ::mkstemp(buf);
  slot.creating.store(false);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (fd < 0) {
    const int err = errno;
    release();
    OutputError(name, ErrnoText(err));
  }
  const auto fail = [&](int err) {
    ::close(fd);
    ::unlink(buf);
    release();
    OutputError(name, ErrnoText(err));
  };
  // mkstemp makes 0600; give the file the mode a plain open() would.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) fail(errno);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) fail(errno);
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(buf);
    release();
    OutputError(name, ErrnoText(err));
  }
  if (::rename(buf, dest.c_str()) != 0) {
    const int err = errno;
    ::unlink(buf);
    release();
    OutputError(name, ErrnoText(err));
  }
  release();
}

void WriteStdout(std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::write(STDOUT_FILENO, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      OutputError("-", ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
}

bool LooksComplete(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec || size == 0) return false;
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::vector<uint8_t> head(static_cast<size_t>(std::min<uintmax_t>(size, 1 << 16)));
  in.read(reinterpret_cast<char*>(head.data()),
          static_cast<std::streamsize>(head.size()));
  if (!in) return false;
  const std::optional<HeaderInfo> info = ProbeHeader(head);
  if (!info) return false;
  const auto tail = [&](size_t n) {
    std::vector<uint8_t> t(n);
    if (size < n) return std::vector<uint8_t>();
    in.seekg(static_cast<std::streamoff>(size - n));
    in.read(reinterpret_cast<char*>(t.data()), static_cast<std::streamsize>(n));
    return in ? t : std::vector<uint8_t>();
  };
  if (info->format == "png") {
    // The last chunk: length 0, "IEND", CRC AE 42 60 82.
    static constexpr uint8_t kIend[12] = {0,    0,    0,    0,    'I',  'E',
                                          'N',  'D',  0xAE, 0x42, 0x60, 0x82};
    const std::vector<uint8_t> t = tail(12);
    return t.size() == 12 && std::equal(t.begin(), t.end(), kIend);
  }
  if (info->format == "jpeg") {
    const std::vector<uint8_t> t = tail(2);
    return t.size() == 2 && t[0] == 0xFF && t[1] == 0xD9;
  }
  return true;
}

std::vector<std::string> SplitInputList(std::string_view text, bool nul) {
  std::vector<std::string> out;
  const char sep = nul ? '\0' : '\n';
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(start, end - start);
    if (!nul && !entry.empty() && entry.back() == '\r') entry.remove_suffix(1);
    if (!entry.empty()) out.emplace_back(entry);
    start = end + 1;
  }
  return out;
}

bool SameFile(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  const bool same = fs::equivalent(a, b, ec);
  return !ec && same;
}

}  // namespace convcorr::io
