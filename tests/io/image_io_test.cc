// Decoding and encoding (src/io/image_io.cc): size limits, truncated and
// corrupt files, exact round trips per format and depth, the sample photos,
// which formats can store what, and extension helpers.
#include "io/files.h"
#include "io/format.h"
#include "io/image_io.h"

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
#include "io/io_test_util.h"

namespace convcorr::io {
namespace {

namespace fs = std::filesystem;
using namespace std::string_view_literals;
using core::Depth;
using core::Image;
using core::Plane;
using testing::Bytes;
using testing::ThrowsError;
using testing::ThrowsKind;

const fs::path kPhotos = fs::path(CONVCORR_SAMPLES_DIR) / "photos";

const char* DepthName(Depth d) {
  return d == Depth::kU8 ? "u8" : d == Depth::kU16 ? "u16" : "f32";
}

Image Decode(const Bytes& b, const DecodeOptions& o = {}) {
  return DecodeImage(b, "test", o);
}

Bytes CvEncode(const std::string& ext, const cv::Mat& m,
               const std::vector<int>& params = {}) {
  std::vector<uint8_t> buf;
  if (!cv::imencode(ext, m, buf, params)) {
    ADD_FAILURE() << "cv::imencode failed for " << ext;
  }
  return buf;
}

cv::Mat Noise(int width, int height, int type, unsigned seed = 1) {
  cv::Mat m(height, width, type);
  cv::theRNG().state = seed;
  cv::randu(m, 0, 256);
  return m;
}

// An image whose sample (c, y, x) is f(c, y, x); plane `channels - 1` is the
// alpha plane when channels is 2 or 4.
Image MakeImage(int w, int h, Depth depth, int channels,
                const std::function<float(int, int, int)>& f) {
  Image img;
  img.width = w;
  img.height = h;
  img.depth = depth;
  const bool alpha = channels == 2 || channels == 4;
  for (int c = 0; c < channels; ++c) {
    Plane p(w, h);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) p.at(y, x) = f(c, y, x);
    }
    if (alpha && c == channels - 1) {
      img.alpha = std::move(p);
    } else {
      img.color.push_back(std::move(p));
    }
  }
  return img;
}

// Every value of an integer depth somewhere, including 0 and the maximum.
Image IntegerImage(Depth depth, int channels) {
  const double max = core::DepthMax(depth);
  return MakeImage(37, 23, depth, channels, [max](int c, int y, int x) {
    if (y == 0 && x == 0) return 0.0f;
    if (y == 22 && x == 36) return static_cast<float>(max);
    const uint64_t v =
        static_cast<uint64_t>(x) * 977 + static_cast<uint64_t>(y) * 4099 +
        static_cast<uint64_t>(c) * 12345 + static_cast<uint64_t>(x * y) * 31;
    return static_cast<float>(v % (static_cast<uint64_t>(max) + 1));
  });
}

// Floats no integer format could hold: negative zero, negatives, fractions,
// a subnormal and values near the float limits.
const float kOddFloats[] = {-0.0f,  -1.5f,      1.0f / 3.0f, 0.1f,
                            1e-40f, -3.4e38f,   3.4e38f,     65535.5f,
                            -1e-7f, 12345.678f, -255.0f,     256.25f};

Image FloatImage(int channels) {
  return MakeImage(37, 23, Depth::kF32, channels, [](int c, int y, int x) {
    const int i = (x + 3 * y + 5 * c) % 16;
    if (i < 12) return kOddFloats[i];
    return static_cast<float>(std::sin(0.37 * x + c) * 1000.0 - y * 0.001);
  });
}

// Smooth content, which lossy encoders keep within a few levels.
Image SmoothImage(Depth depth, int channels) {
  return MakeImage(37, 23, depth, channels, [depth](int c, int y, int x) {
    const double s = std::sin(0.15 * x + 0.9 * c) * std::cos(0.2 * y);
    if (depth == Depth::kF32) return static_cast<float>(1.5 * s - 0.25);
    const double v = std::round(128.0 + 100.0 * s);
    return static_cast<float>(depth == Depth::kU16 ? v * 257.0 : v);
  });
}

// Reports the first sample where two planes differ (bitwise, so -0.0 and
// 0.0 differ), or the largest difference beyond `tolerance`.
::testing::AssertionResult PlanesMatch(const Plane& got, const Plane& want,
                                       float tolerance = 0.0f) {
  if (got.width != want.width || got.height != want.height) {
    return ::testing::AssertionFailure()
           << "size " << got.width << "x" << got.height << ", expected "
           << want.width << "x" << want.height;
  }
  for (int y = 0; y < want.height; ++y) {
    for (int x = 0; x < want.width; ++x) {
      const float g = got.at(y, x);
      const float w = want.at(y, x);
      const bool ok = tolerance == 0.0f ? std::bit_cast<uint32_t>(g) ==
                                              std::bit_cast<uint32_t>(w)
                                        : std::fabs(g - w) <= tolerance;
      if (!ok) {
        return ::testing::AssertionFailure()
               << "first difference at (x=" << x << ", y=" << y << "): got "
               << g << " (bits 0x" << std::hex << std::bit_cast<uint32_t>(g)
               << "), expected " << std::dec << w << " (bits 0x" << std::hex
               << std::bit_cast<uint32_t>(w) << ")";
      }
    }
  }
  return ::testing::AssertionSuccess();
}

double MeanAbsDiff(const Plane& a, const Plane& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.data.size(); ++i)
    sum += std::fabs(a.data[i] - b.data[i]);
  return sum / static_cast<double>(a.data.size());
}

// A plane of channel `c` of an OpenCV image, as float.
Plane PlaneOf(const cv::Mat& m, int c) {
  cv::Mat ch;
  cv::extractChannel(m, ch, c);
  ch.convertTo(ch, CV_32F);
  Plane p(m.cols, m.rows);
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) p.at(y, x) = ch.at<float>(y, x);
  }
  return p;
}

// First value of a SHORT or LONG tag in the first IFD of a TIFF file (TIFF
// 6.0 section 2: values over 4 bytes are stored at an offset), or -1.
int64_t TiffTag(const Bytes& b, uint32_t tag) {
  if (b.size() < 8) return -1;
  const bool le = b[0] == 'I';
  const auto u16 = [&](size_t o) -> uint32_t {
    return le ? (b[o] | (b[o + 1] << 8)) : ((b[o] << 8) | b[o + 1]);
  };
  const auto u32 = [&](size_t o) -> uint32_t {
    return le ? (u16(o) | (u16(o + 2) << 16)) : ((u16(o) << 16) | u16(o + 2));
  };
  const size_t ifd = u32(4);
  if (ifd + 2 > b.size()) return -1;
  const uint32_t n = u16(ifd);
  for (uint32_t i = 0; i < n; ++i) {
    const size_t e = ifd + 2 + 12 * static_cast<size_t>(i);
    if (e + 12 > b.size()) return -1;
    if (u16(e) != tag) continue;
    const uint32_t type = u16(e + 2);
    const size_t size = type == 3 ? 2 : 4;
    size_t at = e + 8;
    if (size * u32(e + 4) > 4) at = u32(e + 8);
    if (at + size > b.size()) return -1;
    return type == 3 ? u16(at) : u32(at);
  }
  return -1;
}

// Offset of the first PNG chunk of `type`, or 0.
size_t FindPngChunk(const Bytes& b, std::string_view type) {
  size_t o = 8;
  while (o + 8 <= b.size()) {
    const size_t len = (size_t{b[o]} << 24) | (size_t{b[o + 1]} << 16) |
                       (size_t{b[o + 2]} << 8) | b[o + 3];
    if (std::string_view(reinterpret_cast<const char*>(b.data() + o + 4), 4) ==
        type) {
      return o;
    }
    o += 12 + len;
  }
  return 0;
}

Bytes Prefix(const Bytes& b, size_t n) {
  return Bytes(b.begin(), b.begin() + static_cast<ptrdiff_t>(n));
}

// --- Size limits -----------------------------------------------------------

// The size comes from libpng's own header read (png_read_info, which stops
// at the first IDAT), so a small file that claims a huge image is refused
// before the rest of it is read.
TEST(DecodeImageLimits, HugePngHeaderIsRefusedBeforeDecoding) {
  Bytes header = testing::PngHeader(100000, 100000);
  testing::PutPngChunk(header, "IDAT", {});
  const std::string msg =
      "input 'big.png': image is 100000x100000 (10000000000 pixels), over "
      "the limit of 100000000 (--max-pixels)";
  EXPECT_TRUE(ThrowsError([&] { DecodeImage(header, "big.png", {}); },
                          ErrorKind::kInput, msg));
  // A complete file (no pixel data, but an IEND): still the size, which is
  // checked first, not a decoding failure.
  testing::PutPngChunk(header, "IEND", {});
  EXPECT_TRUE(ThrowsError([&] { DecodeImage(header, "big.png", {}); },
                          ErrorKind::kInput, msg));
}

TEST(DecodeImageLimits, OtherHugeHeaders) {
  // libjpeg's header read (jpeg_read_header) goes up to the first scan.
  Bytes jpeg = testing::JpegSoiApp0();
  testing::PutJpegSof(jpeg, 0xC0, 60000, 60000);
  for (const uint32_t v : {0xFFDAu, 12u}) testing::PutBe16(jpeg, v);  // SOS
  for (const uint8_t v : {3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0}) {
    testing::Put8(jpeg, v);
  }
  EXPECT_TRUE(ThrowsError(
      [&] { DecodeImage(jpeg, "big.jpg", {}); }, ErrorKind::kInput,
      "input 'big.jpg': image is 60000x60000 (3600000000 pixels), over the "
      "limit of 100000000 (--max-pixels)"));

  // A VP8X canvas of 16384x10000 (libwebp itself refuses 2^32 pixels).
  Bytes vp8x;
  testing::Put8(vp8x, 0x10);
  testing::PutLe24(vp8x, 0);
  testing::PutLe24(vp8x, 16383);
  testing::PutLe24(vp8x, 9999);
  EXPECT_TRUE(ThrowsError(
      [&] { DecodeImage(testing::Webp("VP8X", vp8x), "big.webp", {}); },
      ErrorKind::kInput,
      "input 'big.webp': image is 16384x10000 (163840000 pixels), over the "
      "limit of 100000000 (--max-pixels)"));

  EXPECT_TRUE(ThrowsError(
      [&] {
        DecodeImage(testing::TiffHeader(false, 20000, 3, 5001, 4), "big.tif",
                    {});
      },
      ErrorKind::kInput,
      "input 'big.tif': image is 20000x5001 (100020000 pixels), over the "
      "limit of 100000000 (--max-pixels)"));
}

TEST(DecodeImageLimits, ProductOverflowIsRefused) {
  const std::string_view pgm = "P5 999999999999 999999999999 255\n";
  EXPECT_TRUE(ThrowsError(
      [&] { DecodeImage(Bytes(pgm.begin(), pgm.end()), "x.pgm", {}); },
      ErrorKind::kInput,
      "input 'x.pgm': image header says the size is "
      "999999999999x999999999999, over 2147483647 pixels a side"));
}

TEST(DecodeImageLimits, ZeroSizeHeader) {
  Bytes b = testing::PngHeader(0, 5);
  testing::PutPngChunk(b, "IEND", {});
  EXPECT_TRUE(ThrowsError([&] { DecodeImage(b, "z.png", {}); },
                          ErrorKind::kInput,
                          "input 'z.png': corrupt PNG (Invalid IHDR data)"));
  const std::string_view pgm = "P5 0 5 255\n";
  EXPECT_TRUE(ThrowsError(
      [&] { DecodeImage(Bytes(pgm.begin(), pgm.end()), "z.pgm", {}); },
      ErrorKind::kInput, "input 'z.pgm': image header says the size is 0"));
}

TEST(DecodeImageLimits, SmallLimitRefusesRealSample) {
  const Bytes b = ReadFileBytes(kPhotos / "camera.png");  // 512x512
  EXPECT_TRUE(ThrowsError(
      [&] { DecodeImage(b, "camera.png", {.max_pixels = 262143}); },
      ErrorKind::kInput,
      "input 'camera.png': image is 512x512 (262144 pixels), over the limit "
      "of 262143 (--max-pixels)"));
  const Image img = DecodeImage(b, "camera.png", {.max_pixels = 262144});
  EXPECT_EQ(img.width, 512);
  EXPECT_EQ(img.height, 512);

  const Bytes jpg = ReadFileBytes(kPhotos / "rocket.jpg");  // 640x427
  EXPECT_TRUE(ThrowsError(
      [&] { DecodeImage(jpg, "rocket.jpg", {.max_pixels = 1000}); },
      ErrorKind::kInput,
      "input 'rocket.jpg': image is 640x427 (273280 pixels), over the limit "
      "of 1000 (--max-pixels)"));
}

// docs/io.md: an image with more than --max-pixels pixels is refused from
// its header, before decoding, in every format read (Sun raster and PAM
// here, besides the formats of the tests above), and a PAM whose header
// gives no size is not decoded at all.
TEST(DecodeImageLimits, LimitAppliesToEveryFormatBeforeDecoding) {
  Bytes sun;
  for (const uint32_t v : {0x59A66A95u, 4u, 4u, 8u, 16u, 1u, 0u, 0u}) {
    testing::PutBe32(sun, v);  // magic, w, h, depth, length, type, maps
  }
  for (int i = 0; i < 16; ++i) testing::Put8(sun, i * 10);
  const std::string_view pam_header =
      "P7\nWIDTH 4\nHEIGHT 4\nDEPTH 1\nMAXVAL 255\nTUPLTYPE GRAYSCALE\n"
      "ENDHDR\n";
  Bytes pam(pam_header.begin(), pam_header.end());
  for (int i = 0; i < 16; ++i) testing::Put8(pam, i);

  for (const auto& [name, bytes] : std::vector<std::pair<std::string, Bytes>>{
           {"tiny.ras", sun}, {"tiny.pam", pam}}) {
    SCOPED_TRACE(name);
    const Image img = DecodeImage(bytes, name, {});  // a valid 4x4 image
    ASSERT_EQ(img.width, 4);
    ASSERT_EQ(img.height, 4);
    EXPECT_TRUE(
        ThrowsError([&] { DecodeImage(bytes, name, {.max_pixels = 10}); },
                    ErrorKind::kInput,
                    "input '" + name +
                        "': image is 4x4 (16 pixels), over the limit of 10 "
                        "(--max-pixels)"));
  }
  // A Sun raster bomb: 100000 x 100000 in 32 bytes.
  Bytes bomb;
  for (const uint32_t v : {0x59A66A95u, 100000u, 100000u, 8u, 0u, 1u, 0u, 0u}) {
    testing::PutBe32(bomb, v);
  }
  EXPECT_TRUE(ThrowsError([&] { DecodeImage(bomb, "bomb.ras", {}); },
                          ErrorKind::kInput,
                          "input 'bomb.ras': image is 100000x100000 "
                          "(10000000000 pixels), over the limit of 100000000 "
                          "(--max-pixels)"));
  // A PAM without a HEIGHT is not decoded.
  const std::string_view no_height = "P7\nWIDTH 4\nDEPTH 1\nMAXVAL 255\nENDHDR\n";
  EXPECT_TRUE(ThrowsError(
      [&] {
        DecodeImage(Bytes(no_height.begin(), no_height.end()), "x.pam", {});
      },
      ErrorKind::kInput,
      "input 'x.pam': corrupt PAM header (no HEIGHT)"));
}

// JPEG 2000 is refused before decoding, valid or not: OpenJPEG sizes its
// buffers from codestream parameters, and the decode fuzzer found a 2 KB
// file of 64x48 pixels taking 3.7 GB
// (tests/fuzz/corpus/image/found-jp2-codestream-takes-gigabytes.jp2).
TEST(DecodeImageLimits, JpegTwoThousandIsRefused) {
  std::vector<uint8_t> jp2;
  ASSERT_TRUE(cv::imencode(".jp2", Noise(64, 48, CV_8UC3), jp2));
  EXPECT_TRUE(ThrowsError(
      [&] { DecodeImage(jp2, "a.jp2", {}); }, ErrorKind::kInput,
      "input 'a.jp2': JPEG 2000 is not read: its decoder's memory is not "
      "bounded by the image size (--max-pixels cannot protect it); convert "
      "it to png or tiff"));
}

// --- Truncated and corrupt files --------------------------------------------

TEST(DecodeImageTruncation, TruncatedPng) {
  const Bytes png = CvEncode(".png", Noise(200, 150, CV_8UC3));
  ASSERT_NO_THROW(Decode(png));
  const size_t idat = FindPngChunk(png, "IDAT");
  ASSERT_GT(idat, 0u);
  const size_t iend = FindPngChunk(png, "IEND");
  ASSERT_EQ(iend, png.size() - 12);
  // Cut in the header or the image data: rows are missing.
  for (const size_t n : {size_t{8}, size_t{33}, idat + 8, idat + 100,
                         png.size() / 2}) {
    SCOPED_TRACE("cut at " + std::to_string(n) + " of " +
                 std::to_string(png.size()));
    EXPECT_TRUE(
        ThrowsError([&] { DecodeImage(Prefix(png, n), "a.png", {}); },
                    ErrorKind::kInput,
                    "input 'a.png': truncated PNG (the image data ends early)"));
  }
  // Every row there, the end missing.
  for (const size_t n : {iend, iend + 8, png.size() - 1}) {
    SCOPED_TRACE("cut at " + std::to_string(n) + " of " +
                 std::to_string(png.size()));
    EXPECT_TRUE(ThrowsError([&] { DecodeImage(Prefix(png, n), "a.png", {}); },
                            ErrorKind::kInput,
                            "input 'a.png': truncated PNG (no IEND chunk)"));
  }
}

TEST(DecodeImageTruncation, TruncatedJpeg) {
  const cv::Mat noise = Noise(160, 120, CV_8UC3);
  for (const auto& [name, jpg] : std::vector<std::pair<std::string, Bytes>>{
           {"noise.jpg", CvEncode(".jpg", noise)},
           {"gray.jpg", CvEncode(".jpg", Noise(160, 120, CV_8UC1))},
           {"progressive.jpg",
            CvEncode(".jpg", noise, {cv::IMWRITE_JPEG_PROGRESSIVE, 1})},
           {"restart.jpg",
            CvEncode(".jpg", noise, {cv::IMWRITE_JPEG_RST_INTERVAL, 2})},
           {"rocket.jpg", ReadFileBytes(kPhotos / "rocket.jpg")}}) {
    SCOPED_TRACE(name);
    ASSERT_NO_THROW(DecodeImage(jpg, name, {}));
    for (const size_t n : {size_t{3}, jpg.size() / 2, jpg.size() * 9 / 10,
                           jpg.size() - 2, jpg.size() - 1}) {
      SCOPED_TRACE("cut at " + std::to_string(n) + " of " +
                   std::to_string(jpg.size()));
      EXPECT_TRUE(ThrowsError(
          [&] { DecodeImage(Prefix(jpg, n), name, {}); }, ErrorKind::kInput,
          "input '" + name + "': truncated JPEG (no end-of-image marker)"));
    }
  }
}

// No proper prefix of a PNG or JPEG decodes (truncated files are errors,
// not grey-filled images: docs/io.md).
TEST(DecodeImageTruncation, EveryProperPrefixIsRefused) {
  const cv::Mat m = Noise(37, 23, CV_8UC3, 3);
  for (const auto& [ext, full] : std::vector<std::pair<std::string, Bytes>>{
           {"png", CvEncode(".png", m)},
           {"jpg", CvEncode(".jpg", m)},
           {"jpg", CvEncode(".jpg", m, {cv::IMWRITE_JPEG_PROGRESSIVE, 1})}}) {
    SCOPED_TRACE(ext + " of " + std::to_string(full.size()) + " bytes");
    ASSERT_NO_THROW(Decode(full));
    for (size_t n = 1; n < full.size(); ++n) {
      const Bytes cut = Prefix(full, n);
      EXPECT_TRUE(ThrowsKind([&] { Decode(cut); }, ErrorKind::kInput))
          << "prefix of " << n << " bytes";
    }
  }
}

// A JPEG cut short and closed with an EOI marker (what some download and
// repair tools leave) is still truncated: libjpeg fills the missing rows
// with grey and only warns ("premature end of data segment"). convcorr
// refuses it rather than write a grey-filled image (docs/io.md).
TEST(DecodeImageTruncation, CutJpegClosedWithEoiIsRefused) {
  const Bytes jpg = CvEncode(".jpg", Noise(160, 120, CV_8UC3, 11));
  for (const size_t n : {jpg.size() / 2, jpg.size() * 9 / 10}) {
    SCOPED_TRACE("cut at " + std::to_string(n) + " of " +
                 std::to_string(jpg.size()));
    Bytes cut = Prefix(jpg, n);
    cut.push_back(0xFF);
    cut.push_back(0xD9);
    try {
      const Image img = DecodeImage(cut, "cut.jpg", {});
      ADD_FAILURE() << "decoded a truncated JPEG to a " << img.width << "x"
                    << img.height << " image; last row starts with "
                    << img.color[0].at(img.height - 1, 0) << ", "
                    << img.color[0].at(img.height - 1, 1) << ", "
                    << img.color[0].at(img.height - 1, 2);
    } catch (const Error& e) {
      EXPECT_EQ(testing::KindName(e.kind()), std::string("kInput"));
      EXPECT_EQ(std::string(e.what()).rfind("input 'cut.jpg': ", 0), 0u)
          << e.what();
    }
  }
}

// The PNG counterpart: the chunk chain cut between two IDAT chunks and
// closed with a valid IEND. libpng stops with "Not enough image data".
TEST(DecodeImageTruncation, CutPngClosedWithIendIsRefused) {
  const Bytes png = CvEncode(".png", Noise(160, 120, CV_8UC3, 12));
  const size_t first = FindPngChunk(png, "IDAT");
  ASSERT_GT(first, 0u);
  const size_t len = (size_t{png[first]} << 24) |
                     (size_t{png[first + 1]} << 16) |
                     (size_t{png[first + 2]} << 8) | png[first + 3];
  const size_t second = first + 12 + len;
  ASSERT_LT(second + 8, png.size());
  ASSERT_EQ(std::string(png.begin() + second + 4, png.begin() + second + 8),
            "IDAT")
      << "this test needs an image stored in several IDAT chunks";
  Bytes cut = Prefix(png, second);
  testing::PutPngChunk(cut, "IEND", {});
  EXPECT_TRUE(ThrowsError(
      [&] { DecodeImage(cut, "cut.png", {}); }, ErrorKind::kInput,
      "input 'cut.png': corrupt PNG (Not enough image data)"));
}

// An APP1 (EXIF) segment with orientation 6 (rotate 90) and a thumbnail
// whose bytes contain SOI and EOI markers.
Bytes ExifApp1() {
  Bytes tiff;
  testing::Put(tiff, "MM");
  testing::PutBe16(tiff, 42);
  testing::PutBe32(tiff, 8);
  testing::PutBe16(tiff, 1);       // one entry
  testing::PutBe16(tiff, 0x0112);  // Orientation
  testing::PutBe16(tiff, 3);       // SHORT
  testing::PutBe32(tiff, 1);
  testing::PutBe16(tiff, 6);
  testing::PutBe16(tiff, 0);
  testing::PutBe32(tiff, 0);  // no next IFD
  for (const uint8_t v : {0xFF, 0xD8, 0xFF, 0xDB, 0x00, 0x43, 0x01, 0x02, 0xFF,
                          0xD9, 0x00, 0xFF, 0xD9}) {
    testing::Put8(tiff, v);
  }
  Bytes seg = {0xFF, 0xE1};
  testing::PutBe16(seg, static_cast<uint32_t>(2 + 6 + tiff.size()));
  testing::Put(seg, "Exif\0\0"sv);
  seg.insert(seg.end(), tiff.begin(), tiff.end());
  return seg;
}

TEST(DecodeImageTruncation, EoiInsideExifSegmentDoesNotCount) {
  const cv::Mat m = Noise(37, 23, CV_8UC3, 5);
  const Bytes plain = CvEncode(".jpg", m);
  const Bytes app1 = ExifApp1();
  // SOI, the APP1 segment, then the rest of the plain JPEG. (Reserving
  // first keeps GCC 12 from a bogus -Warray-bounds report on the inserts.)
  Bytes full;
  full.reserve(plain.size() + app1.size());
  full.push_back(0xFF);
  full.push_back(0xD8);
  full.insert(full.end(), app1.begin(), app1.end());
  full.insert(full.end(), plain.begin() + 2, plain.end());

  // Complete: decodes to the same pixels as without the segment, when
  // asked not to turn them (orientation 6 would, docs/io.md).
  const Image img = DecodeImage(full, "exif.jpg", {.auto_orient = false});
  ASSERT_EQ(img.width, 37);
  ASSERT_EQ(img.height, 23);
  const cv::Mat ref = cv::imdecode(plain, cv::IMREAD_UNCHANGED);
  ASSERT_EQ(img.color.size(), 3u);
  for (int c = 0; c < 3; ++c)
    EXPECT_TRUE(PlanesMatch(img.color[c], PlaneOf(ref, c)));

  // The main image cut: the EOI in the thumbnail must not make it complete.
  const size_t main_start = 2 + app1.size();
  for (const size_t n :
       {main_start + 20, main_start + (full.size() - main_start) / 2,
        full.size() - 2}) {
    SCOPED_TRACE("cut at " + std::to_string(n) + " of " +
                 std::to_string(full.size()));
    EXPECT_TRUE(ThrowsError(
        [&] { DecodeImage(Prefix(full, n), "exif.jpg", {}); },
        ErrorKind::kInput,
        "input 'exif.jpg': truncated JPEG (no end-of-image marker)"));
  }
}

TEST(DecodeImageErrors, CodecWarningsAreSilenced) {
  // astronaut.png has an sRGB iCCP profile that libpng warns about.
  const Bytes b = ReadFileBytes(kPhotos / "astronaut.png");
  const std::string raw = testing::CaptureStderr(
      [&] { (void)cv::imdecode(b, cv::IMREAD_UNCHANGED); });
  if (raw.find("libpng warning") == std::string::npos) {
    GTEST_SKIP() << "this libpng does not warn about astronaut.png";
  }
  EXPECT_EQ(testing::CaptureStderr([&] { Decode(b); }), "");
  // And a failure prints nothing either: the message is in the error.
  Bytes corrupt = CvEncode(".png", Noise(16, 16, CV_8UC3));
  corrupt[FindPngChunk(corrupt, "IDAT") + 10] ^= 0xFF;
  EXPECT_EQ(
      testing::CaptureStderr([&] {
        EXPECT_TRUE(ThrowsKind([&] { Decode(corrupt); }, ErrorKind::kInput));
      }),
      "");
}

TEST(DecodeImageErrors, EmptyFile) {
  EXPECT_TRUE(ThrowsError([] { DecodeImage({}, "e.png", {}); },
                          ErrorKind::kInput, "input 'e.png': empty file"));
  EXPECT_TRUE(ThrowsError([] { DecodeImage({}, "-", {}); }, ErrorKind::kInput,
                          "input '-': empty file"));
}

TEST(DecodeImageErrors, RandomBytes) {
  std::mt19937 rng(99);
  for (const size_t n :
       {size_t{1}, size_t{2}, size_t{16}, size_t{1000}, size_t{100000}}) {
    SCOPED_TRACE(n);
    Bytes b(n);
    for (auto& v : b) v = static_cast<uint8_t>(rng());
    b[0] = 0x00;  // no format's magic starts with a zero byte
    EXPECT_TRUE(ThrowsError(
        [&] { DecodeImage(b, "r.png", {}); }, ErrorKind::kInput,
        "input 'r.png': cannot decode image (unknown format or corrupt "
        "data)"));
  }
}

TEST(DecodeImageErrors, CorruptPngData) {
  Bytes png = CvEncode(".png", Noise(64, 64, CV_8UC3));
  const size_t idat = FindPngChunk(png, "IDAT");
  ASSERT_GT(idat, 0u);
  for (size_t i = idat + 8 + 4; i < idat + 8 + 200 && i < png.size() - 16;
       ++i) {
    png[i] ^= 0x5A;  // complete chunk structure, wrong data and CRC
  }
  EXPECT_TRUE(ThrowsError(
      [&] { DecodeImage(png, "c.png", {}); }, ErrorKind::kInput,
      "input 'c.png': corrupt PNG (IDAT: invalid stored block lengths)"));
}

TEST(ReadImage, MissingFileAndDirectory) {
  testing::TempDir dir;
  const fs::path missing = dir / "missing.png";
  EXPECT_TRUE(ThrowsError(
      [&] { ReadImage(missing, {}); }, ErrorKind::kInput,
      "input '" + missing.string() + "': no such file or directory"));
  EXPECT_TRUE(
      ThrowsError([&] { ReadImage(dir.path(), {}); }, ErrorKind::kInput,
                  "input '" + dir.path().string() + "': is a directory"));
  const fs::path empty = dir / "empty.png";
  testing::WriteFile(empty, Bytes{});
  EXPECT_TRUE(ThrowsError([&] { ReadImage(empty, {}); }, ErrorKind::kInput,
                          "input '" + empty.string() + "': empty file"));
}

TEST(ReadImage, ReadFileBytesIsExact) {
  testing::TempDir dir;
  Bytes b(200000);
  for (size_t i = 0; i < b.size(); ++i)
    b[i] = static_cast<uint8_t>(i * 7 + (i >> 9));
  testing::WriteFile(dir / "x.bin", b);
  EXPECT_EQ(ReadFileBytes(dir / "x.bin"), b);
}

// --- Round trips ---------------------------------------------------------

// Checks that `got` is `want` as stored by a format: exact samples, except
// that gray+alpha comes back from WebP (`gray_as_bgra`) as BGRA with the
// gray in B, G and R.
void ExpectSameImage(const Image& got, const Image& want, float tolerance = 0,
                     bool gray_as_bgra = false) {
  ASSERT_EQ(got.width, want.width);
  ASSERT_EQ(got.height, want.height);
  EXPECT_EQ(DepthName(got.depth), std::string(DepthName(want.depth)));
  ASSERT_EQ(got.alpha.has_value(), want.alpha.has_value()) << "alpha";
  if (want.color.size() == 1 && want.alpha && gray_as_bgra) {
    ASSERT_EQ(got.color.size(), 3u) << "gray+alpha is written as BGRA";
    for (int c = 0; c < 3; ++c) {
      EXPECT_TRUE(PlanesMatch(got.color[c], want.color[0], tolerance)) << c;
    }
  } else {
    ASSERT_EQ(got.color.size(), want.color.size());
    for (size_t c = 0; c < want.color.size(); ++c) {
      EXPECT_TRUE(PlanesMatch(got.color[c], want.color[c], tolerance)) << c;
    }
  }
  if (want.alpha) {
    EXPECT_TRUE(PlanesMatch(*got.alpha, *want.alpha, tolerance));
  }
}

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

TEST(EncodeImage, UnknownExtensionIsAnOutputError) {
  const Image img = IntegerImage(Depth::kU8, 3);
  EXPECT_TRUE(ThrowsKind([&] { EncodeImage(img, "xyz", "out.xyz"); },
                         ErrorKind::kOutput));
}

// --- Extensions ------------------------------------------------------------

TEST(FormatOf, Aliases) {
  for (const auto& [ext, format] :
       std::vector<std::pair<std::string, std::string>>{{"jpg", "jpeg"},
                                                        {"jpeg", "jpeg"},
                                                        {"jpe", "jpeg"},
                                                        {"tif", "tiff"},
                                                        {"tiff", "tiff"},
                                                        {"pbm", "pnm"},
                                                        {"pgm", "pnm"},
                                                        {"ppm", "pnm"},
                                                        {"pnm", "pnm"},
                                                        {"png", "png"},
                                                        {"pfm", "pfm"},
                                                        {"webp", "webp"},
                                                        {"bmp", "bmp"},
                                                        {"xyz", "xyz"},
                                                        {"", ""}}) {
    EXPECT_EQ(FormatOf(ext), format) << ext;
  }
}

TEST(ExtensionOf, LowercaseWithoutDot) {
  for (const auto& [path, ext] :
       std::vector<std::pair<std::string, std::string>>{
           {"a.png", "png"},
           {"A.PNG", "png"},
           {"dir/photo.JpEg", "jpeg"},
           {"/abs/dir.d/x.Tiff", "tiff"},
           {"./a.TIF", "tif"},
           {"archive.tar.gz", "gz"},
           {"noext", ""},
           {"dir.d/file", ""},
           {".bashrc", ""},
           {".hidden.png", "png"},
           {"dir/.hidden.JPG", "jpg"},
           {"file.", ""},
           {"..", ""},
           {"", ""}}) {
    EXPECT_EQ(ExtensionOf(path), ext) << "'" << path << "'";
  }
}

TEST(IsWritableExtension, DocumentedFormats) {
  for (const std::string ext : {"png", "jpg", "jpeg", "jpe", "tif", "tiff",
                                "bmp", "pgm", "ppm", "pnm", "pfm", "webp"}) {
    EXPECT_TRUE(IsWritableExtension(ext)) << ext;
  }
  // PBM is bilevel, so not written (docs/io.md); read-only formats neither.
  for (const std::string ext :
       {"pbm", "gif", "txt", "", "xyz", "png.", ".png", "dib", "pxm"}) {
    EXPECT_FALSE(IsWritableExtension(ext)) << ext;
  }
}

TEST(IsImageExtension, DocumentedList) {
  // docs/io.md: the extensions a directory input takes.
  for (const std::string ext :
       {"png",  "jpg", "jpeg", "jpe", "tif", "tiff", "bmp",
        "dib",  "pbm", "pgm",  "ppm", "pnm", "pfm",  "pxm",
        "webp", "sr",  "ras",  "hdr", "pic", "jp2"}) {
    EXPECT_TRUE(IsImageExtension(ext)) << ext;
  }
  for (const std::string ext :
       {"gif", "txt", "", "exr", "md", "json", "svg", "heic", "xyz"}) {
    EXPECT_FALSE(IsImageExtension(ext)) << ext;
  }
}

}  // namespace
}  // namespace convcorr::io

namespace convcorr::io {
namespace {

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
          EXPECT_EQ(back.at<cv::Vec3b>(y, x), cv::Vec3b(expected, expected, expected));
        } else {
          EXPECT_EQ(back.at<uint8_t>(y, x), expected);
        }
      }
    }
  }
}


// --- Orientation ------------------------------------------------------------

// A little-endian EXIF block holding only Orientation = `o`, written here
// byte by byte (independent of io/exif.cc).
std::vector<uint8_t> OrientationExif(int o) {
  return {'I', 'I', 42, 0, 8, 0, 0, 0,          // header, IFD0 at 8
          1, 0,                                 // one entry
          0x12, 0x01, 3, 0, 1, 0, 0, 0,         // 0x0112 SHORT x1
          static_cast<uint8_t>(o), 0, 0, 0,     // value
          0, 0, 0, 0};                          // no IFD1
}

// Sample (x, y) of the photo as shown, for stored samples `s` (W x H) and
// EXIF orientation o: the definitions of the EXIF standard (which stored
// row and column land on the visual top and left), not OpenCV's flips.
uint8_t Shown(const cv::Mat& s, int o, int x, int y) {
  const int w = s.cols, h = s.rows;
  switch (o) {
    case 2: return s.at<uint8_t>(y, w - 1 - x);
    case 3: return s.at<uint8_t>(h - 1 - y, w - 1 - x);
    case 4: return s.at<uint8_t>(h - 1 - y, x);
    // Turned ones: the shown image is h x w.
    case 5: return s.at<uint8_t>(x, y);
    case 6: return s.at<uint8_t>(h - 1 - x, y);
    case 7: return s.at<uint8_t>(h - 1 - x, w - 1 - y);
    case 8: return s.at<uint8_t>(x, w - 1 - y);
    default: return s.at<uint8_t>(y, x);
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
