// Encoding (src/io/image_io.cc, src/io/format.cc): exact round trips per
// format and depth, which formats can store what, and the format an
// extension names.
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/exif.h"
#include "io/files.h"
#include "io/format.h"
#include "io/image_io.h"
#include "io/image_test_util.h"
#include "io/io_test_util.h"

namespace convcorr::io {
namespace {

// fs, the core types and the test helpers come with image_test.
using namespace image_test;  // NOLINT: the shared helpers

TEST(RoundTrip, IntegerPngAndTiffExact) {
  for (const std::string ext : {"png", "tif", "tiff"}) {
    for (const Depth depth : {Depth::kU8, Depth::kU16}) {
      for (int channels = 1; channels <= 4; ++channels) {
        SCOPED_TRACE(ext + " " + DepthName(depth) + " " +
                     std::to_string(channels) + " channels");
        const Image img = IntegerImage(depth, channels);
        const Bytes b = EncodeImage(img, ext, "out." + ext);
        ExpectSameImage(Decode(b), img);
        EXPECT_EQ(SniffFormat(b), FormatOf(ext));
      }
    }
  }
}

TEST(RoundTrip, FloatTiffBitForBit) {
  for (int channels = 1; channels <= 4; ++channels) {
    SCOPED_TRACE(std::to_string(channels) + " channels");
    const Image img = FloatImage(channels);
    const Bytes b = EncodeImage(img, "tif", "out.tif");
    ExpectSameImage(Decode(b), img);
    EXPECT_EQ(TiffTag(b, 339), 3) << "SampleFormat must be IEEE float";
    EXPECT_EQ(TiffTag(b, 258), 32) << "BitsPerSample";
    // Never SGILOG/SGILOG24 (34676/34677), OpenCV's lossy default for
    // 3-channel float. (docs/io.md says LZW; OpenCV 4.6 stores float
    // uncompressed when asked for LZW, which is lossless too.)
    const int64_t compression = TiffTag(b, 259);
    EXPECT_TRUE(compression == 1 || compression == 5 || compression == 8 ||
                compression == 32946)
        << "Compression " << compression << " is not a lossless scheme";
  }
}

TEST(RoundTrip, IntegerTiffIsLzw) {
  for (const Depth depth : {Depth::kU8, Depth::kU16}) {
    for (const int channels : {1, 3, 4}) {
      SCOPED_TRACE(std::string(DepthName(depth)) + " " +
                   std::to_string(channels) + " channels");
      const Bytes b = EncodeImage(IntegerImage(depth, channels), "tif", "o");
      EXPECT_EQ(TiffTag(b, 259), 5) << "Compression (docs/io.md: LZW)";
      EXPECT_EQ(TiffTag(b, 258), depth == Depth::kU8 ? 8 : 16);
    }
  }
}

TEST(RoundTrip, FloatPfmBitForBit) {
  for (const int channels : {1, 3}) {
    SCOPED_TRACE(std::to_string(channels) + " channels");
    const Image img = FloatImage(channels);
    const Bytes b = EncodeImage(img, "pfm", "out.pfm");
    ASSERT_GE(b.size(), 2u);
    EXPECT_EQ(std::string(b.begin(), b.begin() + 2),
              channels == 1 ? "Pf" : "PF");
    ExpectSameImage(Decode(b), img);
  }
}

TEST(RoundTrip, PnmAndBmpExact) {
  struct Case {
    std::string ext;
    Depth depth;
    int channels;
  };
  for (const Case& c : std::vector<Case>{{"pgm", Depth::kU8, 1},
                                         {"pgm", Depth::kU16, 1},
                                         {"ppm", Depth::kU8, 3},
                                         {"ppm", Depth::kU16, 3},
                                         {"pnm", Depth::kU8, 1},
                                         {"pnm", Depth::kU16, 3},
                                         {"bmp", Depth::kU8, 1},
                                         {"bmp", Depth::kU8, 3}}) {
    SCOPED_TRACE(c.ext + " " + DepthName(c.depth) + " " +
                 std::to_string(c.channels));
    const Image img = IntegerImage(c.depth, c.channels);
    ExpectSameImage(Decode(EncodeImage(img, c.ext, "out." + c.ext)), img);
  }
}

// JPEG at OpenCV's default quality 95 on smooth content: every sample
// within 12 levels and the mean error under 3 levels. Quantisation alone
// costs about one level; 4:2:0 chroma subsampling of a 37x23 image whose
// colour planes are out of phase adds one or two more. A grey-filled,
// shifted or channel-swapped image is off by tens of levels.
TEST(RoundTrip, JpegWithinTolerance) {
  for (const std::string ext : {"jpg", "jpeg", "jpe"}) {
    for (const int channels : {1, 3}) {
      SCOPED_TRACE(ext + " " + std::to_string(channels) + " channels");
      const Image img = SmoothImage(Depth::kU8, channels);
      const Bytes b = EncodeImage(img, ext, "out." + ext);
      ASSERT_GE(b.size(), 3u);
      EXPECT_EQ(b[0], 0xFF);
      EXPECT_EQ(b[1], 0xD8);
      const Image got = Decode(b);
      ExpectSameImage(got, img, 12.0f);
      for (size_t c = 0; c < img.color.size() && c < got.color.size(); ++c) {
        EXPECT_LT(MeanAbsDiff(got.color[c], img.color[c]), 3.0) << c;
      }
    }
  }
}

TEST(RoundTrip, SignedAndDoubleSamplesAreReadAsFloat) {
  struct Case {
    int type;
    std::vector<double> values;
  };
  for (const Case& c :
       std::vector<Case>{{CV_8SC1, {-128, -1, 0, 1, 127}},
                         {CV_16SC1, {-32768, -300, 0, 1234, 32767}},
                         {CV_32SC1, {-100000, -1, 0, 16777216, 2000000}},
                         {CV_64FC1, {-0.5, 0.1, 1e10, -3.25, 0}}}) {
    SCOPED_TRACE(c.type);
    cv::Mat m(1, static_cast<int>(c.values.size()), CV_64FC1);
    for (size_t i = 0; i < c.values.size(); ++i) {
      m.at<double>(0, static_cast<int>(i)) = c.values[i];
    }
    m.convertTo(m, c.type);
    const Image img = Decode(CvEncode(".tif", m));
    EXPECT_EQ(DepthName(img.depth), std::string("f32"));
    ASSERT_EQ(img.color.size(), 1u);
    EXPECT_FALSE(img.alpha);
    for (size_t i = 0; i < c.values.size(); ++i) {
      EXPECT_EQ(img.color[0].at(0, static_cast<int>(i)),
                static_cast<float>(c.values[i]))
          << i;
    }
  }
}

// --- What each format can store
// -----------------------------------------------

struct EncodableCase {
  std::string ext;
  Depth depth;
  int channels;
  std::string error;  // "" when allowed
};

TEST(CheckEncodable, Table) {
  const std::string jpeg16 =
      "jpeg cannot store 16-bit samples; use png or tif, or --depth u8";
  const std::string alpha =
      "cannot store an alpha channel; use png or tif, or --gray";
  const std::string flt =
      "cannot store float samples; use tif (or pfm), or --depth u8 or u16";
  // Formats that hold only 8 bits do not suggest u16.
  const std::string flt8 =
      "cannot store float samples; use tif (or pfm), or --depth u8";
  const std::string pfm =
      "pfm stores only float samples; use png or tif, or --depth f32";
  for (const EncodableCase& c : std::vector<EncodableCase>{
           {"jpg", Depth::kU16, 3, jpeg16},
           {"jpeg", Depth::kU16, 1, jpeg16},
           {"jpe", Depth::kU16, 1, jpeg16},
           {"jpg", Depth::kU8, 4, "jpeg " + alpha},
           {"jpg", Depth::kU8, 2, "jpeg " + alpha},
           {"jpg", Depth::kF32, 4, "jpeg " + flt8},
           {"jpg", Depth::kU8, 1, ""},
           {"jpg", Depth::kU8, 3, ""},
           {"png", Depth::kF32, 1, "png " + flt},
           {"png", Depth::kF32, 3, "png " + flt},
           {"png", Depth::kU16, 4, ""},
           {"png", Depth::kU8, 2, ""},
           {"tif", Depth::kF32, 1, ""},
           {"tif", Depth::kF32, 3, ""},
           {"tiff", Depth::kF32, 4, ""},
           {"tif", Depth::kU16, 2, ""},
           {"pfm", Depth::kU8, 1, pfm},
           {"pfm", Depth::kU16, 3, pfm},
           {"pfm", Depth::kF32, 1, ""},
           {"pfm", Depth::kF32, 3, ""},
           {"pfm", Depth::kF32, 4, "pfm " + alpha},
           {"pgm", Depth::kU16, 1, ""},
           {"pgm", Depth::kU8, 1, ""},
           {"ppm", Depth::kU16, 3, ""},
           {"pnm", Depth::kU8, 3, ""},
           {"pgm", Depth::kF32, 1, "pnm " + flt},
           {"ppm", Depth::kU8, 4, "pnm " + alpha},
           {"pnm", Depth::kU16, 2, "pnm " + alpha},
           {"pgm", Depth::kU8, 3,
            "pgm stores one channel; use ppm or png, or --gray"},
           {"pgm", Depth::kU16, 3,
            "pgm stores one channel; use ppm or png, or --gray"},
           {"ppm", Depth::kU8, 1, ""},
           {"pnm", Depth::kU16, 1, ""},
           {"webp", Depth::kU16, 3,
            "webp cannot store 16-bit samples; use png or tif, or --depth u8"},
           {"webp", Depth::kF32, 3, "webp " + flt8},
           {"webp", Depth::kU8, 4, ""},
           {"bmp", Depth::kU16, 1,
            "bmp cannot store 16-bit samples; use png or tif, or --depth u8"},
           {"bmp", Depth::kF32, 3, "bmp " + flt8},
           {"bmp", Depth::kU8, 3, ""},
           {"bmp", Depth::kU8, 1, ""},
           {"bmp", Depth::kU8, 4, "bmp " + alpha},
           {"bmp", Depth::kU8, 2, "bmp " + alpha},
           {"webp", Depth::kU8, 2, ""}}) {
    SCOPED_TRACE(c.ext + " " + DepthName(c.depth) + " " +
                 std::to_string(c.channels));
    const std::string name = "dir/out." + c.ext;
    if (c.error.empty()) {
      EXPECT_NO_THROW(CheckEncodable(c.ext, c.depth, c.channels, name));
    } else {
      EXPECT_TRUE(
          ThrowsError([&] { CheckEncodable(c.ext, c.depth, c.channels, name); },
                      ErrorKind::kUsage, "output '" + name + "': " + c.error));
    }
  }
}

// What CheckEncodable lets through, EncodeImage must write and DecodeImage
// must read back with the same size, depth, colour and alpha (a gray image
// may come back as three equal colour planes). Otherwise the failure shows
// up after the work is done, as an output error (exit 3) or as lost data.
class EncodableAgreementTest : public ::testing::TestWithParam<std::string> {};

TEST_P(EncodableAgreementTest, AcceptedMeansWrittenAndReadBack) {
  const std::string& ext = GetParam();
  for (const Depth depth : {Depth::kU8, Depth::kU16, Depth::kF32}) {
    for (int channels = 1; channels <= 4; ++channels) {
      const std::string what = ext + " " + DepthName(depth) + " " +
                               std::to_string(channels) + " channels";
      SCOPED_TRACE(what);
      const std::string name = "out." + ext;
      try {
        CheckEncodable(ext, depth, channels, name);
      } catch (const Error& e) {
        EXPECT_EQ(testing::KindName(e.kind()), std::string("kUsage"));
        EXPECT_EQ(std::string(e.what()).rfind("output '" + name + "': ", 0), 0u)
            << e.what();
        continue;
      }
      const Image img = SmoothImage(depth, channels);
      Bytes b;
      try {
        b = EncodeImage(img, ext, name);
      } catch (const Error& e) {
        ADD_FAILURE() << "CheckEncodable accepts " << what
                      << " but EncodeImage throws "
                      << testing::KindName(e.kind()) << " '" << e.what() << "'";
        continue;
      }
      Image got;
      try {
        got = DecodeImage(b, name, {});
      } catch (const Error& e) {
        ADD_FAILURE() << "written " << what << " does not decode: " << e.what();
        continue;
      }
      EXPECT_EQ(got.width, img.width);
      EXPECT_EQ(got.height, img.height);
      EXPECT_EQ(DepthName(got.depth), std::string(DepthName(depth)));
      EXPECT_EQ(got.alpha.has_value(), img.alpha.has_value())
          << "alpha " << (img.alpha ? "lost" : "invented");
      if (got.color.size() < img.color.size()) {
        ADD_FAILURE() << "colour planes lost: " << got.color.size();
        continue;
      }
      const bool lossy = FormatOf(ext) == "jpeg" || ext == "webp";
      const float tol = lossy ? 12.0f * (depth == Depth::kU16 ? 257 : 1) : 0.0f;
      for (size_t c = 0; c < got.color.size(); ++c) {
        const Plane& want = img.color[img.color.size() == 1 ? 0 : c];
        EXPECT_TRUE(PlanesMatch(got.color[c], want, tol)) << "plane " << c;
      }
      if (got.alpha && img.alpha) {
        EXPECT_TRUE(PlanesMatch(*got.alpha, *img.alpha, tol)) << "alpha";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Writable, EncodableAgreementTest,
                         ::testing::Values("png", "jpg", "jpeg", "jpe", "tif",
                                           "tiff", "bmp", "pgm", "ppm", "pnm",
                                           "pfm", "webp"),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param;
                         });

TEST(EncodeImage, WritesTheFormatOfTheExtension) {
  const Image img = IntegerImage(Depth::kU8, 3);
  const auto starts = [](const Bytes& b, std::string_view magic) {
    return b.size() >= magic.size() &&
           std::equal(
               magic.begin(), magic.end(), b.begin(),
               [](char m, uint8_t v) { return static_cast<uint8_t>(m) == v; });
  };
  EXPECT_TRUE(starts(EncodeImage(img, "png", "o"), "\x89PNG\r\n\x1a\n"sv));
  EXPECT_TRUE(starts(EncodeImage(img, "jpg", "o"), "\xFF\xD8\xFF"sv));
  EXPECT_TRUE(starts(EncodeImage(img, "tif", "o"), "II*\0"sv) ||
              starts(EncodeImage(img, "tif", "o"), "MM\0*"sv));
  EXPECT_TRUE(starts(EncodeImage(img, "bmp", "o"), "BM"sv));
  EXPECT_TRUE(starts(EncodeImage(img, "ppm", "o"), "P6"sv));
  EXPECT_TRUE(starts(EncodeImage(img, "webp", "o"), "RIFF"sv));
}

// Bytes as they reach a sink: how many before Finish, the largest write.
class RecordingSink : public VectorSink {
 public:
  explicit RecordingSink(bool seekable) : seekable_(seekable) {}
  void Write(const void* data, size_t n) override {
    largest = std::max(largest, n);
    VectorSink::Write(data, n);
  }
  bool Seekable() const override { return seekable_; }
  void WriteAt(uint64_t offset, const void* data, size_t n) override {
    EXPECT_TRUE(seekable_) << "WriteAt on a sink that only appends";
    largest = std::max(largest, n);
    VectorSink::WriteAt(offset, data, n);
  }
  size_t largest = 0;

 private:
  bool seekable_;
};

// TIFF (whose header points at the directory written last) and BMP (whose
// rows run bottom-up) write to a seekable sink, a file, as the rows come,
// in pieces of a strip or a band, and hold the whole file only for a sink
// that can only append (a pipe); both give the same bytes.
TEST(EncodeImage, TiffAndBmpStreamToSeekableSinks) {
  std::mt19937 rng(11);
  const struct {
    std::string ext;
    Depth depth;
    int channels;
  } cases[] = {{"tif", Depth::kU8, 3},
               {"tif", Depth::kU16, 1},
               {"tif", Depth::kF32, 4},
               {"bmp", Depth::kU8, 3},
               {"bmp", Depth::kU8, 1}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.ext + " " + DepthName(c.depth) + " " +
                 std::to_string(c.channels) + " channels");
    PixelFormat f;
    f.width = 301;
    f.height = 2000;
    f.channels = c.channels;
    f.depth = c.depth;
    std::vector<std::byte> rows(f.RowBytes() * f.height);
    for (std::byte& b : rows) b = static_cast<std::byte>(rng() % 64);
    if (c.depth == Depth::kF32) {
      for (size_t i = 0; i + 4 <= rows.size(); i += 4) {
        const float v = static_cast<float>(rng() % 1000) / 7.0f;
        std::memcpy(&rows[i], &v, 4);
      }
    }
    Metadata metadata;
    RecordingSink file(true), pipe(false);
    size_t before_finish[2] = {0, 0};
    int i = 0;
    for (RecordingSink* sink : {&file, &pipe}) {
      const auto encoder = NewEncoder(f, c.ext, "out." + c.ext, metadata,
                                      EncodeOptions{}, *sink);
      for (int y = 0; y < f.height; y += 16) {
        encoder->WriteRows(rows.data() + y * f.RowBytes(),
                           static_cast<std::ptrdiff_t>(f.RowBytes()),
                           std::min(16, f.height - y));
      }
      before_finish[i++] = sink->bytes().size();
      encoder->Finish();
    }
    EXPECT_TRUE(file.bytes() == pipe.bytes());
    EXPECT_EQ(before_finish[1], 0u);
    EXPECT_GT(before_finish[0], pipe.bytes().size() * 9 / 10);
    EXPECT_LE(file.largest, size_t{256} << 10);
    EXPECT_GT(pipe.largest, pipe.bytes().size() / 2);
    const Image back = Decode(file.bytes());
    EXPECT_EQ(back.width, f.width);
    EXPECT_EQ(back.height, f.height);
  }
}

TEST(EncodeImage, UnknownExtensionIsAnOutputError) {
  const Image img = IntegerImage(Depth::kU8, 3);
  EXPECT_TRUE(ThrowsKind([&] { EncodeImage(img, "xyz", "out.xyz"); },
                         ErrorKind::kOutput));
}

}  // namespace
}  // namespace convcorr::io
