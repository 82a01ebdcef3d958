// Decoded samples (src/io/image_io.cc): gray+alpha inputs, --gray, the
// sample photos, the Raster and its views, the weights of an image kernel
// (WeightPlane), EXIF orientation.
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

// --- Gray+alpha inputs -------------------------------------------------------

// Gray+alpha input keeps its alpha (docs/io.md); the gray may come back
// as one plane or as three equal colour planes.
void ExpectGrayAlpha(const Image& img, const std::vector<float>& gray,
                     const std::vector<float>& alpha, Depth depth) {
  EXPECT_EQ(DepthName(img.depth), std::string(DepthName(depth)));
  ASSERT_TRUE(img.alpha.has_value()) << "alpha lost";
  EXPECT_EQ(img.alpha->data, alpha);
  ASSERT_TRUE(img.color.size() == 1 || img.color.size() == 3)
      << img.color.size();
  for (const Plane& p : img.color) EXPECT_EQ(p.data, gray);
}

TEST(DecodeGrayAlpha, Png8And16Bit) {
  // 3x2 pixels, PNG colour type 4 (gray, alpha), filter 0 on every row.
  std::vector<float> gray, alpha;
  Bytes rows8, rows16;
  for (int y = 0; y < 2; ++y) {
    rows8.push_back(0);
    rows16.push_back(0);
    for (int x = 0; x < 3; ++x) {
      const int i = y * 3 + x;
      rows8.push_back(static_cast<uint8_t>(10 * i + 5));
      rows8.push_back(static_cast<uint8_t>(250 - 40 * i));
      testing::PutBe16(rows16, 1000u * i + 7);
      testing::PutBe16(rows16, 65535u - 5000u * i);
    }
  }
  for (int i = 0; i < 6; ++i) {
    gray.push_back(static_cast<float>(10 * i + 5));
    alpha.push_back(static_cast<float>(250 - 40 * i));
  }
  {
    SCOPED_TRACE("8-bit");
    const Bytes png = testing::PngImage(3, 2, 8, 4, rows8);
    ExpectGrayAlpha(Decode(png), gray, alpha, Depth::kU8);
    const Image g = Decode(png, {.gray = true});
    ASSERT_EQ(g.color.size(), 1u);
    EXPECT_FALSE(g.alpha);
    EXPECT_EQ(g.color[0].data, gray);
  }
  {
    SCOPED_TRACE("16-bit");
    std::vector<float> gray16, alpha16;
    for (int i = 0; i < 6; ++i) {
      gray16.push_back(static_cast<float>(1000 * i + 7));
      alpha16.push_back(static_cast<float>(65535 - 5000 * i));
    }
    ExpectGrayAlpha(Decode(testing::PngImage(3, 2, 16, 4, rows16)), gray16,
                    alpha16, Depth::kU16);
  }
}

// An uncompressed 8-bit gray+alpha TIFF (SamplesPerPixel 2, ExtraSamples 2
// = unassociated alpha), built from the TIFF 6.0 specification. Its alpha
// must be kept, or the input refused; dropping it silently is data loss.
TEST(DecodeGrayAlpha, Tiff) {
  const uint32_t w = 3, h = 2;
  const std::vector<std::pair<uint32_t, uint32_t>> tags = {
      {256, w}, {257, h}, {258, 8},         {259, 1}, {262, 1}, {273, 0},
      {277, 2}, {278, h}, {279, w * h * 2}, {284, 1}, {338, 2}};
  Bytes b = {'I', 'I', 42, 0};
  testing::PutLe32(b, 8);
  const uint32_t data_offset =
      static_cast<uint32_t>(8 + 2 + 12 * tags.size() + 4);
  testing::PutLe16(b, static_cast<uint32_t>(tags.size()));
  for (const auto& [tag, value] : tags) {
    const bool is_long = tag == 273 || tag == 279;
    testing::PutLe16(b, tag);
    testing::PutLe16(b, is_long ? 4 : 3);
    testing::PutLe32(b, 1);
    const uint32_t v = tag == 273 ? data_offset : value;
    if (is_long) {
      testing::PutLe32(b, v);
    } else {
      testing::PutLe16(b, v);
      testing::PutLe16(b, 0);
    }
  }
  testing::PutLe32(b, 0);
  std::vector<float> gray, alpha;
  for (uint32_t i = 0; i < w * h; ++i) {
    testing::Put8(b, 10 * i + 5);
    testing::Put8(b, 250 - 40 * i);
    gray.push_back(static_cast<float>(10 * i + 5));
    alpha.push_back(static_cast<float>(250 - 40 * i));
  }
  Image img;
  try {
    img = DecodeImage(b, "ga.tif", {});
  } catch (const Error& e) {
    EXPECT_EQ(testing::KindName(e.kind()), std::string("kInput")) << e.what();
    return;  // refusing is fine
  }
  ASSERT_EQ(img.width, 3);
  ASSERT_EQ(img.height, 2);
  ExpectGrayAlpha(img, gray, alpha, Depth::kU8);
}

// --- The gray option ---------------------------------------------------------

// Rec. 601 luma, as OpenCV documents for COLOR_BGR2GRAY.
float Luma(float b, float g, float r) {
  return 0.299f * r + 0.587f * g + 0.114f * b;
}

TEST(DecodeGray, ColourToLuminance) {
  for (const std::string name : {"astronaut.png", "horse.png"}) {
    SCOPED_TRACE(name);
    const Bytes b = ReadFileBytes(kPhotos / name);
    const Image gray = DecodeImage(b, name, {.gray = true});
    ASSERT_EQ(gray.color.size(), 1u);
    EXPECT_FALSE(gray.alpha) << "alpha is dropped";
    EXPECT_EQ(DepthName(gray.depth), std::string("u8"));

    cv::Mat bgr;
    testing::CaptureStderr(
        [&] { bgr = cv::imdecode(b, cv::IMREAD_UNCHANGED); });
    cv::Mat ref;
    cv::cvtColor(
        bgr, ref,
        bgr.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    EXPECT_TRUE(PlanesMatch(gray.color[0], PlaneOf(ref, 0)));

    // And against the formula itself, within OpenCV's fixed-point rounding.
    const Plane pb = PlaneOf(bgr, 0), pg = PlaneOf(bgr, 1),
                pr = PlaneOf(bgr, 2);
    Plane luma(bgr.cols, bgr.rows);
    for (size_t i = 0; i < luma.data.size(); ++i) {
      luma.data[i] = Luma(pb.data[i], pg.data[i], pr.data[i]);
    }
    EXPECT_TRUE(PlanesMatch(gray.color[0], luma, 1.0f));
  }
}

TEST(DecodeGray, SixteenBitAndFloat) {
  for (const int type : {CV_16UC3, CV_32FC3, CV_16UC4}) {
    SCOPED_TRACE(type);
    cv::Mat m(23, 37, type);
    cv::randu(m, 0, CV_MAT_DEPTH(type) == CV_16U ? 65535 : 1);
    const Bytes b = CvEncode(".tif", m, {cv::IMWRITE_TIFF_COMPRESSION, 1});
    const Image gray = Decode(b, {.gray = true});
    ASSERT_EQ(gray.color.size(), 1u);
    EXPECT_FALSE(gray.alpha);
    cv::Mat ref;
    cv::cvtColor(m, ref,
                 m.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
    // Integers match cvtColor's fixed point exactly. Float luma is rounded
    // once from the exact sum, cvtColor rounds after each multiply-add (the
    // samples are in [0, 1], so 2^-22 is two units in the last place).
    const bool is_float = CV_MAT_DEPTH(type) == CV_32F;
    EXPECT_TRUE(PlanesMatch(gray.color[0], PlaneOf(ref, 0),
                            is_float ? std::ldexp(1.0f, -22) : 0.0f));
  }
}

TEST(DecodeGray, GrayInputUnchanged) {
  for (const std::string name : {"camera.png", "chessboard_GRAY_U16.tif"}) {
    SCOPED_TRACE(name);
    const Bytes b = ReadFileBytes(kPhotos / name);
    const Image plain = DecodeImage(b, name, {});
    const Image gray = DecodeImage(b, name, {.gray = true});
    EXPECT_EQ(DepthName(gray.depth), std::string(DepthName(plain.depth)));
    ASSERT_EQ(gray.color.size(), 1u);
    EXPECT_TRUE(PlanesMatch(gray.color[0], plain.color[0]));
  }
}

// --- Sample photos -------------------------------------------------------

struct SampleCase {
  std::string name;
  int width;
  int height;
  size_t colors;
  bool alpha;
  Depth depth;
};

class SampleTest : public ::testing::TestWithParam<SampleCase> {};

TEST_P(SampleTest, DecodesWithRightShapeAndValues) {
  const SampleCase& s = GetParam();
  const fs::path path = kPhotos / s.name;
  const Image img = ReadImage(path, {});
  EXPECT_EQ(img.width, s.width);
  EXPECT_EQ(img.height, s.height);
  ASSERT_EQ(img.color.size(), s.colors);
  EXPECT_EQ(img.alpha.has_value(), s.alpha);
  EXPECT_EQ(DepthName(img.depth), std::string(DepthName(s.depth)));
  EXPECT_EQ(img.channels(), static_cast<int>(s.colors) + (s.alpha ? 1 : 0));

  // Samples in OpenCV's channel order (B, G, R, A), unscaled.
  cv::Mat ref;
  testing::CaptureStderr(
      [&] { ref = cv::imread(path.string(), cv::IMREAD_UNCHANGED); });
  ASSERT_EQ(ref.channels(), img.channels());
  for (size_t c = 0; c < s.colors; ++c) {
    EXPECT_TRUE(PlanesMatch(img.color[c], PlaneOf(ref, static_cast<int>(c))))
        << "plane " << c;
  }
  if (s.alpha) {
    EXPECT_TRUE(PlanesMatch(*img.alpha, PlaneOf(ref, 3)));
  }
  const core::Range range = core::ColorRange(img);
  EXPECT_GE(range.lo, 0.0f);
  EXPECT_LE(range.hi, static_cast<float>(core::DepthMax(s.depth)));
  EXPECT_LT(range.lo, range.hi);
}

INSTANTIATE_TEST_SUITE_P(
    Photos, SampleTest,
    ::testing::Values(
        SampleCase{"astronaut.png", 512, 512, 3, false, Depth::kU8},
        SampleCase{"camera.png", 512, 512, 1, false, Depth::kU8},
        SampleCase{"horse.png", 400, 328, 3, true, Depth::kU8},
        SampleCase{"chessboard_GRAY_U16.tif", 200, 200, 1, false, Depth::kU16},
        SampleCase{"rocket.jpg", 640, 427, 3, false, Depth::kU8},
        SampleCase{"coffee.png", 600, 400, 3, false, Depth::kU8},
        SampleCase{"chelsea.png", 451, 300, 3, false, Depth::kU8},
        SampleCase{"clock_motion.png", 400, 300, 1, false, Depth::kU8}),
    [](const ::testing::TestParamInfo<SampleCase>& info) {
      std::string n = info.param.name.substr(0, info.param.name.find('.'));
      for (char& ch : n) {
        if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
      }
      return n;
    });

// A raster keeps the codec's samples: type, channels and values as
// cv::imdecode gives them, with views whose layout matches; ToImage of it
// is what DecodeImage returns.
TEST(Raster, KeepsTheDecodedSamples) {
  cv::Mat m(5, 7, CV_16UC3);
  cv::randu(m, 0, 65535);
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", m, png));
  const Raster r = DecodeRaster(png, "r.png", {});
  EXPECT_EQ(r.width(), 7);
  EXPECT_EQ(r.height(), 5);
  EXPECT_EQ(r.channels(), 3);
  EXPECT_EQ(r.depth(), core::Depth::kU16);
  const core::ConstImageView v = r.View();
  EXPECT_EQ(v.step, 3);
  for (int y = 0; y < 5; ++y) {
    for (int x = 0; x < 7; ++x) {
      for (int c = 0; c < 3; ++c) {
        uint16_t s;
        std::memcpy(&s, v.base[c] + y * v.row_bytes + x * 3 * 2, 2);
        EXPECT_EQ(s, m.at<cv::Vec3w>(y, x)[c]);
      }
    }
  }
  const core::Image img = DecodeImage(png, "r.png", {});
  const core::Image via = ToImage(DecodeRaster(png, "r.png", {}));
  ASSERT_EQ(img.color.size(), via.color.size());
  for (size_t c = 0; c < img.color.size(); ++c) {
    EXPECT_EQ(img.color[c], via.color[c]);
  }
}

// Encoding a raster writes its samples; gray goes to PPM as three equal
// channels, as EncodeImage does.
TEST(Raster, EncodesItsSamples) {
  Raster r = NewRaster(4, 3, 1, core::Depth::kU8);
  const core::ImageView v = r.MutableView();
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 4; ++x) {
      *reinterpret_cast<uint8_t*>(v.base[0] + y * v.row_bytes + x) =
          static_cast<uint8_t>(10 * y + x);
    }
  }
  for (const std::string ext : {"png", "ppm"}) {
    const std::vector<uint8_t> bytes = EncodeRaster(r, ext, "out");
    const cv::Mat back = cv::imdecode(bytes, cv::IMREAD_UNCHANGED);
    ASSERT_EQ(back.channels(), ext == "ppm" ? 3 : 1) << ext;
    for (int y = 0; y < 3; ++y) {
      for (int x = 0; x < 4; ++x) {
        const int expected = 10 * y + x;
        if (ext == "ppm") {
          EXPECT_EQ(back.at<cv::Vec3b>(y, x),
                    cv::Vec3b(expected, expected, expected));
        } else {
          EXPECT_EQ(back.at<uint8_t>(y, x), expected);
        }
      }
    }
  }
}

// --- Kernel weights (WeightPlane) --------------------------------------------

// A raster of `channels` interleaved samples of type T per pixel, from
// `samples` in row-major pixel order (B, G, R, A as io holds them).
template <typename T>
Raster RasterOf(int width, int height, int channels, Depth depth,
                const std::vector<T>& samples) {
  Raster r = NewRaster(width, height, channels, depth);
  const core::ImageView v = r.MutableView();
  const size_t row = static_cast<size_t>(width) * channels;
  for (int y = 0; y < height; ++y) {
    std::memcpy(v.base[0] + y * v.row_bytes, samples.data() + y * row,
                row * sizeof(T));
  }
  return r;
}

TEST(WeightPlane, GrayIsScaledToOneAndFloatIsAsStored) {
  const Raster u8 =
      RasterOf<uint8_t>(3, 2, 1, Depth::kU8, {0, 1, 51, 128, 254, 255});
  EXPECT_EQ(
      WeightPlane(u8),
      (std::vector<double>{0, 1 / 255.0, 0.2, 128 / 255.0, 254 / 255.0, 1}));
  const Raster u16 =
      RasterOf<uint16_t>(2, 2, 1, Depth::kU16, {0, 65535, 32768, 13107});
  EXPECT_EQ(WeightPlane(u16),
            (std::vector<double>{0, 1, 32768 / 65535.0, 0.2}));
  const Raster f32 =
      RasterOf<float>(4, 1, 1, Depth::kF32, {-0.5f, 2.5f, 1e-3f, 0});
  EXPECT_EQ(WeightPlane(f32),
            (std::vector<double>{-0.5, 2.5, double{1e-3f}, 0}));
}

TEST(WeightPlane, ColourIsBt601Luma) {
  // B, G, R: pure blue, green, red, a gray and a mixed colour.
  const Raster u8 = RasterOf<uint8_t>(
      5, 1, 3, Depth::kU8,
      {255, 0, 0, 0, 255, 0, 0, 0, 255, 200, 200, 200, 10, 20, 30});
  const std::vector<double> w = WeightPlane(u8);
  ASSERT_EQ(w.size(), 5u);
  EXPECT_EQ(w[0], 0.114);
  EXPECT_EQ(w[1], 0.587);
  EXPECT_EQ(w[2], 0.299);
  // R == G == B gives the gray value exactly, as a gray image would.
  EXPECT_EQ(w[3], 200 / 255.0);
  EXPECT_NEAR(w[4], (0.114 * 10 + 0.587 * 20 + 0.299 * 30) / 255, 1e-15);
  const Raster u16 =
      RasterOf<uint16_t>(2, 1, 3, Depth::kU16, {0, 0, 65535, 4000, 4000, 4000});
  EXPECT_EQ(WeightPlane(u16), (std::vector<double>{0.299, 4000 / 65535.0}));
  const Raster f32 =
      RasterOf<float>(2, 1, 3, Depth::kF32, {0, 2, 0, -0.25f, -0.25f, -0.25f});
  EXPECT_EQ(WeightPlane(f32), (std::vector<double>{1.174, -0.25}));
}

TEST(WeightPlane, AlphaMultiplies) {
  // Gray + alpha: white at alpha 51 (0.2), white transparent, gray opaque.
  const Raster ga =
      RasterOf<uint8_t>(3, 1, 2, Depth::kU8, {255, 51, 255, 0, 102, 255});
  EXPECT_EQ(WeightPlane(ga), (std::vector<double>{0.2, 0, 0.4}));
  // B, G, R, A: a transparent white counts nothing, whatever its colour.
  const Raster bgra =
      RasterOf<uint8_t>(3, 1, 4, Depth::kU8,
                        {255, 255, 255, 0, 0, 0, 255, 255, 255, 255, 255, 51});
  EXPECT_EQ(WeightPlane(bgra), (std::vector<double>{0, 0.299, 0.2}));
  const Raster ga16 = RasterOf<uint16_t>(1, 1, 2, Depth::kU16, {65535, 13107});
  EXPECT_EQ(WeightPlane(ga16), (std::vector<double>{0.2}));
}

// Through a real decode: OpenCV writes the PNGs, so the channel order is
// the file's, not an assumption shared with WeightPlane.
TEST(WeightPlane, DecodedColourPng) {
  cv::Mat bgr(1, 3, CV_8UC3);
  bgr.at<cv::Vec3b>(0, 0) = {0, 0, 255};  // red
  bgr.at<cv::Vec3b>(0, 1) = {0, 255, 0};  // green
  bgr.at<cv::Vec3b>(0, 2) = {255, 0, 0};  // blue
  const Raster r = DecodeRaster(CvEncode(".png", bgr), "rgb.png", {});
  EXPECT_EQ(WeightPlane(r), (std::vector<double>{0.299, 0.587, 0.114}));
  cv::Mat gray16(2, 1, CV_16UC1);
  gray16.at<uint16_t>(0, 0) = 65535;
  gray16.at<uint16_t>(1, 0) = 257;
  const Raster g = DecodeRaster(CvEncode(".png", gray16), "g16.png", {});
  EXPECT_EQ(g.depth(), Depth::kU16);
  EXPECT_EQ(WeightPlane(g), (std::vector<double>{1, 257 / 65535.0}));
}

// --- Orientation ------------------------------------------------------------

// A little-endian EXIF block holding only Orientation = `o`, written here
// byte by byte (independent of io/exif.cc).
std::vector<uint8_t> OrientationExif(int o) {
  return {'I',
          'I',
          42,
          0,
          8,
          0,
          0,
          0,  // header, IFD0 at 8
          1,
          0,  // one entry
          0x12,
          0x01,
          3,
          0,
          1,
          0,
          0,
          0,  // 0x0112 SHORT x1
          static_cast<uint8_t>(o),
          0,
          0,
          0,  // value
          0,
          0,
          0,
          0};  // no IFD1
}

// Sample (x, y) of the photo as shown, for stored samples `s` (W x H) and
// EXIF orientation o: the definitions of the EXIF standard (which stored
// row and column land on the visual top and left), not OpenCV's flips.
uint8_t Shown(const cv::Mat& s, int o, int x, int y) {
  const int w = s.cols, h = s.rows;
  switch (o) {
    case 2:
      return s.at<uint8_t>(y, w - 1 - x);
    case 3:
      return s.at<uint8_t>(h - 1 - y, w - 1 - x);
    case 4:
      return s.at<uint8_t>(h - 1 - y, x);
    // Turned ones: the shown image is h x w.
    case 5:
      return s.at<uint8_t>(x, y);
    case 6:
      return s.at<uint8_t>(h - 1 - x, y);
    case 7:
      return s.at<uint8_t>(h - 1 - x, w - 1 - y);
    case 8:
      return s.at<uint8_t>(x, w - 1 - y);
    default:
      return s.at<uint8_t>(y, x);
  }
}

// EXIF orientation 1 to 8 turns the pixels upright, as a viewer shows them,
// and the written-back EXIF says 1; --no-auto-orient keeps both as stored.
TEST(DecodeOrientation, EveryExifOrientation) {
  const cv::Mat stored = Noise(5, 3, CV_8UC1, 7);
  for (int o = 1; o <= 8; ++o) {
    SCOPED_TRACE(o);
    Metadata md;
    md.exif = OrientationExif(o);
    const std::string xmp = "<rdf:Description tiff:Orientation=\"" +
                            std::to_string(o) + "\"/><tiff:Orientation>" +
                            std::to_string(o) + "</tiff:Orientation>";
    md.xmp = xmp;
    Raster r = NewRaster(5, 3, 1, Depth::kU8);
    const core::ImageView v = r.MutableView();
    for (int y = 0; y < 3; ++y) {
      std::memcpy(v.base[0] + y * v.row_bytes, stored.ptr(y), 5);
    }
    const std::vector<uint8_t> png = EncodeRaster(r, "png", "o.png", md);

    const Raster up = DecodeRaster(png, "o.png", {});
    const bool turned = o >= 5;
    ASSERT_EQ(up.width(), turned ? 3 : 5);
    ASSERT_EQ(up.height(), turned ? 5 : 3);
    const core::ConstImageView u = up.View();
    for (int y = 0; y < up.height(); ++y) {
      for (int x = 0; x < up.width(); ++x) {
        ASSERT_EQ(static_cast<int>(
                      static_cast<uint8_t>(u.base[0][y * u.row_bytes + x])),
                  Shown(stored, o, x, y))
            << "x=" << x << " y=" << y;
      }
    }
    EXPECT_EQ(ExifOrientation(up.metadata().exif), 1);
    // The XMP copy of the tag says 1 too, in both of its forms.
    EXPECT_EQ(up.metadata().xmp,
              "<rdf:Description tiff:Orientation=\"1\"/><tiff:Orientation>1"
              "</tiff:Orientation>");

    const Raster kept = DecodeRaster(png, "o.png", {.auto_orient = false});
    ASSERT_EQ(kept.width(), 5);
    const core::ConstImageView k = kept.View();
    for (int y = 0; y < 3; ++y) {
      EXPECT_EQ(std::memcmp(k.base[0] + y * k.row_bytes, stored.ptr(y), 5), 0);
    }
    EXPECT_EQ(ExifOrientation(kept.metadata().exif), o);
    EXPECT_EQ(kept.metadata().xmp, xmp);
  }
}

// The size limit holds for the turned image as for the stored one, and a
// JPEG turned by OpenCV's imread (which applies EXIF orientation) matches.
TEST(DecodeOrientation, PortraitSampleMatchesOpenCv) {
  const Bytes jpg = ReadFileBytes(kPhotos / "rocket-portrait.jpg");
  const Raster r = DecodeRaster(jpg, "p.jpg", {});
  ASSERT_EQ(r.width(), 640);
  ASSERT_EQ(r.height(), 427);
  const cv::Mat cv_up =
      cv::imread((kPhotos / "rocket-portrait.jpg").string(), cv::IMREAD_COLOR);
  const core::ConstImageView v = r.View();
  const cv::Mat ours(427, 640, CV_8UC3, const_cast<std::byte*>(v.base[0]),
                     static_cast<size_t>(v.row_bytes));
  EXPECT_EQ(cv::norm(ours, cv_up, cv::NORM_INF), 0.0);
  EXPECT_GT(r.metadata().icc.size(), 1000u);
  EXPECT_TRUE(ThrowsKind(
      [&] { DecodeRaster(jpg, "p.jpg", {.max_pixels = 640 * 427 - 1}); },
      ErrorKind::kInput));
}

}  // namespace
}  // namespace convcorr::io
