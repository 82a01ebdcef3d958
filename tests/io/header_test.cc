// ProbeHeader (src/io/header.cc): sizes read from real encodings made by
// OpenCV, from headers built by hand from the format specifications, and
// from truncated, mutated and random inputs, which must never be read out
// of bounds (run under build-iotest-asan to check).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "io/image_io.h"
#include "io/io_test_util.h"

namespace convcorr::io {
namespace {

using namespace std::string_view_literals;
using testing::Bytes;
using testing::Put;
using testing::Put8;
using testing::PutBe16;
using testing::PutBe32;
using testing::PutLe16;
using testing::PutLe24;
using testing::PutLe32;

std::optional<HeaderInfo> Probe(const Bytes& b) { return ProbeHeader(b); }

// Expects a probe result of exactly (format, width, height).
::testing::AssertionResult ProbesAs(const Bytes& b, const std::string& format,
                                    uint64_t width, uint64_t height) {
  const auto h = ProbeHeader(b);
  if (!h) return ::testing::AssertionFailure() << "nullopt";
  if (h->format != format || h->width != width || h->height != height) {
    return ::testing::AssertionFailure()
           << h->format << " " << h->width << "x" << h->height << ", expected "
           << format << " " << width << "x" << height;
  }
  return ::testing::AssertionSuccess();
}

Bytes Encode(const std::string& ext, const cv::Mat& m,
             const std::vector<int>& params = {}) {
  std::vector<uint8_t> buf;
  if (!cv::imencode(ext, m, buf, params)) {
    ADD_FAILURE() << "cv::imencode failed for " << ext;
  }
  return buf;
}

cv::Mat Noise(int width, int height, int type) {
  cv::Mat m(height, width, type);
  cv::randu(m, 0, CV_MAT_DEPTH(type) == CV_16U ? 65535 : 255);
  return m;
}

// --- Real encodings --------------------------------------------------------

struct EncodedCase {
  std::string ext;
  int type;
  std::vector<int> params;
  std::string format;
  std::string webp_chunk;  // for webp: the chunk libwebp must have written
};

class EncodedTest : public ::testing::TestWithParam<EncodedCase> {};

TEST_P(EncodedTest, ProbesSizeOfOpenCvEncoding) {
  const EncodedCase& c = GetParam();
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{
           {37, 23}, {23, 37}, {1, 1}, {301, 2}, {2, 301}}) {
    SCOPED_TRACE(c.ext + " " + std::to_string(w) + "x" + std::to_string(h));
    // OpenJPEG refuses to encode images smaller than its resolution levels.
    if (c.ext == ".jp2" && std::min(w, h) < 32) continue;
    const Bytes b = Encode(c.ext, Noise(w, h, c.type), c.params);
    if (!c.webp_chunk.empty()) {
      ASSERT_GE(b.size(), 16u);
      ASSERT_EQ(std::string(b.begin() + 12, b.begin() + 16), c.webp_chunk)
          << "libwebp wrote another chunk than this case means to test";
    }
    EXPECT_TRUE(ProbesAs(b, c.format, w, h));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Formats, EncodedTest,
    ::testing::Values(
        EncodedCase{".png", CV_8UC3, {}, "png", ""},
        EncodedCase{".png", CV_16UC1, {}, "png", ""},
        EncodedCase{".png", CV_8UC4, {}, "png", ""},
        EncodedCase{".jpg", CV_8UC3, {}, "jpeg", ""},
        EncodedCase{".jpg", CV_8UC1, {}, "jpeg", ""},
        EncodedCase{
            ".jpg", CV_8UC3, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}, "jpeg", ""},
        EncodedCase{".bmp", CV_8UC3, {}, "bmp", ""},
        EncodedCase{".bmp", CV_8UC1, {}, "bmp", ""},
        EncodedCase{".ppm", CV_8UC3, {}, "pnm", ""},
        EncodedCase{".pgm", CV_8UC1, {}, "pnm", ""},
        EncodedCase{".pgm", CV_16UC1, {}, "pnm", ""},
        EncodedCase{".ppm", CV_8UC3, {cv::IMWRITE_PXM_BINARY, 0}, "pnm", ""},
        EncodedCase{".pfm", CV_32FC1, {}, "pfm", ""},
        EncodedCase{".pfm", CV_32FC3, {}, "pfm", ""},
        EncodedCase{".tif", CV_8UC1, {}, "tiff", ""},
        EncodedCase{".tif", CV_16UC3, {}, "tiff", ""},
        EncodedCase{".tif", CV_32FC4, {}, "tiff", ""},
        EncodedCase{".webp", CV_8UC3, {}, "webp", "VP8L"},
        EncodedCase{
            ".webp", CV_8UC3, {cv::IMWRITE_WEBP_QUALITY, 80}, "webp", "VP8 "},
        EncodedCase{
            ".webp", CV_8UC4, {cv::IMWRITE_WEBP_QUALITY, 80}, "webp", "VP8X"},
        EncodedCase{".sr", CV_8UC3, {}, "sunras", ""},
        EncodedCase{".sr", CV_8UC1, {}, "sunras", ""},
        EncodedCase{".hdr", CV_32FC3, {}, "hdr", ""},
        EncodedCase{".pam", CV_8UC3, {}, "pam", ""},
        EncodedCase{".pam", CV_16UC1, {}, "pam", ""},
        EncodedCase{".jp2", CV_8UC3, {}, "jp2", ""}),
    [](const ::testing::TestParamInfo<EncodedCase>& info) {
      std::string name =
          info.param.ext.substr(1) + "_" + std::to_string(info.index);
      return name;
    });

// --- Hand-made headers ---------------------------------------------------

TEST(ProbeHeaderPng, HugeIhdr) {
  EXPECT_TRUE(
      ProbesAs(testing::PngHeader(100000, 100000), "png", 100000, 100000));
  EXPECT_TRUE(
      ProbesAs(testing::PngHeader(0xFFFFFFFFu, 1), "png", 4294967295ull, 1));
}

TEST(ProbeHeaderPng, SignatureWithoutIhdrIsNotProbed) {
  Bytes b = testing::PngHeader(5, 5);
  b[12] = 'i';  // "iHDR" is not IHDR
  EXPECT_FALSE(Probe(b));
}

TEST(ProbeHeaderJpeg, Sof0AfterApp0) {
  Bytes b = testing::JpegSoiApp0();
  testing::PutJpegSof(b, 0xC0, 65535, 65535);
  EXPECT_TRUE(ProbesAs(b, "jpeg", 65535, 65535));
}

TEST(ProbeHeaderJpeg, WidthAndHeightAreNotSwapped) {
  Bytes b = testing::JpegSoiApp0();
  testing::PutJpegSof(b, 0xC0, 640, 427);
  EXPECT_TRUE(ProbesAs(b, "jpeg", 640, 427));
}

TEST(ProbeHeaderJpeg, SkipsTablesAndFillBytesBeforeProgressiveSof) {
  Bytes b = testing::JpegSoiApp0();
  // DQT with one 8-bit table of 64 ones.
  Put8(b, 0xFF);
  Put8(b, 0xDB);
  PutBe16(b, 2 + 1 + 64);
  Put8(b, 0);
  for (int i = 0; i < 64; ++i) Put8(b, 1);
  // DHT (0xC4 is not a start of frame) whose bytes look like a big SOF.
  Put8(b, 0xFF);
  Put8(b, 0xC4);
  PutBe16(b, 2 + 17 + 1);
  Put8(b, 0x00);
  for (int i = 0; i < 16; ++i) Put8(b, i == 0 ? 1 : 0);
  Put8(b, 0xFF);
  // Fill bytes before the next marker (ITU T.81 B.1.1.2).
  Put8(b, 0xFF);
  Put8(b, 0xFF);
  testing::PutJpegSof(b, 0xC2, 37, 23);
  EXPECT_TRUE(ProbesAs(b, "jpeg", 37, 23));
}

TEST(ProbeHeaderJpeg, FakeSofInsideApp1IsSkipped) {
  Bytes b = {0xFF, 0xD8};
  Bytes payload;
  Put(payload, "Exif\0\0"sv);
  testing::PutJpegSof(payload, 0xC0, 60000, 60000);  // inside the segment
  Put8(b, 0xFF);
  Put8(b, 0xE1);
  PutBe16(b, static_cast<uint32_t>(2 + payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
  testing::PutJpegSof(b, 0xC1, 37, 23);
  EXPECT_TRUE(ProbesAs(b, "jpeg", 37, 23));
}

TEST(ProbeHeaderJpeg, NoSofBeforeScanIsNotProbed) {
  Bytes b = testing::JpegSoiApp0();
  Put8(b, 0xFF);
  Put8(b, 0xDA);
  PutBe16(b, 8);
  for (int i = 0; i < 6; ++i) Put8(b, 0);
  testing::PutJpegSof(b, 0xC0, 37, 23);  // after SOS: not a header any more
  EXPECT_FALSE(Probe(b));
}

TEST(ProbeHeaderJpeg, BadSegmentLengthIsNotProbed) {
  Bytes b = {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0, 0};  // length 1 < 2
  testing::PutJpegSof(b, 0xC0, 37, 23);
  EXPECT_FALSE(Probe(b));
  Bytes c = {0xFF, 0xD8, 0xFF, 0xE0, 0xFF, 0xFF, 0, 0};  // runs off the end
  EXPECT_FALSE(Probe(c));
}

Bytes Bmp(uint32_t info_size, int32_t width, int32_t height) {
  Bytes b;
  Put(b, "BM");
  PutLe32(b, 0);  // file size (not needed)
  PutLe32(b, 0);  // reserved
  PutLe32(b, 14 + info_size);
  PutLe32(b, info_size);
  if (info_size == 12) {  // BITMAPCOREHEADER: 16-bit unsigned sizes
    PutLe16(b, static_cast<uint32_t>(width));
    PutLe16(b, static_cast<uint32_t>(height));
    PutLe16(b, 1);
    PutLe16(b, 24);
    return b;
  }
  PutLe32(b, static_cast<uint32_t>(width));
  PutLe32(b, static_cast<uint32_t>(height));
  PutLe16(b, 1);   // planes
  PutLe16(b, 24);  // bits per pixel
  for (int i = 0; i < 6; ++i) PutLe32(b, 0);
  return b;
}

TEST(ProbeHeaderBmp, BottomUpAndTopDown) {
  EXPECT_TRUE(ProbesAs(Bmp(40, 37, 23), "bmp", 37, 23));
  EXPECT_TRUE(ProbesAs(Bmp(40, 37, -23), "bmp", 37, 23));
  EXPECT_TRUE(ProbesAs(Bmp(124, 5000, -7000), "bmp", 5000, 7000));
  EXPECT_TRUE(ProbesAs(Bmp(40, 1, INT32_MIN), "bmp", 1, 2147483648ull));
}

TEST(ProbeHeaderBmp, Os2CoreHeader) {
  EXPECT_TRUE(ProbesAs(Bmp(12, 300, 200), "bmp", 300, 200));
  EXPECT_TRUE(ProbesAs(Bmp(12, 65535, 65535), "bmp", 65535, 65535));
}

Bytes Text(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(ProbeHeaderPnm, CommentsAndWhitespace) {
  EXPECT_TRUE(ProbesAs(Text("P6 # comment 999 999\n# another 1 2\n  37\t# w\n"
                            "23\n255\n"),
                       "pnm", 37, 23));
  EXPECT_TRUE(
      ProbesAs(Text("P5\r\n#c 7 7\r640\r\n480\r\n255\r\n"), "pnm", 640, 480));
  EXPECT_TRUE(ProbesAs(Text("P2\v\f3 #x\n4 255 "), "pnm", 3, 4));
  // The '#' right after 3 ends the number; "x" is then no number.
  EXPECT_FALSE(Probe(Text("P2\v\f3#x\n4 255 ")));
}

TEST(ProbeHeaderPnm, EveryMagic) {
  for (char m = '1'; m <= '6'; ++m) {
    SCOPED_TRACE(std::string("P") + m);
    EXPECT_TRUE(
        ProbesAs(Text(std::string("P") + m + "\n12 34\n"), "pnm", 12, 34));
  }
  // PAM is another form, read by its own probe.
  EXPECT_TRUE(ProbesAs(Text("P7\nWIDTH 4\nHEIGHT 5\nENDHDR\n"), "pam", 4, 5));
  EXPECT_FALSE(Probe(Text("P0\n12 34\n")));
}

TEST(ProbeHeaderPnm, Pfm) {
  EXPECT_TRUE(ProbesAs(Text("PF\n37 23\n-1.0\n"), "pfm", 37, 23));
  EXPECT_TRUE(ProbesAs(Text("Pf\n5 7\n1.0\n"), "pfm", 5, 7));
  // OpenCV reads each field up to whitespace with atoi, with no comments:
  // the probe must read the size the decoder will (found by the fuzzer).
  EXPECT_TRUE(ProbesAs(Text("PF\n2#5 100000\n-1.0\n"), "pfm", 2, 100000));
  EXPECT_TRUE(ProbesAs(Text("PF\n+12x 4\n-1.0\n"), "pfm", 12, 4));
  EXPECT_TRUE(ProbesAs(Text("PF\n-12 4\n-1.0\n"), "pfm", 0, 4));
  EXPECT_TRUE(ProbesAs(Text("PF\n 4 5\n-1.0\n"), "pfm", 0, 4));
}

// OpenCV's PxM reader consumes the character after a number, so a '#'
// right after one does not start a comment (found by the decode fuzzer:
// the probe read 2x2 where OpenCV decoded 2x12).
TEST(ProbeHeaderPnm, HashRightAfterANumberIsNotAComment) {
  EXPECT_TRUE(ProbesAs(Text("P5 2#12\n3 255\n"), "pnm", 2, 12));
  EXPECT_TRUE(ProbesAs(Text("P5 2 #12\n3 255\n"), "pnm", 2, 3));
}

TEST(ProbeHeaderPnm, LongAndMissingNumbers) {
  EXPECT_TRUE(ProbesAs(Text("P5 999999999999 999999999999 255\n"), "pnm",
                       999999999999ull, 999999999999ull));
  EXPECT_FALSE(Probe(Text("P5 1000000000000 2 255\n")));  // 13 digits
  EXPECT_FALSE(Probe(Text("P5 -3 2 255\n")));
  EXPECT_FALSE(Probe(Text("P5 37\n# only one number")));
  EXPECT_FALSE(Probe(Text("P6")));
}

TEST(ProbeHeaderTiff, ShortAndLongTagsInBothByteOrders) {
  for (const bool le : {true, false}) {
    SCOPED_TRACE(le ? "little-endian" : "big-endian");
    const std::string fmt = "tiff";
    EXPECT_TRUE(ProbesAs(testing::TiffHeader(le, 37, 3, 23, 3), fmt, 37, 23));
    EXPECT_TRUE(ProbesAs(testing::TiffHeader(le, 37, 4, 23, 4), fmt, 37, 23));
    EXPECT_TRUE(ProbesAs(testing::TiffHeader(le, 65535, 3, 70000, 4), fmt,
                         65535, 70000));
    EXPECT_TRUE(ProbesAs(testing::TiffHeader(le, 4000000000u, 4, 3, 3), fmt,
                         4000000000ull, 3));
    // The first IFD somewhere after padding.
    EXPECT_TRUE(
        ProbesAs(testing::TiffHeader(le, 300, 3, 200, 4, 1000), fmt, 300, 200));
  }
}

TEST(ProbeHeaderTiff, BrokenIfdsAreNotProbed) {
  Bytes b = testing::TiffHeader(true, 37, 3, 23, 3);
  Bytes no_height(b.begin(), b.end());
  no_height[8 + 2 + 2 * 12 + 1] = 0x02;  // tag 257 -> 513
  EXPECT_FALSE(Probe(no_height));

  Bytes far = b;
  far[4] = far[5] = far[6] = far[7] = 0xFF;  // IFD at 4 GiB
  EXPECT_FALSE(Probe(far));

  Bytes many = b;
  many[8] = many[9] = 0xFF;  // 65535 entries in a file of 50 bytes
  EXPECT_FALSE(Probe(many));

  Bytes big = b;
  big[2] = 43;  // BigTIFF version with a classic header
  EXPECT_FALSE(Probe(big));

  Bytes ascii = b;
  ascii[8 + 2 + 2] = 2;  // width as ASCII: not a size this probe reads
  EXPECT_FALSE(Probe(ascii));
}

// A size tag given twice counts with its larger value: libtiff keeps the
// first and another decoder could keep the last, and the limit must hold
// for both (found by the decode fuzzer: the probe took the last, 1, and
// libtiff decoded the first, 16).
TEST(ProbeHeaderTiff, RepeatedSizeTagCountsWithItsLargestValue) {
  for (const bool first_is_large : {true, false}) {
    Bytes b;
    PutLe16(b, 0x4949);
    PutLe16(b, 42);
    PutLe32(b, 8);
    PutLe16(b, 3);
    const auto entry = [&](uint16_t tag, uint32_t value) {
      PutLe16(b, tag);
      PutLe16(b, 4);
      PutLe32(b, 1);
      PutLe32(b, value);
    };
    entry(256, first_is_large ? 100000 : 1);
    entry(257, 12);
    entry(256, first_is_large ? 1 : 100000);
    PutLe32(b, 0);
    EXPECT_TRUE(ProbesAs(b, "tiff", 100000, 12));
  }
}

// BigTIFF: 8-byte offsets and counts, 20-byte entries, LONG8 values.
TEST(ProbeHeaderTiff, BigTiff) {
  Bytes b;
  PutLe16(b, 0x4949);  // "II"
  PutLe16(b, 43);
  PutLe16(b, 8);
  PutLe16(b, 0);
  PutLe32(b, 16);  // first IFD at 16 (64-bit)
  PutLe32(b, 0);
  PutLe32(b, 2);  // two entries (64-bit count)
  PutLe32(b, 0);
  const auto entry = [&](uint16_t tag, uint16_t type, uint64_t value) {
    PutLe16(b, tag);
    PutLe16(b, type);
    PutLe32(b, 1);
    PutLe32(b, 0);
    PutLe32(b, static_cast<uint32_t>(value));
    PutLe32(b, static_cast<uint32_t>(value >> 32));
  };
  entry(256, 16, 5000000000ull);
  entry(257, 3, 7);
  EXPECT_TRUE(ProbesAs(b, "tiff", 5000000000ull, 7));
}

TEST(ProbeHeaderOther, SunRasterHdrJpeg2000AndPam) {
  Bytes sun;
  PutBe32(sun, 0x59a66a95);
  PutBe32(sun, 100000);
  PutBe32(sun, 3);
  PutBe32(sun, 24);
  EXPECT_TRUE(ProbesAs(sun, "sunras", 100000, 3));

  EXPECT_TRUE(ProbesAs(Text("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n"
                            "-Y 23 +X 37\n"),
                       "hdr", 37, 23));
  // OpenCV needs the FORMAT line, the blank line and "-Y H +X W".
  EXPECT_FALSE(Probe(Text("#?RGBE\n\n+X 37 -Y 23\n")));
  EXPECT_FALSE(Probe(Text("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 23 -Y 37\n")));
  EXPECT_FALSE(Probe(Text("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\nno empty line")));
  // Header lines are read in pieces of at most 127 bytes, as OpenCV's
  // fgets into 128 bytes reads them: a long comment line is several
  // pieces; a 127-byte line leaves its '\n' as a piece of its own, which
  // OpenCV takes for the end of the header ("no FORMAT specifier"); and
  // after FORMAT only a blank line may come (found in review: the probe
  // once ended the header at the first empty line wherever it was).
  EXPECT_TRUE(ProbesAs(Text("#?RADIANCE\n#" + std::string(200, 'x') +
                            "\nFORMAT=32-bit_rle_rgbe\n\n-Y 23 +X 37\n"),
                       "hdr", 37, 23));
  EXPECT_FALSE(Probe(Text("#?RADIANCE\n#" + std::string(126, 'x') +
                          "\nFORMAT=32-bit_rle_rgbe\n\n-Y 23 +X 37\n")));
  EXPECT_FALSE(Probe(Text("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n#" +
                          std::string(126, 'x') +
                          "\n-Y 30000 +X 30000\n\n-Y 1 +X 1\n")));

  Bytes j2k;
  PutBe16(j2k, 0xFF4F);
  PutBe16(j2k, 0xFF51);
  PutBe16(j2k, 41);  // Lsiz
  PutBe16(j2k, 0);   // Rsiz
  PutBe32(j2k, 47);  // Xsiz
  PutBe32(j2k, 33);  // Ysiz
  PutBe32(j2k, 10);  // XOsiz
  PutBe32(j2k, 10);  // YOsiz
  EXPECT_TRUE(ProbesAs(j2k, "jp2", 37, 23));

  Bytes jp2;
  PutBe32(jp2, 12);
  Put(jp2, "jP  ");
  PutBe32(jp2, 0x0D0A870A);
  PutBe32(jp2, 20);
  Put(jp2, "ftypjp2 ");
  PutBe32(jp2, 0);
  Put(jp2, "jp2 ");
  PutBe32(jp2, 30);
  Put(jp2, "jp2h");
  PutBe32(jp2, 22);
  Put(jp2, "ihdr");
  PutBe32(jp2, 23);  // height
  PutBe32(jp2, 37);  // width
  for (int i = 0; i < 6; ++i) Put8(jp2, 0);  // components, depth, ...
  EXPECT_FALSE(Probe(jp2));  // no codestream yet
  Bytes with_codestream = jp2;
  PutBe32(with_codestream, 0);  // jp2c to the end of the file
  Put(with_codestream, "jp2c");
  with_codestream.insert(with_codestream.end(), j2k.begin(), j2k.end());
  EXPECT_TRUE(ProbesAs(with_codestream, "jp2", 37, 23));
  // The decoder follows the codestream: a SIZ larger than ihdr counts
  // (found in review: ihdr 37x23 hid a 30000x30000 codestream).
  Bytes big_siz = jp2;
  PutBe32(big_siz, 8 + 24);
  Put(big_siz, "jp2c");
  PutBe16(big_siz, 0xFF4F);
  PutBe16(big_siz, 0xFF51);
  PutBe16(big_siz, 41);
  PutBe16(big_siz, 0);
  PutBe32(big_siz, 30000);
  PutBe32(big_siz, 30000);
  PutBe32(big_siz, 0);
  PutBe32(big_siz, 0);
  EXPECT_TRUE(ProbesAs(big_siz, "jp2", 30000, 30000));

  EXPECT_TRUE(ProbesAs(Text("P7\nWIDTH 37\nHEIGHT 23\nDEPTH 3\nMAXVAL 255\n"
                            "TUPLTYPE RGB\nENDHDR\n"),
                       "pam", 37, 23));
  EXPECT_FALSE(Probe(Text("P7\nWIDTH 37\nENDHDR\n")));
  // Indented fields and '\r' line ends are fields to OpenCV; a repeated
  // field or no ENDHDR is not probed (found in review: indented WIDTH and
  // HEIGHT of 20000 with "WIDTH 1" and "HEIGHT 1" in the pixel data).
  EXPECT_TRUE(ProbesAs(Text("P7\n WIDTH 20000\n\tHEIGHT 20000\n DEPTH 1\n"
                            " MAXVAL 255\n ENDHDR\nWIDTH 1\nHEIGHT 1\n"),
                       "pam", 20000, 20000));
  EXPECT_TRUE(ProbesAs(Text("P7\rWIDTH 5\rHEIGHT 6\rENDHDR\r"), "pam", 5, 6));
  EXPECT_FALSE(Probe(Text("P7\nWIDTH 5\nWIDTH 1\nHEIGHT 6\nENDHDR\n")));
  EXPECT_FALSE(Probe(Text("P7\nWIDTH 5\nHEIGHT 6\n")));
  EXPECT_FALSE(Probe(Text("P7\nWIDTH 5x\nHEIGHT 6\nENDHDR\n")));
}

TEST(ProbeHeaderWebp, Vp8MasksScaleBits) {
  Bytes p;
  // Frame tag: key frame (bit 0 = 0), version 0, shown (bit 4), partition
  // size 0; then the start code and the 14-bit sizes with 2 scale bits.
  Put8(p, 0x10);
  Put8(p, 0x00);
  Put8(p, 0x00);
  Put8(p, 0x9D);
  Put8(p, 0x01);
  Put8(p, 0x2A);
  PutLe16(p, (1u << 14) | 37);  // horizontal scale 1
  PutLe16(p, (2u << 14) | 23);  // vertical scale 2
  Put8(p, 0);
  Put8(p, 0);
  EXPECT_TRUE(ProbesAs(testing::Webp("VP8 ", p), "webp", 37, 23));
}

TEST(ProbeHeaderWebp, Vp8lLargestSize) {
  Bytes p;
  Put8(p, 0x2F);  // signature
  // 14 bits width-1, 14 bits height-1, alpha_is_used, 3 bits version 0.
  PutLe32(p, (16383u) | (999u << 14) | (1u << 28));
  for (int i = 0; i < 8; ++i) Put8(p, 0);  // start of the image stream
  EXPECT_TRUE(ProbesAs(testing::Webp("VP8L", p), "webp", 16384, 1000));
  p[0] = 0x2E;
  EXPECT_FALSE(Probe(testing::Webp("VP8L", p)));
}

TEST(ProbeHeaderWebp, Vp8xCanvas) {
  Bytes p;
  Put8(p, 0x10);  // flags: alpha
  Put8(p, 0);
  Put8(p, 0);
  Put8(p, 0);
  PutLe24(p, 0xFFFFFF);  // canvas width - 1
  PutLe24(p, 299);       // canvas height - 1
  EXPECT_TRUE(ProbesAs(testing::Webp("VP8X", p), "webp", 16777216, 300));
}

TEST(ProbeHeaderWebp, UnknownChunkIsNotProbed) {
  Bytes p(10, 0);
  EXPECT_FALSE(Probe(testing::Webp("ALPH", p)));
  Bytes riff = testing::Webp("VP8X", p);
  riff[8] = 'A';  // RIFF but not WEBP (e.g. WAVE/AVI)
  EXPECT_FALSE(Probe(riff));
}

TEST(ProbeHeader, UnknownInputs) {
  EXPECT_FALSE(Probe({}));
  EXPECT_FALSE(Probe(Text("GIF89a\x25\x00\x17\x00")));
  EXPECT_FALSE(Probe(Text("hello world, this is not an image at all")));
  EXPECT_FALSE(Probe(Bytes(64, 0)));
  EXPECT_FALSE(Probe(Bytes(64, 0xFF)));
}

// --- Truncated, mutated and random inputs ---------------------------------

struct Seed {
  std::string name;
  Bytes bytes;
  std::string format;
  uint64_t width;
  uint64_t height;
};

std::vector<Seed> Seeds() {
  std::vector<Seed> s;
  const auto add = [&](std::string name, Bytes b, std::string format,
                       uint64_t w, uint64_t h) {
    s.push_back({std::move(name), std::move(b), std::move(format), w, h});
  };
  cv::Mat rgb = Noise(37, 23, CV_8UC3);
  add("png", Encode(".png", rgb), "png", 37, 23);
  add("jpg", Encode(".jpg", rgb), "jpeg", 37, 23);
  add("bmp", Encode(".bmp", rgb), "bmp", 37, 23);
  add("ppm", Encode(".ppm", rgb), "pnm", 37, 23);
  add("pgm16", Encode(".pgm", Noise(37, 23, CV_16UC1)), "pnm", 37, 23);
  add("pfm", Encode(".pfm", cv::Mat(23, 37, CV_32FC3, cv::Scalar::all(0.5))),
      "pfm", 37, 23);
  add("tif", Encode(".tif", rgb), "tiff", 37, 23);
  add("webp-lossless", Encode(".webp", rgb), "webp", 37, 23);
  add("webp-lossy", Encode(".webp", rgb, {cv::IMWRITE_WEBP_QUALITY, 50}),
      "webp", 37, 23);
  add("webp-alpha",
      Encode(".webp", Noise(37, 23, CV_8UC4), {cv::IMWRITE_WEBP_QUALITY, 50}),
      "webp", 37, 23);
  add("png-huge", testing::PngHeader(100000, 100000), "png", 100000, 100000);
  Bytes jpeg = testing::JpegSoiApp0();
  testing::PutJpegSof(jpeg, 0xC0, 65535, 65535);
  add("jpeg-sof", jpeg, "jpeg", 65535, 65535);
  add("bmp-topdown", Bmp(40, 37, -23), "bmp", 37, 23);
  add("bmp-core", Bmp(12, 37, 23), "bmp", 37, 23);
  add("pnm-comments", Text("P6 # c\n# d\n  37\t# w\n23\n255\n"), "pnm", 37, 23);
  add("tiff-le", testing::TiffHeader(true, 37, 3, 23, 4), "tiff", 37, 23);
  add("tiff-be", testing::TiffHeader(false, 37, 4, 23, 3), "tiff", 37, 23);
  return s;
}

// A probe of a damaged header must not crash or read out of bounds; if it
// answers, the format must be the seed's, and for a mere truncation the
// size must be the real one (PNM: the height may be a cut-off number).
TEST(ProbeHeaderRobustness, EveryPrefixUpTo64Bytes) {
  for (const Seed& seed : Seeds()) {
    SCOPED_TRACE(seed.name);
    EXPECT_TRUE(ProbesAs(seed.bytes, seed.format, seed.width, seed.height));
    const size_t max = std::min<size_t>(64, seed.bytes.size());
    for (size_t n = 0; n <= max; ++n) {
      SCOPED_TRACE("prefix of " + std::to_string(n) + " bytes");
      // An exact-size copy, so that ASan sees any read past its end.
      const Bytes cut(seed.bytes.begin(),
                      seed.bytes.begin() + static_cast<ptrdiff_t>(n));
      const auto h = ProbeHeader(cut);
      if (!h) continue;
      EXPECT_EQ(h->format, seed.format);
      EXPECT_EQ(h->width, seed.width);
      if (seed.format == "pnm" || seed.format == "pfm") {
        EXPECT_LE(h->height, seed.height);
      } else {
        EXPECT_EQ(h->height, seed.height);
      }
    }
  }
}

TEST(ProbeHeaderRobustness, MutatedHeaders) {
  std::mt19937 rng(12345);
  const std::set<std::string> formats = {"png", "jpeg", "bmp", "pnm",
                                         "pfm", "tiff", "webp"};
  for (const Seed& seed : Seeds()) {
    SCOPED_TRACE(seed.name);
    for (int round = 0; round < 400; ++round) {
      const size_t n = std::min<size_t>(
          seed.bytes.size(), round % 2 == 0 ? 64 : seed.bytes.size());
      Bytes b(seed.bytes.begin(),
              seed.bytes.begin() + static_cast<ptrdiff_t>(n));
      if (b.empty()) continue;
      const int flips = 1 + static_cast<int>(rng() % 4);
      for (int f = 0; f < flips; ++f) {
        // Mostly bytes after the magic, so the format's own parser runs.
        const size_t at = std::min(b.size() - 1, 2 + rng() % b.size());
        b[at] = static_cast<uint8_t>(rng());
      }
      const auto h = ProbeHeader(b);
      if (h) {
        EXPECT_TRUE(formats.count(h->format)) << h->format;
      }
    }
  }
}

TEST(ProbeHeaderRobustness, RandomBytesAfterEachMagic) {
  const std::vector<std::pair<Bytes, std::string>> magics = {
      {{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}, "png"},
      {{0xFF, 0xD8, 0xFF}, "jpeg"},
      {Text("BM"), "bmp"},
      {Text("P1"), "pnm"},
      {Text("P6"), "pnm"},
      {Text("PF"), "pfm"},
      {Text("Pf"), "pfm"},
      {Text("II*\0"sv), "tiff"},
      {Text("MM\0*"sv), "tiff"},
      {Text("RIFF\0\0\0\0WEBP"sv), "webp"},
      {Text("RIFF\0\0\0\0WEBPVP8 "sv), "webp"},
      {Text("RIFF\0\0\0\0WEBPVP8L"sv), "webp"},
      {Text("RIFF\0\0\0\0WEBPVP8X"sv), "webp"},
  };
  std::mt19937 rng(777);
  for (const auto& [magic, format] : magics) {
    SCOPED_TRACE(format);
    for (size_t n = 0; n <= 64; ++n) {
      for (int round = 0; round < 50; ++round) {
        Bytes b(n);
        for (auto& v : b) v = static_cast<uint8_t>(rng());
        // Small values make plausible lengths, counts and offsets likelier.
        if (round % 2 == 1) {
          for (auto& v : b) v &= 0x0F;
        }
        std::copy_n(magic.begin(), std::min(n, magic.size()), b.begin());
        const auto h = ProbeHeader(b);
        if (h && n >= magic.size()) {
          EXPECT_EQ(h->format, format);
        }
      }
    }
  }
}

}  // namespace
}  // namespace convcorr::io
