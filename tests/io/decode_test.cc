// Decoding (src/io/image_io.cc): size limits checked on the header,
// truncated and corrupt files, codec errors, whole-file reads.
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
    EXPECT_TRUE(ThrowsError(
        [&, &bytes = bytes, &name = name] {
          DecodeImage(bytes, name, {.max_pixels = 10});
        },
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
  const std::string_view no_height =
      "P7\nWIDTH 4\nDEPTH 1\nMAXVAL 255\nENDHDR\n";
  EXPECT_TRUE(ThrowsError(
      [&] {
        DecodeImage(Bytes(no_height.begin(), no_height.end()), "x.pam", {});
      },
      ErrorKind::kInput, "input 'x.pam': corrupt PAM header (no HEIGHT)"));
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
  for (const size_t n :
       {size_t{8}, size_t{33}, idat + 8, idat + 100, png.size() / 2}) {
    SCOPED_TRACE("cut at " + std::to_string(n) + " of " +
                 std::to_string(png.size()));
    EXPECT_TRUE(ThrowsError(
        [&] { DecodeImage(Prefix(png, n), "a.png", {}); }, ErrorKind::kInput,
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
          [&, &jpg = jpg, &name = name] {
            DecodeImage(Prefix(jpg, n), name, {});
          },
          ErrorKind::kInput,
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
  EXPECT_TRUE(
      ThrowsError([&] { DecodeImage(cut, "cut.png", {}); }, ErrorKind::kInput,
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

}  // namespace
}  // namespace convcorr::io
