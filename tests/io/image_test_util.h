// Helpers shared by the decode, encode, raster and format tests of
// src/io/image_io.cc and src/io/format.cc: images made to order, OpenCV
// encodings as the oracle, and byte-level probes of encoded files.
#pragma once

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/image_io.h"
#include "io/io_test_util.h"

namespace convcorr::io::image_test {

namespace fs = std::filesystem;
using namespace std::string_view_literals;
using core::Depth;
using core::Image;
using core::Plane;
using testing::Bytes;
using testing::ThrowsError;
using testing::ThrowsKind;

inline const fs::path kPhotos = fs::path(CONVCORR_SAMPLES_DIR) / "photos";

inline const char* DepthName(Depth d) {
  return d == Depth::kU8 ? "u8" : d == Depth::kU16 ? "u16" : "f32";
}

inline Image Decode(const Bytes& b, const DecodeOptions& o = {}) {
  return DecodeImage(b, "test", o);
}

inline Bytes CvEncode(const std::string& ext, const cv::Mat& m,
                      const std::vector<int>& params = {}) {
  std::vector<uint8_t> buf;
  if (!cv::imencode(ext, m, buf, params)) {
    ADD_FAILURE() << "cv::imencode failed for " << ext;
  }
  return buf;
}

inline cv::Mat Noise(int width, int height, int type, unsigned seed = 1) {
  cv::Mat m(height, width, type);
  cv::theRNG().state = seed;
  cv::randu(m, 0, 256);
  return m;
}

// An image whose sample (c, y, x) is f(c, y, x); plane `channels - 1` is the
// alpha plane when channels is 2 or 4.
inline Image MakeImage(int w, int h, Depth depth, int channels,
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
inline Image IntegerImage(Depth depth, int channels) {
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
inline const float kOddFloats[] = {-0.0f,  -1.5f,      1.0f / 3.0f, 0.1f,
                                   1e-40f, -3.4e38f,   3.4e38f,     65535.5f,
                                   -1e-7f, 12345.678f, -255.0f,     256.25f};

inline Image FloatImage(int channels) {
  return MakeImage(37, 23, Depth::kF32, channels, [](int c, int y, int x) {
    const int i = (x + 3 * y + 5 * c) % 16;
    if (i < 12) return kOddFloats[i];
    return static_cast<float>(std::sin(0.37 * x + c) * 1000.0 - y * 0.001);
  });
}

// Smooth content, which lossy encoders keep within a few levels.
inline Image SmoothImage(Depth depth, int channels) {
  return MakeImage(37, 23, depth, channels, [depth](int c, int y, int x) {
    const double s = std::sin(0.15 * x + 0.9 * c) * std::cos(0.2 * y);
    if (depth == Depth::kF32) return static_cast<float>(1.5 * s - 0.25);
    const double v = std::round(128.0 + 100.0 * s);
    return static_cast<float>(depth == Depth::kU16 ? v * 257.0 : v);
  });
}

// Reports the first sample where two planes differ (bitwise, so -0.0 and
// 0.0 differ), or the largest difference beyond `tolerance`.
inline ::testing::AssertionResult PlanesMatch(const Plane& got,
                                              const Plane& want,
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

inline double MeanAbsDiff(const Plane& a, const Plane& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.data.size(); ++i)
    sum += std::fabs(a.data[i] - b.data[i]);
  return sum / static_cast<double>(a.data.size());
}

// A plane of channel `c` of an OpenCV image, as float.
inline Plane PlaneOf(const cv::Mat& m, int c) {
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
inline int64_t TiffTag(const Bytes& b, uint32_t tag) {
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
inline size_t FindPngChunk(const Bytes& b, std::string_view type) {
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

inline Bytes Prefix(const Bytes& b, size_t n) {
  return Bytes(b.begin(), b.begin() + static_cast<ptrdiff_t>(n));
}

// Checks that `got` is `want` as stored by a format: exact samples, except
// that gray+alpha comes back from WebP (`gray_as_bgra`) as BGRA with the
// gray in B, G and R.
inline void ExpectSameImage(const Image& got, const Image& want,
                            float tolerance = 0, bool gray_as_bgra = false) {
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

}  // namespace convcorr::io::image_test
