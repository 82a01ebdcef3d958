// Image formats: sniffing, extensions, what a format can store, the header
// read (io/format.h).
#include "io/format.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <iterator>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/files.h"
#include "io/legacy_codecs.h"

namespace convcorr::io {

namespace fs = std::filesystem;

std::string FormatOf(std::string_view ext) {
  if (ext == "jpg" || ext == "jpeg" || ext == "jpe") return "jpeg";
  if (ext == "tif" || ext == "tiff") return "tiff";
  if (ext == "pbm" || ext == "pgm" || ext == "ppm" || ext == "pnm") {
    return "pnm";
  }
  return std::string(ext);
}

std::string SniffFormat(std::span<const uint8_t> b) {
  using namespace std::string_view_literals;
  const auto starts = [&](std::string_view magic) {
    return b.size() >= magic.size() &&
           std::memcmp(b.data(), magic.data(), magic.size()) == 0;
  };
  if (starts("\x89PNG\r\n\x1a\n"sv)) return "png";
  if (starts("\xff\xd8\xff"sv)) return "jpeg";
  if (starts("II*\0"sv) || starts("MM\0*"sv) || starts("II+\0"sv) ||
      starts("MM\0+"sv)) {
    return "tiff";
  }
  if (b.size() >= 12 && starts("RIFF"sv) &&
      std::memcmp(b.data() + 8, "WEBP", 4) == 0) {
    return "webp";
  }
  if (b.size() >= 2 && b[0] == 'P' &&
      ((b[1] >= '1' && b[1] <= '7') || b[1] == 'F' || b[1] == 'f')) {
    return "pnm";
  }
  if (starts("BM"sv)) return "bmp";
  if (starts("\x59\xa6\x6a\x95"sv)) return "sunras";
  if (starts("#?RADIANCE"sv) || starts("#?RGBE"sv)) return "hdr";
  if (starts("\0\0\0\x0cjP  \r\n\x87\n"sv) || starts("\xff\x4f\xff\x51"sv)) {
    return "jp2";
  }
  return "";
}

std::string ExtensionOf(const fs::path& path) {
  std::string ext = path.extension().string();
  if (!ext.empty() && ext[0] == '.') ext.erase(0, 1);
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

namespace {

// The extensions convcorr writes. No pbm: it is bilevel, and filtered
// images are not.
constexpr const char* kWritable[] = {"png", "jpg",  "jpeg", "jpe",
                                     "tif", "tiff", "webp", "bmp",
                                     "pgm", "ppm",  "pnm",  "pfm"};

}  // namespace

bool IsWritableExtension(std::string_view ext) {
  return std::find(std::begin(kWritable), std::end(kWritable), ext) !=
         std::end(kWritable);
}

std::span<const char* const> WritableExtensions() { return kWritable; }

std::string WritableExtensionList() {
  std::string list;
  for (const char* ext : kWritable) {
    if (!list.empty()) list += ", ";
    list += ext;
  }
  return list;
}

bool IsImageExtension(std::string_view ext) {
  static const std::set<std::string, std::less<>> kReadable = {
      "png", "jpg", "jpeg", "jpe", "tif", "tiff", "bmp", "dib", "pbm", "pgm",
      "ppm", "pnm", "pam",  "pfm", "pxm", "webp", "sr",  "ras", "hdr", "pic"};
  return kReadable.find(ext) != kReadable.end();
}

void CheckEncodable(std::string_view ext, core::Depth depth, int channels,
                    std::string_view name) {
  const std::string format = FormatOf(ext);
  const bool alpha = channels == 2 || channels == 4;
  const auto refuse = [&](const std::string& why) {
    throw Error(ErrorKind::kUsage,
                "output '" + std::string(name) + "': " + format + " " + why);
  };
  const bool eight_only =
      format == "jpeg" || format == "webp" || format == "bmp";
  if (format == "pfm") {
    if (depth != core::Depth::kF32) {
      refuse("stores only float samples; use png or tif, or --depth f32");
    }
  } else if (depth == core::Depth::kF32 && format != "tiff") {
    refuse(eight_only
               ? "cannot store float samples; use tif (or pfm), or --depth u8"
               : "cannot store float samples; use tif (or pfm), or --depth u8 "
                 "or u16");
  } else if (depth == core::Depth::kU16 && eight_only) {
    refuse("cannot store 16-bit samples; use png or tif, or --depth u8");
  }
  // BMP would be written with 4 channels but read back without alpha.
  if (alpha && (format == "jpeg" || format == "pnm" || format == "pfm" ||
                format == "bmp")) {
    refuse("cannot store an alpha channel; use png or tif, or --gray");
  }
  if (ext == "pgm" && channels > 1) {
    throw Error(ErrorKind::kUsage,
                "output '" + std::string(name) +
                    "': pgm stores one channel; use ppm or png, or --gray");
  }
}

std::unique_ptr<Decoder> OpenDecoder(Source& source, std::string_view name) {
  const std::span<const uint8_t> head = source.Peek(32);
  if (head.empty()) ThrowInput(name, "empty file");
  const std::string format = SniffFormat(head);
  if (format == "png") return OpenPng(source, name);
  if (format == "jpeg") return OpenJpeg(source, name);
  if (format == "tiff") return OpenTiff(source, name);
  if (format == "webp") return OpenWebp(source, name);
  if (format == "pnm") return OpenPnm(source, name);
  if (format == "bmp") return OpenBmp(source, name);
  if (format == "sunras") return OpenSunRaster(source, name);
  if (format == "hdr") return OpenHdr(source, name);
  if (format == "jp2") {
    // OpenJPEG sizes its buffers from the codestream's tiles, precincts and
    // code-blocks, not from the image: 2 KB files of 64x48 pixels can take
    // 3.7 GB. --max-pixels cannot bound that.
    ThrowInput(name,
               "JPEG 2000 is not read: its decoder's memory is not bounded by "
               "the image size (--max-pixels cannot protect it); convert it "
               "to png or tiff");
  }
  ThrowInput(name, "cannot decode image (unknown format or corrupt data)");
}

bool LooksComplete(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return false;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec || size == 0) return false;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const FdCloser closer{fd};
  std::string format;
  try {
    const std::unique_ptr<Source> source = Source::FromFd(fd, path.string());
    format = SniffFormat(source->Peek(32));
    // The codec reads the header as it would to decode the file.
    OpenDecoder(*source, path.string());
  } catch (...) {
    // Unreadable as an image for any reason (out of memory too): made again.
    return false;
  }
  const auto tail = [&](size_t n) {
    std::vector<uint8_t> t(n);
    if (size < n) return std::vector<uint8_t>();
    const ssize_t k = ::pread(fd, t.data(), n, static_cast<off_t>(size - n));
    return k == static_cast<ssize_t>(n) ? t : std::vector<uint8_t>();
  };
  if (format == "png") {
    // The last chunk: length 0, "IEND", CRC AE 42 60 82.
    static constexpr uint8_t kIend[12] = {0,   0,   0,    0,    'I',  'E',
                                          'N', 'D', 0xAE, 0x42, 0x60, 0x82};
    const std::vector<uint8_t> t = tail(12);
    return t.size() == 12 && std::equal(t.begin(), t.end(), kIend);
  }
  if (format == "jpeg") {
    const std::vector<uint8_t> t = tail(2);
    return t.size() == 2 && t[0] == 0xFF && t[1] == 0xD9;
  }
  return true;
}

}  // namespace convcorr::io
