// The BMP, Sun raster and Radiance HDR readers (src/io/bmp_reader.cc,
// sunras_reader.cc, hdr_reader.cc)
// against OpenCV 4.6's imdecode(IMREAD_UNCHANGED), which they replace:
// files written by cv::imencode and files made here byte by byte, read in
// bands of 1, 3 and all rows, equal sample for sample (bit for bit for
// floats); the differences from OpenCV that are meant; and truncated and
// hostile files, each refused with one kInput error.
#include "io/legacy_codecs.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "io/io_test_util.h"

namespace convcorr::io {
namespace {

using testing::Bytes;
using testing::Put8;
using testing::PutBe32;
using testing::PutLe16;
using testing::PutLe32;
using testing::ThrowsError;

using OpenFn = std::unique_ptr<Decoder> (*)(Source&, std::string_view);

int CvType(const PixelFormat& f) {
  return CV_MAKETYPE(f.depth == core::Depth::kF32 ? CV_32F : CV_8U, f.channels);
}

// Decodes `bytes` with `open`, `band` rows at a time (0: all at once).
cv::Mat Decode(OpenFn open, const Bytes& bytes, int band = 0,
               std::string_view name = "x") {
  const std::unique_ptr<Source> source = Source::FromMemory(bytes);
  const std::unique_ptr<Decoder> d = open(*source, name);
  const PixelFormat f = d->format();
  cv::Mat m(f.height, f.width, CvType(f));
  const int step = band > 0 ? band : f.height;
  for (int y = 0; y < f.height; y += step) {
    d->ReadRows(reinterpret_cast<std::byte*>(m.ptr(y)),
                static_cast<std::ptrdiff_t>(m.step[0]),
                std::min(step, f.height - y));
  }
  d->Finish();
  return m;
}

// OpenCV's reading, its complaints on stderr kept out of the test log.
cv::Mat CvDecode(const Bytes& bytes) {
  cv::Mat m;
  testing::CaptureStderr(
      [&] { m = cv::imdecode(bytes, cv::IMREAD_UNCHANGED); });
  return m;
}

::testing::AssertionResult Same(const cv::Mat& a, const cv::Mat& b) {
  if (a.empty() || b.empty()) {
    return ::testing::AssertionFailure() << "an image is empty";
  }
  if (a.type() != b.type() || a.size() != b.size()) {
    return ::testing::AssertionFailure()
           << "type/size " << a.type() << " " << a.cols << "x" << a.rows
           << " vs " << b.type() << " " << b.cols << "x" << b.rows;
  }
  for (int y = 0; y < a.rows; ++y) {
    if (std::memcmp(a.ptr(y), b.ptr(y), a.cols * a.elemSize()) != 0) {
      return ::testing::AssertionFailure() << "row " << y << " differs";
    }
  }
  return ::testing::AssertionSuccess();
}

// Ours in bands of 1, 3 and all rows, each equal to `expected`.
void ExpectDecodes(OpenFn open, const Bytes& bytes, const cv::Mat& expected) {
  for (const int band : {1, 3, 0}) {
    SCOPED_TRACE("band " + std::to_string(band));
    EXPECT_TRUE(Same(Decode(open, bytes, band), expected));
  }
}

// Ours equal to OpenCV's reading, and OpenCV's equal to `expected` when
// given (values computed here, independent of both).
void ExpectLikeOpenCv(OpenFn open, const Bytes& bytes,
                      const cv::Mat& expected = {}) {
  const cv::Mat cv_mat = CvDecode(bytes);
  ASSERT_FALSE(cv_mat.empty()) << "OpenCV does not read the file";
  if (!expected.empty()) {
    EXPECT_TRUE(Same(cv_mat, expected)) << "OpenCV";
  }
  ExpectDecodes(open, bytes, cv_mat);
}

// Opens `bytes` and reads its first row only (for headers claiming huge
// images in small files).
void ReadFirstRow(OpenFn open, const Bytes& bytes, const std::string& name) {
  const std::unique_ptr<Source> source = Source::FromMemory(bytes);
  const std::unique_ptr<Decoder> d = open(*source, name);
  std::vector<std::byte> row(d->format().RowBytes());
  d->ReadRows(row.data(), static_cast<std::ptrdiff_t>(row.size()), 1);
}

// Exactly one convcorr::Error of kind kInput with `message`, from Open or
// from reading the pixels.
::testing::AssertionResult Refuses(OpenFn open, const Bytes& bytes,
                                   const std::string& name,
                                   const std::string& message) {
  return ThrowsError([&] { Decode(open, bytes, 0, name); }, ErrorKind::kInput,
                     "input '" + name + "': " + message);
}

Bytes CvEncode(const std::string& ext, const cv::Mat& m,
               const std::vector<int>& params = {}) {
  std::vector<uint8_t> buf;
  EXPECT_TRUE(cv::imencode(ext, m, buf, params)) << ext;
  return buf;
}

cv::Mat Noise(int width, int height, int type, unsigned seed) {
  cv::Mat m(height, width, type);
  cv::theRNG().state = seed;
  cv::randu(m, 0, 256);
  return m;
}

// ---- BMP files --------------------------------------------------------------

struct BmpSpec {
  int32_t width = 1;
  int32_t height = 1;
  uint16_t bpp = 24;
  uint32_t compression = 0;
  uint32_t clr_used = 0;
  Bytes header_tail;   // header bytes past the first 40 (V4, V5 headers)
  Bytes after_header;  // the 16-bit masks, the palette
};

BmpSpec Spec(int32_t width, int32_t height, uint16_t bpp,
             uint32_t compression = 0, uint32_t clr_used = 0) {
  BmpSpec s;
  s.width = width;
  s.height = height;
  s.bpp = bpp;
  s.compression = compression;
  s.clr_used = clr_used;
  return s;
}

Bytes MakeBmp(const BmpSpec& s, const Bytes& pixels) {
  const uint32_t header_size = 40 + static_cast<uint32_t>(s.header_tail.size());
  const uint32_t offset =
      14 + header_size + static_cast<uint32_t>(s.after_header.size());
  Bytes b;
  testing::Put(b, "BM");
  PutLe32(b, offset + static_cast<uint32_t>(pixels.size()));
  PutLe32(b, 0);
  PutLe32(b, offset);
  PutLe32(b, header_size);
  PutLe32(b, static_cast<uint32_t>(s.width));
  PutLe32(b, static_cast<uint32_t>(s.height));
  PutLe16(b, 1);
  PutLe16(b, s.bpp);
  PutLe32(b, s.compression);
  PutLe32(b, static_cast<uint32_t>(pixels.size()));
  PutLe32(b, 2835);
  PutLe32(b, 2835);
  PutLe32(b, s.clr_used);
  PutLe32(b, 0);
  b.insert(b.end(), s.header_tail.begin(), s.header_tail.end());
  b.insert(b.end(), s.after_header.begin(), s.after_header.end());
  b.insert(b.end(), pixels.begin(), pixels.end());
  return b;
}

// Rows of values packed MSB first below 8 bits, else little-endian (BMP)
// or big-endian (Sun), each row padded to a multiple of `align` bytes.
Bytes PackRows(const std::vector<std::vector<uint32_t>>& rows, int bits,
               size_t align, bool big_endian) {
  Bytes out;
  for (const auto& row : rows) {
    Bytes r;
    uint32_t acc = 0;
    int n = 0;
    for (const uint32_t v : row) {
      if (bits >= 8) {
        for (int i = 0; i < bits / 8; ++i) {
          const int shift = big_endian ? bits - 8 - 8 * i : 8 * i;
          r.push_back(static_cast<uint8_t>(v >> shift));
        }
        continue;
      }
      acc = (acc << bits) | v;
      n += bits;
      if (n == 8) {
        r.push_back(static_cast<uint8_t>(acc));
        acc = 0;
        n = 0;
      }
    }
    if (n > 0) r.push_back(static_cast<uint8_t>(acc << (8 - n)));
    while (r.size() % align != 0) r.push_back(0);
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

struct Entry {
  uint8_t b, g, r;
};

Bytes BmpPalette(const std::vector<Entry>& entries) {
  Bytes p;
  for (const Entry& e : entries) {
    Put8(p, e.b);
    Put8(p, e.g);
    Put8(p, e.r);
    Put8(p, 0);
  }
  return p;
}

std::vector<Entry> ColourPalette(int n) {
  std::vector<Entry> p;
  for (int i = 0; i < n; ++i) {
    p.push_back({static_cast<uint8_t>(i * 16),
                 static_cast<uint8_t>(255 - i * 9),
                 static_cast<uint8_t>((i * 37) & 255)});
  }
  return p;
}

// The image of palette indices `top_down` (rows top to bottom).
cv::Mat PaletteImage(const std::vector<std::vector<uint32_t>>& top_down,
                     const std::vector<Entry>& palette) {
  cv::Mat m(static_cast<int>(top_down.size()),
            static_cast<int>(top_down[0].size()), CV_8UC3);
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) {
      const Entry& e = palette[top_down[y][x]];
      m.at<cv::Vec3b>(y, x) = {e.b, e.g, e.r};
    }
  }
  return m;
}

std::vector<std::vector<uint32_t>> Reversed(
    std::vector<std::vector<uint32_t>> rows) {
  std::reverse(rows.begin(), rows.end());
  return rows;
}

TEST(LegacyBmp, OpenCvEncodedGrayAndBgrAsOpenCvReadsThem) {
  for (const int type : {CV_8UC1, CV_8UC3}) {
    for (const auto& [w, h] :
         std::vector<std::pair<int, int>>{{7, 5}, {13, 4}, {1, 1}}) {
      SCOPED_TRACE(std::to_string(type) + " " + std::to_string(w) + "x" +
                   std::to_string(h));
      const cv::Mat m = Noise(w, h, type, 7u + static_cast<unsigned>(w));
      ExpectLikeOpenCv(OpenBmp, CvEncode(".bmp", m), m);
    }
  }
}

TEST(LegacyBmp, PalettesOfOneFourAndEightBits) {
  const std::vector<Entry> colours = ColourPalette(16);
  std::vector<std::vector<uint32_t>> idx4(3, std::vector<uint32_t>(5));
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 5; ++x) idx4[y][x] = (x * 3 + y * 5) % 16;
  }
  BmpSpec s = Spec(5, 3, 4);
  s.after_header = BmpPalette(colours);
  ExpectLikeOpenCv(OpenBmp, MakeBmp(s, PackRows(Reversed(idx4), 4, 4, false)),
                   PaletteImage(idx4, colours));

  // 1 bit with a gray palette: 1 channel.
  std::vector<std::vector<uint32_t>> idx1(3, std::vector<uint32_t>(11));
  cv::Mat gray(3, 11, CV_8UC1);
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 11; ++x) {
      idx1[y][x] = (x + y) % 3 == 0;
      gray.at<uint8_t>(y, x) = idx1[y][x] ? 200 : 30;
    }
  }
  BmpSpec s1 = Spec(11, 3, 1, 0, 2);
  s1.after_header = BmpPalette({{30, 30, 30}, {200, 200, 200}});
  ExpectLikeOpenCv(OpenBmp, MakeBmp(s1, PackRows(Reversed(idx1), 1, 4, false)),
                   gray);

  // 8 bits, a palette of 20 colours (biClrUsed).
  std::vector<std::vector<uint32_t>> idx8(4, std::vector<uint32_t>(6));
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 6; ++x) idx8[y][x] = (x * 7 + y) % 20;
  }
  BmpSpec s8 = Spec(6, 4, 8, 0, 20);
  s8.after_header = BmpPalette(ColourPalette(20));
  ExpectLikeOpenCv(OpenBmp, MakeBmp(s8, PackRows(Reversed(idx8), 8, 4, false)),
                   PaletteImage(idx8, ColourPalette(20)));
}

TEST(LegacyBmp, TopDownRowsAreNotFlipped) {
  const cv::Mat m = Noise(5, 4, CV_8UC3, 3);
  std::vector<std::vector<uint32_t>> rows(4);
  for (int y = 0; y < 4; ++y) {
    for (int x = 0; x < 5; ++x) {
      const cv::Vec3b p = m.at<cv::Vec3b>(y, x);
      rows[y].push_back(p[0] | p[1] << 8 | p[2] << 16);
    }
  }
  const Bytes file = MakeBmp(Spec(5, -4, 24), PackRows(rows, 24, 4, false));
  ExpectLikeOpenCv(OpenBmp, file, m);
}

// A file (a seekable source of known size) whose whole data must not be
// taken: an uncompressed BMP's rows are read at their offsets, band by
// band, so a large BMP costs a band of memory.
class NoWholeSource : public Source {
 public:
  explicit NoWholeSource(const Bytes& b) : inner_(Source::FromMemory(b)) {}
  size_t Read(void* dst, size_t n) override { return inner_->Read(dst, n); }
  std::span<const uint8_t> Peek(size_t n) override { return inner_->Peek(n); }
  size_t ReadAt(uint64_t offset, void* dst, size_t n) override {
    largest = std::max(largest, n);
    return inner_->ReadAt(offset, dst, n);
  }
  bool Seekable() const override { return true; }
  std::optional<uint64_t> Size() const override { return inner_->Size(); }
  std::span<const uint8_t> All() override {
    ADD_FAILURE() << "the whole file taken";
    return inner_->All();
  }
  size_t largest = 0;

 private:
  std::unique_ptr<Source> inner_;
};

TEST(LegacyBmp, UncompressedRowsAreReadAtTheirOffsets) {
  const cv::Mat bgr = Noise(301, 200, CV_8UC3, 4);
  const cv::Mat gray = Noise(33, 50, CV_8UC1, 5);
  for (const cv::Mat& m : {bgr, gray}) {
    const Bytes bytes = CvEncode(".bmp", m);
    NoWholeSource source(bytes);
    const std::unique_ptr<Decoder> d = OpenBmp(source, "x.bmp");
    cv::Mat got(m.rows, m.cols, m.type());
    for (int y = 0; y < m.rows; y += 16) {
      d->ReadRows(reinterpret_cast<std::byte*>(got.ptr(y)),
                  static_cast<std::ptrdiff_t>(got.step[0]),
                  std::min(16, m.rows - y));
    }
    d->Finish();
    EXPECT_TRUE(Same(got, m));
    EXPECT_LE(source.largest, 16 * ((m.cols * m.channels() + 3) & ~3));
  }
}

// RLE8 with every kind of code: a run and a literal run filling a row, an
// end of line after it; a delta; a run that fills a row and the end of line
// that OpenCV then ignores; an end of bitmap that fills with entry 0.
TEST(LegacyBmp, Rle8AsOpenCvReadsIt) {
  const std::vector<Entry> colours = ColourPalette(16);
  BmpSpec s = Spec(6, 4, 8, 1, 16);
  s.after_header = BmpPalette(colours);
  const Bytes rle = {3, 5, 0, 3, 1, 2, 3, 0, 0, 0,  // row 0: 5 5 5 1 2 3
                     0, 2, 1, 0, 2, 7, 0, 0,        // row 1: 0 7 7 0 0 0
                     6, 9, 0, 0,                    // row 2: 9 x 6
                     2, 4, 0, 1};                   // row 3: 4 4 0 0 0 0
  const std::vector<std::vector<uint32_t>> top_down = {{4, 4, 0, 0, 0, 0},
                                                       {9, 9, 9, 9, 9, 9},
                                                       {0, 7, 7, 0, 0, 0},
                                                       {5, 5, 5, 1, 2, 3}};
  ExpectLikeOpenCv(OpenBmp, MakeBmp(s, rle), PaletteImage(top_down, colours));

  // A delta down a row, then an end of bitmap.
  BmpSpec d = Spec(4, 3, 8, 1, 16);
  d.after_header = BmpPalette(colours);
  ExpectLikeOpenCv(
      OpenBmp, MakeBmp(d, {0, 2, 1, 1, 3, 6, 0, 1}),
      PaletteImage({{0, 0, 0, 0}, {0, 6, 6, 6}, {0, 0, 0, 0}}, colours));

  // A gray palette: 1 channel.
  BmpSpec g = Spec(4, 2, 8, 1, 4);
  g.after_header =
      BmpPalette({{0, 0, 0}, {10, 10, 10}, {20, 20, 20}, {30, 30, 30}});
  const cv::Mat expected =
      (cv::Mat_<uint8_t>(2, 4) << 30, 30, 20, 0, 10, 10, 10, 10);
  ExpectLikeOpenCv(OpenBmp, MakeBmp(g, {4, 1, 0, 0, 2, 3, 1, 2, 0, 1}),
                   expected);
}

TEST(LegacyBmp, Rle4AsOpenCvReadsIt) {
  const std::vector<Entry> colours = ColourPalette(16);
  BmpSpec s = Spec(6, 3, 4, 2);
  s.after_header = BmpPalette(colours);
  const Bytes rle = {5, 0x12, 0,    0,                    // 1 2 1 2 1 0
                     0, 3,    0x34, 0x50, 2, 0x66, 0, 0,  // 3 4 5 6 6 0
                     6, 0x78, 0,    0};                   // 7 8 7 8 7 8
  const std::vector<std::vector<uint32_t>> top_down = {
      {7, 8, 7, 8, 7, 8}, {3, 4, 5, 6, 6, 0}, {1, 2, 1, 2, 1, 0}};
  ExpectLikeOpenCv(OpenBmp, MakeBmp(s, rle), PaletteImage(top_down, colours));
}

// Random RLE streams of runs, literal runs, ends of line, deltas and ends
// of bitmap: what OpenCV reads we read the same, what it refuses we refuse.
TEST(LegacyBmp, RandomRleStreamsAsOpenCv) {
  std::mt19937 rng(12345);
  int read = 0;
  for (int i = 0; i < 400; ++i) {
    const bool rle8 = i % 2 == 0;
    const int w = 1 + static_cast<int>(rng() % 9);
    const int h = 1 + static_cast<int>(rng() % 5);
    Bytes rle;
    const int tokens = static_cast<int>(rng() % 16);
    for (int t = 0; t < tokens; ++t) {
      switch (rng() % 6) {
        case 0:
        case 1:  // a run
          Put8(rle, 1 + rng() % std::max(1, w));
          Put8(rle, rle8 ? rng() % 16 : rng() % 256);
          break;
        case 2: {  // a literal run
          const unsigned n = 3 + rng() % std::max(1, w);
          Put8(rle, 0);
          Put8(rle, n);
          const unsigned bytes =
              rle8 ? (n + 1) & ~1u : (((n + 1) >> 1) + 1) & ~1u;
          for (unsigned k = 0; k < bytes; ++k)
            Put8(rle, rle8 ? rng() % 16 : rng() % 256);
          break;
        }
        case 3:
          Put8(rle, 0);
          Put8(rle, 0);
          break;
        case 4:
          Put8(rle, 0);
          Put8(rle, 2);
          Put8(rle, rng() % 4);
          Put8(rle, rng() % 2);
          break;
        default:
          Put8(rle, 0);
          Put8(rle, 1);
          break;
      }
    }
    BmpSpec s = Spec(w, (rng() % 2) ? h : -h,
                     static_cast<uint16_t>(rle8 ? 8 : 4), rle8 ? 1u : 2u, 16);
    s.after_header = BmpPalette(i % 4 < 2 ? ColourPalette(16)
                                          : std::vector<Entry>(16, {9, 9, 9}));
    const Bytes file = MakeBmp(s, rle);
    SCOPED_TRACE("stream " + std::to_string(i));
    const cv::Mat cv_mat = CvDecode(file);
    if (cv_mat.empty()) {
      EXPECT_TRUE(testing::ThrowsKind([&] { Decode(OpenBmp, file); },
                                      ErrorKind::kInput));
    } else {
      ++read;
      EXPECT_TRUE(Same(Decode(OpenBmp, file, 1 + i % 3), cv_mat));
    }
  }
  EXPECT_GT(read, 50);  // the streams exercise the decoder, not only errors
}

TEST(LegacyBmp, SixteenBits565And555) {
  std::vector<std::vector<uint32_t>> rows = {{0x0000, 0xffff, 0xf800},
                                             {0x07e0, 0x001f, 0x1234}};
  BmpSpec s = Spec(3, -2, 16, 3);
  for (const uint32_t m : {0xf800u, 0x07e0u, 0x001fu})
    PutLe32(s.after_header, m);
  // 5-6-5, widened by shifting as OpenCV does (31 -> 248, 63 -> 252).
  const cv::Mat expected565 =
      (cv::Mat_<cv::Vec3b>(2, 3) << cv::Vec3b(0, 0, 0),
       cv::Vec3b(248, 252, 248), cv::Vec3b(0, 0, 248), cv::Vec3b(0, 252, 0),
       cv::Vec3b(248, 0, 0), cv::Vec3b(0xa0, 0x44, 0x10));
  ExpectLikeOpenCv(OpenBmp, MakeBmp(s, PackRows(rows, 16, 4, false)),
                   expected565);
  // BI_RGB 16-bit is 5-5-5.
  const cv::Mat expected555 =
      (cv::Mat_<cv::Vec3b>(2, 3) << cv::Vec3b(0, 0, 0),
       cv::Vec3b(248, 248, 248), cv::Vec3b(0, 0, 240), cv::Vec3b(0, 248, 8),
       cv::Vec3b(248, 0, 0), cv::Vec3b(0xa0, 0x88, 0x20));
  ExpectLikeOpenCv(OpenBmp,
                   MakeBmp(Spec(3, -2, 16), PackRows(rows, 16, 4, false)),
                   expected555);
}

TEST(LegacyBmp, ThirtyTwoBits) {
  const std::vector<std::vector<uint32_t>> rows = {{0x80112233, 0x00445566},
                                                   {0xff778899, 0x01aabbcc}};
  const Bytes pixels = PackRows(rows, 32, 4, false);
  // BI_RGB: B,G,R; the fourth byte is dropped.
  const cv::Mat bgr = (cv::Mat_<cv::Vec3b>(2, 2) << cv::Vec3b(0x99, 0x88, 0x77),
                       cv::Vec3b(0xcc, 0xbb, 0xaa), cv::Vec3b(0x33, 0x22, 0x11),
                       cv::Vec3b(0x66, 0x55, 0x44));
  ExpectLikeOpenCv(OpenBmp, MakeBmp(Spec(2, 2, 32), pixels), bgr);
  // BI_BITFIELDS with a 40-byte header: B,G,R,A as stored.
  BmpSpec bf = Spec(2, 2, 32, 3);
  for (const uint32_t m : {0xff0000u, 0xff00u, 0xffu})
    PutLe32(bf.after_header, m);
  const cv::Mat bgra =
      (cv::Mat_<cv::Vec4b>(2, 2) << cv::Vec4b(0x99, 0x88, 0x77, 0xff),
       cv::Vec4b(0xcc, 0xbb, 0xaa, 0x01), cv::Vec4b(0x33, 0x22, 0x11, 0x80),
       cv::Vec4b(0x66, 0x55, 0x44, 0x00));
  ExpectLikeOpenCv(OpenBmp, MakeBmp(bf, pixels), bgra);
  // A V4 header's masks are applied: here red and blue swapped, no alpha
  // mask (alpha 255).
  BmpSpec v4 = Spec(2, 2, 32, 3);
  for (const uint32_t m : {0xffu, 0xff00u, 0xff0000u, 0u})
    PutLe32(v4.header_tail, m);
  v4.header_tail.resize(108 - 40, 0);
  const cv::Mat swapped =
      (cv::Mat_<cv::Vec4b>(2, 2) << cv::Vec4b(0x77, 0x88, 0x99, 255),
       cv::Vec4b(0xaa, 0xbb, 0xcc, 255), cv::Vec4b(0x11, 0x22, 0x33, 255),
       cv::Vec4b(0x44, 0x55, 0x66, 255));
  ExpectLikeOpenCv(OpenBmp, MakeBmp(v4, pixels), swapped);
}

// Where OpenCV 4.6 loses data, we keep it or refuse (legacy_codecs.h).
TEST(LegacyBmp, DifferencesFromOpenCvAreDeliberate) {
  // OS/2 header (12 bytes): OpenCV reads every one as gray; we keep the
  // colours.
  Bytes os2;
  testing::Put(os2, "BM");
  PutLe32(os2, 26 + 8);
  PutLe32(os2, 0);
  PutLe32(os2, 26);
  PutLe32(os2, 12);
  PutLe16(os2, 2);
  PutLe16(os2, 1);
  PutLe16(os2, 1);
  PutLe16(os2, 24);
  for (const uint8_t v : {10, 20, 30, 40, 50, 60, 0, 0}) Put8(os2, v);
  EXPECT_EQ(CvDecode(os2).channels(), 1);
  ExpectDecodes(OpenBmp, os2,
                (cv::Mat_<cv::Vec3b>(1, 2) << cv::Vec3b(10, 20, 30),
                 cv::Vec3b(40, 50, 60)));

  // An index past biClrUsed: OpenCV paints it black; we refuse.
  BmpSpec s = Spec(2, 1, 8, 0, 2);
  s.after_header = BmpPalette({{1, 2, 3}, {4, 5, 6}});
  const Bytes past = MakeBmp(s, {1, 5, 0, 0});
  EXPECT_TRUE(Same(
      CvDecode(past),
      (cv::Mat_<cv::Vec3b>(1, 2) << cv::Vec3b(4, 5, 6), cv::Vec3b(0, 0, 0))));
  EXPECT_TRUE(
      Refuses(OpenBmp, past, "x.bmp",
              "corrupt BMP (a pixel's palette index is past the palette)"));
}

TEST(LegacyBmp, TruncatedAndHostileFilesAreRefused) {
  const Bytes good = CvEncode(".bmp", Noise(5, 4, CV_8UC3, 1));
  const auto with = [&](size_t at, uint32_t v) {
    Bytes b = good;
    for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
    return b;
  };
  const auto refuses = [&](const Bytes& b, const std::string& message) {
    return Refuses(OpenBmp, b, "x.bmp", message);
  };
  EXPECT_TRUE(refuses(Bytes(good.begin(), good.end() - 1),
                      "truncated BMP (the pixel data ends early)"));
  EXPECT_TRUE(refuses(Bytes(good.begin(), good.begin() + 30),
                      "truncated BMP (the header ends early)"));
  EXPECT_TRUE(refuses(Bytes(good.begin(), good.begin() + 1),
                      "corrupt BMP (no BM signature)"));
  EXPECT_TRUE(refuses(with(18, 0), "image header says the size is 0"));
  EXPECT_TRUE(refuses(with(22, 0), "image header says the size is 0"));
  EXPECT_TRUE(refuses(with(18, 0xfffffffb), "corrupt BMP (negative width)"));
  EXPECT_TRUE(
      refuses(with(22, 0x80000000), "corrupt BMP (height out of range)"));
  EXPECT_TRUE(refuses(with(14, 20), "corrupt BMP (unknown header size 20)"));
  EXPECT_TRUE(refuses(with(14, 0x80000000),
                      "corrupt BMP (unknown header size -2147483648)"));
  EXPECT_TRUE(refuses(
      with(10, 0x7fffffff),
      "corrupt BMP (the pixel data offset is past the end of the file)"));
  EXPECT_TRUE(refuses(with(10, 0x80000000),
                      "corrupt BMP (negative pixel data offset)"));
  EXPECT_TRUE(refuses(
      with(30, 5),
      "corrupt BMP (unsupported: 24 bits per pixel with compression 5)"));
  // A huge image in a small file: Open costs nothing, the pixels are
  // missing.
  const Bytes huge = with(18, 0x7fffffff);
  const std::unique_ptr<Source> source = Source::FromMemory(huge);
  const std::unique_ptr<Decoder> d = OpenBmp(*source, "x.bmp");
  EXPECT_EQ(d->format().width, 0x7fffffff);
  EXPECT_EQ(d->format().height, 4);
  EXPECT_TRUE(
      ThrowsError([&] { ReadFirstRow(OpenBmp, with(22, 0x7fffffff), "x.bmp"); },
                  ErrorKind::kInput,
                  "input 'x.bmp': truncated BMP (the pixel data ends early)"));

  // Palettes and masks.
  BmpSpec p = Spec(2, 1, 8, 0, 300);
  EXPECT_TRUE(refuses(MakeBmp(p, {0, 0, 0, 0}),
                      "corrupt BMP (a palette of 300 colours)"));
  p.clr_used = 200;
  p.after_header = BmpPalette(ColourPalette(10));
  EXPECT_TRUE(
      refuses(MakeBmp(p, {}), "truncated BMP (the palette ends early)"));
  BmpSpec m = Spec(1, 1, 16, 3);
  for (const uint32_t v : {0xf00u, 0xf0u, 0xfu}) PutLe32(m.after_header, v);
  EXPECT_TRUE(
      refuses(MakeBmp(m, {0, 0, 0, 0}),
              "corrupt BMP (16-bit colour masks other than 5-5-5 and 5-6-5)"));
  m.after_header.resize(4);
  EXPECT_TRUE(
      refuses(MakeBmp(m, {}), "truncated BMP (the colour masks end early)"));

  // RLE: runs past a row, data that ends before the last row.
  BmpSpec r = Spec(2, 2, 8, 1);
  r.after_header = BmpPalette(ColourPalette(256));
  EXPECT_TRUE(refuses(MakeBmp(r, {5, 1, 0, 1}),
                      "corrupt BMP (an RLE run passes the end of a row)"));
  EXPECT_TRUE(
      refuses(MakeBmp(r, {0, 4, 1, 2, 3, 4}),
              "corrupt BMP (an RLE literal run passes the end of a row)"));
  EXPECT_TRUE(refuses(MakeBmp(r, {2, 1, 0, 0}),
                      "truncated BMP (the pixel data ends early)"));
  EXPECT_TRUE(refuses(MakeBmp(r, {2, 1, 0}),
                      "truncated BMP (the pixel data ends early)"));
  BmpSpec r4 = Spec(3, 1, 4, 2, 2);
  r4.after_header = BmpPalette(ColourPalette(2));
  EXPECT_TRUE(
      refuses(MakeBmp(r4, {3, 0x12, 0, 1}),
              "corrupt BMP (a pixel's palette index is past the palette)"));
}

// ---- Sun raster files
// -------------------------------------------------------------

Bytes MakeRas(uint32_t width, uint32_t height, uint32_t depth, uint32_t type,
              const Bytes& colour_map, const Bytes& data) {
  Bytes b;
  for (const uint32_t v :
       {0x59A66A95u, width, height, depth, static_cast<uint32_t>(data.size()),
        type, colour_map.empty() ? 0u : 1u,
        static_cast<uint32_t>(colour_map.size())}) {
    PutBe32(b, v);
  }
  b.insert(b.end(), colour_map.begin(), colour_map.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

// A Sun colour map: the reds, then the greens, then the blues.
Bytes RasMap(const std::vector<Entry>& entries) {
  Bytes m;
  for (const Entry& e : entries) Put8(m, e.r);
  for (const Entry& e : entries) Put8(m, e.g);
  for (const Entry& e : entries) Put8(m, e.b);
  return m;
}

TEST(LegacySunRaster, OpenCvEncodedAsOpenCvReadsThem) {
  for (const auto& [w, h] : std::vector<std::pair<int, int>>{{7, 5}, {4, 3}}) {
    const cv::Mat bgr = Noise(w, h, CV_8UC3, 11);
    ExpectLikeOpenCv(OpenSunRaster, CvEncode(".ras", bgr), bgr);
    // 8-bit gray without a colour map: OpenCV 4.6 reads it as zeros (its
    // gray palette is only filled from a colour map); we read the samples.
    const cv::Mat gray = Noise(w, h, CV_8UC1, 12);
    const Bytes file = CvEncode(".ras", gray);
    EXPECT_EQ(cv::countNonZero(CvDecode(file)), 0);
    ExpectDecodes(OpenSunRaster, file, gray);
  }
}

TEST(LegacySunRaster, ColourMapsAndOneBit) {
  const std::vector<Entry> colours = ColourPalette(16);
  std::vector<std::vector<uint32_t>> idx(3, std::vector<uint32_t>(5));
  for (int y = 0; y < 3; ++y) {
    for (int x = 0; x < 5; ++x) idx[y][x] = (x * 3 + y) % 16;
  }
  const Bytes map8 =
      MakeRas(5, 3, 8, 1, RasMap(colours), PackRows(idx, 8, 2, true));
  ExpectLikeOpenCv(OpenSunRaster, map8, PaletteImage(idx, colours));
  // A map of grays: 1 channel.
  const Bytes gray_map =
      MakeRas(2, 1, 8, 1, RasMap({{5, 5, 5}, {250, 250, 250}}), {1, 0});
  ExpectLikeOpenCv(OpenSunRaster, gray_map,
                   (cv::Mat_<uint8_t>(1, 2) << 250, 5));

  // 1 bit with a colour map.
  std::vector<std::vector<uint32_t>> bits(2, std::vector<uint32_t>(19));
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 19; ++x) bits[y][x] = (x * 5 + y) % 3 == 0;
  }
  const std::vector<Entry> two = {{1, 2, 3}, {200, 100, 50}};
  ExpectLikeOpenCv(
      OpenSunRaster,
      MakeRas(19, 2, 1, 1, RasMap(two), PackRows(bits, 1, 2, true)),
      PaletteImage(bits, two));
  // 1 bit without a map: Sun's convention, 0 white and 1 black (OpenCV 4.6
  // gives zeros).
  cv::Mat mono(2, 19, CV_8UC1);
  for (int y = 0; y < 2; ++y) {
    for (int x = 0; x < 19; ++x) mono.at<uint8_t>(y, x) = bits[y][x] ? 0 : 255;
  }
  ExpectDecodes(OpenSunRaster,
                MakeRas(19, 2, 1, 1, {}, PackRows(bits, 1, 2, true)), mono);
}

TEST(LegacySunRaster, TwentyFourAndThirtyTwoBits) {
  const std::vector<std::vector<uint32_t>> rgb = {
      {0x112233, 0x445566, 0x778899}};
  const cv::Mat bgr =
      (cv::Mat_<cv::Vec3b>(1, 3) << cv::Vec3b(0x11, 0x22, 0x33),
       cv::Vec3b(0x44, 0x55, 0x66), cv::Vec3b(0x77, 0x88, 0x99));
  // Standard: bytes B,G,R (odd rows padded to 16 bits).
  ExpectLikeOpenCv(OpenSunRaster,
                   MakeRas(3, 1, 24, 1, {}, PackRows(rgb, 24, 2, true)), bgr);
  // 32-bit X,B,G,R.
  const std::vector<std::vector<uint32_t>> xbgr = {
      {0xee112233, 0x00445566, 0x7f778899}};
  ExpectLikeOpenCv(OpenSunRaster,
                   MakeRas(3, 1, 32, 1, {}, PackRows(xbgr, 32, 2, true)), bgr);
  // Type 3 (RGB order), which OpenCV 4.6 refuses: R,G,B and X,R,G,B.
  const cv::Mat swapped =
      (cv::Mat_<cv::Vec3b>(1, 3) << cv::Vec3b(0x33, 0x22, 0x11),
       cv::Vec3b(0x66, 0x55, 0x44), cv::Vec3b(0x99, 0x88, 0x77));
  const Bytes rgb24 = MakeRas(3, 1, 24, 3, {}, PackRows(rgb, 24, 2, true));
  EXPECT_TRUE(CvDecode(rgb24).empty());
  ExpectDecodes(OpenSunRaster, rgb24, swapped);
  ExpectDecodes(OpenSunRaster,
                MakeRas(3, 1, 32, 3, {}, PackRows(xbgr, 32, 2, true)), swapped);
}

// Type 2, byte-encoded (OpenCV 4.6 refuses it): the same image as the
// standard file OpenCV reads, with runs across rows and 0x80 escaped.
TEST(LegacySunRaster, RleReadsAsTheStandardFile) {
  const std::vector<Entry> colours = ColourPalette(256);
  // Rows of 3 bytes, padded to 4: 9 9 9 (0) | 9 3 128 (0) | 5 5 5 (0).
  const std::vector<std::vector<uint32_t>> idx = {
      {9, 9, 9}, {9, 3, 128}, {5, 5, 5}};
  const Bytes standard =
      MakeRas(3, 3, 8, 1, RasMap(colours), PackRows(idx, 8, 2, true));
  const Bytes rle_data = {0x80, 2, 9, 0, 9, 3, 0x80, 0, 0, 0x80, 2, 5, 0};
  const Bytes rle = MakeRas(3, 3, 8, 2, RasMap(colours), rle_data);
  const cv::Mat expected = PaletteImage(idx, colours);
  ExpectLikeOpenCv(OpenSunRaster, standard, expected);
  EXPECT_TRUE(CvDecode(rle).empty());
  ExpectDecodes(OpenSunRaster, rle, expected);
  // 24-bit RLE, a run crossing the row's end into the next row.
  const Bytes rle24 =
      MakeRas(2, 2, 24, 2, {}, {0x80, 7, 7, 1, 2, 3, 4});  // 8 x 7, then 1..4
  ExpectDecodes(OpenSunRaster, rle24,
                (cv::Mat_<cv::Vec3b>(2, 2) << cv::Vec3b(7, 7, 7),
                 cv::Vec3b(7, 7, 7), cv::Vec3b(7, 7, 1), cv::Vec3b(2, 3, 4)));
  EXPECT_TRUE(Refuses(OpenSunRaster, MakeRas(2, 2, 24, 2, {}, {0x80, 6, 7, 1}),
                      "x.ras",
                      "truncated Sun raster (the pixel data ends early)"));
  EXPECT_TRUE(Refuses(OpenSunRaster, MakeRas(2, 2, 24, 2, {}, {0x80, 6}),
                      "x.ras",
                      "truncated Sun raster (the pixel data ends early)"));
}

TEST(LegacySunRaster, TruncatedAndHostileFilesAreRefused) {
  const auto refuses = [&](const Bytes& b, const std::string& message) {
    return Refuses(OpenSunRaster, b, "x.ras", message);
  };
  const Bytes good = CvEncode(".ras", Noise(3, 2, CV_8UC3, 5));
  EXPECT_TRUE(refuses(Bytes(good.begin(), good.end() - 1),
                      "truncated Sun raster (the pixel data ends early)"));
  EXPECT_TRUE(refuses(Bytes(good.begin(), good.begin() + 31),
                      "truncated Sun raster (the header ends early)"));
  EXPECT_TRUE(
      refuses(MakeRas(0, 2, 8, 1, {}, {}), "image header says the size is 0"));
  EXPECT_TRUE(
      refuses(MakeRas(2, 0, 8, 1, {}, {}), "image header says the size is 0"));
  EXPECT_TRUE(refuses(MakeRas(0x80000000u, 2, 8, 1, {}, {}),
                      "corrupt Sun raster (negative width or height)"));
  EXPECT_TRUE(refuses(MakeRas(2, 2, 16, 1, {}, {}),
                      "corrupt Sun raster (unsupported depth 16)"));
  EXPECT_TRUE(refuses(MakeRas(2, 2, 8, 4, {}, {}),
                      "corrupt Sun raster (unsupported type 4)"));
  EXPECT_TRUE(refuses(MakeRas(1, 1, 24, 1, RasMap({{1, 2, 3}}), {1, 2, 3, 0}),
                      "corrupt Sun raster (a colour map on a 24-bit image)"));
  EXPECT_TRUE(refuses(MakeRas(1, 1, 1, 1, RasMap(ColourPalette(3)), {0, 0}),
                      "corrupt Sun raster (a colour map of 9 bytes)"));
  Bytes raw_map = MakeRas(1, 1, 8, 1, RasMap({{1, 2, 3}}), {0, 0});
  raw_map[27] = 2;
  EXPECT_TRUE(
      refuses(raw_map, "corrupt Sun raster (unsupported colour map type 2)"));
  Bytes no_map = MakeRas(1, 1, 8, 1, {}, {0, 0});
  no_map[31] = 3;
  EXPECT_TRUE(refuses(
      no_map, "corrupt Sun raster (a colour map length without a colour map)"));
  Bytes short_map = MakeRas(1, 1, 8, 1, RasMap(ColourPalette(4)), {});
  short_map.resize(32 + 5);
  EXPECT_TRUE(
      refuses(short_map, "truncated Sun raster (the colour map ends early)"));
  EXPECT_TRUE(
      refuses(MakeRas(3, 1, 8, 1, RasMap(ColourPalette(2)), {0, 1, 2, 0}),
              "corrupt Sun raster (a pixel's colour map index is past the "
              "colour map)"));
  // 100000 x 100000 in 32 bytes: Open costs nothing, the pixels are missing.
  const Bytes huge = MakeRas(100000, 100000, 8, 1, {}, {});
  const std::unique_ptr<Source> source = Source::FromMemory(huge);
  EXPECT_EQ(OpenSunRaster(*source, "x.ras")->format().width, 100000);
  EXPECT_TRUE(ThrowsError(
      [&] { ReadFirstRow(OpenSunRaster, huge, "x.ras"); }, ErrorKind::kInput,
      "input 'x.ras': truncated Sun raster (the pixel data ends early)"));
}

// ---- Radiance HDR files
// --------------------------------------------------------

Bytes MakeHdr(std::string_view header, const Bytes& data) {
  Bytes b(header.begin(), header.end());
  b.insert(b.end(), data.begin(), data.end());
  return b;
}

cv::Mat HdrNoise(int w, int h, unsigned seed) {
  cv::Mat m(h, w, CV_32FC3);
  cv::theRNG().state = seed;
  cv::randu(m, 0.0, 4.0);
  m.at<cv::Vec3f>(0, 0) = {0, 0, 0};
  return m;
}

TEST(LegacyHdr, OpenCvEncodedAsOpenCvReadsThem) {
  // OpenCV writes widths of 8 to 32767 RLE, others flat.
  for (const auto& [w, h] :
       std::vector<std::pair<int, int>>{{13, 5}, {5, 3}, {8, 1}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h));
    ExpectLikeOpenCv(
        OpenHdr, CvEncode(".hdr", HdrNoise(w, h, static_cast<unsigned>(w))));
  }
}

TEST(LegacyHdr, FlatPixelsAreRgbeAsBgrFloats) {
  // (128, 64, 32, e=129): mantissas times 2^(129-136).
  const Bytes file =
      MakeHdr("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 2\n",
              {128, 64, 32, 129, 255, 1, 0, 255, 9, 9, 9, 0, 1, 2, 3, 1});
  const cv::Mat expected =
      (cv::Mat_<cv::Vec3f>(2, 2) << cv::Vec3f(0.25f, 0.5f, 1.0f),
       cv::Vec3f(0.0f, std::ldexp(1.0f, 119), 255 * std::ldexp(1.0f, 119)),
       cv::Vec3f(0, 0, 0),
       cv::Vec3f(3 * std::ldexp(1.0f, -135), 2 * std::ldexp(1.0f, -135),
                 std::ldexp(1.0f, -135)));
  ExpectLikeOpenCv(OpenHdr, file, expected);
  // Flat scanlines of a width RLE could have (8 to 32767).
  Bytes wide;
  for (int i = 0; i < 9 * 3; ++i) {
    for (const int v : {i * 9, 255 - i, i, 100 + i % 50})
      Put8(wide, static_cast<uint32_t>(v));
  }
  ExpectLikeOpenCv(
      OpenHdr, MakeHdr("#?RGBE\nFORMAT=32-bit_rle_rgbe\n\n-Y 3 +X 9\n", wide));
}

// An RLE file whose second scanline is flat: OpenCV then reads the rest of
// the image flat, and so do we.
TEST(LegacyHdr, RleThenFlatScanlines) {
  Bytes data = {2, 2, 0, 8};
  for (const uint8_t v : {100, 101, 102, 130}) {
    Put8(data, 128 + 8);
    Put8(data, v);
  }
  for (int i = 0; i < 8; ++i) {
    for (const uint8_t v : {10, 20, 30, 130}) Put8(data, v);
  }
  ExpectLikeOpenCv(
      OpenHdr, MakeHdr("#?RGBE\nFORMAT=32-bit_rle_rgbe\n\n-Y 2 +X 8\n", data));
}

TEST(LegacyHdr, HeaderLinesAreReadInOpenCvsChunks) {
  const Bytes px = {128, 64, 32, 129, 1, 2, 3, 120};
  // A comment of 127 bytes and more: its rest is read as a line of its own,
  // here the FORMAT line (OpenCV reads it so too).
  const std::string long_comment = "#" + std::string(126, 'c');
  ExpectLikeOpenCv(OpenHdr, MakeHdr("#?RADIANCE\n" + long_comment +
                                        "FORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 2\n",
                                    px));
  ExpectLikeOpenCv(OpenHdr,
                   MakeHdr("#?RADIANCE\nGAMMA=1\nFORMAT=32-bit_rle_rgbe\n"
                           "EXPOSURE=2\n\n-Y   1+X2\n",
                           px));
  const auto refuses = [&](const std::string& header,
                           const std::string& message) {
    const Bytes file = MakeHdr(header, px);
    EXPECT_TRUE(CvDecode(file).empty()) << header;
    return Refuses(OpenHdr, file, "x.hdr", message);
  };
  // A line of 127 bytes: its newline is read as the blank line.
  EXPECT_TRUE(
      refuses("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\nX" + std::string(126, 'a') +
                  "\n\n-Y 1 +X 2\n",
              "corrupt HDR (the size line is not -Y <height> +X <width>)"));
  EXPECT_TRUE(
      refuses("#?RADIANCE\nFORMAT=32-bit_rle_xyze\n\n-Y 1 +X 2\n",
              "corrupt HDR (FORMAT=32-bit_rle_xyze (CIE XYZ) is not read)"));
  EXPECT_TRUE(refuses("#?RADIANCE\n\n-Y 1 +X 2\n",
                      "corrupt HDR (no FORMAT=32-bit_rle_rgbe line)"));
  EXPECT_TRUE(refuses("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\r\n\r\n-Y 1 +X 2\n",
                      "truncated HDR (the header ends early)"));
  EXPECT_TRUE(
      refuses("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n+Y 1 +X 2\n",
              "corrupt HDR (the size line is not -Y <height> +X <width>)"));
  EXPECT_TRUE(
      refuses("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 -X 2\n",
              "corrupt HDR (the size line is not -Y <height> +X <width>)"));
  EXPECT_TRUE(refuses("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 0 +X 2\n",
                      "image header says the size is 0"));
  EXPECT_TRUE(refuses("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y -1 +X 2\n",
                      "corrupt HDR (negative width or height)"));
  EXPECT_TRUE(
      refuses("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n",
              "corrupt HDR (the size line is not -Y <height> +X <width>)"));
}

TEST(LegacyHdr, TruncatedAndHostileFilesAreRefused) {
  const auto refuses = [&](const Bytes& b, const std::string& message) {
    return Refuses(OpenHdr, b, "x.hdr", message);
  };
  const std::string head = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 8\n";
  const Bytes good = CvEncode(".hdr", HdrNoise(9, 3, 4));
  EXPECT_TRUE(refuses(Bytes(good.begin(), good.end() - 1),
                      "truncated HDR (the pixel data ends early)"));
  EXPECT_TRUE(refuses(Bytes(good.begin(), good.begin() + 20),
                      "truncated HDR (the header ends early)"));
  EXPECT_TRUE(refuses(MakeHdr("#?RADIANCX\n", {}),
                      "corrupt HDR (no #?RADIANCE or #?RGBE signature)"));
  EXPECT_TRUE(
      refuses(MakeHdr(head, {2, 2, 0, 9}),
              "corrupt HDR (a scanline's width is not the image width)"));
  EXPECT_TRUE(refuses(MakeHdr(head, {2, 2, 0, 8, 128 + 9, 1}),
                      "corrupt HDR (an RLE run passes the end of a scanline)"));
  EXPECT_TRUE(refuses(MakeHdr(head, {2, 2, 0, 8, 9, 1}),
                      "corrupt HDR (an RLE run passes the end of a scanline)"));
  EXPECT_TRUE(refuses(MakeHdr(head, {2, 2, 0, 8, 0, 1}),
                      "corrupt HDR (an RLE literal run of length 0)"));
  EXPECT_TRUE(refuses(MakeHdr(head, {2, 2, 0, 8, 4, 1, 2}),
                      "truncated HDR (the pixel data ends early)"));
  EXPECT_TRUE(refuses(
      MakeHdr("#?RGBE\nFORMAT=32-bit_rle_rgbe\n\n-Y 1 +X 4294967298\n", {}),
      "corrupt HDR (the image size is out of range)"));
  // 100000 x 100000 in a header: Open costs nothing.
  const Bytes huge =
      MakeHdr("#?RGBE\nFORMAT=32-bit_rle_rgbe\n\n-Y 100000 +X 100000\n", {});
  const std::unique_ptr<Source> source = Source::FromMemory(huge);
  EXPECT_EQ(OpenHdr(*source, "x.hdr")->format().height, 100000);
  EXPECT_TRUE(ThrowsError(
      [&] { ReadFirstRow(OpenHdr, huge, "x.hdr"); }, ErrorKind::kInput,
      "input 'x.hdr': truncated HDR (the pixel data ends early)"));
}

// ---- All three -----------------------------------------------------------

// A pipe's source has no size and no seek: the readers take All() of it.
TEST(LegacyCodecs, ReadFromAPipe) {
  const cv::Mat bgr = Noise(300, 200, CV_8UC3, 9);  // more than a pipe holds
  const cv::Mat hdr = HdrNoise(40, 30, 2);
  for (const auto& file : std::vector<std::pair<OpenFn, Bytes>>{
           {OpenBmp, CvEncode(".bmp", bgr)},
           {OpenSunRaster, CvEncode(".ras", bgr)},
           {OpenHdr, CvEncode(".hdr", hdr)}}) {
    const OpenFn open = file.first;
    const Bytes& bytes = file.second;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::thread writer([&, fd = fds[1]] {
      size_t done = 0;
      while (done < bytes.size()) {
        const ssize_t k = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (k <= 0) break;
        done += static_cast<size_t>(k);
      }
      ::close(fd);
    });
    const std::unique_ptr<Source> source = Source::FromFd(fds[0], "-");
    const std::unique_ptr<Decoder> d = open(*source, "-");
    const PixelFormat f = d->format();
    cv::Mat m(f.height, f.width, CvType(f));
    d->ReadRows(reinterpret_cast<std::byte*>(m.data),
                static_cast<std::ptrdiff_t>(m.step[0]), f.height);
    writer.join();
    ::close(fds[0]);
    EXPECT_TRUE(Same(m, CvDecode(bytes)));
  }
}

TEST(LegacyCodecs, ManyFilesInParallelThreads) {
  const std::vector<std::pair<OpenFn, Bytes>> files = {
      {OpenBmp, CvEncode(".bmp", Noise(31, 17, CV_8UC3, 1))},
      {OpenSunRaster, CvEncode(".ras", Noise(31, 17, CV_8UC3, 2))},
      {OpenHdr, CvEncode(".hdr", HdrNoise(31, 17, 3))}};
  std::vector<cv::Mat> expected;
  for (const auto& [open, bytes] : files)
    expected.push_back(Decode(open, bytes));
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 30; ++i) {
        const size_t k = static_cast<size_t>(t + i) % files.size();
        if (!Same(Decode(files[k].first, files[k].second, 1 + i % 5),
                  expected[k])) {
          ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace convcorr::io
