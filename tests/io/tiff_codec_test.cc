// The TIFF codec (src/io/tiff_*.cc): OpenCV's decoder as the oracle for
// files OpenCV writes; files written here with libtiff for what OpenCV does
// not write (gray+alpha, tiles, planes, signed and 64-bit samples, palette,
// MINISWHITE, orientation); bands; encoder round trips; metadata; errors;
// threads.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <thread>
#include <vector>

// After OpenCV: libtiff marks the int64 names OpenCV's headers use as
// deprecated.
#include <tiffio.h>

#include "common/error.h"
#include "io/codec.h"
#include "io/exif.h"
#include "io/io_test_util.h"

namespace convcorr::io {
namespace {

using core::Depth;
using testing::Bytes;

// A source that cannot seek: the decoder must take the whole data.
class PipeSource : public Source {
 public:
  explicit PipeSource(const Bytes& b) : bytes_(b) {}
  size_t Read(void*, size_t) override { return 0; }
  std::span<const uint8_t> Peek(size_t n) override {
    return std::span<const uint8_t>(bytes_).first(std::min(n, bytes_.size()));
  }
  size_t ReadAt(uint64_t, void*, size_t) override {
    ADD_FAILURE() << "ReadAt on a pipe";
    return 0;
  }
  bool Seekable() const override { return false; }
  std::optional<uint64_t> Size() const override { return std::nullopt; }
  std::span<const uint8_t> All() override { return bytes_; }

 private:
  const Bytes& bytes_;
};

struct Decoded {
  PixelFormat format;
  int orientation = 0;
  Metadata metadata;
  cv::Mat mat;
};

int CvDepth(Depth d) {
  return d == Depth::kU8 ? CV_8U : d == Depth::kU16 ? CV_16U : CV_32F;
}

// Decodes `bytes` in bands of `band` rows (0: all at once).
Decoded Decode(const Bytes& bytes, int band = 0, bool seekable = true) {
  std::unique_ptr<Source> source;
  if (seekable) {
    source = Source::FromMemory(bytes);
  } else {
    source = std::make_unique<PipeSource>(bytes);
  }
  std::unique_ptr<Decoder> d = OpenTiff(*source, "test");
  Decoded out;
  out.format = d->format();
  out.orientation = d->orientation();
  out.mat =
      cv::Mat(out.format.height, out.format.width,
              CV_MAKETYPE(CvDepth(out.format.depth), out.format.channels));
  EXPECT_EQ(out.mat.step[0], out.format.RowBytes());
  const int h = out.format.height;
  for (int y = 0; y < h;) {
    const int n = band == 0 ? h : std::min(band, h - y);
    d->ReadRows(reinterpret_cast<std::byte*>(out.mat.ptr(y)),
                static_cast<std::ptrdiff_t>(out.mat.step[0]), n);
    y += n;
  }
  d->Finish();
  out.metadata = d->metadata();
  return out;
}

bool SameMat(const cv::Mat& a, const cv::Mat& b) {
  if (a.type() != b.type() || a.size() != b.size()) return false;
  if (a.empty()) return true;
  // Byte comparison: exact, and NaN-safe for float.
  for (int y = 0; y < a.rows; ++y) {
    if (std::memcmp(a.ptr(y), b.ptr(y), a.cols * a.elemSize()) != 0) {
      return false;
    }
  }
  return true;
}

::testing::AssertionResult MatEq(const cv::Mat& got, const cv::Mat& want) {
  if (SameMat(got, want)) return ::testing::AssertionSuccess();
  auto r = ::testing::AssertionFailure();
  r << "got type " << got.type() << " " << got.cols << "x" << got.rows
    << ", want type " << want.type() << " " << want.cols << "x" << want.rows;
  if (got.type() == want.type() && got.size() == want.size()) {
    r << ", max difference " << cv::norm(got, want, cv::NORM_INF);
  }
  return r;
}

cv::Mat Noise(int w, int h, int type, unsigned seed = 7) {
  cv::Mat m(h, w, type);
  cv::RNG rng(seed);
  if (CV_MAT_DEPTH(type) == CV_32F) {
    rng.fill(m, cv::RNG::UNIFORM, -2.0, 3.0);
  } else if (CV_MAT_DEPTH(type) == CV_16U) {
    rng.fill(m, cv::RNG::UNIFORM, 0, 65536);
  } else {
    rng.fill(m, cv::RNG::UNIFORM, 0, 256);
  }
  return m;
}

Bytes CvEncode(const cv::Mat& m, std::vector<int> params = {}) {
  Bytes b;
  EXPECT_TRUE(cv::imencode(".tif", m, b, params));
  return b;
}

cv::Mat CvDecode(const Bytes& b) {
  return cv::imdecode(b, cv::IMREAD_UNCHANGED);
}

// A TIFF written by libtiff: `setup` sets the fields, then `rows` (each
// row's bytes, as stored) are written by scanline, or `write` does it.
Bytes LibtiffFile(const std::function<void(TIFF*)>& setup,
                  const std::function<void(TIFF*)>& write) {
  testing::TempDir dir;
  const std::string path = (dir / "t.tif").string();
  TIFF* tif = TIFFOpen(path.c_str(), "w");
  EXPECT_NE(tif, nullptr);
  if (tif == nullptr) return {};
  setup(tif);
  write(tif);
  TIFFClose(tif);
  return testing::ReadFile(path);
}

void SetBasic(TIFF* tif, uint32_t w, uint32_t h, uint16_t spp, uint16_t bits,
              uint16_t photometric, uint16_t format = SAMPLEFORMAT_UINT) {
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, spp);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, bits);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, photometric);
  TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, format);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
}

// Writes `m` (rows as stored) scanline by scanline, from a copy: libtiff's
// predictors work in place.
std::function<void(TIFF*)> Scanlines(const cv::Mat& m) {
  return [m](TIFF* tif) {
    for (int y = 0; y < m.rows; ++y) {
      std::vector<uint8_t> row(m.ptr(y), m.ptr(y) + m.cols * m.elemSize());
      ASSERT_EQ(TIFFWriteScanline(tif, row.data(), static_cast<uint32_t>(y), 0),
                1);
    }
  };
}

cv::Mat SwapRb(const cv::Mat& m) {
  cv::Mat out = m.clone();
  const int ch = m.channels();
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) {
      uint8_t* p = out.ptr(y) + x * m.elemSize();
      const size_t n = m.elemSize1();
      std::vector<uint8_t> t(p, p + n);
      std::memcpy(p, p + 2 * n, n);
      std::memcpy(p + 2 * n, t.data(), n);
      (void)ch;
    }
  }
  return out;
}

// ---- OpenCV as the oracle ------------------------------------------------

TEST(TiffCodecTest, MatchesOpenCvOnItsOwnFiles) {
  for (const int type :
       {CV_8UC1, CV_8UC3, CV_16UC1, CV_16UC3, CV_32FC1, CV_16UC4}) {
    SCOPED_TRACE(type);
    const cv::Mat m = Noise(37, 29, type);
    const Bytes file = CvEncode(m);
    const cv::Mat cv = CvDecode(file);
    ASSERT_TRUE(MatEq(cv, m));  // OpenCV itself is exact on these
    EXPECT_TRUE(MatEq(Decode(file).mat, cv));
    EXPECT_TRUE(MatEq(Decode(file, 0, false).mat, cv));
  }
}

TEST(TiffCodecTest, Float3ChannelsMatchOpenCvWhenLossless) {
  // OpenCV stores 3-channel float as lossy LogLuv unless told otherwise.
  const cv::Mat m = Noise(33, 21, CV_32FC3);
  const Bytes file = CvEncode(m, {cv::IMWRITE_TIFF_COMPRESSION, 5});
  ASSERT_TRUE(MatEq(CvDecode(file), m));
  EXPECT_TRUE(MatEq(Decode(file).mat, m));
}

TEST(TiffCodecTest, FourChannels8BitKeepTheStoredAlpha) {
  const cv::Mat m = Noise(19, 23, CV_8UC4);
  const Bytes file = CvEncode(m);
  const Decoded d = Decode(file);
  EXPECT_TRUE(MatEq(d.mat, m));
  // OpenCV 4.6 reads 8-bit RGBA through libtiff's RGBA interface; where the
  // alpha is opaque, the two must agree.
  cv::Mat opaque = m.clone();
  opaque.forEach<cv::Vec4b>([](cv::Vec4b& p, const int*) { p[3] = 255; });
  const Bytes opaque_file = CvEncode(opaque);
  EXPECT_TRUE(MatEq(Decode(opaque_file).mat, CvDecode(opaque_file)));
}

TEST(TiffCodecTest, LogLuvGoesThroughRgba) {
  cv::Mat m(8, 8, CV_32FC3, cv::Scalar(0.25, 0.5, 0.75));
  const Decoded d = Decode(CvEncode(m));
  EXPECT_EQ(d.format.depth, Depth::kU8);
  EXPECT_EQ(d.format.channels, 3);
}

// ---- Files made with libtiff ---------------------------------------------

TEST(TiffCodecTest, GrayAlphaKeepsAlpha) {
  const cv::Mat m = Noise(21, 17, CV_8UC2);
  const Bytes file = LibtiffFile(
      [](TIFF* tif) {
        SetBasic(tif, 21, 17, 2, 8, PHOTOMETRIC_MINISBLACK);
        const uint16_t extra[] = {EXTRASAMPLE_UNASSALPHA};
        TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, extra);
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
      },
      Scanlines(m));
  const Decoded d = Decode(file, 3);
  EXPECT_EQ(d.format.channels, 2);
  EXPECT_TRUE(MatEq(d.mat, m));
  std::vector<cv::Mat> planes;
  cv::split(d.mat, planes);
  std::vector<cv::Mat> want;
  cv::split(m, want);
  EXPECT_EQ(cv::norm(planes[1], want[1], cv::NORM_INF), 0);
}

// Writes `m` (R,G,B order as stored) as tiles of 16 x 16.
Bytes TiledFile(const cv::Mat& m, uint16_t bits, bool separate) {
  const uint16_t spp = static_cast<uint16_t>(m.channels());
  return LibtiffFile(
      [&](TIFF* tif) {
        SetBasic(tif, m.cols, m.rows, spp, bits,
                 spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK);
        TIFFSetField(tif, TIFFTAG_PLANARCONFIG,
                     separate ? PLANARCONFIG_SEPARATE : PLANARCONFIG_CONTIG);
        TIFFSetField(tif, TIFFTAG_TILEWIDTH, 16);
        TIFFSetField(tif, TIFFTAG_TILELENGTH, 16);
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
      },
      [&](TIFF* tif) {
        const size_t n = bits / 8;
        const int planes = separate ? spp : 1;
        const int per = separate ? 1 : spp;
        std::vector<uint8_t> tile(16 * 16 * per * n);
        for (int s = 0; s < planes; ++s) {
          for (int ty = 0; ty < m.rows; ty += 16) {
            for (int tx = 0; tx < m.cols; tx += 16) {
              std::fill(tile.begin(), tile.end(), 0);
              for (int y = ty; y < std::min(ty + 16, m.rows); ++y) {
                for (int x = tx; x < std::min(tx + 16, m.cols); ++x) {
                  for (int c = 0; c < per; ++c) {
                    std::memcpy(
                        &tile[(((y - ty) * 16 + (x - tx)) * per + c) * n],
                        m.ptr(y) + (x * spp + (separate ? s : c)) * n, n);
                  }
                }
              }
              const uint32_t t = TIFFComputeTile(tif, tx, ty, 0, s);
              ASSERT_GE(
                  TIFFWriteEncodedTile(tif, t, tile.data(),
                                       static_cast<tmsize_t>(tile.size())),
                  0);
            }
          }
        }
      });
}

TEST(TiffCodecTest, TiledContigAndSeparate) {
  const cv::Mat rgb = Noise(40, 37, CV_16UC3);
  for (const bool separate : {false, true}) {
    SCOPED_TRACE(separate);
    const Bytes file = TiledFile(rgb, 16, separate);
    for (const int band : {1, 3, 0}) {
      EXPECT_TRUE(MatEq(Decode(file, band).mat, SwapRb(rgb)));
    }
    // OpenCV 4.6 reads separate planes of tiles wrongly.
    if (!separate) {
      EXPECT_TRUE(MatEq(CvDecode(file), SwapRb(rgb)));
    }
  }
}

TEST(TiffCodecTest, PlanarSeparateStrips) {
  const cv::Mat rgba = Noise(23, 19, CV_8UC4);  // R,G,B,A as stored
  const Bytes file = LibtiffFile(
      [](TIFF* tif) {
        SetBasic(tif, 23, 19, 4, 8, PHOTOMETRIC_RGB);
        TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_SEPARATE);
        TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 5);
        const uint16_t extra[] = {EXTRASAMPLE_UNASSALPHA};
        TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, 1, extra);
      },
      [&](TIFF* tif) {
        std::vector<cv::Mat> planes;
        cv::split(rgba, planes);
        for (int s = 0; s < 4; ++s) {
          for (int y = 0; y < rgba.rows; ++y) {
            ASSERT_EQ(TIFFWriteScanline(tif, planes[s].ptr(y), y, s), 1);
          }
        }
      });
  for (const int band : {1, 3, 0}) {
    EXPECT_TRUE(MatEq(Decode(file, band).mat, SwapRb(rgba)));
  }
}

TEST(TiffCodecTest, Deflate16BitGray) {
  const cv::Mat m = Noise(31, 26, CV_16UC1);
  const Bytes file = LibtiffFile(
      [](TIFF* tif) {
        SetBasic(tif, 31, 26, 1, 16, PHOTOMETRIC_MINISBLACK);
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
        TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_HORIZONTAL);
        TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 4);
      },
      Scanlines(m));
  const Decoded d = Decode(file, 3);
  EXPECT_EQ(d.format.depth, Depth::kU16);
  EXPECT_TRUE(MatEq(d.mat, m));
  EXPECT_TRUE(MatEq(CvDecode(file), m));
}

TEST(TiffCodecTest, Signed16BecomesFloat) {
  cv::Mat m(5, 6, CV_16SC1);
  for (int i = 0; i < 30; ++i) m.at<int16_t>(i / 6, i % 6) = -32768 + i * 2184;
  m.at<int16_t>(4, 5) = 32767;
  const Bytes file = LibtiffFile(
      [](TIFF* tif) {
        SetBasic(tif, 6, 5, 1, 16, PHOTOMETRIC_MINISBLACK, SAMPLEFORMAT_INT);
      },
      Scanlines(m));
  const Decoded d = Decode(file);
  EXPECT_EQ(d.format.depth, Depth::kF32);
  cv::Mat want;
  m.convertTo(want, CV_32F);
  EXPECT_TRUE(MatEq(d.mat, want));
}

TEST(TiffCodecTest, Float64BecomesFloat) {
  cv::Mat m(4, 7, CV_64FC3);
  cv::RNG(3).fill(m, cv::RNG::UNIFORM, -1e3, 1e3);
  m.at<cv::Vec3d>(0, 0) = {1e300, -1e300, 0.1};
  const Bytes file = LibtiffFile(
      [](TIFF* tif) {
        SetBasic(tif, 7, 4, 3, 64, PHOTOMETRIC_RGB, SAMPLEFORMAT_IEEEFP);
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_LZW);
      },
      Scanlines(m));
  const Decoded d = Decode(file);
  EXPECT_EQ(d.format.depth, Depth::kF32);
  EXPECT_EQ(d.format.channels, 3);
  cv::Mat want;
  SwapRb(m).convertTo(want, CV_32F);
  want.at<cv::Vec3f>(0, 0) = {0.1f, -INFINITY, INFINITY};
  EXPECT_TRUE(MatEq(d.mat, want));
}

TEST(TiffCodecTest, PaletteAsBgr) {
  cv::Mat idx(9, 11, CV_8UC1);
  for (int i = 0; i < static_cast<int>(idx.total()); ++i)
    idx.data[i] = static_cast<uint8_t>(i % 4);
  std::vector<uint16_t> r(256, 0), g(256, 0), b(256, 0);
  const uint8_t colors[4][3] = {
      {10, 20, 30}, {200, 0, 5}, {0, 255, 128}, {77, 88, 99}};
  for (int i = 0; i < 4; ++i) {
    r[i] = colors[i][0] * 257;
    g[i] = colors[i][1] * 257;
    b[i] = colors[i][2] * 257;
  }
  const Bytes file = LibtiffFile(
      [&](TIFF* tif) {
        SetBasic(tif, 11, 9, 1, 8, PHOTOMETRIC_PALETTE);
        TIFFSetField(tif, TIFFTAG_COLORMAP, r.data(), g.data(), b.data());
      },
      Scanlines(idx));
  const Decoded d = Decode(file, 2);
  ASSERT_EQ(d.format.channels, 3);
  EXPECT_EQ(d.format.depth, Depth::kU8);
  cv::Mat want(9, 11, CV_8UC3);
  for (int i = 0; i < static_cast<int>(idx.total()); ++i) {
    const uint8_t* c = colors[idx.data[i]];
    want.at<cv::Vec3b>(i / 11, i % 11) = {c[2], c[1], c[0]};
  }
  EXPECT_TRUE(MatEq(d.mat, want));
  EXPECT_TRUE(MatEq(CvDecode(file), want));
}

TEST(TiffCodecTest, MinIsWhiteInvertsIntegers) {
  const cv::Mat m8 = Noise(13, 7, CV_8UC1);
  const Bytes f8 = LibtiffFile(
      [](TIFF* tif) { SetBasic(tif, 13, 7, 1, 8, PHOTOMETRIC_MINISWHITE); },
      Scanlines(m8));
  cv::Mat want8 = 255 - m8;
  EXPECT_TRUE(MatEq(Decode(f8).mat, want8));
  EXPECT_TRUE(MatEq(CvDecode(f8), want8));  // OpenCV 4.6 inverts 8-bit too

  const cv::Mat m16 = Noise(13, 7, CV_16UC1);
  const Bytes f16 = LibtiffFile(
      [](TIFF* tif) { SetBasic(tif, 13, 7, 1, 16, PHOTOMETRIC_MINISWHITE); },
      Scanlines(m16));
  cv::Mat want16 = 65535 - m16;
  EXPECT_TRUE(MatEq(Decode(f16).mat, want16));
}

TEST(TiffCodecTest, BilevelIsGray) {
  cv::Mat bits(3, 2, CV_8UC1);  // 12 pixels wide: 2 bytes a row
  bits.at<uint8_t>(0, 0) = 0xF0;
  bits.at<uint8_t>(0, 1) = 0x50;
  bits.at<uint8_t>(1, 0) = 0x00;
  bits.at<uint8_t>(1, 1) = 0xF0;
  bits.at<uint8_t>(2, 0) = 0xFF;
  bits.at<uint8_t>(2, 1) = 0x00;
  const Bytes file = LibtiffFile(
      [](TIFF* tif) {
        SetBasic(tif, 12, 3, 1, 1, PHOTOMETRIC_MINISBLACK);
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_CCITTFAX4);
      },
      Scanlines(bits));
  const Decoded d = Decode(file);
  ASSERT_EQ(d.format.channels, 1);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 12; ++x) {
      const bool on = (bits.at<uint8_t>(y, x / 8) >> (7 - x % 8)) & 1;
      EXPECT_EQ(d.mat.at<uint8_t>(y, x), on ? 255 : 0) << y << "," << x;
    }
  }
  EXPECT_TRUE(MatEq(d.mat, CvDecode(file)));
}

TEST(TiffCodecTest, OrientationReportedPixelsAsStored) {
  const cv::Mat m = Noise(9, 5, CV_8UC3);
  const Bytes file = LibtiffFile(
      [](TIFF* tif) {
        SetBasic(tif, 9, 5, 3, 8, PHOTOMETRIC_RGB);
        TIFFSetField(tif, TIFFTAG_ORIENTATION, ORIENTATION_RIGHTTOP);
      },
      Scanlines(m));
  const Decoded d = Decode(file);
  EXPECT_EQ(d.orientation, 6);
  EXPECT_TRUE(MatEq(d.mat, SwapRb(m)));

  EXPECT_EQ(Decode(CvEncode(m)).orientation, 1);  // absent: 1
}

TEST(TiffCodecTest, JpegYCbCrDecodesAsRgb) {
  cv::Mat m(32, 48, CV_8UC3);
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) {
      m.at<cv::Vec3b>(y, x) = {static_cast<uint8_t>(x * 5),
                               static_cast<uint8_t>(y * 7), 128};
    }
  }
  const Bytes file = LibtiffFile(
      [](TIFF* tif) {
        SetBasic(tif, 48, 32, 3, 8, PHOTOMETRIC_YCBCR);
        TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_JPEG);
        TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
        TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 16);
      },
      Scanlines(m));
  const Decoded d = Decode(file, 5);
  ASSERT_EQ(d.format.channels, 3);
  ASSERT_EQ(d.format.depth, Depth::kU8);
  EXPECT_LE(cv::norm(d.mat, SwapRb(m), cv::NORM_INF), 12);
  EXPECT_LE(cv::norm(d.mat, CvDecode(file), cv::NORM_INF), 2);
}

TEST(TiffCodecTest, BandsOfAnyHeightAgree) {
  const cv::Mat m = Noise(17, 41, CV_8UC3);
  for (const Bytes& file :
       {CvEncode(m), CvEncode(m, {cv::IMWRITE_TIFF_COMPRESSION, 1}),
        TiledFile(SwapRb(m), 8, false)}) {
    for (const int band : {1, 3, 0}) {
      SCOPED_TRACE(band);
      EXPECT_TRUE(MatEq(Decode(file, band).mat, m));
    }
  }
}

// ---- Encoder -------------------------------------------------------------

Bytes Encode(const cv::Mat& m, const Metadata& md = {}, int band = 7) {
  PixelFormat f;
  f.width = m.cols;
  f.height = m.rows;
  f.channels = m.channels();
  f.depth = m.depth() == CV_8U    ? Depth::kU8
            : m.depth() == CV_16U ? Depth::kU16
                                  : Depth::kF32;
  VectorSink sink;
  std::unique_ptr<Encoder> e = NewTiffEncoder(f, md, {}, sink, "out");
  for (int y = 0; y < m.rows; y += band) {
    e->WriteRows(reinterpret_cast<const std::byte*>(m.ptr(y)),
                 static_cast<std::ptrdiff_t>(m.step[0]),
                 std::min(band, m.rows - y));
  }
  e->Finish();
  return sink.bytes();
}

TEST(TiffCodecTest, EncoderRoundTripsEveryDepthAndChannelCount) {
  for (const int depth : {CV_8U, CV_16U, CV_32F}) {
    for (int ch = 1; ch <= 4; ++ch) {
      SCOPED_TRACE(::testing::Message() << "depth " << depth << " ch " << ch);
      cv::Mat m = Noise(300, 23, CV_MAKETYPE(depth, ch), depth * 10 + ch);
      if (depth == CV_32F) m.at<float>(0, 0) = NAN;
      const Bytes file = Encode(m);
      ASSERT_GT(file.size(), 8u);
      const Decoded d = Decode(file, 4);
      EXPECT_TRUE(MatEq(d.mat, m));
      EXPECT_EQ(d.orientation, 1);
      const cv::Mat cv =
          ch == 2 && depth == CV_32F ? cv::Mat() : CvDecode(file);
      if (ch == 2) {
        // OpenCV 4.6 drops the alpha of gray+alpha, cuts 16-bit to 8 and
        // refuses float.
        std::vector<cv::Mat> planes;
        cv::split(m, planes);
        if (depth == CV_8U) {
          EXPECT_TRUE(MatEq(cv, planes[0]));
        }
      } else if (ch == 4 && depth == CV_8U) {
        // OpenCV 4.6 premultiplies 8-bit unassociated alpha: compare the
        // alpha, and colours where opaque.
        std::vector<cv::Mat> got, want;
        cv::split(cv, got);
        cv::split(m, want);
        EXPECT_TRUE(MatEq(got[3], want[3]));
      } else {
        EXPECT_TRUE(MatEq(cv, m));
      }
    }
  }
}

TEST(TiffCodecTest, EncoderWritesLzwStripsOfAbout64KiB) {
  const cv::Mat m = Noise(1000, 200, CV_16UC3);  // 6000 bytes a row
  const Bytes file = Encode(m);
  testing::TempDir dir;
  testing::WriteFile(dir / "e.tif", file);
  TIFF* tif = TIFFOpen((dir / "e.tif").c_str(), "r");
  ASSERT_NE(tif, nullptr);
  uint16_t compression = 0;
  uint32_t rps = 0;
  TIFFGetField(tif, TIFFTAG_COMPRESSION, &compression);
  TIFFGetField(tif, TIFFTAG_ROWSPERSTRIP, &rps);
  TIFFClose(tif);
  EXPECT_EQ(compression, COMPRESSION_LZW);
  EXPECT_EQ(rps, 65536u / 6000u);
}

// ---- Metadata ------------------------------------------------------------

std::string TextOf(const std::vector<ExifText>& texts, bool exif_ifd,
                   uint16_t tag) {
  for (const ExifText& t : texts) {
    if (t.exif_ifd == exif_ifd && t.tag == tag) return t.text;
  }
  return "<absent>";
}

TEST(TiffCodecTest, MetadataRoundTrip) {
  Metadata md;
  md.icc = {0, 0, 2, 0, 'a', 'c', 's', 'p', 9, 8, 7};
  md.xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'>hi</x:xmpmeta>";
  md.exif = MakeExif({{false, 0x010F, "Canon"},
                      {false, 0x0110, "EOS 5D"},
                      {false, 0x0132, "2024:01:02 03:04:05"},
                      {true, 0x9003, "2023:12:31 23:59:58"},
                      {true, 0x9004, "2023:12:31 23:59:59"}});
  ASSERT_FALSE(md.exif.empty());
  const Bytes file = Encode(Noise(10, 10, CV_8UC3), md);

  const Decoded d = Decode(file);
  EXPECT_EQ(d.metadata.icc, md.icc);
  EXPECT_EQ(d.metadata.xmp, md.xmp);
  const std::vector<ExifText> texts = ExifTexts(d.metadata.exif);
  EXPECT_EQ(TextOf(texts, false, 0x010F), "Canon");
  EXPECT_EQ(TextOf(texts, false, 0x0110), "EOS 5D");
  EXPECT_EQ(TextOf(texts, false, 0x0132), "2024:01:02 03:04:05");
  EXPECT_EQ(TextOf(texts, true, 0x9003), "2023:12:31 23:59:58");
  EXPECT_EQ(TextOf(texts, true, 0x9004), "2023:12:31 23:59:59");

  // And as libtiff reads the file.
  testing::TempDir dir;
  testing::WriteFile(dir / "m.tif", file);
  TIFF* tif = TIFFOpen((dir / "m.tif").c_str(), "r");
  ASSERT_NE(tif, nullptr);
  const char* make = nullptr;
  ASSERT_EQ(TIFFGetField(tif, TIFFTAG_MAKE, &make), 1);
  EXPECT_STREQ(make, "Canon");
  toff_t exif = 0;
  ASSERT_EQ(TIFFGetField(tif, TIFFTAG_EXIFIFD, &exif), 1);
  ASSERT_EQ(TIFFReadEXIFDirectory(tif, exif), 1);
  const char* original = nullptr;
  ASSERT_EQ(TIFFGetField(tif, EXIFTAG_DATETIMEORIGINAL, &original), 1);
  EXPECT_STREQ(original, "2023:12:31 23:59:58");
  TIFFClose(tif);
  // The pixels are still the first directory's.
  EXPECT_TRUE(MatEq(CvDecode(file), Noise(10, 10, CV_8UC3)));
}

TEST(TiffCodecTest, NoMetadataWhenNoneIsStored) {
  const Decoded d = Decode(Encode(Noise(4, 4, CV_8UC1)));
  EXPECT_TRUE(d.metadata.empty());
}

// ---- Errors --------------------------------------------------------------

// An uncompressed 8-bit gray TIFF with its IFD before the pixels, so that
// cutting into the pixels leaves the header whole.
Bytes IfdFirstGray(uint32_t w, uint32_t h) {
  Bytes b;
  testing::Put(b, "II");
  testing::PutLe16(b, 42);
  testing::PutLe32(b, 8);
  const uint16_t n = 8;
  const uint32_t data = 8 + 2 + n * 12 + 4;
  testing::PutLe16(b, n);
  const auto entry = [&](uint16_t tag, uint16_t type, uint32_t value) {
    testing::PutLe16(b, tag);
    testing::PutLe16(b, type);
    testing::PutLe32(b, 1);
    testing::PutLe32(b, value);
  };
  entry(256, 4, w);
  entry(257, 4, h);
  entry(258, 3, 8);
  entry(259, 3, 1);
  entry(262, 3, 1);
  entry(273, 4, data);
  entry(278, 4, h);
  entry(279, 4, w * h);
  testing::PutLe32(b, 0);
  for (uint32_t i = 0; i < w * h; ++i) testing::Put8(b, i * 7);
  return b;
}

::testing::AssertionResult OneLineInputError(const Bytes& file,
                                             const std::string& prefix) {
  try {
    Decode(file);
  } catch (const Error& e) {
    const std::string what = e.what();
    if (e.kind() != ErrorKind::kInput || what.rfind(prefix, 0) != 0 ||
        what.find('\n') != std::string::npos || what.back() != ')' ||
        what.size() > 240) {
      return ::testing::AssertionFailure() << "threw '" << what << "'";
    }
    return ::testing::AssertionSuccess() << what;
  }
  return ::testing::AssertionFailure() << "did not throw";
}

TEST(TiffCodecTest, TruncatedStripData) {
  const Bytes whole = IfdFirstGray(64, 64);
  ASSERT_TRUE(MatEq(Decode(whole).mat, Decode(whole, 0, false).mat));
  const Bytes cut(whole.begin(), whole.end() - 1000);
  EXPECT_TRUE(OneLineInputError(cut, "input 'test': truncated TIFF ("));

  // Cut just after the IFD: almost no pixels left.
  EXPECT_TRUE(OneLineInputError(Bytes(whole.begin(), whole.begin() + 200),
                                "input 'test': truncated TIFF ("));
  // Cut inside the IFD.
  EXPECT_TRUE(OneLineInputError(Bytes(whole.begin(), whole.begin() + 60),
                                "input 'test': truncated TIFF ("));
}

TEST(TiffCodecTest, GarbageIfd) {
  Bytes b = IfdFirstGray(8, 8);
  // Required tags replaced by junk: no ImageLength, a bogus field type.
  b[8 + 2 + 12 + 0] = 0x34;  // tag 257 -> 0x0134
  b[8 + 2 + 12 + 1] = 0x01;
  b[8 + 2 + 24 + 2] = 77;  // BitsPerSample type 77
  EXPECT_TRUE(OneLineInputError(b, "input 'test': corrupt TIFF ("));

  EXPECT_TRUE(OneLineInputError(Bytes{'I', 'I', 42, 0, 0xFF, 0xFF, 0xFF, 0x7F},
                                "input 'test': "));
  EXPECT_TRUE(OneLineInputError(Bytes{'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0},
                                "input 'test': corrupt TIFF ("));
}

TEST(TiffCodecTest, ErrorsPrintNothing) {
  const Bytes whole = IfdFirstGray(64, 64);
  const Bytes cut(whole.begin(), whole.end() - 1000);
  Bytes garbage = whole;
  garbage[8 + 2 + 12] = 0x34;
  const std::string printed = testing::CaptureStderr([&] {
    EXPECT_ANY_THROW(Decode(cut));
    EXPECT_ANY_THROW(Decode(garbage));
    EXPECT_ANY_THROW(Decode(Bytes{'M', 'M', 0, 42, 0, 0, 0, 200}));
  });
  EXPECT_EQ(printed, "");
}

// ---- Threads -------------------------------------------------------------

TEST(TiffCodecTest, TwoThreadsAtOnce) {
  const cv::Mat a = Noise(120, 80, CV_16UC3, 1);
  const cv::Mat b = Noise(90, 70, CV_8UC4, 2);
  const Bytes bad = IfdFirstGray(64, 64);
  const Bytes cut(bad.begin(), bad.end() - 100);
  std::vector<int> ok(2, 0);
  const auto work = [&](int i) {
    const cv::Mat& m = i == 0 ? a : b;
    for (int k = 0; k < 25; ++k) {
      const Bytes file = Encode(m);
      ok[i] += SameMat(Decode(file, 1 + k % 5).mat, m);
      try {
        Decode(cut);
      } catch (const Error& e) {
        ok[i] +=
            std::string(e.what()).find("truncated TIFF") != std::string::npos;
      }
    }
  };
  std::thread t0(work, 0), t1(work, 1);
  t0.join();
  t1.join();
  EXPECT_EQ(ok[0], 50);
  EXPECT_EQ(ok[1], 50);
}

}  // namespace
}  // namespace convcorr::io
