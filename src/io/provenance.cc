// Reading an output's provenance back from the file's structure alone
// (io/provenance.h). Every length and offset comes from the file, so each
// is checked against the data's size before it is used, every loop has a
// bound, and a structure that does not parse is "no provenance".
#include "io/provenance.h"

#include <fcntl.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "io/files.h"
#include "io/format.h"

namespace convcorr::io {

namespace fs = std::filesystem;

namespace {

// At most this many PNG chunks, JPEG markers or WebP chunks are looked at.
constexpr int kMaxSteps = 1024;
// At most this many entries of a TIFF IFD.
constexpr uint64_t kMaxIfdEntries = 4096;

// Bounded random reads of a seekable source.
class Bytes {
 public:
  explicit Bytes(Source& source)
      : source_(source), size_(source.Size().value_or(0)) {}

  uint64_t size() const { return size_; }

  // The `n` bytes at `offset`, or false if the data ends before them.
  bool Read(uint64_t offset, void* dst, size_t n) {
    if (offset > size_ || n > size_ - offset) return false;
    return source_.ReadAt(offset, dst, n) == n;
  }
  // The same as a string (n is at most kMaxProvenanceSize + a little).
  std::optional<std::string> Text(uint64_t offset, size_t n) {
    std::string s(n, '\0');
    if (!Read(offset, s.data(), n)) return std::nullopt;
    return s;
  }

 private:
  Source& source_;
  uint64_t size_;
};

uint32_t Be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 |
         p[3];
}

// The text if it is a provenance.
std::optional<std::string> Checked(std::string text) {
  if (!IsProvenanceText(text)) return std::nullopt;
  return text;
}

// tEXt "convcorr\0<text>" among the chunks before the image data, its CRC
// checked.
std::optional<std::string> FromPng(Bytes& b) {
  uint64_t at = 8;
  constexpr size_t kKeySize = sizeof kPngProvenanceKey;  // with the NUL
  for (int step = 0; step < kMaxSteps; ++step) {
    uint8_t head[8];
    if (!b.Read(at, head, 8)) return std::nullopt;
    const uint32_t length = Be32(head);
    if (length > 0x7fffffffu) return std::nullopt;  // PNG's own limit
    const std::string_view type(reinterpret_cast<const char*>(head + 4), 4);
    if (type == "IDAT" || type == "IEND") return std::nullopt;
    if (type == "tEXt" && length > kKeySize &&
        length <= kKeySize + kMaxProvenanceSize) {
      const std::optional<std::string> data = b.Text(at + 4, length + 8);
      if (!data) return std::nullopt;
      const auto* p = reinterpret_cast<const uint8_t*>(data->data());
      const uLong crc = crc32(crc32(0L, Z_NULL, 0), p, length + 4);
      if (std::memcmp(data->data() + 4, kPngProvenanceKey, kKeySize) == 0 &&
          crc == Be32(p + 4 + length)) {
        return Checked(data->substr(4 + kKeySize, length - kKeySize));
      }
    }
    at += uint64_t{length} + 12;
  }
  return std::nullopt;
}

// A COM marker among those before the first scan.
std::optional<std::string> FromJpeg(Bytes& b) {
  uint64_t at = 2;  // after SOI
  for (int step = 0; step < kMaxSteps; ++step) {
    uint8_t m[2];
    if (!b.Read(at, m, 2) || m[0] != 0xFF) return std::nullopt;
    if (m[1] == 0xFF) {  // a fill byte
      ++at;
      continue;
    }
    if (m[1] == 0xD9 || m[1] == 0xDA) return std::nullopt;  // EOI, SOS
    if ((m[1] >= 0xD0 && m[1] <= 0xD7) || m[1] == 0x01) {   // no length
      at += 2;
      continue;
    }
    uint8_t len[2];
    if (!b.Read(at + 2, len, 2)) return std::nullopt;
    const size_t length = size_t{len[0]} << 8 | len[1];
    if (length < 2) return std::nullopt;
    const size_t n = length - 2;
    if (m[1] == 0xFE && n >= kProvenancePrefix.size() &&
        n <= kMaxProvenanceSize) {
      std::optional<std::string> text = b.Text(at + 4, n);
      if (!text) return std::nullopt;
      if (text->starts_with(kProvenancePrefix)) return Checked(*text);
    }
    at += 2 + length;
  }
  return std::nullopt;
}

// The Software tag (ASCII) of the first IFD, classic or BigTIFF.
std::optional<std::string> FromTiff(Bytes& b) {
  uint8_t h[16];
  if (!b.Read(0, h, 8)) return std::nullopt;
  const bool little = h[0] == 'I';
  const auto get = [little](const uint8_t* p, int n) {
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) {
      v |= uint64_t{p[little ? i : n - 1 - i]} << (8 * i);
    }
    return v;
  };
  const uint64_t magic = get(h + 2, 2);
  if (magic != 42 && magic != 43) return std::nullopt;
  const bool big = magic == 43;
  uint64_t ifd = 0;
  if (big) {
    if (!b.Read(0, h, 16) || get(h + 4, 2) != 8) return std::nullopt;
    ifd = get(h + 8, 8);
  } else {
    ifd = get(h + 4, 4);
  }
  if (ifd > b.size()) return std::nullopt;
  const int count_size = big ? 8 : 2;
  const int entry_size = big ? 20 : 12;
  const int value_size = big ? 8 : 4;
  uint8_t c[8];
  if (!b.Read(ifd, c, count_size)) return std::nullopt;
  const uint64_t count = get(c, count_size);
  if (count == 0 || count > kMaxIfdEntries) return std::nullopt;
  std::vector<uint8_t> entries(count * entry_size);
  if (!b.Read(ifd + count_size, entries.data(), entries.size())) {
    return std::nullopt;
  }
  constexpr uint64_t kSoftware = 305;
  constexpr uint64_t kAscii = 2;
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* e = entries.data() + i * entry_size;
    if (get(e, 2) != kSoftware) continue;
    const uint64_t n = get(e + 4, value_size);
    if (get(e + 2, 2) != kAscii || n == 0 || n > kMaxProvenanceSize + 1) {
      return std::nullopt;
    }
    std::string text;
    if (n <= static_cast<uint64_t>(value_size)) {
      text.assign(reinterpret_cast<const char*>(e + 4 + value_size), n);
    } else {
      std::optional<std::string> s =
          b.Text(get(e + 4 + value_size, value_size), n);
      if (!s) return std::nullopt;
      text = std::move(*s);
    }
    // ASCII values end with a NUL.
    while (!text.empty() && text.back() == '\0') text.pop_back();
    return Checked(std::move(text));
  }
  return std::nullopt;
}

// The CVCR chunk of a RIFF WEBP file.
std::optional<std::string> FromWebp(Bytes& b) {
  uint8_t h[12];
  if (!b.Read(0, h, 12)) return std::nullopt;
  const uint64_t riff_end = std::min<uint64_t>(
      b.size(), 8 + (uint64_t{h[4]} | uint64_t{h[5]} << 8 |
                     uint64_t{h[6]} << 16 | uint64_t{h[7]} << 24));
  uint64_t at = 12;
  for (int step = 0; step < kMaxSteps && at + 8 <= riff_end; ++step) {
    uint8_t c[8];
    if (!b.Read(at, c, 8)) return std::nullopt;
    const uint64_t size = uint64_t{c[4]} | uint64_t{c[5]} << 8 |
                          uint64_t{c[6]} << 16 | uint64_t{c[7]} << 24;
    if (std::memcmp(c, kWebpProvenanceChunk, 4) == 0) {
      if (size > kMaxProvenanceSize || at + 8 + size > riff_end) {
        return std::nullopt;
      }
      std::optional<std::string> text = b.Text(at + 8, size);
      if (!text) return std::nullopt;
      return Checked(std::move(*text));
    }
    at += 8 + size + (size & 1);
  }
  return std::nullopt;
}

// A "# convcorr ..." comment in a P1 to P6 header (before its last
// number; P7 and PFM are not written with one).
std::optional<std::string> FromPnm(Bytes& b) {
  const size_t n = static_cast<size_t>(
      std::min<uint64_t>(b.size(), kMaxProvenanceSize + 256));
  std::string head(n, '\0');
  if (!b.Read(0, head.data(), n)) return std::nullopt;
  if (n < 2 || head[0] != 'P' || head[1] < '1' || head[1] > '6') {
    return std::nullopt;
  }
  // Width, height and (but for P1 and P4) the largest value.
  const int numbers = head[1] == '1' || head[1] == '4' ? 2 : 3;
  int seen = 0;
  size_t i = 2;
  while (i < n && seen < numbers) {
    const char ch = head[i];
    if (ch == '#') {
      const size_t end = head.find_first_of("\r\n", i);
      if (end == std::string::npos) return std::nullopt;  // cut short
      std::string_view line = std::string_view(head).substr(i + 1, end - i - 1);
      if (line.starts_with(' ')) line.remove_prefix(1);
      if (line.starts_with(kProvenancePrefix)) {
        return Checked(std::string(line));
      }
      i = end + 1;
    } else if (ch >= '0' && ch <= '9') {
      while (i < n && head[i] >= '0' && head[i] <= '9') ++i;
      ++seen;
    } else if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n' ||
               ch == '\v' || ch == '\f') {
      ++i;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

bool IsProvenanceText(std::string_view text) {
  return text.size() <= kMaxProvenanceSize &&
         text.starts_with(kProvenancePrefix) &&
         std::all_of(text.begin(), text.end(),
                     [](char c) { return c >= 0x20 && c <= 0x7e; });
}

bool HoldsProvenance(std::string_view ext) {
  const std::string format = FormatOf(ext);
  return format == "png" || format == "jpeg" || format == "tiff" ||
         format == "webp" || format == "pnm";
}

std::optional<std::string> ReadProvenance(Source& source) {
  if (!source.Seekable()) return std::nullopt;
  Bytes b(source);
  uint8_t head[16] = {};
  const size_t n = static_cast<size_t>(std::min<uint64_t>(b.size(), 16));
  if (!b.Read(0, head, n)) return std::nullopt;
  const std::string format = SniffFormat(std::span<const uint8_t>(head, n));
  if (format == "png") return FromPng(b);
  if (format == "jpeg") return FromJpeg(b);
  if (format == "tiff") return FromTiff(b);
  if (format == "webp") return FromWebp(b);
  if (format == "pnm") return FromPnm(b);
  return std::nullopt;
}

std::optional<std::string> ReadProvenance(std::span<const uint8_t> bytes) {
  const std::unique_ptr<Source> source = Source::FromMemory(bytes);
  return ReadProvenance(*source);
}

std::optional<std::string> ReadProvenance(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const FdCloser closer{fd};
  try {
    const std::unique_ptr<Source> source = Source::FromFd(fd, path.string());
    return ReadProvenance(*source);
  } catch (...) {
    return std::nullopt;  // a read error: not a file to trust
  }
}

}  // namespace convcorr::io
