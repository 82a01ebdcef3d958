// Helpers shared by the io tests: temporary directories, builders for
// hand-made file headers, synthetic images and checks of convcorr::Error.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "common/error.h"
#include "core/image.h"

namespace convcorr::io::testing {

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

// A fresh directory under the system temporary directory, removed with
// everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    const std::string tmpl =
        (fs::temp_directory_path() / "convcorr-io-test-XXXXXX").string();
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed for " + tmpl);
    }
    path_ = buf.data();
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  fs::path operator/(const fs::path& p) const { return path_ / p; }

 private:
  fs::path path_;
};

// Sets the process umask for the scope of the object.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : saved_(::umask(mask)) {}
  ~ScopedUmask() { ::umask(saved_); }
  ScopedUmask(const ScopedUmask&) = delete;
  ScopedUmask& operator=(const ScopedUmask&) = delete;

 private:
  mode_t saved_;
};

// Changes the working directory for the scope of the object.
class ScopedCwd {
 public:
  explicit ScopedCwd(const fs::path& dir) : saved_(fs::current_path()) {
    fs::current_path(dir);
  }
  ~ScopedCwd() {
    std::error_code ec;
    fs::current_path(saved_, ec);
  }
  ScopedCwd(const ScopedCwd&) = delete;
  ScopedCwd& operator=(const ScopedCwd&) = delete;

 private:
  fs::path saved_;
};

inline void WriteFile(const fs::path& p, const Bytes& bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

inline void WriteFile(const fs::path& p, std::string_view text) {
  WriteFile(p, Bytes(text.begin(), text.end()));
}

inline Bytes ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return Bytes(std::istreambuf_iterator<char>(in),
               std::istreambuf_iterator<char>());
}

// Names of the entries of a directory (not recursive).
inline std::set<std::string> DirEntries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) {
    names.insert(e.path().filename().string());
  }
  return names;
}

// --- Byte builders for hand-made headers ------------------------------------

inline void Put(Bytes& b, std::string_view s) {
  // resize and copy rather than insert: GCC 12 at -O2 warns about insert's
  // memmove into the new storage (-Wstringop-overflow, a false positive).
  const size_t at = b.size();
  b.resize(at + s.size());
  if (!s.empty()) std::memcpy(b.data() + at, s.data(), s.size());
}
inline void Put8(Bytes& b, uint32_t v) { b.push_back(static_cast<uint8_t>(v)); }
inline void PutBe16(Bytes& b, uint32_t v) {
  Put8(b, v >> 8);
  Put8(b, v);
}
inline void PutBe32(Bytes& b, uint32_t v) {
  PutBe16(b, v >> 16);
  PutBe16(b, v & 0xFFFF);
}
inline void PutLe16(Bytes& b, uint32_t v) {
  Put8(b, v);
  Put8(b, v >> 8);
}
inline void PutLe32(Bytes& b, uint32_t v) {
  PutLe16(b, v & 0xFFFF);
  PutLe16(b, v >> 16);
}
inline void PutLe24(Bytes& b, uint32_t v) {
  PutLe16(b, v & 0xFFFF);
  Put8(b, v >> 16);
}

// CRC-32 of PNG chunks (ISO 3309, polynomial 0xEDB88320), bit by bit.
inline uint32_t Crc32(const uint8_t* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
  }
  return c ^ 0xFFFFFFFFu;
}

// Appends a PNG chunk: length, type, data, CRC of type and data.
inline void PutPngChunk(Bytes& b, std::string_view type, const Bytes& data) {
  PutBe32(b, static_cast<uint32_t>(data.size()));
  const size_t start = b.size();
  Put(b, type);
  b.insert(b.end(), data.begin(), data.end());
  PutBe32(b, Crc32(b.data() + start, b.size() - start));
}

// A PNG signature and IHDR (8-bit RGB) claiming width x height.
inline Bytes PngHeader(uint32_t width, uint32_t height) {
  Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  Bytes ihdr;
  PutBe32(ihdr, width);
  PutBe32(ihdr, height);
  Put8(ihdr, 8);  // bit depth
  Put8(ihdr, 2);  // colour type RGB
  Put8(ihdr, 0);  // compression
  Put8(ihdr, 0);  // filter
  Put8(ihdr, 0);  // interlace
  PutPngChunk(b, "IHDR", ihdr);
  return b;
}

// A JPEG start: SOI and a JFIF APP0 segment (16 bytes of length).
inline Bytes JpegSoiApp0() {
  Bytes b = {0xFF, 0xD8, 0xFF, 0xE0};
  PutBe16(b, 16);
  Put(b, std::string_view("JFIF\0", 5));
  Put8(b, 1);  // version 1.01
  Put8(b, 1);
  Put8(b, 0);  // density units
  PutBe16(b, 1);
  PutBe16(b, 1);
  Put8(b, 0);  // no thumbnail
  Put8(b, 0);
  return b;
}

// Appends a start-of-frame segment (marker 0xC0..0xCF) for 3 components.
inline void PutJpegSof(Bytes& b, uint8_t marker, uint32_t width,
                       uint32_t height) {
  Put8(b, 0xFF);
  Put8(b, marker);
  PutBe16(b, 8 + 3 * 3);
  Put8(b, 8);  // precision
  PutBe16(b, height);
  PutBe16(b, width);
  Put8(b, 3);
  for (uint8_t c = 1; c <= 3; ++c) {
    Put8(b, c);
    Put8(b, c == 1 ? 0x22 : 0x11);
    Put8(b, c == 1 ? 0 : 1);
  }
}

// A TIFF header and first IFD at `ifd_offset` (padding before it) with
// ImageWidth and ImageLength tags of the given field types (3 SHORT,
// 4 LONG), and a BitsPerSample tag between them.
inline Bytes TiffHeader(bool little_endian, uint32_t width, uint16_t width_type,
                        uint32_t height, uint16_t height_type,
                        uint32_t ifd_offset = 8) {
  Bytes b;
  const auto u16 = [&](uint32_t v) {
    little_endian ? PutLe16(b, v) : PutBe16(b, v);
  };
  const auto u32 = [&](uint32_t v) {
    little_endian ? PutLe32(b, v) : PutBe32(b, v);
  };
  Put(b, little_endian ? "II" : "MM");
  u16(42);
  u32(ifd_offset);
  b.resize(ifd_offset, 0xAB);
  const auto entry = [&](uint16_t tag, uint16_t type, uint32_t value) {
    u16(tag);
    u16(type);
    u32(1);
    if (type == 3) {  // a SHORT sits in the first two bytes of the field
      u16(value);
      u16(0);
    } else {
      u32(value);
    }
  };
  // Enough of a directory for libtiff to read it: the size, and one strip
  // whose data is not there.
  u16(5);
  entry(256, width_type, width);
  entry(257, height_type, height);
  entry(258, 3, 8);
  entry(273, 4, 8);  // StripOffsets
  entry(279, 4, 1);  // StripByteCounts
  u32(0);            // no next IFD
  return b;
}

// A zlib stream of stored (uncompressed) deflate blocks (RFC 1950/1951).
inline Bytes ZlibStored(const Bytes& raw) {
  Bytes z = {0x78, 0x01};
  size_t o = 0;
  do {
    const size_t n = std::min<size_t>(65535, raw.size() - o);
    Put8(z, o + n == raw.size() ? 1 : 0);  // BFINAL, BTYPE 00
    PutLe16(z, static_cast<uint32_t>(n));
    PutLe16(z, static_cast<uint32_t>(~n & 0xFFFF));
    z.insert(z.end(), raw.begin() + static_cast<ptrdiff_t>(o),
             raw.begin() + static_cast<ptrdiff_t>(o + n));
    o += n;
  } while (o < raw.size());
  uint32_t a = 1, b = 0;  // Adler-32
  for (const uint8_t v : raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  PutBe32(z, (b << 16) | a);
  return z;
}

// A complete PNG of `rows` (each starting with its filter byte).
inline Bytes PngImage(uint32_t width, uint32_t height, uint8_t bit_depth,
                      uint8_t color_type, const Bytes& rows) {
  Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  Bytes ihdr;
  PutBe32(ihdr, width);
  PutBe32(ihdr, height);
  Put8(ihdr, bit_depth);
  Put8(ihdr, color_type);
  Put8(ihdr, 0);
  Put8(ihdr, 0);
  Put8(ihdr, 0);
  PutPngChunk(b, "IHDR", ihdr);
  PutPngChunk(b, "IDAT", ZlibStored(rows));
  PutPngChunk(b, "IEND", {});
  return b;
}

// Runs f with file descriptor 2 sent to a file; returns what was written.
inline std::string CaptureStderr(const std::function<void()>& f) {
  char name[] = "/tmp/convcorr-io-test-stderr-XXXXXX";
  const int fd = ::mkstemp(name);
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  std::fflush(stderr);
  const int saved = ::dup(2);
  ::dup2(fd, 2);
  ::close(fd);
  try {
    f();
  } catch (...) {
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    ::unlink(name);
    throw;
  }
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  const Bytes text = ReadFile(name);
  ::unlink(name);
  return std::string(text.begin(), text.end());
}

// RIFF/WEBP container with one chunk.
inline Bytes Webp(std::string_view fourcc, const Bytes& payload) {
  Bytes b;
  Put(b, "RIFF");
  PutLe32(b, static_cast<uint32_t>(4 + 8 + payload.size()));
  Put(b, "WEBP");
  Put(b, fourcc);
  PutLe32(b, static_cast<uint32_t>(payload.size()));
  b.insert(b.end(), payload.begin(), payload.end());
  if (payload.size() % 2 == 1) Put8(b, 0);
  return b;
}

// --- Errors --------------------------------------------------------------

inline const char* KindName(ErrorKind k) {
  switch (k) {
    case ErrorKind::kUsage:
      return "kUsage";
    case ErrorKind::kKernelSpec:
      return "kKernelSpec";
    case ErrorKind::kInput:
      return "kInput";
    case ErrorKind::kOutput:
      return "kOutput";
    case ErrorKind::kInternal:
      return "kInternal";
  }
  return "?";
}

// Succeeds if `f` throws convcorr::Error of `kind` with exactly `message`.
inline ::testing::AssertionResult ThrowsError(const std::function<void()>& f,
                                              ErrorKind kind,
                                              const std::string& message) {
  try {
    f();
  } catch (const Error& e) {
    if (e.kind() != kind || e.what() != message) {
      return ::testing::AssertionFailure()
             << "threw " << KindName(e.kind()) << " '" << e.what()
             << "'\n expected " << KindName(kind) << " '" << message << "'";
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "threw a foreign exception: " << e.what();
  }
  return ::testing::AssertionFailure()
         << "did not throw; expected " << KindName(kind) << " '" << message
         << "'";
}

// Succeeds if `f` throws convcorr::Error of `kind` (any message).
inline ::testing::AssertionResult ThrowsKind(const std::function<void()>& f,
                                             ErrorKind kind) {
  try {
    f();
  } catch (const Error& e) {
    if (e.kind() != kind) {
      return ::testing::AssertionFailure()
             << "threw " << KindName(e.kind()) << " '" << e.what()
             << "', expected " << KindName(kind);
    }
    return ::testing::AssertionSuccess();
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure()
           << "threw a foreign exception: " << e.what();
  }
  return ::testing::AssertionFailure()
         << "did not throw; expected " << KindName(kind);
}

}  // namespace convcorr::io::testing
