// The PNG codec (src/io/png_codec.cc) against independent oracles: OpenCV's
// own PNG reader and writer (cv::imdecode, cv::imencode), files made here
// with libpng whose expected samples are computed here, and byte-level
// surgery on files (truncation, flipped bytes, added chunks).
#include <gtest/gtest.h>
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "core/threads.h"
#include "io/codec.h"
#include "io/io_test_util.h"
#include "io/png_deflate.h"
#include "io/provenance.h"

namespace convcorr::io {
namespace {

using core::Depth;
using testing::Bytes;
using testing::ThrowsError;
using testing::ThrowsKind;

constexpr char kName[] = "x.png";
const std::string kPrefix = "input 'x.png': ";

// ---- Helpers around the codec -------------------------------------------

struct Decoded {
  PixelFormat format;
  cv::Mat mat;
  Metadata metadata;
};

int CvType(const PixelFormat& f) {
  return CV_MAKETYPE(f.depth == Depth::kU16 ? CV_16U : CV_8U, f.channels);
}

// Decodes `png` with OpenPng, reading `band` rows at a time (0: all).
Decoded Decode(const Bytes& png, int band = 0) {
  auto source = Source::FromMemory(png);
  auto decoder = OpenPng(*source, kName);
  Decoded d;
  d.format = decoder->format();
  d.mat.create(d.format.height, d.format.width, CvType(d.format));
  const int h = d.format.height;
  const int step = band > 0 ? band : h;
  for (int y = 0; y < h; y += step) {
    decoder->ReadRows(reinterpret_cast<std::byte*>(d.mat.ptr(y)),
                      static_cast<std::ptrdiff_t>(d.mat.step),
                      std::min(step, h - y));
  }
  decoder->Finish();
  d.metadata = decoder->metadata();
  return d;
}

PixelFormat FormatOf(const cv::Mat& m) {
  return PixelFormat{m.cols, m.rows, m.channels(),
                     m.depth() == CV_16U ? Depth::kU16 : Depth::kU8};
}

// Encodes `m` with NewPngEncoder, `band` rows at a time (0: all).
Bytes Encode(const cv::Mat& m, const Metadata& metadata = {}, int band = 0) {
  VectorSink sink;
  auto encoder = NewPngEncoder(FormatOf(m), metadata, {}, sink, kName);
  const int step = band > 0 ? band : m.rows;
  for (int y = 0; y < m.rows; y += step) {
    encoder->WriteRows(reinterpret_cast<const std::byte*>(m.ptr(y)),
                       static_cast<std::ptrdiff_t>(m.step),
                       std::min(step, m.rows - y));
  }
  encoder->Finish();
  return sink.bytes();
}

cv::Mat RandomMat(int rows, int cols, int type, uint64_t seed) {
  cv::Mat m(rows, cols, type);
  cv::RNG rng(seed);
  rng.fill(m, cv::RNG::UNIFORM, 0, CV_MAT_DEPTH(type) == CV_16U ? 65536 : 256);
  return m;
}

Bytes CvEncode(const cv::Mat& m) {
  Bytes b;
  EXPECT_TRUE(cv::imencode(".png", m, b));
  return b;
}

cv::Mat CvDecode(const Bytes& b) {
  return cv::imdecode(b, cv::IMREAD_UNCHANGED);
}

// Same type, size and every sample.
::testing::AssertionResult SameMat(const cv::Mat& a, const cv::Mat& b) {
  if (a.type() != b.type() || a.size() != b.size()) {
    return ::testing::AssertionFailure()
           << "type/size " << a.type() << " " << a.cols << "x" << a.rows
           << " vs " << b.type() << " " << b.cols << "x" << b.rows;
  }
  const double d = cv::norm(a, b, cv::NORM_INF);
  if (d != 0) return ::testing::AssertionFailure() << "max difference " << d;
  return ::testing::AssertionSuccess();
}

// The chunk types of a PNG, in order.
std::vector<std::string> Chunks(const Bytes& png) {
  std::vector<std::string> types;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t n = png_get_uint_32(png.data() + at);
    types.emplace_back(png.begin() + static_cast<ptrdiff_t>(at + 4),
                       png.begin() + static_cast<ptrdiff_t>(at + 8));
    at += 12 + size_t{n};
  }
  return types;
}

// Offset of the first chunk of `type` (its length field).
size_t ChunkAt(const Bytes& png, std::string_view type) {
  for (size_t at = 8; at + 12 <= png.size();) {
    if (std::string_view(reinterpret_cast<const char*>(&png[at + 4]), 4) ==
        type) {
      return at;
    }
    at += 12 + size_t{png_get_uint_32(png.data() + at)};
  }
  ADD_FAILURE() << "no " << type << " chunk";
  return 0;
}

// `png` with `chunk` (a whole chunk) inserted before the chunk at `at`.
Bytes Insert(const Bytes& png, size_t at, std::string_view type,
             const Bytes& data) {
  Bytes chunk;
  testing::PutPngChunk(chunk, type, data);
  Bytes out(png.begin(), png.begin() + static_cast<ptrdiff_t>(at));
  out.insert(out.end(), chunk.begin(), chunk.end());
  out.insert(out.end(), png.begin() + static_cast<ptrdiff_t>(at), png.end());
  return out;
}

// ---- PNGs made with libpng, with what the test asks for --------------------

struct Text {
  int compression;  // PNG_TEXT_COMPRESSION_NONE, _zTXt, PNG_ITXT_...
  std::string key;
  std::string value;
  bool after_image = false;
};

struct PngSpec {
  int width = 0;
  int height = 0;
  int bit_depth = 8;
  int color_type = PNG_COLOR_TYPE_GRAY;
  bool interlaced = false;
  std::vector<png_color> palette{};
  Bytes palette_alpha{};                     // tRNS of a palette image
  const png_color_16* trns_color = nullptr;  // tRNS of gray or RGB
  std::vector<Bytes> rows{};  // as the file stores them: packed, big-endian
  std::vector<Text> texts{};
};

void AppendToBytes(png_structp png, png_bytep data, size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}

// A setjmp frame: only trivially destructible locals.
bool WriteWithLibpng(const PngSpec& s, png_text* before, int n_before,
                     png_text* after, int n_after, Bytes* out) {
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    return false;
  }
  png_set_write_fn(png, out, AppendToBytes, nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(s.width),
               static_cast<png_uint_32>(s.height), s.bit_depth, s.color_type,
               s.interlaced ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  if (!s.palette.empty()) {
    png_set_PLTE(png, info, s.palette.data(),
                 static_cast<int>(s.palette.size()));
  }
  if (!s.palette_alpha.empty()) {
    png_set_tRNS(png, info, s.palette_alpha.data(),
                 static_cast<int>(s.palette_alpha.size()), nullptr);
  }
  if (s.trns_color != nullptr)
    png_set_tRNS(png, info, nullptr, 0, s.trns_color);
  if (n_before > 0) png_set_text(png, info, before, n_before);
  png_write_info(png, info);
  const int passes = s.interlaced ? png_set_interlace_handling(png) : 1;
  for (int pass = 0; pass < passes; ++pass) {
    for (int y = 0; y < s.height; ++y) png_write_row(png, s.rows[y].data());
  }
  if (n_after > 0) png_set_text(png, info, after, n_after);
  png_write_end(png, info);
  png_destroy_write_struct(&png, &info);
  return true;
}

Bytes MakePng(const PngSpec& s) {
  std::vector<png_text> before, after;
  for (const Text& t : s.texts) {
    png_text p{};
    p.compression = t.compression;
    p.key = const_cast<char*>(t.key.c_str());
    p.text = const_cast<char*>(t.value.c_str());
    (t.after_image ? after : before).push_back(p);
  }
  Bytes out;
  EXPECT_TRUE(WriteWithLibpng(s, before.data(), static_cast<int>(before.size()),
                              after.data(), static_cast<int>(after.size()),
                              &out));
  return out;
}

// Samples packed as a PNG row stores them (bit depth 1 to 16, MSB first).
Bytes PackRow(const std::vector<int>& samples, int bits) {
  Bytes row;
  if (bits == 16) {
    for (const int v : samples) {
      row.push_back(static_cast<uint8_t>(v >> 8));
      row.push_back(static_cast<uint8_t>(v));
    }
    return row;
  }
  int acc = 0, used = 0;
  for (const int v : samples) {
    acc = acc << bits | v;
    used += bits;
    if (used == 8) {
      row.push_back(static_cast<uint8_t>(acc));
      acc = used = 0;
    }
  }
  if (used > 0) row.push_back(static_cast<uint8_t>(acc << (8 - used)));
  return row;
}

// A gray (1 sample) or colour (3 or 4) image of `w` x `h` whose file
// samples are f(x, y, channel), stored at `bits`; also the expected
// decoded Mat, from the same f and `expect(v, x, y, c)` per channel of the
// output (`out_channels`).
struct Made {
  Bytes png;
  cv::Mat expected;
};

Made MakeImage(PngSpec spec, int file_channels, int out_channels,
               const std::function<int(int, int, int)>& f,
               const std::function<int(const std::vector<int>&, int)>& expect) {
  const bool wide = spec.bit_depth == 16;
  cv::Mat e(spec.height, spec.width,
            CV_MAKETYPE(wide ? CV_16U : CV_8U, out_channels));
  for (int y = 0; y < spec.height; ++y) {
    std::vector<int> row;
    for (int x = 0; x < spec.width; ++x) {
      std::vector<int> px;
      for (int c = 0; c < file_channels; ++c) px.push_back(f(x, y, c));
      row.insert(row.end(), px.begin(), px.end());
      for (int c = 0; c < out_channels; ++c) {
        const int v = expect(px, c);
        if (wide) {
          e.ptr<uint16_t>(y)[x * out_channels + c] = static_cast<uint16_t>(v);
        } else {
          e.ptr<uint8_t>(y)[x * out_channels + c] = static_cast<uint8_t>(v);
        }
      }
    }
    spec.rows.push_back(PackRow(row, spec.bit_depth));
  }
  return {MakePng(spec), e};
}

// Checks `m` decodes to `expected` in bands of 1, 7 and all rows.
void ExpectDecodes(const Made& m) {
  for (const int band : {1, 7, 0}) {
    SCOPED_TRACE("band " + std::to_string(band));
    EXPECT_TRUE(SameMat(Decode(m.png, band).mat, m.expected));
  }
}

// ---- (a) Files OpenCV wrote, against OpenCV's reader -----------------------

TEST(PngCodecTest, DecodesOpenCvFilesLikeOpenCv) {
  uint64_t seed = 1;
  for (const int depth : {CV_8U, CV_16U}) {
    for (const int cn : {1, 3, 4}) {
      for (const cv::Size size : {cv::Size(1, 1), cv::Size(37, 23)}) {
        SCOPED_TRACE("depth " + std::to_string(depth) + " channels " +
                     std::to_string(cn) + " " + std::to_string(size.width));
        const cv::Mat m =
            RandomMat(size.height, size.width, CV_MAKETYPE(depth, cn), seed++);
        const Bytes png = CvEncode(m);
        const cv::Mat cv_view = CvDecode(png);
        ASSERT_TRUE(SameMat(cv_view, m));
        for (const int band : {1, 7, 0}) {
          const Decoded d = Decode(png, band);
          EXPECT_EQ(d.format.width, size.width);
          EXPECT_EQ(d.format.height, size.height);
          EXPECT_TRUE(SameMat(d.mat, cv_view)) << "band " << band;
          EXPECT_TRUE(d.metadata.empty());
        }
      }
    }
  }
}

TEST(PngCodecTest, DecodesLargeRandomImageLikeOpenCv) {
  const cv::Mat m = RandomMat(301, 257, CV_8UC3, 99);
  const Bytes png = CvEncode(m);
  EXPECT_TRUE(SameMat(Decode(png, 7).mat, CvDecode(png)));
  // Smooth content compresses: several filters and long matches.
  cv::Mat smooth(200, 300, CV_16UC4);
  for (int y = 0; y < smooth.rows; ++y) {
    for (int x = 0; x < smooth.cols; ++x) {
      smooth.at<cv::Vec4w>(y, x) = cv::Vec4w(
          static_cast<uint16_t>(x * 200), static_cast<uint16_t>(y * 300),
          static_cast<uint16_t>((x + y) * 99), 65535);
    }
  }
  const Bytes smooth_png = CvEncode(smooth);
  EXPECT_TRUE(SameMat(Decode(smooth_png, 13).mat, CvDecode(smooth_png)));
}

TEST(PngCodecTest, OpenReadsHeaderOnly) {
  const Bytes png = CvEncode(RandomMat(10, 20, CV_16UC3, 5));
  // Cut after IHDR: Open must not need anything past the header chunks.
  const Bytes head(png.begin(), png.begin() + static_cast<ptrdiff_t>(
                                                  ChunkAt(png, "IDAT") + 8));
  auto source = Source::FromMemory(head);
  auto decoder = OpenPng(*source, kName);
  EXPECT_EQ(decoder->format().width, 20);
  EXPECT_EQ(decoder->format().height, 10);
  EXPECT_EQ(decoder->format().channels, 3);
  EXPECT_EQ(decoder->format().depth, Depth::kU16);
}

// ---- (b) Files made with libpng, against values computed here --------------

TEST(PngCodecTest, GrayAlphaStaysTwoChannels) {
  for (const int bits : {8, 16}) {
    const int max = (1 << bits) - 1;
    PngSpec s{.width = 11,
              .height = 9,
              .bit_depth = bits,
              .color_type = PNG_COLOR_TYPE_GRAY_ALPHA};
    const Made m = MakeImage(
        s, 2, 2,
        [&](int x, int y, int c) {
          return (x * 37 + y * 101 + c * 7919) % (max + 1);
        },
        [](const std::vector<int>& px, int c) { return px[c]; });
    ExpectDecodes(m);
    // OpenCV makes it B,G,R,A: gray three times, then alpha.
    const cv::Mat cv_view = CvDecode(m.png);
    ASSERT_EQ(cv_view.channels(), 4);
    std::vector<cv::Mat> mine, theirs;
    cv::split(m.expected, mine);
    cv::split(cv_view, theirs);
    EXPECT_TRUE(SameMat(theirs[0], mine[0]));
    EXPECT_TRUE(SameMat(theirs[3], mine[1]));
  }
}

TEST(PngCodecTest, PaletteBecomesBgrOrBgra) {
  const std::vector<png_color> palette = {
      {10, 20, 30}, {200, 100, 0}, {1, 2, 3}, {255, 254, 253}, {7, 77, 177}};
  const Bytes alpha = {0, 128, 255};  // entries 3 and 4 opaque
  for (const int bits : {8, 4, 2}) {
    for (const bool with_alpha : {false, true}) {
      SCOPED_TRACE(std::to_string(bits) + (with_alpha ? " tRNS" : ""));
      const int n = bits == 2 ? 4 : 5;
      PngSpec s{.width = 13,
                .height = 6,
                .bit_depth = bits,
                .color_type = PNG_COLOR_TYPE_PALETTE};
      s.palette.assign(palette.begin(), palette.begin() + n);
      if (with_alpha) s.palette_alpha = alpha;
      const Made m = MakeImage(
          s, 1, with_alpha ? 4 : 3,
          [&](int x, int y, int) { return (x + 2 * y) % n; },
          [&](const std::vector<int>& px, int c) {
            const png_color& p = palette[static_cast<size_t>(px[0])];
            if (c == 3) return px[0] < 3 ? int{alpha[px[0]]} : 255;
            return int{c == 0 ? p.blue : c == 1 ? p.green : p.red};
          });
      ExpectDecodes(m);
      EXPECT_TRUE(SameMat(CvDecode(m.png), m.expected));
    }
  }
}

TEST(PngCodecTest, LowBitGrayScaledTo255) {
  for (const int bits : {1, 2, 4}) {
    SCOPED_TRACE(bits);
    const int max = (1 << bits) - 1;
    PngSpec s{.width = 13, .height = 5, .bit_depth = bits};
    const Made m = MakeImage(
        s, 1, 1, [&](int x, int y, int) { return (x * 3 + y * 5) % (max + 1); },
        [&](const std::vector<int>& px, int) { return px[0] * 255 / max; });
    ExpectDecodes(m);
    EXPECT_TRUE(SameMat(CvDecode(m.png), m.expected));
  }
}

TEST(PngCodecTest, TrnsOnGrayBecomesAlpha) {
  for (const int bits : {2, 8, 16}) {
    SCOPED_TRACE(bits);
    const int max = (1 << bits) - 1;
    const int key = bits == 2 ? 1 : 7;
    png_color_16 trns{};
    trns.gray = static_cast<png_uint_16>(key);
    PngSpec s{.width = 10, .height = 4, .bit_depth = bits, .trns_color = &trns};
    const Made m = MakeImage(
        s, 1, 2, [&](int x, int y, int) { return (x + 3 * y) % 9 % (max + 1); },
        [&](const std::vector<int>& px, int c) {
          const int out_max = bits == 16 ? 65535 : 255;
          if (c == 1) return px[0] == key ? 0 : out_max;
          return bits == 16 ? px[0] : px[0] * 255 / max;
        });
    ExpectDecodes(m);
    // OpenCV drops the tRNS: one channel, the same gray values.
    std::vector<cv::Mat> mine;
    cv::split(m.expected, mine);
    EXPECT_TRUE(SameMat(CvDecode(m.png), mine[0]));
  }
}

TEST(PngCodecTest, TrnsOnRgbBecomesAlpha) {
  for (const int bits : {8, 16}) {
    SCOPED_TRACE(bits);
    png_color_16 trns{};
    trns.red = 3;
    trns.green = 1;
    trns.blue = 4;
    PngSpec s{.width = 9,
              .height = 7,
              .bit_depth = bits,
              .color_type = PNG_COLOR_TYPE_RGB,
              .trns_color = &trns};
    // Channel c of pixel (x, y): 3, 1, 4 (the tRNS colour) where x == y.
    const auto f = [](int x, int y, int c) {
      if (x == y) return c == 0 ? 3 : c == 1 ? 1 : 4;
      return (x * 31 + y * 17 + c * 5) % 250;
    };
    const Made m =
        MakeImage(s, 3, 4, f, [&](const std::vector<int>& px, int c) {
          if (c == 3) {
            const bool key = px[0] == 3 && px[1] == 1 && px[2] == 4;
            return key ? 0 : (bits == 16 ? 65535 : 255);
          }
          return px[2 - c];
        });
    ExpectDecodes(m);
    EXPECT_TRUE(SameMat(CvDecode(m.png), m.expected));
  }
}

TEST(PngCodecTest, InterlacedDecodedWhole) {
  struct Case {
    int bits, color, file_cn, out_cn;
  };
  for (const Case c :
       {Case{8, PNG_COLOR_TYPE_RGB, 3, 3}, Case{16, PNG_COLOR_TYPE_GRAY, 1, 1},
        Case{1, PNG_COLOR_TYPE_GRAY, 1, 1},
        Case{16, PNG_COLOR_TYPE_RGB_ALPHA, 4, 4}}) {
    SCOPED_TRACE(std::to_string(c.bits) + " " + std::to_string(c.color));
    const int max = (1 << c.bits) - 1;
    PngSpec s{.width = 19,
              .height = 17,
              .bit_depth = c.bits,
              .color_type = c.color,
              .interlaced = true};
    const Made m = MakeImage(
        s, c.file_cn, c.out_cn,
        [&](int x, int y, int ch) {
          return (x * 977 + y * 131 + ch * 57) % (max + 1);
        },
        [&](const std::vector<int>& px, int ch) {
          const int v = c.out_cn >= 3 && ch < 3 ? px[2 - ch] : px[ch];
          return c.bits < 8 ? v * 255 / max : v;
        });
    ASSERT_EQ(m.png[28], 1);  // IHDR's interlace method: Adam7
    ExpectDecodes(m);
    EXPECT_TRUE(SameMat(CvDecode(m.png), m.expected));
  }
}

// ---- (c) The encoder -------------------------------------------------------

TEST(PngCodecTest, EncoderRoundTripsEveryFormat) {
  uint64_t seed = 100;
  for (const int depth : {CV_8U, CV_16U}) {
    for (int cn = 1; cn <= 4; ++cn) {
      SCOPED_TRACE("depth " + std::to_string(depth) + " channels " +
                   std::to_string(cn));
      const cv::Mat m = RandomMat(29, 31, CV_MAKETYPE(depth, cn), seed++);
      for (const int band : {1, 7, 0}) {
        const Bytes png = Encode(m, {}, band);
        EXPECT_TRUE(SameMat(Decode(png, 5).mat, m));
        const cv::Mat cv_view = CvDecode(png);
        if (cn == 2) {  // OpenCV reads gray+alpha as B,G,R,A
          std::vector<cv::Mat> in, out;
          cv::split(m, in);
          cv::split(cv_view, out);
          ASSERT_EQ(out.size(), 4u);
          for (int k = 0; k < 3; ++k) EXPECT_TRUE(SameMat(out[k], in[0]));
          EXPECT_TRUE(SameMat(out[3], in[1]));
        } else {
          EXPECT_TRUE(SameMat(cv_view, m));
        }
      }
    }
  }
}

TEST(PngCodecTest, EncoderBytesSameAsOpenCv) {
  uint64_t seed = 200;
  for (const int type :
       {CV_8UC3, CV_8UC1, CV_8UC4, CV_16UC1, CV_16UC3, CV_16UC4}) {
    SCOPED_TRACE(type);
    for (const cv::Mat& m : {RandomMat(40, 50, type, seed++),
                             cv::Mat(64, 80, type, cv::Scalar::all(9)),
                             RandomMat(300, 400, type, seed++)}) {
      EXPECT_EQ(Encode(m, {}, 16), CvEncode(m));
    }
  }
  // A photo-like image (smooth, compressible), the usual case.
  cv::Mat ramp(120, 160, CV_8UC3);
  for (int y = 0; y < ramp.rows; ++y) {
    for (int x = 0; x < ramp.cols; ++x) {
      ramp.at<cv::Vec3b>(y, x) =
          cv::Vec3b(static_cast<uint8_t>(x), static_cast<uint8_t>(y),
                    static_cast<uint8_t>(x ^ y));
    }
  }
  EXPECT_EQ(Encode(ramp), CvEncode(ramp));
}

TEST(PngCodecTest, EncoderRefusesFloat) {
  VectorSink sink;
  EXPECT_TRUE(ThrowsError(
      [&] {
        NewPngEncoder(PixelFormat{4, 4, 1, Depth::kF32}, {}, {}, sink, kName);
      },
      ErrorKind::kOutput, "output 'x.png': png cannot store float samples"));
  EXPECT_TRUE(sink.bytes().empty());
}

TEST(PngCodecTest, WidthsPastLibpngDefaultLimit) {
  const cv::Mat m = RandomMat(2, 1'200'000, CV_8UC1, 7);
  EXPECT_TRUE(SameMat(Decode(Encode(m)).mat, m));
}

// ---- (d) Metadata ----------------------------------------------------------

void PutBe32(Bytes& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    b[at + i] = static_cast<uint8_t>(v >> (24 - 8 * i));
}

// A version 2.1 display profile (header, tag table, tag data), valid as
// far as libpng checks: length, 'acsp', colour space, PCS, D50, tags in
// bounds.
Bytes MakeIcc(const char* color_space) {
  Bytes p(128, 0);
  PutBe32(p, 8, 0x02100000);
  std::memcpy(&p[12], "mntr", 4);
  std::memcpy(&p[16], color_space, 4);
  std::memcpy(&p[20], "XYZ ", 4);
  std::memcpy(&p[36], "acsp", 4);
  PutBe32(p, 68, 0x0000F6D6);  // D50
  PutBe32(p, 72, 0x00010000);
  PutBe32(p, 76, 0x0000D32D);
  const bool rgb = std::string_view(color_space) == "RGB ";
  struct Tag {
    const char* sig;
    Bytes data;
  };
  const auto xyz = [](uint32_t x, uint32_t y, uint32_t z) {
    Bytes d(20, 0);
    std::memcpy(&d[0], "XYZ ", 4);
    PutBe32(d, 8, x);
    PutBe32(d, 12, y);
    PutBe32(d, 16, z);
    return d;
  };
  Bytes desc(12, 0);
  std::memcpy(&desc[0], "desc", 4);
  const std::string name = "convcorr test profile";
  PutBe32(desc, 8, static_cast<uint32_t>(name.size() + 1));
  desc.insert(desc.end(), name.begin(), name.end());
  desc.resize(desc.size() + 1 + 4 + 4 + 2 + 1 + 67, 0);
  Bytes curve(14, 0);
  std::memcpy(&curve[0], "curv", 4);
  PutBe32(curve, 8, 1);
  curve[12] = 0x02;  // gamma 2.2 as u8Fixed8
  curve[13] = 0x33;
  std::vector<Tag> tags = {{"desc", desc},
                           {"wtpt", xyz(0xF6D6, 0x10000, 0xD32D)}};
  if (rgb) {
    tags.push_back({"rXYZ", xyz(0x6FA2, 0x38F5, 0x0390)});
    tags.push_back({"gXYZ", xyz(0x6299, 0xB785, 0x18DA)});
    tags.push_back({"bXYZ", xyz(0x24A0, 0x0F84, 0xB6CF)});
    for (const char* trc : {"rTRC", "gTRC", "bTRC"})
      tags.push_back({trc, curve});
  } else {
    tags.push_back({"kTRC", curve});
  }
  p.resize(132 + 12 * tags.size(), 0);
  PutBe32(p, 128, static_cast<uint32_t>(tags.size()));
  for (size_t i = 0; i < tags.size(); ++i) {
    while (p.size() % 4 != 0) p.push_back(0);
    const size_t entry = 132 + 12 * i;
    std::memcpy(&p[entry], tags[i].sig, 4);
    PutBe32(p, entry + 4, static_cast<uint32_t>(p.size()));
    PutBe32(p, entry + 8, static_cast<uint32_t>(tags[i].data.size()));
    p.insert(p.end(), tags[i].data.begin(), tags[i].data.end());
  }
  while (p.size() % 4 != 0) p.push_back(0);
  PutBe32(p, 0, static_cast<uint32_t>(p.size()));
  return p;
}

// "II*\0", IFD0 at 8 with one entry (Orientation = 6), no next IFD.
Bytes MakeExif() {
  return {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 0x01, 3,
          0,   1,   0,  0, 0, 6, 0, 0, 0, 0, 0,    0,    0};
}

const std::string kXmp =
    "<?xpacket begin=\"\xEF\xBB\xBF\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n"
    "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3"
    ".org/1999/02/22-rdf-syntax-ns#\"><rdf:Description rdf:about=\"\" "
    "xmlns:tiff=\"http://ns.adobe.com/tiff/1.0/\" tiff:Orientation=\"6\"/>"
    "</rdf:RDF></x:xmpmeta>\n<?xpacket end=\"w\"?>";

TEST(PngCodecTest, MetadataRoundTrips) {
  const cv::Mat m = RandomMat(8, 9, CV_8UC3, 3);
  Metadata md;
  md.icc = MakeIcc("RGB ");
  md.exif = MakeExif();
  md.xmp = kXmp;
  ASSERT_GT(md.icc.size(), 300u);
  const Bytes png = Encode(m, md);
  EXPECT_EQ(Chunks(png), (std::vector<std::string>{"IHDR", "iCCP", "eXIf",
                                                   "iTXt", "IDAT", "IEND"}));
  // XMP is stored uncompressed (iTXt compression flag 0).
  const size_t itxt = ChunkAt(png, "iTXt") + 8;
  EXPECT_EQ(std::string(png.begin() + static_cast<ptrdiff_t>(itxt),
                        png.begin() + static_cast<ptrdiff_t>(itxt + 18)),
            std::string("XML:com.adobe.xmp\0", 18));
  EXPECT_EQ(png[itxt + 18], 0);
  const Decoded d = Decode(png);
  EXPECT_TRUE(SameMat(d.mat, m));
  EXPECT_EQ(d.metadata.icc, md.icc);
  EXPECT_EQ(d.metadata.exif, md.exif);
  EXPECT_EQ(d.metadata.xmp, md.xmp);
  EXPECT_TRUE(SameMat(CvDecode(png), m));

  // Each alone, and on gray with a gray profile.
  Metadata only_xmp;
  only_xmp.xmp = kXmp;
  EXPECT_EQ(Decode(Encode(m, only_xmp)).metadata.xmp, kXmp);
  EXPECT_TRUE(Decode(Encode(m, only_xmp)).metadata.icc.empty());
  Metadata only_exif;
  only_exif.exif = MakeExif();
  EXPECT_EQ(Decode(Encode(m, only_exif)).metadata.exif, MakeExif());
  Metadata gray_icc;
  gray_icc.icc = MakeIcc("GRAY");
  const cv::Mat g = RandomMat(5, 5, CV_16UC1, 4);
  EXPECT_EQ(Decode(Encode(g, gray_icc)).metadata.icc, gray_icc.icc);
}

TEST(PngCodecTest, EmptyMetadataWritesNoChunks) {
  const Bytes png = Encode(RandomMat(4, 4, CV_8UC4, 1));
  EXPECT_EQ(Chunks(png), (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
}

TEST(PngCodecTest, RejectedProfileSkipped) {
  const cv::Mat gray = RandomMat(6, 7, CV_8UC1, 2);
  Metadata md;
  md.icc = MakeIcc("RGB ");  // not allowed on a gray PNG
  md.xmp = kXmp;
  std::string printed = testing::CaptureStderr([&] {
    const Bytes png = Encode(gray, md);
    EXPECT_EQ(Chunks(png),
              (std::vector<std::string>{"IHDR", "iTXt", "IDAT", "IEND"}));
    EXPECT_TRUE(SameMat(Decode(png).mat, gray));
    Metadata garbage;
    garbage.icc = Bytes(200, 0x5A);
    const Bytes png2 = Encode(gray, garbage);
    EXPECT_EQ(Chunks(png2), (std::vector<std::string>{"IHDR", "IDAT", "IEND"}));
  });
  EXPECT_EQ(printed, "");
}

TEST(PngCodecTest, ReadsXmpFromTextChunksAndAfterImage) {
  const auto with_text = [](int compression, bool after) {
    PngSpec s{.width = 3, .height = 2};
    s.rows.assign(2, Bytes(3, 50));
    s.texts = {{PNG_TEXT_COMPRESSION_NONE, "Comment", "hello"},
               {compression, "XML:com.adobe.xmp", kXmp, after}};
    return MakePng(s);
  };
  for (const int compression :
       {PNG_TEXT_COMPRESSION_NONE, PNG_TEXT_COMPRESSION_zTXt,
        PNG_ITXT_COMPRESSION_NONE, PNG_ITXT_COMPRESSION_zTXt}) {
    SCOPED_TRACE(compression);
    EXPECT_EQ(Decode(with_text(compression, false)).metadata.xmp, kXmp);
    // After IDAT: known once Finish has read the end.
    const Bytes late = with_text(compression, true);
    const std::vector<std::string> chunks = Chunks(late);
    const auto idat = std::find(chunks.begin(), chunks.end(), "IDAT");
    const std::string text_type = compression > 0    ? "iTXt"
                                  : compression == 0 ? "zTXt"
                                                     : "tEXt";
    EXPECT_NE(std::find(idat, chunks.end(), text_type), chunks.end());
    auto source = Source::FromMemory(late);
    auto decoder = OpenPng(*source, kName);
    EXPECT_EQ(decoder->metadata().xmp, "");
    Bytes rows(6);
    decoder->ReadRows(reinterpret_cast<std::byte*>(rows.data()), 3, 2);
    decoder->Finish();
    EXPECT_EQ(decoder->metadata().xmp, kXmp);
    EXPECT_EQ(rows, Bytes(6, 50));
  }
}

std::string RawExifProfile(const Bytes& exif) {
  static const char kHex[] = "0123456789abcdef";
  const std::string length = std::to_string(exif.size() + 6);
  std::string s = "\nexif\n" + std::string(8 - length.size(), ' ') + length;
  Bytes all = {'E', 'x', 'i', 'f', 0, 0};
  all.insert(all.end(), exif.begin(), exif.end());
  for (size_t i = 0; i < all.size(); ++i) {
    if (i % 36 == 0) s += '\n';
    s += kHex[all[i] >> 4];
    s += kHex[all[i] & 15];
  }
  return s + "\n";
}

// Text after the image data that carries nothing the decoder keeps (the
// date chunks ImageMagick writes there, a comment) leaves the metadata
// first, so the file streams; XMP or a raw EXIF profile there, or an eXIf
// chunk, does not (the image is then read whole, so that they reach the
// outputs). Either way the metadata read is the same as after Finish.
TEST(PngCodecTest, OnlyKeptMetadataAfterTheImageDataHoldsItWhole) {
  const auto make = [](std::vector<Text> after) {
    PngSpec s{.width = 3, .height = 2};
    s.rows.assign(2, Bytes(3, 50));
    s.texts = {{PNG_TEXT_COMPRESSION_NONE, "Comment", "before"}};
    for (Text& t : after) {
      t.after_image = true;
      s.texts.push_back(t);
    }
    return MakePng(s);
  };
  const auto first = [](const Bytes& png) {
    auto source = Source::FromMemory(png);
    auto decoder = OpenPng(*source, kName);
    const bool metadata_first = decoder->MetadataFirst();
    const Metadata early = decoder->metadata();
    const PixelFormat& f = decoder->format();
    Bytes rows(f.RowBytes() * f.height);
    decoder->ReadRows(reinterpret_cast<std::byte*>(rows.data()),
                      static_cast<std::ptrdiff_t>(f.RowBytes()), f.height);
    decoder->Finish();
    if (metadata_first) {
      // Nothing kept arrived late.
      EXPECT_EQ(decoder->metadata().xmp, early.xmp);
      EXPECT_EQ(decoder->metadata().exif, early.exif);
      EXPECT_EQ(decoder->metadata().icc, early.icc);
    }
    return metadata_first;
  };
  EXPECT_TRUE(first(make({})));
  EXPECT_TRUE(first(make(
      {{PNG_TEXT_COMPRESSION_NONE, "date:create", "2026-12-02T07:30:00+00:00"},
       {PNG_TEXT_COMPRESSION_NONE, "date:modify", "2026-12-02T07:30:00+00:00"},
       {PNG_TEXT_COMPRESSION_zTXt, "Comment", "after"},
       {PNG_ITXT_COMPRESSION_NONE, "Title", "t"}})));
  // A keyword that only starts like a kept one is not kept.
  EXPECT_TRUE(first(
      make({{PNG_TEXT_COMPRESSION_NONE, "XML:com.adobe.xmp.extra", "x"}})));
  for (const int compression :
       {PNG_TEXT_COMPRESSION_NONE, PNG_TEXT_COMPRESSION_zTXt,
        PNG_ITXT_COMPRESSION_NONE, PNG_ITXT_COMPRESSION_zTXt}) {
    SCOPED_TRACE(compression);
    EXPECT_FALSE(first(make({{PNG_TEXT_COMPRESSION_NONE, "date:create", "x"},
                             {compression, "XML:com.adobe.xmp", kXmp}})));
  }
  EXPECT_FALSE(first(make({{PNG_TEXT_COMPRESSION_zTXt, "Raw profile type exif",
                            RawExifProfile(MakeExif())}})));
  const Bytes base = CvEncode(cv::Mat(2, 2, CV_8UC1, cv::Scalar(3)));
  EXPECT_FALSE(first(Insert(base, ChunkAt(base, "IEND"), "eXIf", MakeExif())));
}

TEST(PngCodecTest, ReadsImageMagickRawExifProfile) {
  PngSpec s{.width = 2, .height = 2};
  s.rows.assign(2, Bytes(2, 1));
  s.texts = {{PNG_TEXT_COMPRESSION_zTXt, "Raw profile type exif",
              RawExifProfile(MakeExif())}};
  EXPECT_EQ(Decode(MakePng(s)).metadata.exif, MakeExif());
  s.texts[0].compression = PNG_TEXT_COMPRESSION_NONE;
  EXPECT_EQ(Decode(MakePng(s)).metadata.exif, MakeExif());
  // An eXIf chunk wins over the raw profile.
  Bytes other = MakeExif();
  other[18] = 3;
  Metadata md;
  md.exif = other;
  Bytes png = Encode(cv::Mat(2, 2, CV_8UC1, cv::Scalar(1)), md);
  Bytes raw;
  std::string text = "Raw profile type exif";
  raw.assign(text.begin(), text.end());
  raw.push_back(0);
  text = RawExifProfile(MakeExif());
  raw.insert(raw.end(), text.begin(), text.end());
  png = Insert(png, ChunkAt(png, "IDAT"), "tEXt", raw);
  EXPECT_EQ(Decode(png).metadata.exif, other);
}

TEST(PngCodecTest, ExifWithApp1PrefixStripped) {
  const Bytes base = CvEncode(cv::Mat(2, 2, CV_8UC1, cv::Scalar(3)));
  Bytes exif = {'E', 'x', 'i', 'f', 0, 0};
  const Bytes tiff = MakeExif();
  exif.insert(exif.end(), tiff.begin(), tiff.end());
  // Before the image data, and after it (known after Finish).
  EXPECT_EQ(
      Decode(Insert(base, ChunkAt(base, "IDAT"), "eXIf", exif)).metadata.exif,
      tiff);
  EXPECT_EQ(
      Decode(Insert(base, ChunkAt(base, "IEND"), "eXIf", tiff)).metadata.exif,
      tiff);
}

// A zlib stream of `n` bytes of 'a', made a megabyte at a time.
Bytes DeflatedRun(size_t n) {
  z_stream z{};
  EXPECT_EQ(deflateInit(&z, 9), Z_OK);
  const std::string chunk(1 << 20, 'a');
  Bytes out;
  uint8_t buf[1 << 16];
  for (size_t done = 0;;) {
    const size_t k = std::min(chunk.size(), n - done);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(chunk.data()));
    z.avail_in = static_cast<uInt>(k);
    done += k;
    const int flush = done == n ? Z_FINISH : Z_NO_FLUSH;
    int ret;
    do {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      ret = deflate(&z, flush);
      out.insert(out.end(), buf, buf + (sizeof buf - z.avail_out));
    } while (z.avail_out == 0);
    if (flush == Z_FINISH) {
      EXPECT_EQ(ret, Z_STREAM_END);
      break;
    }
  }
  deflateEnd(&z);
  return out;
}

TEST(PngCodecTest, DecompressionBombChunkDropped) {
  const Bytes base = CvEncode(RandomMat(3, 3, CV_8UC1, 8));
  const auto with_ztxt = [&](size_t n) {
    Bytes data = {'X', 'M', 'L', ':', 'c', 'o', 'm', '.', 'a', 'd',
                  'o', 'b', 'e', '.', 'x', 'm', 'p', 0,   0};
    const Bytes z = DeflatedRun(n);
    data.insert(data.end(), z.begin(), z.end());
    return Insert(base, ChunkAt(base, "IDAT"), "zTXt", data);
  };
  // Under convcorr's 8 MiB per chunk: kept.
  EXPECT_EQ(Decode(with_ztxt(7'000'000)).metadata.xmp.size(), 7'000'000u);
  // Past it: dropped, the image still decodes.
  const Decoded d = Decode(with_ztxt(size_t{9} << 20));
  EXPECT_EQ(d.metadata.xmp, "");
  EXPECT_TRUE(SameMat(d.mat, CvDecode(base)));
}

// ---- (e) Truncated and corrupt files ---------------------------------------

Bytes Cut(const Bytes& b, size_t n) {
  return Bytes(b.begin(), b.begin() + static_cast<ptrdiff_t>(n));
}

TEST(PngCodecTest, TruncatedFiles) {
  const Bytes png = CvEncode(RandomMat(100, 100, CV_8UC1, 11));
  ASSERT_GT(Chunks(png).size(), 3u);  // several IDATs
  const std::string no_iend = kPrefix + "truncated PNG (no IEND chunk)";
  const std::string early =
      kPrefix + "truncated PNG (the image data ends early)";
  const size_t iend = png.size() - 12;
  for (const size_t n : {iend, iend + 4, iend + 8, png.size() - 1}) {
    SCOPED_TRACE(n);
    EXPECT_TRUE(
        ThrowsError([&] { Decode(Cut(png, n)); }, ErrorKind::kInput, no_iend));
  }
  const size_t idat = ChunkAt(png, "IDAT");
  for (const size_t n : {size_t{0}, size_t{5}, size_t{8}, size_t{20}, idat,
                         idat + 10, idat + 2000, iend - 2000, iend - 1}) {
    SCOPED_TRACE(n);
    EXPECT_TRUE(
        ThrowsError([&] { Decode(Cut(png, n), 7); }, ErrorKind::kInput, early));
  }
  // Rows whose data came before the cut are delivered (libpng reads IDAT
  // data 8 KiB at a time: cut in the second IDAT); later calls fail again.
  const size_t second_idat = idat + 12 + png_get_uint_32(png.data() + idat);
  ASSERT_EQ(std::string(png.begin() + static_cast<ptrdiff_t>(second_idat + 4),
                        png.begin() + static_cast<ptrdiff_t>(second_idat + 8)),
            "IDAT");
  const Bytes cut = Cut(png, second_idat + 100);
  auto source = Source::FromMemory(cut);
  auto decoder = OpenPng(*source, kName);
  std::vector<std::byte> row(100);
  decoder->ReadRows(row.data(), 100, 1);
  EXPECT_EQ(std::memcmp(row.data(), CvDecode(png).ptr(0), 100), 0);
  const auto rest = [&] {
    for (int y = 1; y < 100; ++y) decoder->ReadRows(row.data(), 100, 1);
  };
  EXPECT_TRUE(ThrowsError(rest, ErrorKind::kInput, early));
  EXPECT_TRUE(ThrowsError([&] { decoder->ReadRows(row.data(), 100, 1); },
                          ErrorKind::kInput, early));
  EXPECT_TRUE(
      ThrowsError([&] { decoder->Finish(); }, ErrorKind::kInput, early));
}

TEST(PngCodecTest, TruncatedInterlacedFile) {
  PngSpec s{.width = 40, .height = 30, .interlaced = true};
  for (int y = 0; y < 30; ++y) {
    Bytes row(40);
    for (int x = 0; x < 40; ++x) row[x] = static_cast<uint8_t>(x * y * 31);
    s.rows.push_back(row);
  }
  const Bytes png = MakePng(s);
  EXPECT_TRUE(ThrowsError([&] { Decode(Cut(png, png.size() - 12)); },
                          ErrorKind::kInput,
                          kPrefix + "truncated PNG (no IEND chunk)"));
  EXPECT_TRUE(
      ThrowsError([&] { Decode(Cut(png, png.size() - 40)); }, ErrorKind::kInput,
                  kPrefix + "truncated PNG (the image data ends early)"));
}

// `png` with the IDAT data byte `offset` XORed, the CRC made right again
// if `fix_crc`.
Bytes FlipIdat(Bytes png, size_t offset, bool fix_crc) {
  const size_t at = ChunkAt(png, "IDAT");
  const uint32_t n = png_get_uint_32(&png[at]);
  png[at + 8 + offset] ^= 0xFF;
  if (fix_crc) PutBe32(png, at + 8 + n, testing::Crc32(&png[at + 4], 4 + n));
  return png;
}

TEST(PngCodecTest, CorruptFiles) {
  // A flipped byte in a chunk the decoder reads to its end: its CRC.
  const Bytes big = CvEncode(RandomMat(100, 100, CV_8UC3, 12));
  EXPECT_TRUE(ThrowsError([&] { Decode(FlipIdat(big, 100, false)); },
                          ErrorKind::kInput,
                          kPrefix + "corrupt PNG (IDAT: CRC error)"));
  // In a single IDAT, zlib sees it first (its check value); with the CRC
  // made right, the zlib header checked by libpng.
  const Bytes png = CvEncode(RandomMat(20, 20, CV_8UC3, 12));
  EXPECT_TRUE(
      ThrowsError([&] { Decode(FlipIdat(png, 100, false)); }, ErrorKind::kInput,
                  kPrefix + "corrupt PNG (IDAT: incorrect data check)"));
  EXPECT_TRUE(ThrowsError(
      [&] { Decode(FlipIdat(png, 0, true)); }, ErrorKind::kInput,
      kPrefix + "corrupt PNG (IDAT: invalid window size (libpng))"));
  // Garbage after the signature.
  Bytes garbage(png.begin(), png.begin() + 8);
  for (int i = 0; i < 200; ++i)
    garbage.push_back(static_cast<uint8_t>(i * 7 + 1));
  EXPECT_TRUE(ThrowsError([&] { Decode(garbage); }, ErrorKind::kInput,
                          kPrefix + "corrupt PNG ([1D][24][2B][32]: invalid "
                                    "chunk type)"));
  Bytes not_png = png;
  std::memcpy(not_png.data(), "GIF89a", 6);
  EXPECT_TRUE(ThrowsError([&] { Decode(not_png); }, ErrorKind::kInput,
                          kPrefix + "corrupt PNG (Not a PNG file)"));
  // A zero width cannot get past the header.
  Bytes zero = testing::PngHeader(0, 4);
  testing::PutPngChunk(zero, "IEND", {});
  std::string printed = testing::CaptureStderr([&] {
    EXPECT_TRUE(ThrowsError([&] { Decode(zero); }, ErrorKind::kInput,
                            kPrefix + "corrupt PNG (Invalid IHDR data)"));
    // A broken iCCP is a warning: dropped, the image read.
    const Bytes bad_icc =
        Insert(png, ChunkAt(png, "IDAT"), "iCCP",
               Bytes{'I', 'C', 'C', 0, 0, 0x78, 0x01, 0xFF, 0xFF});
    const Decoded d = Decode(bad_icc);
    EXPECT_TRUE(d.metadata.icc.empty());
    EXPECT_TRUE(SameMat(d.mat, CvDecode(png)));
  });
  EXPECT_EQ(printed, "");
}

class ThrowingSource : public Source {
 public:
  explicit ThrowingSource(const Bytes& b) : inner_(Source::FromMemory(b)) {}
  size_t Read(void* dst, size_t n) override {
    if (++reads_ > 3) throw Error(ErrorKind::kInput, "input 'x.png': boom");
    return inner_->Read(dst, n);
  }
  std::span<const uint8_t> Peek(size_t n) override { return inner_->Peek(n); }
  size_t ReadAt(uint64_t o, void* d, size_t n) override {
    return inner_->ReadAt(o, d, n);
  }
  bool Seekable() const override { return true; }
  std::optional<uint64_t> Size() const override { return inner_->Size(); }
  std::span<const uint8_t> All() override { return inner_->All(); }

 private:
  std::unique_ptr<Source> inner_;
  int reads_ = 0;
};

class ThrowingSink : public Sink {
 public:
  void Write(const void*, size_t) override {
    throw Error(ErrorKind::kOutput, "output 'x.png': disk full");
  }
};

TEST(PngCodecTest, SourceAndSinkErrorsPassThrough) {
  const Bytes png = CvEncode(RandomMat(50, 50, CV_8UC3, 13));
  ThrowingSource source(png);
  EXPECT_TRUE(ThrowsError(
      [&] {
        auto decoder = OpenPng(source, kName);
        std::vector<std::byte> rows(150 * 50);
        decoder->ReadRows(rows.data(), 150, 50);
      },
      ErrorKind::kInput, "input 'x.png': boom"));
  ThrowingSink sink;
  const cv::Mat m = RandomMat(50, 50, CV_8UC1, 14);
  EXPECT_TRUE(ThrowsError(
      [&] {
        auto encoder = NewPngEncoder(FormatOf(m), {}, {}, sink, kName);
        encoder->WriteRows(reinterpret_cast<const std::byte*>(m.data), 50, 50);
        encoder->Finish();
      },
      ErrorKind::kOutput, "output 'x.png': disk full"));
}

// ---- (f) Threads
// -------------------------------------------------------------

TEST(PngCodecTest, ThreadsGiveSameResults) {
  std::vector<cv::Mat> images;
  std::vector<Bytes> files, encoded;
  uint64_t seed = 300;
  for (const int type : {CV_8UC1, CV_8UC3, CV_16UC4, CV_8UC2, CV_16UC1}) {
    images.push_back(RandomMat(64, 48, type, seed++));
    Metadata md;
    md.xmp = kXmp;
    md.exif = MakeExif();
    encoded.push_back(Encode(images.back(), md, 5));
    files.push_back(images.back().channels() == 2 ? encoded.back()
                                                  : CvEncode(images.back()));
  }
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 10; ++round) {
        for (size_t i = 0; i < images.size(); ++i) {
          Metadata md;
          md.xmp = kXmp;
          md.exif = MakeExif();
          if (Encode(images[i], md, 5) != encoded[i]) ++failures;
          if (!SameMat(Decode(files[i], 3).mat, images[i])) ++failures;
          if (Decode(encoded[i], 64).metadata.xmp != kXmp) ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

// ---- (g) Large images: the image data in bands, on threads ----------------

// Encodes `m` on `threads` threads (EncodeOptions::threads), `band` rows
// per WriteRows, the bands deflated by `deflate`.
Bytes EncodeOn(int threads, const cv::Mat& m, const Metadata& metadata = {},
               int band = 64, PngDeflate deflate = PngDeflate::kZlib) {
  VectorSink sink;
  EncodeOptions options;
  options.threads = threads;
  options.png_deflate = deflate;
  auto encoder = NewPngEncoder(FormatOf(m), metadata, options, sink, kName);
  for (int y = 0; y < m.rows; y += band) {
    encoder->WriteRows(reinterpret_cast<const std::byte*>(m.ptr(y)),
                       static_cast<std::ptrdiff_t>(m.step),
                       std::min(band, m.rows - y));
  }
  encoder->Finish();
  return sink.bytes();
}

// The IDAT chunks' data, concatenated: the zlib stream.
Bytes IdatData(const Bytes& png) {
  Bytes out;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t n = png_get_uint_32(png.data() + at);
    if (std::memcmp(png.data() + at + 4, "IDAT", 4) == 0) {
      out.insert(out.end(), png.begin() + static_cast<ptrdiff_t>(at + 8),
                 png.begin() + static_cast<ptrdiff_t>(at + 8 + n));
    }
    at += 12 + size_t{n};
  }
  return out;
}

// zlib's own inflate of a whole zlib stream (header, data, Adler-32
// checked), or an empty vector if it fails or makes other than `size`
// bytes.
Bytes Inflate(const Bytes& stream, size_t size) {
  Bytes out(size + 1);
  uLongf got = static_cast<uLongf>(out.size());
  const int r = uncompress(out.data(), &got, stream.data(),
                           static_cast<uLong>(stream.size()));
  if (r != Z_OK || got != size) {
    ADD_FAILURE() << "uncompress: " << r << ", " << got << " bytes of " << size;
    return {};
  }
  out.resize(size);
  return out;
}

// What PNG stores for `m`, computed here: each row as filter type 1 (SUB)
// and the row in PNG's order (R,G,B(,A), 16-bit big-endian), each byte
// minus the byte one pixel before it.
Bytes SubFiltered(const cv::Mat& m) {
  const int cn = m.channels();
  const int bytes = m.depth() == CV_16U ? 2 : 1;
  const size_t bpp = static_cast<size_t>(cn * bytes);
  const size_t row_bytes = bpp * static_cast<size_t>(m.cols);
  Bytes out;
  out.reserve((row_bytes + 1) * static_cast<size_t>(m.rows));
  Bytes row(row_bytes);
  for (int y = 0; y < m.rows; ++y) {
    for (int x = 0; x < m.cols; ++x) {
      for (int k = 0; k < cn; ++k) {
        const int from = cn >= 3 && k < 3 ? 2 - k : k;
        const size_t at = static_cast<size_t>(x) * bpp + k * bytes;
        if (bytes == 1) {
          row[at] = m.ptr<uint8_t>(y)[x * cn + from];
        } else {
          const uint16_t v = m.ptr<uint16_t>(y)[x * cn + from];
          row[at] = static_cast<uint8_t>(v >> 8);
          row[at + 1] = static_cast<uint8_t>(v);
        }
      }
    }
    out.push_back(1);
    for (size_t i = 0; i < row_bytes; ++i) {
      out.push_back(
          static_cast<uint8_t>(row[i] - (i >= bpp ? row[i - bpp] : 0)));
    }
  }
  return out;
}

size_t SampleBytes(const cv::Mat& m) { return m.total() * m.elemSize(); }

int Bands(const cv::Mat& m) {
  const int per_band = png::RowsPerBand(m.cols * m.elemSize());
  return (m.rows + per_band - 1) / per_band;
}

// Just past the banded threshold, `width` wide, with a partial last band:
// noise on the right, a flat left half (runs, which Z_RLE finds).
cv::Mat LargeMat(int type, uint64_t seed, int width = 523) {
  const size_t row_bytes = static_cast<size_t>(width) * CV_ELEM_SIZE(type);
  int rows = static_cast<int>(png::kBandedMinBytes / row_bytes) + 1;
  while (rows % png::RowsPerBand(row_bytes) == 0) ++rows;
  cv::Mat m = RandomMat(rows, width, type, seed);
  m(cv::Rect(0, 0, width / 2, rows)).setTo(cv::Scalar::all(7));
  return m;
}

int IdatChunks(const Bytes& png) {
  const std::vector<std::string> chunks = Chunks(png);
  return static_cast<int>(std::count(chunks.begin(), chunks.end(), "IDAT"));
}

// The encoder's worker tasks still started and not joined (core::Async's
// count, process-wide: the workers park for reuse, so the process's thread
// count says nothing about them).
int WorkerTasks() { return core::Async::InFlight(); }

TEST(PngCodecTest, LargeImagesRoundTripEveryFormat) {
  uint64_t seed = 400;
  for (const int depth : {CV_8U, CV_16U}) {
    for (int cn = 1; cn <= 4; ++cn) {
      SCOPED_TRACE("depth " + std::to_string(depth) + " channels " +
                   std::to_string(cn));
      const cv::Mat m = LargeMat(CV_MAKETYPE(depth, cn), seed++);
      ASSERT_GE(SampleBytes(m), png::kBandedMinBytes);
      const Bytes png = EncodeOn(1, m);
      // One IDAT chunk per band: the banded path.
      EXPECT_EQ(IdatChunks(png), Bands(m));
      EXPECT_GT(Bands(m), 2);
      // The same bytes on any number of threads, fed in any bands.
      EXPECT_EQ(EncodeOn(2, m, {}, 1), png);
      EXPECT_EQ(EncodeOn(3, m, {}, m.rows), png);
      EXPECT_EQ(EncodeOn(0, m, {}, 37), png);
      // libpng and OpenCV decode the samples.
      EXPECT_TRUE(SameMat(Decode(png, 5).mat, m));
      const cv::Mat cv_view = CvDecode(png);
      if (cn == 2) {  // OpenCV reads gray+alpha as B,G,R,A
        std::vector<cv::Mat> in, out;
        cv::split(m, in);
        cv::split(cv_view, out);
        ASSERT_EQ(out.size(), 4u);
        for (int k = 0; k < 3; ++k) EXPECT_TRUE(SameMat(out[k], in[0]));
        EXPECT_TRUE(SameMat(out[3], in[1]));
      } else {
        EXPECT_TRUE(SameMat(cv_view, m));
      }
      // One zlib stream (zlib checks the Adler-32) of the rows filtered as
      // libpng filters them, and as OpenCV's file holds them.
      const Bytes filtered = SubFiltered(m);
      EXPECT_TRUE(Inflate(IdatData(png), filtered.size()) == filtered);
      if (cn != 2) {
        const Bytes cv_png = CvEncode(m);
        EXPECT_TRUE(Inflate(IdatData(cv_png), filtered.size()) == filtered);
        // Within 1% of one stream's size.
        const double ratio = static_cast<double>(png.size()) / cv_png.size();
        EXPECT_NEAR(ratio, 1.0, 0.01);
      }
    }
  }
}

// ISA-L's deflate (PngDeflate::kIsal, compare's heat maps): the same
// structure, one zlib stream whose Adler-32 zlib checks, the same bytes on
// any number of threads; and the samples decode as written, by libpng and
// by OpenCV.
TEST(PngCodecTest, LargeImagesDeflatedByIsaL) {
  uint64_t seed = 430;
  for (const int type : {CV_8UC3, CV_8UC1, CV_16UC4, CV_8UC2}) {
    SCOPED_TRACE("type " + std::to_string(type));
    const cv::Mat m = LargeMat(type, seed++);
    const Bytes png = EncodeOn(1, m, {}, 64, PngDeflate::kIsal);
    EXPECT_EQ(IdatChunks(png), Bands(m));
    EXPECT_EQ(EncodeOn(2, m, {}, 1, PngDeflate::kIsal), png);
    EXPECT_EQ(EncodeOn(0, m, {}, 37, PngDeflate::kIsal), png);
    EXPECT_NE(png, EncodeOn(2, m));  // not zlib's bytes
    EXPECT_TRUE(SameMat(Decode(png, 5).mat, m));
    if (m.channels() != 2) {
      EXPECT_TRUE(SameMat(CvDecode(png), m));
    }
    const Bytes filtered = SubFiltered(m);
    EXPECT_TRUE(Inflate(IdatData(png), filtered.size()) == filtered);
  }
  // A smooth colour ramp, as heat maps are: about zlib's size.
  cv::Mat ramp(1200, 1000, CV_8UC3);
  for (int y = 0; y < ramp.rows; ++y) {
    for (int x = 0; x < ramp.cols; ++x) {
      ramp.at<cv::Vec3b>(y, x) = cv::Vec3b(static_cast<uint8_t>(x * 255 / 999),
                                           static_cast<uint8_t>(y * 255 / 1199),
                                           static_cast<uint8_t>((x + y) / 9));
    }
  }
  const Bytes isal = EncodeOn(2, ramp, {}, 64, PngDeflate::kIsal);
  EXPECT_TRUE(SameMat(Decode(isal).mat, ramp));
  const double ratio =
      static_cast<double>(isal.size()) / EncodeOn(2, ramp).size();
  EXPECT_LT(ratio, 1.5);
}

TEST(PngCodecTest, LargeImageShapes) {
  // One row wider than a band: one row per band, the last row a band.
  const cv::Mat wide = RandomMat(5, 100'000, CV_8UC3, 410);
  ASSERT_GE(SampleBytes(wide), png::kBandedMinBytes);
  ASSERT_EQ(png::RowsPerBand(wide.cols * wide.elemSize()), 1);
  const Bytes wide_png = EncodeOn(2, wide, {}, 2);
  EXPECT_EQ(IdatChunks(wide_png), 5);
  EXPECT_TRUE(SameMat(Decode(wide_png).mat, wide));
  EXPECT_EQ(EncodeOn(1, wide), wide_png);
  // One row, one band: first and last at once, no worker.
  const cv::Mat row = RandomMat(1, 400'000, CV_8UC3, 411);
  ASSERT_GE(SampleBytes(row), png::kBandedMinBytes);
  const Bytes row_png = EncodeOn(4, row);
  EXPECT_EQ(IdatChunks(row_png), 1);
  EXPECT_TRUE(SameMat(Decode(row_png).mat, row));
  EXPECT_TRUE(SameMat(CvDecode(row_png), row));
  // Whole bands only, and a last band of one row.
  for (const int extra : {0, 1}) {
    const int per_band = png::RowsPerBand(1024 * 3);
    const cv::Mat m = RandomMat(per_band * 12 + extra, 1024, CV_8UC3, 412);
    const Bytes png = EncodeOn(2, m, {}, 100);
    EXPECT_EQ(IdatChunks(png), 12 + extra);
    EXPECT_TRUE(SameMat(Decode(png, 7).mat, m));
  }
}

TEST(PngCodecTest, BandedFromTheThresholdOn) {
  // 1024 bytes a row: 1023 rows are below the threshold and keep libpng's
  // one stream, OpenCV's bytes; 1024 rows are banded.
  const cv::Mat below = RandomMat(1023, 1024, CV_8UC1, 420);
  ASSERT_LT(SampleBytes(below), png::kBandedMinBytes);
  EXPECT_EQ(EncodeOn(2, below), CvEncode(below));
  const cv::Mat at = RandomMat(1024, 1024, CV_8UC1, 421);
  ASSERT_EQ(SampleBytes(at), png::kBandedMinBytes);
  const Bytes png = EncodeOn(2, at);
  EXPECT_EQ(IdatChunks(png), Bands(at));
  EXPECT_NE(png, CvEncode(at));
  EXPECT_TRUE(SameMat(Decode(png).mat, at));
}

TEST(PngCodecTest, LargeImageKeepsMetadata) {
  const cv::Mat m = LargeMat(CV_8UC3, 430);
  Metadata md;
  md.icc = MakeIcc("RGB ");
  md.exif = MakeExif();
  md.xmp = kXmp;
  md.provenance = "convcorr 1.0 command=compare kernel=sobel-x";
  const Bytes png = EncodeOn(2, m, md);
  // The metadata before the image data, IEND last.
  std::vector<std::string> expected = {"IHDR", "iCCP", "eXIf", "iTXt", "tEXt"};
  expected.insert(expected.end(), static_cast<size_t>(Bands(m)), "IDAT");
  expected.push_back("IEND");
  EXPECT_EQ(Chunks(png), expected);
  const Decoded d = Decode(png, 64);
  EXPECT_TRUE(SameMat(d.mat, m));
  EXPECT_EQ(d.metadata.icc, md.icc);
  EXPECT_EQ(d.metadata.exif, md.exif);
  EXPECT_EQ(d.metadata.xmp, md.xmp);
  EXPECT_EQ(ReadProvenance(png), std::optional<std::string>(md.provenance));
  EXPECT_TRUE(SameMat(CvDecode(png), m));
}

// A sink that throws at its `fail_at`-th Write (counting from 1; 0: never),
// and counts the writes.
class FailingSink : public Sink {
 public:
  explicit FailingSink(int fail_at) : fail_at_(fail_at) {}
  void Write(const void* data, size_t n) override {
    if (++writes_ == fail_at_) {
      throw Error(ErrorKind::kOutput, "output 'x.png': disk full");
    }
    const auto* p = static_cast<const uint8_t*>(data);
    bytes_.insert(bytes_.end(), p, p + n);
  }
  int writes() const { return writes_; }
  const Bytes& bytes() const { return bytes_; }

 private:
  int fail_at_;
  int writes_ = 0;
  Bytes bytes_;
};

TEST(PngCodecTest, LargeImageSinkFailureStopsEveryThread) {
  const cv::Mat m = LargeMat(CV_8UC3, 440);
  constexpr int kBand = 16;
  FailingSink counting(0);
  {
    EncodeOptions options;
    options.threads = 2;
    auto encoder = NewPngEncoder(FormatOf(m), {}, options, counting, kName);
    for (int y = 0; y < m.rows; y += kBand) {
      encoder->WriteRows(reinterpret_cast<const std::byte*>(m.ptr(y)),
                         static_cast<std::ptrdiff_t>(m.step),
                         std::min(kBand, m.rows - y));
    }
    encoder->Finish();
  }
  ASSERT_EQ(counting.bytes(), EncodeOn(2, m));
  // Signature, IHDR: 4 writes; each chunk: 3 (header, data, CRC), IEND 2.
  const int total = counting.writes();
  ASSERT_EQ(total, 4 + 3 * Bands(m) + 2);
  const int tasks_before = WorkerTasks();
  // The first IDAT's header, a band in the middle, the last band's CRC,
  // IEND's header and CRC.
  for (const int fail_at :
       {5, 4 + 3 * (Bands(m) / 2) + 2, total - 2, total - 1, total}) {
    SCOPED_TRACE("failing write " + std::to_string(fail_at));
    FailingSink sink(fail_at);
    EncodeOptions options;
    options.threads = 2;
    auto encoder = NewPngEncoder(FormatOf(m), {}, options, sink, kName);
    EXPECT_GT(WorkerTasks(), tasks_before);
    const auto write_all = [&] {
      for (int y = 0; y < m.rows; y += kBand) {
        encoder->WriteRows(reinterpret_cast<const std::byte*>(m.ptr(y)),
                           static_cast<std::ptrdiff_t>(m.step),
                           std::min(kBand, m.rows - y));
      }
      encoder->Finish();
    };
    EXPECT_TRUE(ThrowsError(write_all, ErrorKind::kOutput,
                            "output 'x.png': disk full"));
    // No worker left, while the encoder still exists; every later call
    // throws the same error.
    EXPECT_EQ(WorkerTasks(), tasks_before);
    EXPECT_TRUE(ThrowsError([&] { encoder->Finish(); }, ErrorKind::kOutput,
                            "output 'x.png': disk full"));
    EXPECT_EQ(sink.writes(), fail_at);
  }
}

TEST(PngCodecTest, LargeImageAbandonedMidwayJoinsItsThreads) {
  const cv::Mat m = LargeMat(CV_16UC3, 450);
  const int tasks_before = WorkerTasks();
  VectorSink sink;
  {
    EncodeOptions options;
    options.threads = 3;
    auto encoder = NewPngEncoder(FormatOf(m), {}, options, sink, kName);
    encoder->WriteRows(reinterpret_cast<const std::byte*>(m.data),
                       static_cast<std::ptrdiff_t>(m.step), m.rows / 2);
    EXPECT_GT(WorkerTasks(), tasks_before);
  }
  EXPECT_EQ(WorkerTasks(), tasks_before);
}

TEST(PngCodecTest, LargeImagesEncodeInParallel) {
  std::vector<cv::Mat> images = {
      LargeMat(CV_8UC3, 460), LargeMat(CV_16UC1, 461), LargeMat(CV_8UC4, 462)};
  std::vector<Bytes> expected;
  for (const cv::Mat& m : images) expected.push_back(EncodeOn(1, m));
  std::atomic<int> failures = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 2; ++round) {
        for (size_t i = 0; i < images.size(); ++i) {
          if (EncodeOn(2 + t, images[i], {}, 29) != expected[i]) ++failures;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace convcorr::io
