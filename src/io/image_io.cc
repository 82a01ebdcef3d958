// Decoding and encoding through the codecs of io/codec.h, with the size
// limit, orientation and metadata, and atomic writes.
#include "io/image_io.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <thread>
#include <set>
#include <string>
#include <type_traits>
#include <utility>

#include "common/error.h"
#include "io/exif.h"
#include "io/legacy_codecs.h"

namespace convcorr::io {

namespace fs = std::filesystem;

namespace {

// Closes a descriptor when it goes out of scope.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

// An input file opened for reading; kInput errors naming it when it is
// missing, a directory or unreadable.
int OpenInput(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) ThrowInput(name, "no such file or directory");
  if (fs::is_directory(st)) ThrowInput(name, "is a directory");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowInput(name, ErrnoText(errno));
  return fd;
}

// The temporary files being written or staged, for the signal handler. A
// batch holds at most a few files per job in flight (a compare job stages
// up to five, and the batch queues a few jobs for their commit), so 2048
// slots cover kMaxWriters jobs; a writer finding none free waits for one.
// Every member has a constant initializer, so the table is constant-
// initialized in zeroed memory: a constructor writing it at start-up would
// fault in its 8 MB on every run.
inline constexpr int kPendingSlots = 2048;
struct PendingSlot {
  char path[PATH_MAX] = {};
  std::atomic<bool> active{false};  // path names a file to remove
  std::atomic<bool> taken{false};   // a writer owns the slot
  std::atomic<bool> creating{false};  // mkstemp may be creating the file
};
constinit PendingSlot g_pending[kPendingSlots];
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

// Interleaved samples, rows packed one after another.
struct Raster::Impl {
  std::unique_ptr<std::byte[]> data;
  int width = 0;
  int height = 0;
  int channels = 0;
  core::Depth depth = core::Depth::kU8;
  Metadata metadata;

  size_t sample_bytes() const { return core::SampleBytes(depth); }
  size_t pixel_bytes() const { return sample_bytes() * channels; }
  size_t row_bytes() const { return pixel_bytes() * width; }
  std::byte* row(int y) const { return data.get() + row_bytes() * y; }
  // Storage for the given shape (contents unset).
  void Reset(int w, int h, int c, core::Depth d) {
    width = w;
    height = h;
    channels = c;
    depth = d;
    // Not zeroed: every byte is written before it is read.
    data.reset(new std::byte[row_bytes() * static_cast<size_t>(h)]);
  }
};

Raster::Raster() : impl_(std::make_unique<Impl>()) {}
Raster::~Raster() = default;
Raster::Raster(Raster&&) noexcept = default;
Raster& Raster::operator=(Raster&&) noexcept = default;
int Raster::width() const { return impl_->width; }
int Raster::height() const { return impl_->height; }
int Raster::channels() const { return impl_->channels; }
core::Depth Raster::depth() const { return impl_->depth; }
const Metadata& Raster::metadata() const { return impl_->metadata; }
Metadata& Raster::metadata() { return impl_->metadata; }

namespace {

template <typename ViewT, typename Byte>
ViewT ViewOfImpl(const Raster::Impl& m, Byte* data) {
  ViewT v;
  v.channels = m.channels;
  v.width = m.width;
  v.height = m.height;
  v.type = m.depth;
  v.row_bytes = static_cast<std::ptrdiff_t>(m.row_bytes());
  v.step = m.channels;
  for (int c = 0; c < m.channels; ++c) {
    v.base[c] = data + c * m.sample_bytes();
  }
  return v;
}

}  // namespace

core::ConstImageView Raster::View() const {
  return ViewOfImpl<core::ConstImageView>(*impl_, impl_->data.get());
}

core::ImageView Raster::MutableView() {
  return ViewOfImpl<core::ImageView>(*impl_, impl_->data.get());
}

Raster NewRaster(int width, int height, int channels, core::Depth depth) {
  Raster r;
  r.impl_->Reset(width, height, channels, depth);
  return r;
}

std::string SniffFormat(std::span<const uint8_t> b) {
  using namespace std::string_view_literals;
  const auto starts = [&](std::string_view magic) {
    return b.size() >= magic.size() &&
           std::memcmp(b.data(), magic.data(), magic.size()) == 0;
  };
  if (starts("\x89PNG\r\n\x1a\n"sv)) return "png";
  if (starts("\xff\xd8\xff"sv)) return "jpeg";
  if (starts("II*\0"sv) || starts("MM\0*"sv) || starts("II+\0"sv) ||
      starts("MM\0+"sv)) {
    return "tiff";
  }
  if (b.size() >= 12 && starts("RIFF"sv) &&
      std::memcmp(b.data() + 8, "WEBP", 4) == 0) {
    return "webp";
  }
  if (b.size() >= 2 && b[0] == 'P' &&
      ((b[1] >= '1' && b[1] <= '7') || b[1] == 'F' || b[1] == 'f')) {
    return "pnm";
  }
  if (starts("BM"sv)) return "bmp";
  if (starts("\x59\xa6\x6a\x95"sv)) return "sunras";
  if (starts("#?RADIANCE"sv) || starts("#?RGBE"sv)) return "hdr";
  if (starts("\0\0\0\x0cjP  \r\n\x87\n"sv) || starts("\xff\x4f\xff\x51"sv)) {
    return "jp2";
  }
  return "";
}

namespace {

// A pixel of N bytes, copied as one value.
template <size_t N>
struct PixelBytes {
  std::byte b[N];
};

// dst(r, c) = src(at(r, c)) for every pixel of the dst_w x dst_h result.
template <size_t N, typename At>
void Remap(const std::byte* src, size_t src_row, std::byte* dst, int dst_w,
           int dst_h, At at) {
  using P = PixelBytes<N>;
  for (int r = 0; r < dst_h; ++r) {
    P* out = reinterpret_cast<P*>(dst + static_cast<size_t>(r) * dst_w * N);
    for (int c = 0; c < dst_w; ++c) {
      const auto [sr, sc] = at(r, c);
      std::memcpy(&out[c], src + sr * src_row + static_cast<size_t>(sc) * N,
                  N);
    }
  }
}

template <typename At>
void RemapAny(size_t pixel, const std::byte* src, size_t src_row,
              std::byte* dst, int dst_w, int dst_h, At at) {
  switch (pixel) {
    case 1: return Remap<1>(src, src_row, dst, dst_w, dst_h, at);
    case 2: return Remap<2>(src, src_row, dst, dst_w, dst_h, at);
    case 3: return Remap<3>(src, src_row, dst, dst_w, dst_h, at);
    case 4: return Remap<4>(src, src_row, dst, dst_w, dst_h, at);
    case 6: return Remap<6>(src, src_row, dst, dst_w, dst_h, at);
    case 8: return Remap<8>(src, src_row, dst, dst_w, dst_h, at);
    case 12: return Remap<12>(src, src_row, dst, dst_w, dst_h, at);
    case 16: return Remap<16>(src, src_row, dst, dst_w, dst_h, at);
    default: break;
  }
  throw std::logic_error("unexpected pixel size");
}

// Turns the pixels as EXIF orientation `o` says, as OpenCV's imread and
// libvips' autorot do: 2 mirror, 3 half turn, 4 flip, 5 transpose, 6 a
// quarter turn clockwise, 7 transverse, 8 a quarter turn counter-clockwise.
void Orient(Raster::Impl& m, int o) {
  if (o < 2 || o > 8) return;
  const int w = m.width;
  const int h = m.height;
  const bool swap = o >= 5;
  const int dw = swap ? h : w;
  const int dh = swap ? w : h;
  Raster::Impl out;
  out.Reset(dw, dh, m.channels, m.depth);
  const size_t pixel = m.pixel_bytes();
  const size_t row = m.row_bytes();
  using RC = std::pair<size_t, int>;  // source row, column
  const std::byte* src = m.data.get();
  std::byte* dst = out.data.get();
  switch (o) {
    case 2:  // mirror: the columns reversed
      RemapAny(pixel, src, row, dst, dw, dh,
               [&](int r, int c) { return RC(r, w - 1 - c); });
      break;
    case 3:  // half turn
      RemapAny(pixel, src, row, dst, dw, dh,
               [&](int r, int c) { return RC(h - 1 - r, w - 1 - c); });
      break;
    case 4:  // flip: the rows reversed
      RemapAny(pixel, src, row, dst, dw, dh,
               [&](int r, int c) { return RC(h - 1 - r, c); });
      break;
    case 5:  // transpose
      RemapAny(pixel, src, row, dst, dw, dh,
               [&](int r, int c) { return RC(c, r); });
      break;
    case 6:  // transpose, then mirror: a quarter turn clockwise
      RemapAny(pixel, src, row, dst, dw, dh,
               [&](int r, int c) { return RC(h - 1 - c, r); });
      break;
    case 7:  // transpose, then half turn
      RemapAny(pixel, src, row, dst, dw, dh,
               [&](int r, int c) { return RC(h - 1 - c, w - 1 - r); });
      break;
    case 8:  // transpose, then flip: a quarter turn counter-clockwise
      RemapAny(pixel, src, row, dst, dw, dh,
               [&](int r, int c) { return RC(c, w - 1 - r); });
      break;
  }
  out.metadata = std::move(m.metadata);
  m = std::move(out);
}

// One gray channel from B, G, R (alpha dropped): Y = 0.299 R + 0.587 G +
// 0.114 B. Integer samples use OpenCV's cvtColor arithmetic (15-bit fixed
// point, rounded half up), so results match it exactly; float samples are
// summed in double and rounded once.
template <typename T>
void ToGray(const Raster::Impl& m, Raster::Impl& out) {
  const size_t n = static_cast<size_t>(m.width) * m.height;
  const auto* src = reinterpret_cast<const T*>(m.data.get());
  auto* dst = reinterpret_cast<T*>(out.data.get());
  const int cn = m.channels;
  for (size_t i = 0; i < n; ++i, src += cn) {
    if constexpr (std::is_same_v<T, float>) {
      dst[i] = static_cast<float>(double{src[0]} * 0.114 +
                                  double{src[1]} * 0.587 +
                                  double{src[2]} * 0.299);
    } else {
      constexpr uint32_t kB = 3735, kG = 19235, kR = 9798;  // sum 2^15
      dst[i] = static_cast<T>((src[0] * kB + src[1] * kG + src[2] * kR +
                               (1u << 14)) >> 15);
    }
  }
}

void Gray(Raster::Impl& m) {
  if (m.channels == 1) return;
  Raster::Impl out;
  out.Reset(m.width, m.height, 1, m.depth);
  if (m.channels == 2) {  // gray + alpha: the gray
    const size_t s = m.sample_bytes();
    const size_t n = static_cast<size_t>(m.width) * m.height;
    for (size_t i = 0; i < n; ++i) {
      std::memcpy(out.data.get() + i * s, m.data.get() + 2 * i * s, s);
    }
  } else if (m.depth == core::Depth::kU8) {
    ToGray<uint8_t>(m, out);
  } else if (m.depth == core::Depth::kU16) {
    ToGray<uint16_t>(m, out);
  } else {
    ToGray<float>(m, out);
  }
  out.metadata = std::move(m.metadata);
  m = std::move(out);
}

// The XMP copy of the orientation (tiff:Orientation, as an attribute or an
// element) set to 1, so that software that reads XMP does not turn the
// upright pixels again.
std::string XmpOrientationReset(std::string xmp) {
  static constexpr std::string_view kTag = "tiff:Orientation";
  for (size_t at = xmp.find(kTag); at != std::string::npos;
       at = xmp.find(kTag, at + kTag.size())) {
    size_t v = at + kTag.size();
    if (v < xmp.size() && xmp[v] == '=') {
      ++v;  // attribute: tiff:Orientation="6"
      if (v < xmp.size() && (xmp[v] == '"' || xmp[v] == '\'')) ++v;
    } else if (v < xmp.size() && xmp[v] == '>') {
      ++v;  // element: <tiff:Orientation>6</tiff:Orientation>
    } else {
      continue;
    }
    if (v < xmp.size() && xmp[v] >= '2' && xmp[v] <= '8' &&
        (v + 1 >= xmp.size() || !std::isdigit(
                                    static_cast<unsigned char>(xmp[v + 1])))) {
      xmp[v] = '1';
    }
  }
  return xmp;
}

std::unique_ptr<Decoder> OpenDecoder(Source& source, std::string_view name) {
  const std::span<const uint8_t> head = source.Peek(32);
  if (head.empty()) ThrowInput(name, "empty file");
  const std::string format = SniffFormat(head);
  if (format == "png") return OpenPng(source, name);
  if (format == "jpeg") return OpenJpeg(source, name);
  if (format == "tiff") return OpenTiff(source, name);
  if (format == "webp") return OpenWebp(source, name);
  if (format == "pnm") return OpenPnm(source, name);
  if (format == "bmp") return OpenBmp(source, name);
  if (format == "sunras") return OpenSunRaster(source, name);
  if (format == "hdr") return OpenHdr(source, name);
  if (format == "jp2") {
    // OpenJPEG sizes its buffers from the codestream's tiles, precincts and
    // code-blocks, not from the image: 2 KB files of 64x48 pixels can take
    // 3.7 GB. --max-pixels cannot bound that.
    ThrowInput(name,
               "JPEG 2000 is not read: its decoder's memory is not bounded by "
               "the image size (--max-pixels cannot protect it); convert it "
               "to png or tiff");
  }
  ThrowInput(name, "cannot decode image (unknown format or corrupt data)");
}

}  // namespace

Raster DecodeRaster(Source& source, std::string_view name,
                    const DecodeOptions& options) {
  std::unique_ptr<Decoder> decoder = OpenDecoder(source, name);
  const PixelFormat f = decoder->format();
  // The header's size, checked before any pixel buffer exists.
  const uint64_t w = static_cast<uint64_t>(std::max(f.width, 0));
  const uint64_t h = static_cast<uint64_t>(std::max(f.height, 0));
  if (w == 0 || h == 0) ThrowInput(name, "image header says the size is 0");
  if (w * h > options.max_pixels) {
    ThrowInput(name, "image is " + std::to_string(w) + "x" +
                         std::to_string(h) + " (" + std::to_string(w * h) +
                         " pixels), over the limit of " +
                         std::to_string(options.max_pixels) +
                         " (--max-pixels)");
  }
  if (f.channels < 1 || f.channels > 4) {
    ThrowInput(name, "unsupported channel count " +
                         std::to_string(f.channels) + " (1 to 4 are read)");
  }
  Raster raster = NewRaster(f.width, f.height, f.channels, f.depth);
  Raster::Impl& m = *raster.impl_;
  // Bands of rows, as the codecs deliver them.
  constexpr int kBand = 64;
  for (int y = 0; y < f.height; y += kBand) {
    decoder->ReadRows(m.row(y), static_cast<std::ptrdiff_t>(m.row_bytes()),
                      std::min(kBand, f.height - y));
  }
  decoder->Finish();

  Metadata& md = m.metadata;
  md = std::move(decoder->metadata());
  const int orientation = decoder->orientation() != 0
                              ? decoder->orientation()
                              : ExifOrientation(md.exif);
  const bool turn = options.auto_orient && orientation >= 2 && orientation <= 8;
  if (turn) Orient(m, orientation);
  // The thumbnail shows the unfiltered photo: it never goes out. Once the
  // pixels are upright the tag says so.
  if (!md.exif.empty()) md.exif = ExifForOutput(md.exif, turn);
  if (turn) md.xmp = XmpOrientationReset(md.xmp);

  if (options.gray) Gray(m);
  return raster;
}

Raster DecodeRaster(std::span<const uint8_t> bytes, std::string_view name,
                    const DecodeOptions& options) {
  const std::unique_ptr<Source> source = Source::FromMemory(bytes);
  return DecodeRaster(*source, name, options);
}

Raster ReadRaster(const fs::path& path, const DecodeOptions& options) {
  const std::string name = path.string();
  if (name == "-") {
    const std::unique_ptr<Source> source = Source::FromFd(STDIN_FILENO, "-");
    return DecodeRaster(*source, "-", options);
  }
  const int fd = OpenInput(path);
  const FdCloser closer{fd};
  const std::unique_ptr<Source> source = Source::FromFd(fd, name);
  return DecodeRaster(*source, name, options);
}

namespace {

// Samples of channel c of an interleaved raster, widened to float.
template <typename T>
void Widen(const Raster::Impl& m, int c, float* out) {
  const size_t n = static_cast<size_t>(m.width) * m.height;
  const auto* src = reinterpret_cast<const T*>(m.data.get()) + c;
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(src[i * m.channels]);
}

// Float samples into channel c of an interleaved raster: integer types
// round half to even and saturate (NaN to 0), as OpenCV's convertTo.
template <typename T>
void Narrow(const float* in, Raster::Impl& m, int c) {
  const size_t n = static_cast<size_t>(m.width) * m.height;
  auto* dst = reinterpret_cast<T*>(m.data.get()) + c;
  for (size_t i = 0; i < n; ++i) {
    if constexpr (std::is_same_v<T, float>) {
      dst[i * m.channels] = in[i];
    } else {
      const float v = in[i];
      constexpr float kMax = static_cast<float>(std::numeric_limits<T>::max());
      dst[i * m.channels] =
          v >= 0.0f ? static_cast<T>(std::nearbyint(std::min(v, kMax))) : T{0};
    }
  }
}

}  // namespace

core::Image ToImage(Raster raster) {
  const Raster::Impl& m = *raster.impl_;
  core::Image img;
  img.width = m.width;
  img.height = m.height;
  img.depth = m.depth;
  const bool has_alpha = m.channels == 2 || m.channels == 4;
  for (int c = 0; c < m.channels; ++c) {
    core::Plane p(m.width, m.height);
    if (m.depth == core::Depth::kU8) {
      Widen<uint8_t>(m, c, p.data.data());
    } else if (m.depth == core::Depth::kU16) {
      Widen<uint16_t>(m, c, p.data.data());
    } else {
      Widen<float>(m, c, p.data.data());
    }
    if (has_alpha && c + 1 == m.channels) {
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
  const int fd = OpenInput(path);
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      ::close(fd);
      ThrowInput(name, ErrnoText(err));
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
      ThrowInput("-", ErrnoText(errno));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  return bytes;
}

core::Image ReadImage(const fs::path& path, const DecodeOptions& options) {
  return ToImage(ReadRaster(path, options));
}

std::string ExtensionOf(const fs::path& path) {
  std::string ext = path.extension().string();
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

namespace {

// The extensions convcorr writes. No pbm: it is bilevel, and filtered
// images are not.
constexpr const char* kWritable[] = {"png", "jpg", "jpeg", "jpe", "tif",
                                     "tiff", "webp", "bmp", "pgm", "ppm",
                                     "pnm", "pfm"};

}  // namespace

bool IsWritableExtension(std::string_view ext) {
  return std::find(std::begin(kWritable), std::end(kWritable), ext) !=
         std::end(kWritable);
}

std::string WritableExtensionList() {
  std::string list;
  for (const char* ext : kWritable) {
    if (!list.empty()) list += ", ";
    list += ext;
  }
  return list;
}

bool IsImageExtension(std::string_view ext) {
  static const std::set<std::string, std::less<>> kReadable = {
      "png", "jpg", "jpeg", "jpe", "tif", "tiff", "bmp", "dib", "pbm", "pgm",
      "ppm", "pnm", "pam",  "pfm", "pxm", "webp", "sr", "ras", "hdr", "pic",
      "jp2"};
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

// Encodes interleaved samples (B, G, R, A order) as `ext`.
std::vector<uint8_t> EncodeImpl(const Raster::Impl& m, std::string_view ext,
                                std::string_view name,
                                const Metadata& metadata,
                                const EncodeOptions& options) {
  PixelFormat f;
  f.width = m.width;
  f.height = m.height;
  f.channels = m.channels;
  f.depth = m.depth;
  VectorSink sink;
  const std::string format = FormatOf(ext);
  std::unique_ptr<Encoder> encoder;
  if (format == "png") {
    encoder = NewPngEncoder(f, metadata, options, sink, name);
  } else if (format == "jpeg") {
    encoder = NewJpegEncoder(f, metadata, options, sink, name);
  } else if (format == "tiff") {
    encoder = NewTiffEncoder(f, metadata, options, sink, name);
  } else if (format == "webp") {
    encoder = NewWebpEncoder(f, metadata, options, sink, name);
  } else if (format == "bmp") {
    encoder = NewBmpEncoder(f, sink, name);
  } else if (format == "pnm" || format == "pfm") {
    encoder = NewPnmEncoder(ext, f, sink, name);  // pgm, ppm, pnm or pfm
  } else {
    ThrowOutput(name, "cannot encode as " + std::string(ext));
  }
  constexpr int kBand = 64;
  for (int y = 0; y < m.height; y += kBand) {
    encoder->WriteRows(m.row(y), static_cast<std::ptrdiff_t>(m.row_bytes()),
                       std::min(kBand, m.height - y));
  }
  encoder->Finish();
  return std::move(sink.bytes());
}

// Gray+alpha as B, G, R, A (WebP holds colour only).
Raster::Impl GrayAlphaAsBgra(const Raster::Impl& m) {
  Raster::Impl out;
  out.Reset(m.width, m.height, 4, m.depth);
  const size_t s = m.sample_bytes();
  const size_t n = static_cast<size_t>(m.width) * m.height;
  for (size_t i = 0; i < n; ++i) {
    const std::byte* g = m.data.get() + 2 * i * s;
    std::byte* o = out.data.get() + 4 * i * s;
    for (int c = 0; c < 3; ++c) std::memcpy(o + c * s, g, s);
    std::memcpy(o + 3 * s, g + s, s);
  }
  return out;
}

}  // namespace

std::vector<uint8_t> EncodeImage(const core::Image& img, std::string_view ext,
                                 std::string_view name,
                                 const Metadata& metadata,
                                 const EncodeOptions& options) {
  std::vector<const core::Plane*> planes;
  for (const core::Plane& p : img.color) planes.push_back(&p);
  if (img.alpha) planes.push_back(&*img.alpha);
  Raster::Impl m;
  m.Reset(img.width, img.height, static_cast<int>(planes.size()), img.depth);
  for (int c = 0; c < m.channels; ++c) {
    const float* in = planes[c]->data.data();
    if (img.depth == core::Depth::kU8) {
      Narrow<uint8_t>(in, m, c);
    } else if (img.depth == core::Depth::kU16) {
      Narrow<uint16_t>(in, m, c);
    } else {
      Narrow<float>(in, m, c);
    }
  }
  if (m.channels == 2 && FormatOf(ext) == "webp") {
    return EncodeImpl(GrayAlphaAsBgra(m), ext, name, metadata, options);
  }
  return EncodeImpl(m, ext, name, metadata, options);
}

std::vector<uint8_t> EncodeRaster(const Raster& raster, std::string_view ext,
                                  std::string_view name,
                                  const Metadata& metadata,
                                  const EncodeOptions& options) {
  const Raster::Impl& m = *raster.impl_;
  if (m.channels == 2 && FormatOf(ext) == "webp") {
    return EncodeImpl(GrayAlphaAsBgra(m), ext, name, metadata, options);
  }
  return EncodeImpl(m, ext, name, metadata, options);
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

StagedFile StageFile(const fs::path& dest, std::span<const uint8_t> bytes) {
  const std::string name = dest.string();
  const fs::path dir = dest.has_parent_path() ? dest.parent_path() : ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    ThrowOutput(name, "directory '" + dir.string() + "' does not exist");
  }
  if (fs::is_directory(dest, ec)) ThrowOutput(name, "is a directory");

  std::string tmpl = (dir / ("." + dest.filename().string() +
                             ".convcorr-XXXXXX"))
                         .string();
  if (tmpl.size() >= PATH_MAX) ThrowOutput(name, "path too long");
  // mkstemp fills in the name inside the buffer the signal handler reads,
  // so a signal at any point after this finds the temporary file (unlink of
  // a name not yet created is harmless).
  PendingSlot& slot = ClaimSlot();
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
  slot.active.store(true);
  const int fd = ::mkstemp(slot.path);
  slot.creating.store(false);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (fd < 0) {
    const int err = errno;
    slot.active.store(false);
    slot.taken.store(false);
    ThrowOutput(name, ErrnoText(err));
  }
  // From here the staged file owns the descriptor and the slot: an error
  // destroys it, which removes the temporary file.
  StagedFile staged;
  staged.dest_ = dest;
  staged.fd_ = fd;
  staged.slot_ = static_cast<int>(&slot - g_pending);
  // mkstemp makes 0600; give the file the mode a plain open() would.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) ThrowOutput(name, ErrnoText(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowOutput(name, ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
  return staged;
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : dest_(std::move(other.dest_)),
      fd_(std::exchange(other.fd_, -1)),
      slot_(std::exchange(other.slot_, -1)) {}

StagedFile& StagedFile::operator=(StagedFile&& other) noexcept {
  if (this != &other) {
    Discard();
    dest_ = std::move(other.dest_);
    fd_ = std::exchange(other.fd_, -1);
    slot_ = std::exchange(other.slot_, -1);
  }
  return *this;
}

StagedFile::~StagedFile() { Discard(); }

void StagedFile::Discard() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (slot_ >= 0) {
    PendingSlot& slot = g_pending[std::exchange(slot_, -1)];
    ::unlink(slot.path);
    slot.active.store(false);
    slot.taken.store(false);
  }
}

void StagedFile::Commit() {
  if (slot_ < 0) return;
  const std::string name = dest_.string();
  if (::fsync(fd_) != 0) ThrowOutput(name, ErrnoText(errno));
  if (::close(std::exchange(fd_, -1)) != 0) ThrowOutput(name, ErrnoText(errno));
  PendingSlot& slot = g_pending[slot_];
  if (::rename(slot.path, dest_.c_str()) != 0) {
    ThrowOutput(name, ErrnoText(errno));
  }
  // Renamed: nothing left to remove.
  slot.active.store(false);
  slot.taken.store(false);
  slot_ = -1;
}

void WriteFileAtomic(const fs::path& dest, std::span<const uint8_t> bytes) {
  StageFile(dest, bytes).Commit();
}

void WriteStdout(std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::write(STDOUT_FILENO, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowOutput("-", ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
}

bool LooksComplete(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec || size == 0) return false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const FdCloser closer{fd};
  std::string format;
  try {
    const std::unique_ptr<Source> source = Source::FromFd(fd, path.string());
    format = SniffFormat(source->Peek(32));
    // The codec reads the header as it would to decode the file.
    OpenDecoder(*source, path.string());
  } catch (...) {
    // Unreadable as an image for any reason (out of memory too): made again.
    return false;
  }
  const auto tail = [&](size_t n) {
    std::vector<uint8_t> t(n);
    if (size < n) return std::vector<uint8_t>();
    const ssize_t k =
        ::pread(fd, t.data(), n, static_cast<off_t>(size - n));
    return k == static_cast<ssize_t>(n) ? t : std::vector<uint8_t>();
  };
  if (format == "png") {
    // The last chunk: length 0, "IEND", CRC AE 42 60 82.
    static constexpr uint8_t kIend[12] = {0,    0,    0,    0,    'I',  'E',
                                          'N',  'D',  0xAE, 0x42, 0x60, 0x82};
    const std::vector<uint8_t> t = tail(12);
    return t.size() == 12 && std::equal(t.begin(), t.end(), kIend);
  }
  if (format == "jpeg") {
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
