// WebP on libwebp, decoding and encoding as OpenCV 4.6 does, so samples
// and bytes are the same as cv::imdecode / cv::imencode give.
//
// Decoder: Open reads the first bytes only (WebPGetFeatures needs the
// RIFF header and the first chunk's: 30 bytes); animated files are
// refused. libwebp decodes whole images, so the first ReadRows reads the
// whole file (Source::All) and decodes it into a buffer of the handle's
// own, as OpenCV's WebPDecodeBGRInto / WebPDecodeBGRAInto do (through
// WebPDecode with default options, which is the same decode but says why
// it fails); rows are copied out from there. B,G,R, or B,G,R,A when the
// header says the image has alpha. ICC, EXIF and XMP chunks are read with
// WebPDemux at that point.
//
// Encoder: rows are kept until Finish (libwebp encodes whole images).
// Quality 0 is lossless (WebPEncodeLosslessBGR/BGRA, OpenCV's default for
// .webp), 1 to 100 lossy at that quality (WebPEncodeBGR/BGRA, as with
// IMWRITE_WEBP_QUALITY). Gray is written as B,G,R (as OpenCV converts it),
// gray+alpha as B,G,R,A. With metadata, WebPMux adds ICCP, EXIF and "XMP "
// chunks and the provenance's "CVCR" chunk (a VP8X file); without, the
// bytes are OpenCV's.
#include <webp/decode.h>
#include <webp/demux.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "io/codec.h"
#include "io/provenance.h"

namespace convcorr::io {

namespace {

// libwebp's largest side (14-bit sizes).
constexpr int kMaxSide = 16383;

std::string StatusText(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OK:
      return "ok";
    case VP8_STATUS_OUT_OF_MEMORY:
      return "out of memory";
    case VP8_STATUS_INVALID_PARAM:
      return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR:
      return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE:
      return "unsupported feature";
    case VP8_STATUS_SUSPENDED:
      return "suspended";
    case VP8_STATUS_USER_ABORT:
      return "user abort";
    case VP8_STATUS_NOT_ENOUGH_DATA:
      return "not enough data";
  }
  return "status " + std::to_string(static_cast<int>(status));
}

class WebpDecoder : public Decoder {
 public:
  WebpDecoder(Source& source, std::string_view name)
      : source_(source), name_(name) {
    // Enough for every header WebPGetFeatures reads (RIFF, then VP8, VP8L
    // or VP8X); a VP8X header is complete without the chunks after it.
    const std::span<const uint8_t> head = source.Peek(64);
    WebPBitstreamFeatures features;
    const VP8StatusCode status =
        WebPGetFeatures(head.data(), head.size(), &features);
    if (status == VP8_STATUS_NOT_ENOUGH_DATA) {
      ThrowInput(name_, "truncated WebP (the header ends early)");
    }
    if (status != VP8_STATUS_OK)
      ThrowInput(name_, "corrupt WebP (" + StatusText(status) + ")");
    if (features.has_animation)
      ThrowInput(name_, "animated WebP is not supported");
    if (features.width <= 0 || features.height <= 0) {
      ThrowInput(name_, "image header says the size is 0");
    }
    format_.width = features.width;
    format_.height = features.height;
    format_.channels = features.has_alpha ? 4 : 3;
    format_.depth = core::Depth::kU8;
  }

  void ReadRows(std::byte* dst, std::ptrdiff_t stride, int rows) override {
    if (rows < 0 || rows > format_.height - next_row_) {
      throw Error(ErrorKind::kInternal,
                  "input '" + name_ + "': rows read past the end of the image");
    }
    if (pixels_.empty()) Decode();
    const size_t row_bytes = format_.RowBytes();
    for (int r = 0; r < rows; ++r, ++next_row_) {
      std::memcpy(dst + r * stride,
                  pixels_.data() + static_cast<size_t>(next_row_) * row_bytes,
                  row_bytes);
    }
  }

 private:
  void Decode() {
    const std::span<const uint8_t> file = source_.All();
    WebPDecoderConfig config;
    if (!WebPInitDecoderConfig(&config)) {
      throw Error(ErrorKind::kInternal,
                  "input '" + name_ + "': libwebp version mismatch");
    }
    const size_t row_bytes = format_.RowBytes();
    pixels_.resize(row_bytes * static_cast<size_t>(format_.height));
    WebPDecBuffer& out = config.output;
    out.colorspace = format_.channels == 4 ? MODE_BGRA : MODE_BGR;
    out.is_external_memory = 1;
    out.u.RGBA.rgba = pixels_.data();
    out.u.RGBA.stride = static_cast<int>(row_bytes);
    out.u.RGBA.size = pixels_.size();
    const VP8StatusCode status = WebPDecode(file.data(), file.size(), &config);
    // WebPDecode read the features again, from the whole file.
    // The channels follow the header's flag: libwebp writes an opaque
    // alpha, or drops one, where the bitstream says otherwise.
    const bool same = config.input.width == format_.width &&
                      config.input.height == format_.height;
    WebPFreeDecBuffer(&out);  // external memory: frees nothing of ours
    if (config.input.width > 0 && !same) {
      ThrowInput(name_, "corrupt WebP (the header and the image disagree)");
    }
    if (status == VP8_STATUS_NOT_ENOUGH_DATA) {
      ThrowInput(name_, "truncated WebP (the image data ends early)");
    }
    if (status != VP8_STATUS_OK)
      ThrowInput(name_, "corrupt WebP (" + StatusText(status) + ")");
    ReadMetadata(file);
  }

  void ReadMetadata(std::span<const uint8_t> file) {
    const WebPData data = {file.data(), file.size()};
    const std::unique_ptr<WebPDemuxer, void (*)(WebPDemuxer*)> demux(
        WebPDemux(&data), WebPDemuxDelete);
    if (!demux) return;  // the image decoded: a container without chunks
    const auto chunk = [&](const char* fourcc) {
      std::vector<uint8_t> bytes;
      WebPChunkIterator it;
      if (WebPDemuxGetChunk(demux.get(), fourcc, 1, &it)) {
        bytes.assign(it.chunk.bytes, it.chunk.bytes + it.chunk.size);
        WebPDemuxReleaseChunkIterator(&it);
      }
      return bytes;
    };
    metadata_.icc = chunk("ICCP");
    metadata_.exif = chunk("EXIF");
    // Some writers keep JPEG's APP1 prefix in the chunk.
    static constexpr uint8_t kExifPrefix[] = {'E', 'x', 'i', 'f', 0, 0};
    if (metadata_.exif.size() >= 6 &&
        std::memcmp(metadata_.exif.data(), kExifPrefix, 6) == 0) {
      metadata_.exif.erase(metadata_.exif.begin(), metadata_.exif.begin() + 6);
    }
    const std::vector<uint8_t> xmp = chunk("XMP ");
    metadata_.xmp.assign(xmp.begin(), xmp.end());
  }

  Source& source_;
  std::string name_;
  std::vector<uint8_t> pixels_;
  int next_row_ = 0;
};

class WebpEncoder : public Encoder {
 public:
  WebpEncoder(const PixelFormat& format, const Metadata& metadata,
              const EncodeOptions& options, Sink& sink, std::string_view name)
      : format_(format),
        metadata_(metadata),
        quality_(options.quality),
        sink_(sink),
        name_(name),
        channels_(format.channels == 1 || format.channels == 3 ? 3 : 4) {
    pixels_.reserve(static_cast<size_t>(format.width) * channels_ *
                    static_cast<size_t>(format.height));
  }

  void WriteRows(const std::byte* src, std::ptrdiff_t stride,
                 int rows) override {
    if (rows < 0 || rows > format_.height - done_) {
      throw Error(
          ErrorKind::kInternal,
          "output '" + name_ + "': rows written past the end of the image");
    }
    const size_t w = static_cast<size_t>(format_.width);
    for (int r = 0; r < rows; ++r, ++done_) {
      const auto* in = reinterpret_cast<const uint8_t*>(src + r * stride);
      if (format_.channels == channels_) {
        pixels_.insert(pixels_.end(), in, in + w * channels_);
        continue;
      }
      // Gray (and alpha) to B,G,R (and A): the gray sample three times.
      const size_t in_ch = static_cast<size_t>(format_.channels);
      for (size_t x = 0; x < w; ++x) {
        const uint8_t g = in[x * in_ch];
        pixels_.insert(pixels_.end(), {g, g, g});
        if (channels_ == 4) pixels_.push_back(in[x * in_ch + 1]);
      }
    }
  }

  void Finish() override {
    if (done_ != format_.height) {
      throw Error(ErrorKind::kInternal,
                  "output '" + name_ + "': finished after " +
                      std::to_string(done_) + " of " +
                      std::to_string(format_.height) + " rows");
    }
    const int stride = format_.width * channels_;
    uint8_t* out = nullptr;
    size_t size = 0;
    const uint8_t* p = pixels_.data();
    const int w = format_.width;
    const int h = format_.height;
    if (quality_ == 0) {
      size = channels_ == 3 ? WebPEncodeLosslessBGR(p, w, h, stride, &out)
                            : WebPEncodeLosslessBGRA(p, w, h, stride, &out);
    } else {
      const auto q = static_cast<float>(quality_);
      size = channels_ == 3 ? WebPEncodeBGR(p, w, h, stride, q, &out)
                            : WebPEncodeBGRA(p, w, h, stride, q, &out);
    }
    const std::unique_ptr<uint8_t, void (*)(void*)> owned(out, WebPFree);
    if (size == 0) ThrowOutput(name_, "WebP encoding failed");
    if (metadata_.empty()) {
      sink_.Write(out, size);
      return;
    }
    WriteWithMetadata(out, size);
  }

 private:
  void WriteWithMetadata(const uint8_t* image, size_t size) {
    const WebPData image_data = {image, size};
    const std::unique_ptr<WebPMux, void (*)(WebPMux*)> mux(
        WebPMuxCreate(&image_data, 0), WebPMuxDelete);
    if (!mux)
      ThrowOutput(name_, "WebP metadata could not be added (mux error)");
    const auto set = [&](const char* fourcc, const uint8_t* bytes, size_t n) {
      if (n == 0) return;
      const WebPData chunk = {bytes, n};
      if (WebPMuxSetChunk(mux.get(), fourcc, &chunk, 0) != WEBP_MUX_OK) {
        ThrowOutput(name_, std::string("WebP metadata could not be added (") +
                               fourcc + ")");
      }
    };
    set("ICCP", metadata_.icc.data(), metadata_.icc.size());
    set("EXIF", metadata_.exif.data(), metadata_.exif.size());
    set("XMP ", reinterpret_cast<const uint8_t*>(metadata_.xmp.data()),
        metadata_.xmp.size());
    // An unknown chunk to every WebP reader (which skip those), so the XMP
    // carried from the input stays as it was; mux writes it after the
    // image.
    set(kWebpProvenanceChunk,
        reinterpret_cast<const uint8_t*>(metadata_.provenance.data()),
        metadata_.provenance.size());
    WebPData assembled;
    WebPDataInit(&assembled);
    const WebPMuxError err = WebPMuxAssemble(mux.get(), &assembled);
    if (err != WEBP_MUX_OK) {
      WebPDataClear(&assembled);
      ThrowOutput(name_, "WebP metadata could not be added (mux error " +
                             std::to_string(static_cast<int>(err)) + ")");
    }
    try {
      sink_.Write(assembled.bytes, assembled.size);
    } catch (...) {
      WebPDataClear(&assembled);
      throw;
    }
    WebPDataClear(&assembled);
  }

  PixelFormat format_;
  Metadata metadata_;
  int quality_;
  Sink& sink_;
  std::string name_;
  int channels_;  // 3 or 4: what libwebp is given
  std::vector<uint8_t> pixels_;
  int done_ = 0;
};

}  // namespace

std::unique_ptr<Decoder> OpenWebp(Source& source, std::string_view name) {
  return std::make_unique<WebpDecoder>(source, name);
}

std::unique_ptr<Encoder> NewWebpEncoder(const PixelFormat& format,
                                        const Metadata& metadata,
                                        const EncodeOptions& options,
                                        Sink& sink, std::string_view name) {
  if (format.width <= 0 || format.height <= 0)
    ThrowOutput(name, "the image is empty");
  if (format.depth == core::Depth::kF32) {
    ThrowOutput(
        name,
        "webp cannot store float samples; use tif (or pfm), or --depth u8");
  }
  if (format.depth == core::Depth::kU16) {
    ThrowOutput(
        name,
        "webp cannot store 16-bit samples; use png or tif, or --depth u8");
  }
  if (format.channels < 1 || format.channels > 4) {
    ThrowOutput(name, "webp cannot store " + std::to_string(format.channels) +
                          " channels");
  }
  if (format.width > kMaxSide || format.height > kMaxSide) {
    ThrowOutput(
        name,
        "webp cannot store an image over 16383 pixels a side; use png or tif");
  }
  if (options.quality < 0 || options.quality > 100) {
    ThrowOutput(name, "WebP quality " + std::to_string(options.quality) +
                          " is out of range (0 to 100)");
  }
  return std::make_unique<WebpEncoder>(format, metadata, options, sink, name);
}

}  // namespace convcorr::io
