// The WebP codec against OpenCV 4.6: files made by cv::imencode decode to
// cv::imdecode's samples, and the encoder writes cv::imencode's bytes;
// metadata goes through WebPMux and back.
#include <gtest/gtest.h>
#include <unistd.h>
#include <webp/encode.h>
#include <webp/mux.h>

#include <cstdint>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "io/codec.h"
#include "pipe_feed.h"

namespace convcorr::io {
namespace {

using Bytes = std::vector<uint8_t>;

struct Decoded {
  PixelFormat format;
  Bytes samples;
  Metadata metadata;
};

Decoded DecodeFrom(Source& source, int band) {
  std::unique_ptr<Decoder> d = OpenWebp(source, "x.webp");
  Decoded out{d->format(), {}, {}};
  const size_t row = out.format.RowBytes();
  const size_t stride = row + 5;  // rows with a gap
  std::vector<std::byte> buf(stride * static_cast<size_t>(out.format.height));
  const int h = out.format.height;
  const int step = band > 0 ? band : h;
  for (int y = 0; y < h; y += step) {
    d->ReadRows(buf.data() + static_cast<size_t>(y) * stride,
                static_cast<std::ptrdiff_t>(stride), std::min(step, h - y));
  }
  d->Finish();
  for (int y = 0; y < h; ++y) {
    const auto* p = reinterpret_cast<const uint8_t*>(buf.data()) +
                    static_cast<size_t>(y) * stride;
    out.samples.insert(out.samples.end(), p, p + row);
  }
  out.metadata = d->metadata();
  return out;
}

Decoded Decode(const Bytes& bytes, int band = 0) {
  const std::unique_ptr<Source> source = Source::FromMemory(bytes);
  return DecodeFrom(*source, band);
}

// Through a pipe, written from a thread.
Decoded DecodePipe(const Bytes& bytes, int band) {
  return pipe_feed::ThroughPipe(bytes, [&](int fd) {
    const std::unique_ptr<Source> source = Source::FromFd(fd, "x.webp");
    return DecodeFrom(*source, band);
  });
}

void ExpectSameAsOpenCV(const Decoded& d, const Bytes& file) {
  const cv::Mat m = cv::imdecode(file, cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(m.empty());
  ASSERT_EQ(d.format.width, m.cols);
  ASSERT_EQ(d.format.height, m.rows);
  ASSERT_EQ(d.format.channels, m.channels());
  ASSERT_EQ(d.format.depth, core::Depth::kU8);
  const size_t row = d.format.RowBytes();
  for (int y = 0; y < m.rows; ++y) {
    ASSERT_EQ(0, std::memcmp(d.samples.data() + y * row, m.ptr(y), row))
        << "row " << y;
  }
}

// A picture with edges and smooth parts (lossy coding has work to do).
cv::Mat Picture(int rows, int cols, int channels, unsigned seed) {
  cv::Mat m(rows, cols, CV_8UC(channels));
  cv::RNG rng(seed);
  for (int y = 0; y < rows; ++y) {
    for (int x = 0; x < cols; ++x) {
      for (int c = 0; c < channels; ++c) {
        const int v = (x * (c + 2) + y * 3) % 256 + rng.uniform(-10, 10);
        m.ptr<uint8_t>(y)[x * channels + c] =
            // Alpha never 0: lossless WebP may change the colour of
            // transparent pixels.
            static_cast<uint8_t>(c == 3
                                     ? (x > cols / 2 ? 255 : 1 + (y * 16) % 255)
                                     : std::clamp(v, 0, 255));
      }
    }
  }
  return m;
}

Bytes CvEncode(const cv::Mat& m, std::vector<int> params = {}) {
  Bytes out;
  EXPECT_TRUE(cv::imencode(".webp", m, out, params));
  return out;
}

Bytes EncodeWith(const cv::Mat& m, int quality, const Metadata& metadata = {},
                 int band = 0) {
  const PixelFormat f{m.cols, m.rows, m.channels(), core::Depth::kU8};
  VectorSink sink;
  const std::unique_ptr<Encoder> e =
      NewWebpEncoder(f, metadata, EncodeOptions{quality}, sink, "o.webp");
  const int step = band > 0 ? band : m.rows;
  for (int y = 0; y < m.rows; y += step) {
    e->WriteRows(reinterpret_cast<const std::byte*>(m.ptr(y)),
                 static_cast<std::ptrdiff_t>(m.step[0]),
                 std::min(step, m.rows - y));
  }
  e->Finish();
  return std::move(sink.bytes());
}

void ExpectInputError(const Bytes& bytes, const std::string& contains) {
  try {
    Decode(bytes);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("input 'x.webp': ", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_NE(what.find(contains), std::string::npos) << what;
  }
}

TEST(WebpDecoderTest, LosslessLossyAndAlphaMatchOpenCV) {
  for (const int channels : {3, 4}) {
    const cv::Mat m = Picture(37, 53, channels, channels);
    const std::vector<std::pair<std::string, Bytes>> files = {
        {"lossless", CvEncode(m)},
        {"lossy 75", CvEncode(m, {cv::IMWRITE_WEBP_QUALITY, 75})},
        {"lossy 5", CvEncode(m, {cv::IMWRITE_WEBP_QUALITY, 5})},
    };
    for (const auto& [what, file] : files) {
      for (const int band : {1, 4, 0}) {
        SCOPED_TRACE(what + " channels " + std::to_string(channels) + " band " +
                     std::to_string(band));
        const Decoded d = Decode(file, band);
        EXPECT_EQ(d.format.channels, channels);
        ExpectSameAsOpenCV(d, file);
        ExpectSameAsOpenCV(DecodePipe(file, band), file);
      }
    }
    // Lossless is exact.
    const Decoded d = Decode(files[0].second);
    EXPECT_EQ(0, std::memcmp(d.samples.data(), m.data, d.samples.size()));
  }
}

TEST(WebpEncoderTest, BytesEqualToOpenCV) {
  for (const int channels : {1, 3, 4}) {
    const cv::Mat full = Picture(40, 60, channels, 10 + channels);
    const cv::Mat m = full(cv::Rect(3, 2, 51, 33));  // rows with a gap
    SCOPED_TRACE("channels " + std::to_string(channels));
    for (const int band : {1, 4, 0}) {
      // Quality 0: lossless, OpenCV's default for .webp.
      EXPECT_EQ(EncodeWith(m, 0, {}, band), CvEncode(m));
      EXPECT_EQ(EncodeWith(m, 80, {}, band),
                CvEncode(m, {cv::IMWRITE_WEBP_QUALITY, 80}));
    }
    EXPECT_EQ(EncodeWith(m, 100), CvEncode(m, {cv::IMWRITE_WEBP_QUALITY, 100}));
    EXPECT_EQ(EncodeWith(m, 1), CvEncode(m, {cv::IMWRITE_WEBP_QUALITY, 1}));
    // Read back: lossless gives the samples (gray as three equal ones).
    const Decoded d = Decode(EncodeWith(m, 0));
    ASSERT_EQ(d.format.channels, channels == 1 ? 3 : channels);
    for (int y = 0; y < m.rows; ++y) {
      for (int x = 0; x < m.cols; ++x) {
        for (int c = 0; c < d.format.channels; ++c) {
          const uint8_t want =
              m.ptr<uint8_t>(y)[x * channels + (channels == 1 ? 0 : c)];
          ASSERT_EQ(d.samples[(static_cast<size_t>(y) * m.cols + x) *
                                  d.format.channels +
                              c],
                    want);
        }
      }
    }
  }
}

TEST(WebpEncoderTest, GrayAlphaIsWrittenAsBgra) {
  cv::Mat ga(6, 7, CV_8UC2);
  for (int i = 0; i < 6 * 7 * 2; ++i) ga.data[i] = static_cast<uint8_t>(i * 5);
  cv::Mat parts[2];
  cv::split(ga, parts);
  cv::Mat bgra;
  cv::merge(std::vector<cv::Mat>{parts[0], parts[0], parts[0], parts[1]}, bgra);
  EXPECT_EQ(EncodeWith(ga, 0), CvEncode(bgra));
}

TEST(WebpCodecTest, MetadataRoundTrip) {
  const cv::Mat m = Picture(20, 30, 4, 3);
  Metadata md;
  md.icc = Bytes(600, 7);
  md.icc[0] = 1;
  md.exif = {'I', 'I', '*', 0, 8, 0, 0, 0, 0, 0};
  md.xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'/>";
  for (const int quality : {0, 90}) {
    const Bytes file = EncodeWith(m, quality, md);
    ASSERT_GT(file.size(), 30u);
    EXPECT_EQ(std::string(file.begin() + 12, file.begin() + 16), "VP8X");
    const Decoded d = Decode(file, 7);
    EXPECT_EQ(d.metadata.icc, md.icc);
    EXPECT_EQ(d.metadata.exif, md.exif);
    EXPECT_EQ(d.metadata.xmp, md.xmp);
    // The pixels are those of the file without metadata.
    EXPECT_EQ(d.samples, Decode(EncodeWith(m, quality)).samples);
    ExpectSameAsOpenCV(d, file);
  }
  // An EXIF chunk with JPEG's "Exif\0\0" in front is read without it.
  Metadata prefixed;
  prefixed.exif = {'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, '*'};
  EXPECT_EQ(Decode(EncodeWith(m, 0, prefixed)).metadata.exif,
            (Bytes{'M', 'M', 0, '*'}));
  // Without metadata, none is found.
  EXPECT_TRUE(Decode(EncodeWith(m, 0)).metadata.empty());
}

Bytes Animated() {
  WebPAnimEncoderOptions options;
  EXPECT_TRUE(WebPAnimEncoderOptionsInit(&options));
  WebPAnimEncoder* enc = WebPAnimEncoderNew(8, 8, &options);
  WebPConfig config;
  EXPECT_TRUE(WebPConfigInit(&config));
  for (int frame = 0; frame < 2; ++frame) {
    WebPPicture pic;
    EXPECT_TRUE(WebPPictureInit(&pic));
    pic.width = 8;
    pic.height = 8;
    pic.use_argb = 1;
    EXPECT_TRUE(WebPPictureAlloc(&pic));
    for (int i = 0; i < 64; ++i)
      pic.argb[i] = 0xFF000000u | (frame ? 0xFF : 0xFF00) * i;
    EXPECT_TRUE(WebPAnimEncoderAdd(enc, &pic, frame * 100, &config));
    WebPPictureFree(&pic);
  }
  WebPAnimEncoderAdd(enc, nullptr, 200, nullptr);
  WebPData data;
  WebPDataInit(&data);
  EXPECT_TRUE(WebPAnimEncoderAssemble(enc, &data));
  Bytes out(data.bytes, data.bytes + data.size);
  WebPDataClear(&data);
  WebPAnimEncoderDelete(enc);
  return out;
}

TEST(WebpDecoderTest, BrokenFilesGiveOneInputError) {
  ExpectInputError(Animated(), "animated WebP is not supported");
  const Bytes lossless = CvEncode(Picture(30, 40, 3, 1));
  const Bytes lossy =
      CvEncode(Picture(30, 40, 3, 1), {cv::IMWRITE_WEBP_QUALITY, 70});
  for (const Bytes* file : {&lossless, &lossy}) {
    for (const size_t keep :
         {size_t{10}, size_t{29}, file->size() / 2, file->size() - 1}) {
      SCOPED_TRACE(keep);
      ExpectInputError(Bytes(file->begin(),
                             file->begin() + static_cast<std::ptrdiff_t>(keep)),
                       "WebP");
    }
    Bytes garbled = *file;
    for (size_t i = 40; i < garbled.size(); i += 3) garbled[i] ^= 0x5a;
    try {
      Decode(garbled);  // may decode to other pixels: lossy data has no check
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInput);
      EXPECT_EQ(std::string(e.what()).rfind("input 'x.webp': ", 0), 0u);
    }
  }
  ExpectInputError(Bytes(lossless.begin(), lossless.begin() + 16),
                   "truncated WebP (the header ends early)");
  ExpectInputError(Bytes{'R', 'I', 'F', 'F', 0, 0, 0, 0, 'W', 'E', 'B', 'P'},
                   "corrupt WebP (bitstream error)");
  Bytes bad = lossless;
  std::memcpy(bad.data() + 12, "VP9L", 4);
  ExpectInputError(bad, "corrupt WebP (");
}

TEST(WebpEncoderTest, RefusesWhatItCannotStore) {
  VectorSink sink;
  const auto refuse = [&](PixelFormat f, int quality,
                          const std::string& message) {
    try {
      NewWebpEncoder(f, {}, EncodeOptions{quality}, sink, "o.webp");
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kOutput);
      EXPECT_EQ(std::string(e.what()), "output 'o.webp': " + message);
    }
  };
  refuse({4, 4, 3, core::Depth::kU16}, 0,
         "webp cannot store 16-bit samples; use png or tif, or --depth u8");
  refuse({4, 4, 3, core::Depth::kF32}, 0,
         "webp cannot store float samples; use tif (or pfm), or --depth u8");
  refuse({16384, 4, 3, core::Depth::kU8}, 0,
         "webp cannot store an image over 16383 pixels a side; use png or tif");
  refuse({4, 4, 3, core::Depth::kU8}, 101,
         "WebP quality 101 is out of range (0 to 100)");
  EXPECT_TRUE(sink.bytes().empty());
}

TEST(WebpCodecTest, TwoThreadsAtOnce) {
  const cv::Mat a = Picture(64, 64, 3, 1);
  const cv::Mat b = Picture(48, 80, 4, 2);
  const Bytes a_file = CvEncode(a, {cv::IMWRITE_WEBP_QUALITY, 60});
  const Bytes b_file = CvEncode(b);
  const Bytes a_once = Decode(a_file).samples;
  const Bytes b_once = Decode(b_file).samples;
  bool ok[2] = {true, true};
  const auto work = [&](int t) {
    for (int i = 0; i < 20; ++i) {
      ok[t] &= Decode(t == 0 ? a_file : b_file, 1 + i % 7).samples ==
               (t == 0 ? a_once : b_once);
      ok[t] &= EncodeWith(t == 0 ? a : b, t == 0 ? 60 : 0) ==
               (t == 0 ? a_file : b_file);
    }
  };
  std::thread x(work, 0);
  std::thread y(work, 1);
  x.join();
  y.join();
  EXPECT_TRUE(ok[0]);
  EXPECT_TRUE(ok[1]);
}

}  // namespace
}  // namespace convcorr::io
