// The PNM/PAM/PFM reader and the PNM, PFM and BMP writers. OpenCV 4.6 is
// the oracle where it reads a form the same way (files made by
// cv::imencode, or by hand, compared sample for sample with cv::imdecode);
// elsewhere the expected samples are computed here.
#include <gtest/gtest.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "io/codec.h"
#include "pipe_feed.h"

namespace convcorr::io {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes B(const std::string& s) { return Bytes(s.begin(), s.end()); }

// A string literal with the NULs in it.
template <size_t N>
std::string S(const char (&s)[N]) {
  return std::string(s, N - 1);
}

struct Decoded {
  PixelFormat format;
  Bytes samples;  // rows packed
};

// Decodes everything, in bands of `band` rows (0: all at once), into rows
// `pad` bytes longer than needed.
Decoded DecodeFrom(Source& source, int band = 0, int pad = 0) {
  std::unique_ptr<Decoder> d = OpenPnm(source, "x.pgm");
  Decoded out{d->format(), {}};
  const size_t row = out.format.RowBytes();
  const size_t stride = row + static_cast<size_t>(pad);
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
  return out;
}

Decoded Decode(const Bytes& bytes, int band = 0, int pad = 0) {
  const std::unique_ptr<Source> source = Source::FromMemory(bytes);
  return DecodeFrom(*source, band, pad);
}

// The same through a pipe (a source that cannot seek), written from a
// thread; what the decoder leaves is drained so the writer never blocks.
Decoded DecodePipe(const Bytes& bytes, int band = 0) {
  return pipe_feed::ThroughPipe(bytes, [&](int fd) {
    const std::unique_ptr<Source> source = Source::FromFd(fd, "x.pgm");
    EXPECT_FALSE(source->Seekable());
    return DecodeFrom(*source, band);
  });
}

int CvDepth(core::Depth d) {
  return d == core::Depth::kU8    ? CV_8U
         : d == core::Depth::kU16 ? CV_16U
                                  : CV_32F;
}

// Our samples equal OpenCV's, bit for bit.
void ExpectSameAsOpenCV(const Decoded& d, const Bytes& file) {
  const cv::Mat m = cv::imdecode(file, cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(m.empty());
  ASSERT_EQ(d.format.width, m.cols);
  ASSERT_EQ(d.format.height, m.rows);
  ASSERT_EQ(d.format.channels, m.channels());
  ASSERT_EQ(CvDepth(d.format.depth), m.depth());
  const size_t row = d.format.RowBytes();
  for (int y = 0; y < m.rows; ++y) {
    ASSERT_EQ(0, std::memcmp(d.samples.data() + y * row, m.ptr(y), row))
        << "row " << y;
  }
}

Bytes Encode(const cv::Mat& m, const std::string& ext,
             std::vector<int> params = {}) {
  Bytes out;
  EXPECT_TRUE(cv::imencode(ext, m, out, params));
  return out;
}

cv::Mat RandomMat(int rows, int cols, int type, unsigned seed) {
  cv::Mat m(rows, cols, type);
  cv::RNG rng(seed);
  if (CV_MAT_DEPTH(type) == CV_32F) {
    rng.fill(m, cv::RNG::UNIFORM, -1000.0, 1000.0);
  } else {
    rng.fill(m, cv::RNG::UNIFORM, 0, CV_MAT_DEPTH(type) == CV_8U ? 256 : 65536);
  }
  return m;
}

// One kInput error of one line, quoting the input.
void ExpectInputError(const Bytes& bytes, const std::string& contains = "") {
  try {
    Decode(bytes);
    ADD_FAILURE() << "no error for: "
                  << std::string(bytes.begin(), bytes.end()).substr(0, 60);
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInput);
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("input 'x.pgm': ", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    EXPECT_NE(what.find(contains), std::string::npos) << what;
    EXPECT_NE(what.back(), '.') << what;
  }
}

TEST(PnmReaderTest, BinaryGrayAndColourMatchOpenCV) {
  for (const int type : {CV_8UC1, CV_16UC1, CV_8UC3, CV_16UC3}) {
    const cv::Mat m = RandomMat(23, 37, type, 7 + type);
    const Bytes file = Encode(m, CV_MAT_CN(type) == 1 ? ".pgm" : ".ppm");
    for (const int band : {1, 4, 0}) {
      SCOPED_TRACE("type " + std::to_string(type) + " band " +
                   std::to_string(band));
      ExpectSameAsOpenCV(Decode(file, band), file);
      ExpectSameAsOpenCV(Decode(file, band, 3), file);  // rows with a gap
    }
  }
}

TEST(PnmReaderTest, PfmMatchesOpenCVSeekableOrNot) {
  for (const int type : {CV_32FC1, CV_32FC3}) {
    cv::Mat m = RandomMat(19, 11, type, 3);
    // Values that must pass unchanged.
    m.ptr<float>(0)[0] = -0.0f;
    m.ptr<float>(1)[0] = std::numeric_limits<float>::infinity();
    m.ptr<float>(2)[1] = std::numeric_limits<float>::denorm_min();
    const Bytes file = Encode(m, ".pfm");
    for (const int band : {1, 4, 0}) {
      SCOPED_TRACE("type " + std::to_string(type) + " band " +
                   std::to_string(band));
      const Decoded a = Decode(file, band);
      ExpectSameAsOpenCV(a, file);
      ExpectSameAsOpenCV(Decode(file, band, 8), file);
      const Decoded b = DecodePipe(file, band);
      ExpectSameAsOpenCV(b, file);
      // And the samples are the Mat's, so R,G,B went back to B,G,R.
      for (int y = 0; y < m.rows; ++y) {
        ASSERT_EQ(0, std::memcmp(a.samples.data() + y * a.format.RowBytes(),
                                 m.ptr(y), a.format.RowBytes()));
      }
    }
  }
}

std::string BigEndianFloats(std::initializer_list<float> values) {
  std::string s;
  for (float v : values) {
    const uint32_t u = std::bit_cast<uint32_t>(v);
    for (int shift = 24; shift >= 0; shift -= 8)
      s += static_cast<char>(u >> shift);
  }
  return s;
}

TEST(PnmReaderTest, PfmBigEndianScaledBottomUp) {
  // Positive scale: big-endian; samples divided by it; the first file row
  // is the bottom one; R,G,B becomes B,G,R.
  const Bytes file = B("PF\n2 2\n2.0\n" + BigEndianFloats({1, 2, 3, 4, 5, 6, 7,
                                                           8, 9, 10, 11, 12}));
  for (bool pipe : {false, true}) {
    const Decoded d = pipe ? DecodePipe(file, 1) : Decode(file, 1);
    ASSERT_EQ(d.format.channels, 3);
    ASSERT_EQ(d.format.depth, core::Depth::kF32);
    std::vector<float> got(12);
    std::memcpy(got.data(), d.samples.data(), 48);
    EXPECT_EQ(got, (std::vector<float>{4.5f, 4.f, 3.5f, 6.f, 5.5f, 5.f, 1.5f,
                                       1.f, .5f, 3.f, 2.5f, 2.f}));
    ExpectSameAsOpenCV(d, file);
  }
}

TEST(PnmReaderTest, PamFormsWithSamplesComputedHere) {
  struct Case {
    std::string tupltype;
    int depth;
    int maxval;
    std::string data;           // as stored
    std::vector<uint16_t> out;  // as delivered
  };
  const std::vector<Case> cases = {
      {"GRAYSCALE", 1, 255, "\x01\x02\x03\x04", {1, 2, 3, 4}},
      {"GRAYSCALE_ALPHA",
       2,
       255,
       "\x01\x80\x02\x81\x03\x82\x04\x83",
       {1, 128, 2, 129, 3, 130, 4, 131}},
      {"RGB",
       3,
       255,
       "\x0a\x0b\x0c\x14\x15\x16\x1e\x1f\x20\x28\x29\x2a",
       {12, 11, 10, 22, 21, 20, 32, 31, 30, 42, 41, 40}},
      {"RGB_ALPHA",
       4,
       255,
       "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10",
       {3, 2, 1, 4, 7, 6, 5, 8, 11, 10, 9, 12, 15, 14, 13, 16}},
      {"",
       1,
       100,
       S("\x00\x32\x64\xc8"),
       {0, 50, 100, 200}},  // stored as is, as OpenCV
      {"BLACKANDWHITE", 1, 1, S("\x00\x01\x01\x00"), {0, 255, 255, 0}},
      {"RGB",
       3,
       65535,
       S("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c"
         "\xff\xfe\x00\x01\x00\x00\x12\x34\x56\x78\x9a\xbc"),
       {0x0506, 0x0304, 0x0102, 0x0b0c, 0x090a, 0x0708, 0x0000, 0x0001, 0xfffe,
        0x9abc, 0x5678, 0x1234}},
      {"GRAYSCALE",
       1,
       1000,
       S("\x03\xe8\x00\x00\x01\x00\x00\x07"),
       {1000, 0, 256, 7}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.tupltype + " " + std::to_string(c.maxval));
    std::string header = "P7\nWIDTH 2\nHEIGHT 2\nDEPTH " +
                         std::to_string(c.depth) + "\nMAXVAL " +
                         std::to_string(c.maxval) + "\n";
    if (!c.tupltype.empty()) header += "TUPLTYPE " + c.tupltype + "\n";
    const Bytes file = B(header + "ENDHDR\n" + c.data);
    for (const int band : {1, 0}) {
      const Decoded d = Decode(file, band);
      EXPECT_EQ(d.format.width, 2);
      EXPECT_EQ(d.format.height, 2);
      EXPECT_EQ(d.format.channels, c.depth);
      const bool wide = c.maxval > 255;
      EXPECT_EQ(d.format.depth, wide ? core::Depth::kU16 : core::Depth::kU8);
      std::vector<uint16_t> got;
      for (size_t i = 0; i < c.out.size(); ++i) {
        uint16_t v = d.samples[i];
        if (wide) std::memcpy(&v, d.samples.data() + 2 * i, 2);
        got.push_back(v);
      }
      EXPECT_EQ(got, c.out);
    }
    // Where OpenCV reads the same (gray 8-bit), it agrees.
    if (c.depth == 1 && c.maxval > 1 && c.maxval < 256)
      ExpectSameAsOpenCV(Decode(file), file);
  }
}

TEST(PnmReaderTest, PamHeaderLayout) {
  // Indented fields, blank and comment lines, '\r' line ends, trailing
  // blanks: as OpenCV reads them.
  const Bytes file = B(
      "P7\r  WIDTH\t3  \r\r# note\rHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\nabc");
  const Decoded d = Decode(file);
  EXPECT_EQ(d.samples, B("abc"));
  ExpectSameAsOpenCV(d, file);
}

TEST(PnmReaderTest, AsciiAndBitmapForms) {
  struct Case {
    std::string file;
    int channels;
    std::vector<uint8_t> out;
  };
  const std::vector<Case> cases = {
      // P1: 1 is black; digits need no separator; any nonzero digit is 1.
      {"P1\n5 2\n1 0 1 0 1\n00111\n",
       1,
       {0, 255, 0, 255, 0, 255, 255, 0, 0, 0}},
      {"P1 3 1 1 2 0", 1, {0, 0, 255}},
      // P4: bits from the most significant, rows padded to bytes.
      {S("P4\n10 2\n\xa5\xc0\x0f\xff"), 1, {0, 255, 0, 255, 255, 0,   255,
                                            0, 0,   0, 255, 255, 255, 255,
                                            0, 0,   0, 0,   0,   0}},
      // P2: scaled to 0..255 by v * 255 / maxval, clamped to maxval.
      {"P2\n3 1\n255\n0 128 255\n", 1, {0, 128, 255}},
      {"P2\n4 1\n100\n0 50 100 200\n", 1, {0, 127, 255, 255}},
      {"P2 2 1 1 0 1 ", 1, {0, 255}},
      // P3: R,G,B in the file.
      {"P3\n2 1\n15\n1 2 3 4 5 15\n", 3, {51, 34, 17, 255, 85, 68}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const Bytes file = B(c.file);
    for (const int band : {1, 0}) {
      const Decoded d = Decode(file, band);
      EXPECT_EQ(d.format.channels, c.channels);
      EXPECT_EQ(d.format.depth, core::Depth::kU8);
      EXPECT_EQ(d.samples, c.out);
    }
    ExpectSameAsOpenCV(Decode(file), file);
  }
  // An ASCII sample may end at the end of the file (OpenCV wants one more
  // byte there).
  EXPECT_EQ(Decode(B("P2\n1 1\n255\n7")).samples, Bytes{7});
}

TEST(PnmReaderTest, MaxvalOtherThan255Or65535) {
  // Binary samples are delivered as stored, ASCII ones scaled (8-bit) or
  // clamped (16-bit): as OpenCV.
  const std::vector<std::string> files = {
      S("P5\n3 1\n100\n\x00\x32\xc8"),
      "P2\n3 1\n100\n0 50 100\n",
      "P2\n3 1\n1000\n0 500 2000\n",
      S("P5\n2 1\n1000\n\x03\xe8\xff\xff"),
      S("P6\n1 1\n1000\n\x00\x01\x00\x02\x00\x03"),
      "P3\n1 1\n1000\n1 2 3000\n",
  };
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    const Bytes file = B(f);
    ExpectSameAsOpenCV(Decode(file, 1), file);
  }
  EXPECT_EQ(Decode(B(files[0])).samples, (Bytes{0, 50, 200}));
  const Decoded wide = Decode(B(files[2]));
  std::vector<uint16_t> got(3);
  std::memcpy(got.data(), wide.samples.data(), 6);
  EXPECT_EQ(got, (std::vector<uint16_t>{0, 500, 1000}));
}

TEST(PnmReaderTest, CommentsWhereverWhitespaceIs) {
  const std::vector<std::string> files = {
      "P2 #c\n#x\n2\n#y\n 1 #z\n\r255\n#in the data\n 7 #\n 9\n",
      S("P5\n# a\n# b\n2 # w\n1\n# m\n255\n\x01\x02"),
      // '#' right after a number ends it and is consumed: "2#12" is 2, 12.
      "P2 2#12\n255\n1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 "
      "23 24\n",
  };
  for (const std::string& f : files) {
    SCOPED_TRACE(f);
    const Bytes file = B(f);
    ExpectSameAsOpenCV(Decode(file), file);
  }
  EXPECT_EQ(Decode(B(files[0])).samples, (Bytes{7, 9}));
  EXPECT_EQ(Decode(B(files[2])).format.height, 12);
}

TEST(PnmReaderTest, HostileHeadersGiveOneInputError) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"P5 3000000000 1 255\n", "over 2147483647 pixels a side"},
      {"P5 1 99999999999999999999999999 255\n",
       "over 2147483647 pixels a side"},
      {"P5 0 5 255\n", "image header says the size is 0"},
      {"P5 -1 5 255\n", "corrupt PNM header (unexpected '-')"},
      {"P5 2 2\n", "truncated PNM (the header ends early)"},
      {"P5 2 2\nAB", "corrupt PNM header"},
      {"P5 2 2 0\nAB", "corrupt PNM header (maxval 0)"},
      {"P5 2 2 70000\nAB", "corrupt PNM header (maxval 70000 is over 65535)"},
      {"P5 2 2 #comment", "truncated PNM (the header ends early)"},
      {"P5x2 2 255 ", "corrupt PNM header"},
      {"P8 1 1 1", "not a PNM, PAM or PFM file"},
      {"P", "not a PNM, PAM or PFM file"},
      {"P2 2 1 255 1 x", "corrupt PNM data (unexpected 'x')"},
      {"P2 2 1 255 1 99999999999",
       "corrupt PNM data (a sample is over 2147483647)"},
      {"P2 2 1 255 1 \x01", "corrupt PNM data (unexpected byte 0x01)"},
      {"P7\nWIDTH 1\nHEIGHT 1\nDEPTH 5\nMAXVAL 255\nENDHDR\n12345",
       "DEPTH 5 is not supported"},
      {"P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nTUPLTYPE FOO\nENDHDR\n1",
       "unknown TUPLTYPE 'FOO'"},
      {"P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nTUPLTYPE RGB\nENDHDR\n1",
       "TUPLTYPE RGB with DEPTH 1"},
      {"P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nENDHDR\n1", "no MAXVAL"},
      {"P7\nWIDTH 1\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\n1",
       "repeated WIDTH"},
      {"P7\nWIDTH -1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\n1",
       "WIDTH '-1' is not a number"},
      {"P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 0\nENDHDR\n1", "MAXVAL 0"},
      {"P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 70000\nENDHDR\n1",
       "MAXVAL 70000 is over 65535"},
      {"P7\nWIDTH 1\nHEIGHT 1\nDEPTHS 1\n", "unknown field 'DEPTHS'"},
      {"P7\nWIDTH 1\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\n",
       "truncated PAM (the header ends early)"},
      {"P7 WIDTH 1\n", "corrupt PAM header (no line break after P7)"},
      {"P7\nWIDTH 4294967297\nHEIGHT 1\nDEPTH 1\nMAXVAL 255\nENDHDR\n",
       "over 2147483647"},
      {"Pf\n1 1\n0\n\x01\x02\x03\x04", "corrupt PFM header (scale 0)"},
      {"Pf\n1 1\nnan\n\x01\x02\x03\x04", "scale 'nan' is not a finite number"},
      {"Pf\n1 1\n-1abc\n\x01\x02\x03\x04",
       "scale '-1abc' is not a finite number"},
      {"Pf\nabc 1\n-1\n\x01\x02\x03\x04", "width 'abc' is not a number"},
      {"Pf\n-3 1\n-1\n\x01\x02\x03\x04", "width '-3' is not a number"},
      {"Pf 1 1 -1 \x01\x02\x03\x04",
       "corrupt PFM header (no line break after Pf)"},
      {"PF\n1\n", "truncated PFM (the header ends early)"},
      {"Pf\n0 1\n-1\n", "image header says the size is 0"},
      {"Pf\n1  1\n-1\n\x01\x02\x03\x04", "corrupt PFM header (no height)"},
  };
  for (const auto& [file, message] : cases) {
    SCOPED_TRACE(file);
    ExpectInputError(B(file), message);
  }
}

TEST(PnmReaderTest, TruncatedPixelDataAtSeveralPoints) {
  // Each file with the length of its header.
  const std::vector<std::pair<Bytes, size_t>> files = {
      {Encode(RandomMat(9, 7, CV_8UC3, 1), ".ppm"), 11},
      {Encode(RandomMat(9, 7, CV_16UC1, 2), ".pgm"), 13},
      {Encode(RandomMat(9, 7, CV_32FC3, 3), ".pfm"), 10},
      {Encode(RandomMat(9, 7, CV_32FC1, 4), ".pfm"), 10},
      {B(S("P4\n10 3\n\xa5\xc0\x0f\xff\x01\x02")), 8},
      {B("P2\n3 2\n255\n1 2 3\n4 5 6\n"), 11},
      {B("P1\n3 2\n1 0 1\n0 1 1\n"), 7},
      {B("P7\nWIDTH 2\nHEIGHT 2\nDEPTH 2\nMAXVAL 255\nENDHDR\n12345678"), 47},
  };
  for (const auto& [full, header] : files) {
    ASSERT_NO_THROW(Decode(full));
    // After the header, in the middle, two bytes short (an ASCII file
    // loses its last sample).
    for (const size_t keep :
         {header, (header + full.size()) / 2, full.size() - 2}) {
      const Bytes cut(full.begin(),
                      full.begin() + static_cast<std::ptrdiff_t>(keep));
      SCOPED_TRACE(std::string(full.begin(), full.begin() + 2) + " cut at " +
                   std::to_string(keep));
      ExpectInputError(cut, "truncated");
      if (full[1] == 'f' || full[1] == 'F') {
        EXPECT_THROW(DecodePipe(cut, 4), Error);
      }
    }
  }
  // The binary forms say where: the pixel data.
  ExpectInputError(B("P5\n2 2\n255\nABC"),
                   "truncated PNM (the pixel data ends early)");
  ExpectInputError(B("Pf\n1 2\n-1\n\x01\x02\x03\x04"),
                   "truncated PFM (the pixel data ends early)");
}

TEST(PnmReaderTest, SizesComputedWithoutOverflow) {
  // 10000x20000 colour floats: 2.4 GB of samples. The header opens (no
  // buffer yet), rows sit at offsets over 2^31, and reading one finds the
  // data missing.
  const Bytes big = B("PF\n10000 20000\n-1\n");
  {
    const std::unique_ptr<Source> source = Source::FromMemory(big);
    const std::unique_ptr<Decoder> d = OpenPnm(*source, "x.pgm");
    EXPECT_EQ(d->format().width, 10000);
    EXPECT_EQ(d->format().height, 20000);
    EXPECT_EQ(d->format().RowBytes(), 120000u);
    std::vector<std::byte> row(120000);
    try {
      d->ReadRows(row.data(), 120000, 1);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_STREQ(e.what(),
                   "input 'x.pgm': truncated PFM (the pixel data ends early)");
    }
  }
  // 2^31-1 a side: the data's size does not fit in 64 bits.
  ExpectInputError(B("PF\n2147483647 2147483647\n-1\n"),
                   "image is too large to address");
  // The largest sides open.
  const Bytes wide = B("P6 2147483647 2147483647 65535\n");
  const std::unique_ptr<Source> source = Source::FromMemory(wide);
  const std::unique_ptr<Decoder> d = OpenPnm(*source, "x.pgm");
  EXPECT_EQ(d->format().RowBytes(), 2147483647ull * 6);
  ExpectInputError(B("P6 2147483648 1 255\n"), "over 2147483647 pixels a side");
}

// ---- Writers ----

Bytes EncodeWith(const cv::Mat& m, core::Depth depth, const std::string& kind,
                 int band = 0) {
  PixelFormat f{m.cols, m.rows, m.channels(), depth};
  VectorSink sink;
  std::unique_ptr<Encoder> e = kind == "bmp"
                                   ? NewBmpEncoder(f, sink, "out")
                                   : NewPnmEncoder(kind, f, sink, "out");
  const int step = band > 0 ? band : m.rows;
  for (int y = 0; y < m.rows; y += step) {
    e->WriteRows(reinterpret_cast<const std::byte*>(m.ptr(y)),
                 static_cast<std::ptrdiff_t>(m.step[0]),
                 std::min(step, m.rows - y));
  }
  e->Finish();
  return std::move(sink.bytes());
}

core::Depth DepthOf(const cv::Mat& m) {
  return m.depth() == CV_8U    ? core::Depth::kU8
         : m.depth() == CV_16U ? core::Depth::kU16
                               : core::Depth::kF32;
}

TEST(PnmWriterTest, BytesEqualToOpenCVAndReadBack) {
  struct Case {
    int type;
    std::string kind;
    std::string ext;
  };
  const std::vector<Case> cases = {
      {CV_8UC1, "pgm", ".pgm"},  {CV_16UC1, "pgm", ".pgm"},
      {CV_8UC3, "ppm", ".ppm"},  {CV_16UC3, "ppm", ".ppm"},
      {CV_8UC1, "pnm", ".pnm"},  {CV_8UC3, "pnm", ".pnm"},
      {CV_16UC3, "pnm", ".pnm"}, {CV_32FC1, "pfm", ".pfm"},
      {CV_32FC3, "pfm", ".pfm"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kind + " type " + std::to_string(c.type));
    const cv::Mat full = RandomMat(21, 13, c.type, 11 + c.type);
    const cv::Mat m = full(cv::Rect(1, 2, 11, 17));  // rows with a gap
    const Bytes expected = Encode(m, c.ext);
    for (const int band : {1, 4, 0}) {
      EXPECT_EQ(EncodeWith(m, DepthOf(m), c.kind, band), expected);
    }
    ExpectSameAsOpenCV(Decode(expected), expected);
  }
}

TEST(PnmWriterTest, GrayAsPpmIsThreeEqualChannels) {
  const cv::Mat gray = RandomMat(5, 6, CV_16UC1, 5);
  cv::Mat bgr;
  cv::merge(std::vector<cv::Mat>{gray, gray, gray}, bgr);
  EXPECT_EQ(EncodeWith(gray, core::Depth::kU16, "ppm"), Encode(bgr, ".ppm"));
}

TEST(PnmWriterTest, RefusesWhatItCannotStore) {
  const auto refuse = [](int channels, core::Depth depth,
                         const std::string& kind, const std::string& message) {
    SCOPED_TRACE(kind + " " + std::to_string(channels));
    VectorSink sink;
    const PixelFormat f{4, 4, channels, depth};
    try {
      if (kind == "bmp") {
        NewBmpEncoder(f, sink, "o.x");
      } else {
        NewPnmEncoder(kind, f, sink, "o.x");
      }
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kOutput);
      EXPECT_EQ(std::string(e.what()), "output 'o.x': " + message);
    }
    EXPECT_TRUE(sink.bytes().empty());
  };
  refuse(3, core::Depth::kU8, "pgm",
         "pgm stores one channel; use ppm or png, or --gray");
  refuse(4, core::Depth::kU8, "ppm",
         "ppm cannot store an alpha channel; use png or tif, or --gray");
  refuse(2, core::Depth::kU16, "pnm",
         "pnm cannot store an alpha channel; use png or tif, or --gray");
  refuse(4, core::Depth::kF32, "pfm",
         "pfm cannot store an alpha channel; use png or tif, or --gray");
  refuse(1, core::Depth::kU8, "pfm",
         "pfm stores only float samples; use png or tif, or --depth f32");
  refuse(
      1, core::Depth::kF32, "pgm",
      "pgm cannot store float samples; use tif (or pfm), or --depth u8 or u16");
  refuse(4, core::Depth::kU8, "bmp",
         "bmp cannot store an alpha channel; use png or tif, or --gray");
  refuse(3, core::Depth::kU16, "bmp",
         "bmp cannot store 16-bit samples; use png or tif, or --depth u8");
}

TEST(BmpWriterTest, BytesEqualToOpenCVAndReadBack) {
  for (const int type : {CV_8UC1, CV_8UC3}) {
    for (const int width : {1, 2, 3, 4, 5, 17}) {
      SCOPED_TRACE("type " + std::to_string(type) + " width " +
                   std::to_string(width));
      const cv::Mat m = RandomMat(7, width, type, 100 + width);
      const Bytes expected = Encode(m, ".bmp");
      for (const int band : {1, 4, 0}) {
        EXPECT_EQ(EncodeWith(m, core::Depth::kU8, "bmp", band), expected);
      }
      const cv::Mat back = cv::imdecode(expected, cv::IMREAD_UNCHANGED);
      // OpenCV reads a grey-palette BMP as gray.
      EXPECT_EQ(cv::norm(back, m, cv::NORM_INF), 0);
    }
  }
}

TEST(PnmCodecTest, TwoThreadsAtOnce) {
  const Bytes pfm = Encode(RandomMat(64, 48, CV_32FC3, 9), ".pfm");
  const Bytes ppm = Encode(RandomMat(64, 48, CV_16UC3, 10), ".ppm");
  const Decoded pfm_once = Decode(pfm);
  const Decoded ppm_once = Decode(ppm);
  const cv::Mat gray = RandomMat(33, 31, CV_8UC1, 12);
  const Bytes bmp_once = Encode(gray, ".bmp");
  bool ok[2] = {true, true};
  const auto work = [&](int t) {
    for (int i = 0; i < 50; ++i) {
      const Bytes& file = t == 0 ? pfm : ppm;
      const Decoded& want = t == 0 ? pfm_once : ppm_once;
      ok[t] &= Decode(file, 1 + i % 5).samples == want.samples;
      ok[t] &= EncodeWith(gray, core::Depth::kU8, "bmp", 1 + i % 3) == bmp_once;
    }
  };
  std::thread a(work, 0);
  std::thread b(work, 1);
  a.join();
  b.join();
  EXPECT_TRUE(ok[0]);
  EXPECT_TRUE(ok[1]);
}

}  // namespace
}  // namespace convcorr::io
