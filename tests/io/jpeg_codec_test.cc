// The JPEG codec against OpenCV 4.6 as oracle: decoded samples equal
// cv::imdecode(IMREAD_UNCHANGED)'s, encoded bytes equal cv::imencode's;
// and the refusals of truncated and corrupt files, word for word.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <random>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

// After <cstdio>: jpeglib.h needs FILE and size_t declared.
#include <jpeglib.h>

#include "common/error.h"
#include "io/codec.h"

namespace convcorr::io {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr char kTruncated[] =
    "input 'x.jpg': truncated JPEG (no end-of-image marker)";
constexpr char kMissingData[] =
    "input 'x.jpg': truncated or corrupt JPEG (the decoder reports missing "
    "data)";

// A photo-like image: smooth gradients, an edge and some noise, so every
// DCT coefficient and the chroma upsampling matter.
cv::Mat TestImage(int width, int height, int channels, uint32_t seed = 1) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-12, 12);
  cv::Mat m(height, width, CV_8UC(channels));
  for (int y = 0; y < height; ++y) {
    uint8_t* row = m.ptr<uint8_t>(y);
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < channels; ++c) {
        int v = (x * (3 + c) + y * (5 - c)) % 256;
        if ((x / 7 + y / 5 + c) % 3 == 0) v = 255 - v;
        row[x * channels + c] = cv::saturate_cast<uint8_t>(v + noise(rng));
      }
    }
  }
  return m;
}

Bytes CvEncode(const cv::Mat& m, const std::vector<int>& params = {}) {
  Bytes out;
  if (!cv::imencode(".jpg", m, out, params)) throw std::runtime_error("enc");
  return out;
}

cv::Mat CvDecode(const Bytes& b) {
  return cv::imdecode(cv::Mat(1, static_cast<int>(b.size()), CV_8U,
                              const_cast<uint8_t*>(b.data())),
                      cv::IMREAD_UNCHANGED);
}

struct Decoded {
  cv::Mat image;
  Metadata metadata;
};

// Decodes with our codec, `band` rows at a time (0: all at once).
Decoded Decode(const Bytes& b, int band = 0) {
  auto source = Source::FromMemory(b);
  auto decoder = OpenJpeg(*source, "x.jpg");
  const PixelFormat& f = decoder->format();
  EXPECT_EQ(f.depth, core::Depth::kU8);
  Decoded d;
  d.image.create(f.height, f.width, CV_8UC(f.channels));
  const int step = band > 0 ? band : f.height;
  for (int y = 0; y < f.height; y += step) {
    decoder->ReadRows(reinterpret_cast<std::byte*>(d.image.ptr(y)),
                      static_cast<std::ptrdiff_t>(d.image.step),
                      std::min(step, f.height - y));
  }
  decoder->Finish();
  d.metadata = decoder->metadata();
  return d;
}

Bytes Encode(const cv::Mat& m, const Metadata& metadata = {}, int quality = 0) {
  PixelFormat f;
  f.width = m.cols;
  f.height = m.rows;
  f.channels = m.channels();
  EncodeOptions options;
  options.quality = quality;
  VectorSink sink;
  auto encoder = NewJpegEncoder(f, metadata, options, sink, "y.jpg");
  // Uneven bands, to show they do not change the bytes.
  for (int y = 0; y < m.rows; y += 7) {
    encoder->WriteRows(reinterpret_cast<const std::byte*>(m.ptr(y)),
                       static_cast<std::ptrdiff_t>(m.step),
                       std::min(7, m.rows - y));
  }
  encoder->Finish();
  return sink.bytes();
}

// The Error `f` throws, if any.
std::optional<Error> ErrorOf(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  return std::nullopt;
}

// The message of the kInput error decoding `b` throws ("" if none).
std::string DecodeError(const Bytes& b) {
  auto e = ErrorOf([&] { Decode(b); });
  if (!e) return "";
  EXPECT_EQ(e->kind(), ErrorKind::kInput);
  return e->what();
}

void ExpectSame(const cv::Mat& a, const cv::Mat& b) {
  ASSERT_EQ(a.size(), b.size());
  ASSERT_EQ(a.type(), b.type());
  EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0.0);
}

// A JPEG written by libjpeg directly, for what OpenCV 4.6 cannot write:
// 4:4:4 chroma, CMYK and YCCK. `m` holds `in_space`'s samples.
Bytes LibjpegEncode(const cv::Mat& m, J_COLOR_SPACE in_space,
                    J_COLOR_SPACE file_space, bool subsample) {
  jpeg_compress_struct c{};
  jpeg_error_mgr err{};
  c.err = jpeg_std_error(&err);
  jpeg_create_compress(&c);
  unsigned char* out = nullptr;
  unsigned long size = 0;  // NOLINT(runtime/int): libjpeg's type
  jpeg_mem_dest(&c, &out, &size);
  c.image_width = static_cast<JDIMENSION>(m.cols);
  c.image_height = static_cast<JDIMENSION>(m.rows);
  c.input_components = m.channels();
  c.in_color_space = in_space;
  jpeg_set_defaults(&c);
  jpeg_set_colorspace(&c, file_space);
  jpeg_set_quality(&c, 90, TRUE);
  if (!subsample) {
    for (int i = 0; i < c.num_components; ++i) {
      c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    }
  }
  jpeg_start_compress(&c, TRUE);
  for (int y = 0; y < m.rows; ++y) {
    JSAMPROW row = const_cast<uint8_t*>(m.ptr<uint8_t>(y));
    jpeg_write_scanlines(&c, &row, 1);
  }
  jpeg_finish_compress(&c);
  Bytes b(out, out + size);
  jpeg_destroy_compress(&c);
  std::free(out);
  return b;
}

// Offsets of the SOS markers of the main image: segments are skipped by
// their lengths (so markers inside APPn, like a thumbnail's, are not
// seen) and entropy-coded data up to the next real marker.
std::vector<size_t> ScanOffsets(const Bytes& b) {
  std::vector<size_t> sos;
  size_t o = 2;
  while (o + 4 <= b.size() && b[o] == 0xFF) {
    const uint8_t marker = b[o + 1];
    if (marker == 0xD9) break;
    const size_t len = (size_t{b[o + 2]} << 8) | b[o + 3];
    if (marker == 0xDA) sos.push_back(o);
    o += 2 + len;
    if (marker != 0xDA) continue;
    while (o + 1 < b.size() && !(b[o] == 0xFF && b[o + 1] != 0 &&
                                 (b[o + 1] < 0xD0 || b[o + 1] > 0xD7))) {
      ++o;
    }
  }
  return sos;
}

// Where the entropy-coded data of the scan at `sos` starts.
size_t ScanData(const Bytes& b, size_t sos) {
  return sos + 2 + ((size_t{b[sos + 2]} << 8) | b[sos + 3]);
}

// A TIFF structure with one IFD holding the orientation.
Bytes TinyExif() {
  return {'I',  'I',  '*', 0, 8, 0, 0, 0,  // header, IFD0 at 8
          1,    0,                         // one entry
          0x12, 0x01, 3,   0, 1, 0, 0, 0,  // Orientation, SHORT, 1
          6,    0,    0,   0,              // value 6
          0,    0,    0,   0};             // no next IFD
}

// ---- Decoding against cv::imdecode. ----

TEST(JpegDecode, ColourLikeOpenCvInBandsOfOneFiveAndAll) {
  for (auto [w, h] : {std::pair{64, 48}, {37, 23}, {1, 1}, {300, 17}}) {
    const Bytes b = CvEncode(TestImage(w, h, 3));
    const cv::Mat want = CvDecode(b);
    for (int band : {1, 5, 0}) {
      SCOPED_TRACE(testing::Message() << w << "x" << h << " band " << band);
      ExpectSame(Decode(b, band).image, want);
    }
  }
}

TEST(JpegDecode, GrayIsOneChannelLikeOpenCv) {
  const Bytes b = CvEncode(TestImage(45, 31, 1));
  const Decoded d = Decode(b, 5);
  EXPECT_EQ(d.image.channels(), 1);
  ExpectSame(d.image, CvDecode(b));
}

TEST(JpegDecode, ProgressiveRestartsAndOptimizedLikeOpenCv) {
  for (int channels : {1, 3}) {
    const cv::Mat m = TestImage(70, 50, channels);
    for (const auto& params :
         {std::vector<int>{cv::IMWRITE_JPEG_PROGRESSIVE, 1},
          std::vector<int>{cv::IMWRITE_JPEG_RST_INTERVAL, 3},
          std::vector<int>{cv::IMWRITE_JPEG_OPTIMIZE, 1,
                           cv::IMWRITE_JPEG_QUALITY, 30}}) {
      const Bytes b = CvEncode(m, params);
      SCOPED_TRACE(testing::Message() << channels << " " << params[0]);
      ExpectSame(Decode(b, 1).image, CvDecode(b));
      ExpectSame(Decode(b).image, CvDecode(b));
    }
  }
}

TEST(JpegDecode, FourFourFourLikeOpenCv) {
  // OpenCV 4.6 has no IMWRITE_JPEG_SAMPLING_FACTOR: libjpeg writes it.
  const Bytes b =
      LibjpegEncode(TestImage(41, 29, 3), JCS_EXT_BGR, JCS_YCbCr, false);
  ExpectSame(Decode(b, 5).image, CvDecode(b));
}

TEST(JpegDecode, CmykAndYcckAreBgrLikeOpenCv) {
  for (J_COLOR_SPACE space : {JCS_CMYK, JCS_YCCK}) {
    const Bytes b = LibjpegEncode(TestImage(39, 27, 4), JCS_CMYK, space, true);
    const cv::Mat want = CvDecode(b);
    ASSERT_EQ(want.channels(), 3);
    const Decoded d = Decode(b, 5);
    EXPECT_EQ(d.image.channels(), 3);
    ExpectSame(d.image, want);
  }
}

TEST(JpegDecode, OpenReadsTheHeaderOnly) {
  const Bytes full = CvEncode(TestImage(64, 48, 3));
  const size_t data = ScanData(full, ScanOffsets(full).at(0));
  const Bytes header(full.begin(), full.begin() + data);
  auto source = Source::FromMemory(header);
  auto decoder = OpenJpeg(*source, "x.jpg");
  EXPECT_EQ(decoder->format().width, 64);
  EXPECT_EQ(decoder->format().height, 48);
  EXPECT_EQ(decoder->format().channels, 3);
  std::vector<std::byte> row(decoder->format().RowBytes());
  auto e = ErrorOf([&] { decoder->ReadRows(row.data(), 0, 1); });
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), kTruncated);
}

// ---- Refusals. ----

TEST(JpegDecode, TruncatedFilesAreRefusedWherePerCut) {
  for (bool progressive : {false, true}) {
    const Bytes full = CvEncode(TestImage(200, 150, 3),
                                {cv::IMWRITE_JPEG_PROGRESSIVE, progressive});
    const size_t data = ScanData(full, ScanOffsets(full).at(0));
    for (size_t cut :
         {size_t{40}, data - 3, data + 1, data + 50, (data + full.size()) / 2,
          full.size() - 10, full.size() - 1}) {
      SCOPED_TRACE(testing::Message() << progressive << " cut " << cut);
      EXPECT_EQ(DecodeError(Bytes(full.begin(), full.begin() + cut)),
                kTruncated);
    }
  }
}

TEST(JpegDecode, MissingEoiAfterCompleteScansIsTruncated) {
  Bytes b = CvEncode(TestImage(64, 48, 3));
  ASSERT_EQ(b[b.size() - 2], 0xFF);
  ASSERT_EQ(b.back(), 0xD9);
  b.resize(b.size() - 2);
  EXPECT_EQ(DecodeError(b), kTruncated);
}

TEST(JpegDecode, EoiInsideAnExifThumbnailDoesNotCount) {
  // EXIF whose IFD1 points at a whole JPEG thumbnail, EOI included.
  const Bytes thumb = CvEncode(TestImage(16, 12, 3));
  Bytes exif = {'I',  'I',  '*', 0, 8, 0, 0, 0,  // header, IFD0 at 8
                0,    0,    14,  0, 0, 0,        // IFD0: empty, IFD1 at 14
                2,    0,                         // IFD1: two entries
                0x01, 0x02, 4,   0, 1, 0, 0, 0,  // JPEGInterchangeFormat,
                44,   0,    0,   0,              //   at 44
                0x02, 0x02, 4,   0, 1, 0, 0, 0,  // ...FormatLength,
                0,    0,    0,   0,              //   set below
                0,    0,    0,   0};             // no next IFD
  ASSERT_EQ(exif.size(), 44u);
  exif[36] = static_cast<uint8_t>(thumb.size());
  exif[37] = static_cast<uint8_t>(thumb.size() >> 8);
  exif.insert(exif.end(), thumb.begin(), thumb.end());
  Metadata md;
  md.exif = exif;
  const Bytes full = Encode(TestImage(120, 90, 3), md);

  const Decoded whole = Decode(full);
  EXPECT_EQ(whole.metadata.exif, exif);
  ExpectSame(whole.image, CvDecode(full));

  const std::vector<size_t> sos = ScanOffsets(full);
  ASSERT_EQ(sos.size(), 1u);
  for (size_t extra : {size_t{1}, size_t{100}}) {
    const Bytes cut(full.begin(), full.begin() + ScanData(full, sos[0]) +
                                      static_cast<ptrdiff_t>(extra));
    EXPECT_EQ(DecodeError(cut), kTruncated);
  }
}

TEST(JpegDecode, GarbageWithAMarkerInTheEntropyDataIsMissingData) {
  const Bytes full = CvEncode(TestImage(160, 120, 3));
  const size_t data = ScanData(full, ScanOffsets(full).at(0));
  const size_t mid = (data + full.size()) / 2;
  // Random bytes with a marker (0xFF, then neither 0 nor RSTn) among them:
  // the entropy decoder stops at the marker, short of the image's last
  // MCU, and libjpeg warns "premature end of data segment".
  Bytes b = full;
  std::mt19937 rng(7);
  for (size_t i = mid; i < mid + 200; ++i) b[i] = static_cast<uint8_t>(rng());
  b[mid + 100] = 0xFF;
  b[mid + 101] = 0xC4;
  EXPECT_EQ(DecodeError(b), kMissingData);
  // An EOI in the middle of the data: the same.
  b = full;
  b[mid] = 0xFF;
  b[mid + 1] = 0xD9;
  EXPECT_EQ(DecodeError(b), kMissingData);
}

TEST(JpegDecode, GarbageWithoutAMarkerDecodesLikeOpenCv) {
  // A known limit, recorded here: random bytes without a marker are
  // Huffman codes too (libjpeg-turbo's fast path even turns invalid codes
  // into zeros), so the decoder desynchronizes silently and ends the scan
  // early; what it then reports is only "N extraneous bytes before marker
  // 0xd9", which must not fail a file. Such a file decodes, wrong pixels
  // and all, exactly as cv::imdecode decodes it.
  const Bytes full = CvEncode(TestImage(160, 120, 3));
  const size_t data = ScanData(full, ScanOffsets(full).at(0));
  const size_t mid = (data + full.size()) / 2;
  Bytes b = full;
  std::mt19937 rng(7);
  for (size_t i = mid; i < mid + 40; ++i) {
    b[i] = static_cast<uint8_t>(rng() % 255);  // never 0xFF
  }
  const Decoded d = Decode(b);
  ExpectSame(d.image, CvDecode(b));
  EXPECT_GT(cv::norm(d.image, CvDecode(full), cv::NORM_INF), 0.0);
}

TEST(JpegDecode, ExtraneousBytesBeforeAMarkerAreHarmless) {
  // libjpeg skips them with "Corrupt JPEG data: N extraneous bytes before
  // marker": no sample is lost. Between header segments and before EOI.
  const Bytes full = CvEncode(TestImage(64, 48, 3));
  const cv::Mat want = Decode(full).image;
  const Bytes junk(64, 0x20);
  const size_t second_segment = 4 + ((size_t{full[4]} << 8) | full[5]);
  for (size_t at : {second_segment, full.size() - 2}) {
    Bytes b = full;
    b.insert(b.begin() + static_cast<ptrdiff_t>(at), junk.begin(), junk.end());
    ExpectSame(Decode(b).image, want);
  }
}

TEST(JpegDecode, NotAJpegAndEmptyAreCorrupt) {
  const Bytes png = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};
  EXPECT_EQ(DecodeError(png),
            "input 'x.jpg': corrupt JPEG (Not a JPEG file: starts with 0x89 "
            "0x50)");
  EXPECT_EQ(DecodeError({}), "input 'x.jpg': corrupt JPEG (Empty input file)");
}

TEST(JpegDecode, TooManyScansAreRefused) {
  // A progressive file whose last scan is repeated: libjpeg would decode
  // every copy, each a pass over the whole image.
  const Bytes full =
      CvEncode(TestImage(32, 32, 1), {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  const std::vector<size_t> sos = ScanOffsets(full);
  const Bytes last(full.begin() + static_cast<ptrdiff_t>(sos.back()),
                   full.end() - 2);
  Bytes b(full.begin(), full.end() - 2);
  for (int i = 0; i < 500; ++i) b.insert(b.end(), last.begin(), last.end());
  b.insert(b.end(), {0xFF, 0xD9});
  EXPECT_EQ(DecodeError(b),
            "input 'x.jpg': corrupt JPEG (more than 500 scans)");
}

// A source that fails when asked for more than its first chunk.
class FailingSource : public Source {
 public:
  explicit FailingSource(std::span<const uint8_t> b)
      : inner_(Source::FromMemory(b)) {}
  size_t Read(void* dst, size_t n) override {
    if (reads_++ > 0) throw Error(ErrorKind::kInput, "input 'x.jpg': boom");
    return inner_->Read(dst, n);
  }
  std::span<const uint8_t> Peek(size_t n) override { return inner_->Peek(n); }
  size_t ReadAt(uint64_t, void*, size_t) override { return 0; }
  bool Seekable() const override { return false; }
  std::optional<uint64_t> Size() const override { return std::nullopt; }
  std::span<const uint8_t> All() override { return inner_->All(); }

 private:
  std::unique_ptr<Source> inner_;
  int reads_ = 0;
};

TEST(JpegDecode, SourceErrorsPassThroughUnchanged) {
  const Bytes b =
      CvEncode(TestImage(400, 300, 3), {cv::IMWRITE_JPEG_QUALITY, 100});
  ASSERT_GT(b.size(), 2u * 65536u);
  FailingSource source(b);
  auto decoder = OpenJpeg(source, "x.jpg");
  cv::Mat m(300, 400, CV_8UC3);
  auto e = ErrorOf([&] {
    decoder->ReadRows(reinterpret_cast<std::byte*>(m.data),
                      static_cast<std::ptrdiff_t>(m.step), 300);
  });
  ASSERT_TRUE(e);
  EXPECT_STREQ(e->what(), "input 'x.jpg': boom");
}

// ---- Encoding against cv::imencode. ----

TEST(JpegEncode, BytesEqualOpenCvs) {
  for (auto [w, h] : {std::pair{64, 48}, {37, 23}, {1, 1}}) {
    for (int channels : {1, 3}) {
      SCOPED_TRACE(testing::Message() << w << "x" << h << "x" << channels);
      const cv::Mat m = TestImage(w, h, channels);
      EXPECT_EQ(Encode(m), CvEncode(m));
      EXPECT_EQ(Encode(m, {}, 80), CvEncode(m, {cv::IMWRITE_JPEG_QUALITY, 80}));
    }
  }
}

TEST(JpegEncode, LowerQualityIsSmaller) {
  const cv::Mat m = TestImage(128, 96, 3);
  EXPECT_LT(Encode(m, {}, 50).size(), Encode(m).size());
}

TEST(JpegEncode, MetadataRoundTrips) {
  Metadata md;
  for (int i = 0; i < 300; ++i) md.icc.push_back(static_cast<uint8_t>(i * 7));
  md.exif = TinyExif();
  md.xmp = "<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF/></x:xmpmeta>";
  for (int channels : {1, 3}) {
    const cv::Mat m = TestImage(50, 40, channels);
    const Bytes b = Encode(m, md);
    const Decoded d = Decode(b);
    EXPECT_EQ(d.metadata.icc, md.icc);
    EXPECT_EQ(d.metadata.exif, md.exif);
    EXPECT_EQ(d.metadata.xmp, md.xmp);
    ExpectSame(d.image, CvDecode(b));
    // The pixels are what OpenCV writes; only the markers differ.
    ExpectSame(d.image, CvDecode(CvEncode(m)));
  }
}

TEST(JpegEncode, MetadataTooLongForOneMarkerIsSkipped) {
  Metadata md;
  md.exif = TinyExif();
  md.exif.resize(65533 - 6 + 1);
  md.xmp = "<x/>";
  const Decoded d = Decode(Encode(TestImage(8, 8, 3), md));
  EXPECT_TRUE(d.metadata.exif.empty());
  EXPECT_EQ(d.metadata.xmp, "<x/>");
}

TEST(JpegEncode, RefusesWhatJpegCannotStore) {
  const auto refusal = [](int channels, core::Depth depth) {
    PixelFormat f{8, 8, channels, depth};
    VectorSink sink;
    auto e = ErrorOf([&] { NewJpegEncoder(f, {}, {}, sink, "y.jpg"); });
    EXPECT_TRUE(e && e->kind() == ErrorKind::kOutput);
    EXPECT_TRUE(sink.bytes().empty());
    return e ? std::string(e->what()) : "";
  };
  EXPECT_EQ(refusal(3, core::Depth::kU16),
            "output 'y.jpg': jpeg cannot store 16-bit samples");
  EXPECT_EQ(refusal(1, core::Depth::kF32),
            "output 'y.jpg': jpeg cannot store float samples");
  EXPECT_EQ(refusal(2, core::Depth::kU8),
            "output 'y.jpg': jpeg cannot store an alpha channel");
  EXPECT_EQ(refusal(4, core::Depth::kU8),
            "output 'y.jpg': jpeg cannot store an alpha channel");
}

class FailingSink : public Sink {
 public:
  void Write(const void*, size_t) override {
    throw Error(ErrorKind::kOutput, "output 'y.jpg': disk full");
  }
};

TEST(JpegEncode, SinkErrorsPassThroughUnchanged) {
  const cv::Mat m = TestImage(16, 16, 3);
  FailingSink sink;
  auto encoder =
      NewJpegEncoder({16, 16, 3, core::Depth::kU8}, {}, {}, sink, "y.jpg");
  encoder->WriteRows(reinterpret_cast<const std::byte*>(m.data),
                     static_cast<std::ptrdiff_t>(m.step), 16);
  auto e = ErrorOf([&] { encoder->Finish(); });
  ASSERT_TRUE(e);
  EXPECT_EQ(e->kind(), ErrorKind::kOutput);
  EXPECT_STREQ(e->what(), "output 'y.jpg': disk full");
}

TEST(JpegCodec, PrintsNothing) {
  // libjpeg's default error manager prints warnings to stderr (cv::imdecode
  // does: that is the line this test binary shows); ours keeps them.
  const Bytes full = CvEncode(TestImage(64, 48, 3));
  Bytes junk = full;
  junk.insert(junk.end() - 2, 64, 0x20);
  testing::internal::CaptureStderr();
  Decode(junk);
  DecodeError(Bytes(full.begin(), full.end() - 100));
  DecodeError({'x', 'y', 'z'});
  Encode(TestImage(8, 8, 1));
  const std::string printed = testing::internal::GetCapturedStderr();
  EXPECT_EQ(printed, "");
}

// ---- Threads. ----

TEST(JpegCodec, TwoThreadsGiveWhatOneGives) {
  const cv::Mat colour = TestImage(200, 150, 3, 3);
  const cv::Mat gray = TestImage(150, 200, 1, 4);
  const Bytes good = CvEncode(colour, {cv::IMWRITE_JPEG_PROGRESSIVE, 1});
  const Bytes bad(good.begin(), good.begin() + good.size() / 2);
  const cv::Mat want_decoded = Decode(good).image;
  const Bytes want_colour = Encode(colour);
  const Bytes want_gray = Encode(gray);

  std::vector<int> failures(2, 0);
  auto work = [&](int t) {
    for (int i = 0; i < 20; ++i) {
      const cv::Mat& image = t == 0 ? colour : gray;
      const Bytes& want_bytes = t == 0 ? want_colour : want_gray;
      const bool same_pixels =
          cv::norm(Decode(good, 1 + t).image, want_decoded, cv::NORM_INF) == 0;
      const bool ok = same_pixels && Encode(image) == want_bytes &&
                      DecodeError(bad) == kTruncated;
      if (!ok) ++failures[static_cast<size_t>(t)];
    }
  };
  std::thread a(work, 0);
  std::thread b(work, 1);
  a.join();
  b.join();
  EXPECT_EQ(failures[0], 0);
  EXPECT_EQ(failures[1], 0);
}

}  // namespace
}  // namespace convcorr::io
