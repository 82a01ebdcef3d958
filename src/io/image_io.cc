// Decoding and encoding through the codecs of io/codec.h, with the size
// limit, orientation and metadata.
#include "io/image_io.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/error.h"
#include "io/exif.h"
#include "io/files.h"
#include "io/format.h"
#include "io/legacy_codecs.h"
#include "io/provenance.h"

namespace convcorr::io {

namespace fs = std::filesystem;

namespace {}  // namespace

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
      std::memcpy(&out[c], src + sr * src_row + static_cast<size_t>(sc) * N, N);
    }
  }
}

template <typename At>
void RemapAny(size_t pixel, const std::byte* src, size_t src_row,
              std::byte* dst, int dst_w, int dst_h, At at) {
  switch (pixel) {
    case 1:
      return Remap<1>(src, src_row, dst, dst_w, dst_h, at);
    case 2:
      return Remap<2>(src, src_row, dst, dst_w, dst_h, at);
    case 3:
      return Remap<3>(src, src_row, dst, dst_w, dst_h, at);
    case 4:
      return Remap<4>(src, src_row, dst, dst_w, dst_h, at);
    case 6:
      return Remap<6>(src, src_row, dst, dst_w, dst_h, at);
    case 8:
      return Remap<8>(src, src_row, dst, dst_w, dst_h, at);
    case 12:
      return Remap<12>(src, src_row, dst, dst_w, dst_h, at);
    case 16:
      return Remap<16>(src, src_row, dst, dst_w, dst_h, at);
    default:
      break;
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
void ToGray(const std::byte* from, int cn, size_t n, std::byte* to) {
  const auto* src = reinterpret_cast<const T*>(from);
  auto* dst = reinterpret_cast<T*>(to);
  for (size_t i = 0; i < n; ++i, src += cn) {
    if constexpr (std::is_same_v<T, float>) {
      dst[i] =
          static_cast<float>(double{src[0]} * 0.114 + double{src[1]} * 0.587 +
                             double{src[2]} * 0.299);
    } else {
      constexpr uint32_t kB = 3735, kG = 19235, kR = 9798;  // sum 2^15
      dst[i] = static_cast<T>(
          (src[0] * kB + src[1] * kG + src[2] * kR + (1u << 14)) >> 15);
    }
  }
}

// n pixels of `cn` channels of `depth` to one gray channel (--gray).
void GrayPixels(const std::byte* from, int cn, core::Depth depth, size_t n,
                std::byte* to) {
  if (cn == 2) {  // gray + alpha: the gray
    const size_t s = core::SampleBytes(depth);
    for (size_t i = 0; i < n; ++i) std::memcpy(to + i * s, from + 2 * i * s, s);
  } else if (depth == core::Depth::kU8) {
    ToGray<uint8_t>(from, cn, n, to);
  } else if (depth == core::Depth::kU16) {
    ToGray<uint16_t>(from, cn, n, to);
  } else {
    ToGray<float>(from, cn, n, to);
  }
}

void Gray(Raster::Impl& m) {
  if (m.channels == 1) return;
  Raster::Impl out;
  out.Reset(m.width, m.height, 1, m.depth);
  GrayPixels(m.data.get(), m.channels, m.depth,
             static_cast<size_t>(m.width) * m.height, out.data.get());
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
        (v + 1 >= xmp.size() ||
         !std::isdigit(static_cast<unsigned char>(xmp[v + 1])))) {
      xmp[v] = '1';
    }
  }
  return xmp;
}

// A decoder whose header has passed the checks every image gets.
std::unique_ptr<Decoder> OpenChecked(Source& source, std::string_view name,
                                     const DecodeOptions& options) {
  std::unique_ptr<Decoder> decoder = OpenDecoder(source, name);
  const PixelFormat f = decoder->format();
  // The header's size, checked before any pixel buffer exists.
  const uint64_t w = static_cast<uint64_t>(std::max(f.width, 0));
  const uint64_t h = static_cast<uint64_t>(std::max(f.height, 0));
  if (w == 0 || h == 0) ThrowInput(name, "image header says the size is 0");
  if (w * h > options.max_pixels) {
    ThrowInput(
        name, "image is " + std::to_string(w) + "x" + std::to_string(h) + " (" +
                  std::to_string(w * h) + " pixels), over the limit of " +
                  std::to_string(options.max_pixels) + " (--max-pixels)");
  }
  if (f.channels < 1 || f.channels > 4) {
    ThrowInput(name, "unsupported channel count " + std::to_string(f.channels) +
                         " (1 to 4 are read)");
  }
  return decoder;
}

// The orientation the file states (the format's own tag, else EXIF's).
int OrientationOf(const Decoder& decoder, const Metadata& md) {
  return decoder.orientation() != 0 ? decoder.orientation()
                                    : ExifOrientation(md.exif);
}

// The metadata of a decoded file as the outputs carry it: the thumbnail
// dropped, the orientation reset once the pixels are turned.
void ForOutput(Metadata& md, bool turned) {
  if (!md.exif.empty()) md.exif = ExifForOutput(md.exif, turned);
  if (turned) md.xmp = XmpOrientationReset(md.xmp);
}

}  // namespace

// The whole image of an opened decoder, turned upright (DecodeRaster).
Raster DecodeOpened(Decoder& decoder, const DecodeOptions& options) {
  const PixelFormat f = decoder.format();
  Raster raster = NewRaster(f.width, f.height, f.channels, f.depth);
  Raster::Impl& m = *raster.impl_;
  // Bands of rows, as the codecs deliver them.
  constexpr int kBand = 64;
  for (int y = 0; y < f.height; y += kBand) {
    decoder.ReadRows(m.row(y), static_cast<std::ptrdiff_t>(m.row_bytes()),
                     std::min(kBand, f.height - y));
  }
  decoder.Finish();

  Metadata& md = m.metadata;
  md = std::move(decoder.metadata());
  const int orientation = OrientationOf(decoder, md);
  const bool turn = options.auto_orient && orientation >= 2 && orientation <= 8;
  if (turn) Orient(m, orientation);
  // The thumbnail shows the unfiltered photo: it never goes out. Once the
  // pixels are upright the tag says so.
  ForOutput(md, turn);

  if (options.gray) Gray(m);
  return raster;
}

Raster DecodeRaster(Source& source, std::string_view name,
                    const DecodeOptions& options) {
  const std::unique_ptr<Decoder> decoder = OpenChecked(source, name, options);
  return DecodeOpened(*decoder, options);
}

Raster DecodeRaster(std::span<const uint8_t> bytes, std::string_view name,
                    const DecodeOptions& options) {
  const std::unique_ptr<Source> source = Source::FromMemory(bytes);
  return DecodeRaster(*source, name, options);
}

struct RasterReader::Impl {
  int fd = -1;  // closed with the reader (not stdin)
  std::unique_ptr<Source> source;
  std::unique_ptr<Decoder> decoder;
  DecodeOptions options;
  std::string name;
  Metadata metadata;  // for the outputs, once Streams()
  bool streams = false;
  std::string why_whole;
  bool started = false;
  std::vector<std::byte> wide;  // a band before --gray

  ~Impl() {
    decoder.reset();
    source.reset();
    if (fd >= 0) ::close(fd);
  }
};

std::unique_ptr<RasterReader> RasterReader::Open(const fs::path& path,
                                                 const DecodeOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->name = path.string();
  impl->options = options;
  if (impl->name == "-") {
    impl->source = Source::FromFd(STDIN_FILENO, "-");
  } else {
    impl->fd = OpenInput(path);
    impl->source = Source::FromFd(impl->fd, impl->name);
  }
  impl->decoder = OpenChecked(*impl->source, impl->name, options);
  Decoder& d = *impl->decoder;
  const int orientation = OrientationOf(d, d.metadata());
  const bool turn = options.auto_orient && orientation >= 2 && orientation <= 8;
  if (!d.MetadataFirst()) {
    impl->why_whole = impl->source->Seekable()
                          ? "its metadata follows the pixels"
                          : "read from a pipe";
  } else if (turn) {
    impl->why_whole =
        "turned upright, orientation " + std::to_string(orientation);
  } else {
    impl->streams = true;
    impl->metadata = d.metadata();
    ForOutput(impl->metadata, false);
  }
  std::unique_ptr<RasterReader> reader(new RasterReader);
  reader->impl_ = std::move(impl);
  return reader;
}

RasterReader::RasterReader() = default;
RasterReader::~RasterReader() = default;

int RasterReader::width() const { return impl_->decoder->format().width; }
int RasterReader::height() const { return impl_->decoder->format().height; }
int RasterReader::channels() const {
  return impl_->options.gray ? 1 : impl_->decoder->format().channels;
}
core::Depth RasterReader::depth() const {
  return impl_->decoder->format().depth;
}
bool RasterReader::Streams() const { return impl_->streams; }
std::string RasterReader::WhyWhole() const { return impl_->why_whole; }
Metadata& RasterReader::metadata() { return impl_->metadata; }

void RasterReader::ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) {
  if (!impl_->streams) {
    throw Error(ErrorKind::kInternal, "raster reader: rows of a turned image");
  }
  impl_->started = true;
  Decoder& d = *impl_->decoder;
  const PixelFormat& f = d.format();
  if (!impl_->options.gray || f.channels == 1) {
    d.ReadRows(dst, stride, rows);
    return;
  }
  const size_t row = f.RowBytes();
  impl_->wide.resize(row * static_cast<size_t>(rows));
  d.ReadRows(impl_->wide.data(), static_cast<std::ptrdiff_t>(row), rows);
  for (int r = 0; r < rows; ++r) {
    GrayPixels(impl_->wide.data() + row * r, f.channels, f.depth,
               static_cast<size_t>(f.width), dst + stride * r);
  }
}

void RasterReader::Finish() { impl_->decoder->Finish(); }

Raster RasterReader::ReadAll() {
  if (impl_->started) {
    throw Error(ErrorKind::kInternal, "raster reader: ReadAll after ReadRows");
  }
  impl_->started = true;
  return DecodeOpened(*impl_->decoder, impl_->options);
}

Raster ReadRaster(const fs::path& path, const DecodeOptions& options) {
  return RasterReader::Open(path, options)->ReadAll();
}

namespace {

// Samples of channel c of an interleaved raster, widened to float.
template <typename T>
void Widen(const Raster::Impl& m, int c, float* out) {
  const size_t n = static_cast<size_t>(m.width) * m.height;
  const auto* src = reinterpret_cast<const T*>(m.data.get()) + c;
  for (size_t i = 0; i < n; ++i)
    out[i] = static_cast<float>(src[i * m.channels]);
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

std::vector<double> WeightPlane(const Raster& raster) {
  const core::ConstImageView v = raster.View();
  const size_t sample = core::SampleBytes(v.type);
  const double full = v.type == core::Depth::kU8    ? 255.0
                      : v.type == core::Depth::kU16 ? 65535.0
                                                    : 1.0;
  const bool colour = v.channels >= 3;
  const bool alpha = v.channels == 2 || v.channels == 4;
  std::vector<double> out;
  out.reserve(static_cast<size_t>(v.width) * v.height);
  for (int y = 0; y < v.height; ++y) {
    const std::ptrdiff_t row = core::RowOffset(v, y);
    for (int x = 0; x < v.width; ++x) {
      const size_t at = static_cast<size_t>(x) * v.step * sample;
      const auto s = [&](int c) {
        return double{core::SampleAt(v.base[c] + row + at, v.type)};
      };
      // Luma in thousandths, B, G, R as the channels are held: for integer
      // samples the sum is exact, and R == G == B gives the gray value
      // exactly for any depth.
      const double w =
          colour ? (114 * s(0) + 587 * s(1) + 299 * s(2)) / (1000 * full)
                 : s(0) / full;
      out.push_back(alpha ? w * (s(v.channels - 1) / full) : w);
    }
  }
  return out;
}

core::Image ReadImage(const fs::path& path, const DecodeOptions& options) {
  return ToImage(ReadRaster(path, options));
}

namespace {

// Encodes interleaved samples (B, G, R, A order) as `ext`.
std::vector<uint8_t> EncodeImpl(const Raster::Impl& m, std::string_view ext,
                                std::string_view name, const Metadata& metadata,
                                const EncodeOptions& options) {
  PixelFormat f;
  f.width = m.width;
  f.height = m.height;
  f.channels = m.channels;
  f.depth = m.depth;
  VectorSink sink;
  const std::unique_ptr<Encoder> encoder =
      NewEncoder(f, ext, name, metadata, options, sink);
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

std::unique_ptr<Encoder> NewEncoder(const PixelFormat& f, std::string_view ext,
                                    std::string_view name,
                                    const Metadata& metadata,
                                    const EncodeOptions& options, Sink& sink) {
  if (!metadata.provenance.empty() && !IsProvenanceText(metadata.provenance)) {
    throw Error(ErrorKind::kInternal,
                "output '" + std::string(name) + "': malformed provenance");
  }
  const std::string format = FormatOf(ext);
  if (f.channels == 2 && format == "webp") {
    throw Error(ErrorKind::kInternal,
                "output '" + std::string(name) +
                    "': gray and alpha go to WebP through EncodeRaster");
  }
  if (format == "png") return NewPngEncoder(f, metadata, options, sink, name);
  if (format == "jpeg") return NewJpegEncoder(f, metadata, options, sink, name);
  if (format == "tiff") return NewTiffEncoder(f, metadata, options, sink, name);
  if (format == "webp") return NewWebpEncoder(f, metadata, options, sink, name);
  if (format == "bmp") return NewBmpEncoder(f, sink, name);
  if (format == "pnm" || format == "pfm") {
    // pgm, ppm, pnm or pfm
    return NewPnmEncoder(ext, f, sink, name, metadata.provenance);
  }
  ThrowOutput(name, "cannot encode as " + std::string(ext));
}

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

}  // namespace convcorr::io
