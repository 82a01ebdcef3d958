// The deflate step of convcorr's PNG writer (src/io/png_codec.cc) by zlib,
// libdeflate and ISA-L: docs/performance.md, "PNG deflate: zlib,
// libdeflate, ISA-L".
//
//   deflate_compare [--rounds N] [--libdeflate-max L] [--no-vzeroupper]
//                   IMAGE...
//
// IMAGE is a PNG, a JPEG or a binary PGM/PPM, read as 8-bit samples with
// the channels it has (gray, gray+alpha, RGB or RGBA; a palette becomes RGB
// or RGBA), as convcorr writes it back. For each image the program builds
// the bytes libpng deflates for it with convcorr's settings: every row as
// its filter byte (1, SUB) then the row with each byte minus the byte one
// pixel to its left. It checks that zlib at level 1 with Z_RLE turns them
// into exactly the IDAT data of the PNG libpng writes, so the bytes timed
// are the bytes convcorr compresses. Then, on one thread unless the row
// says otherwise, it times each compressor from its set-up to its last
// output byte (allocation, init, compression, the zlib wrapper's Adler-32,
// release), into an output buffer allocated and touched beforehand, and
// decompresses every output once with zlib to check it.
//
// The rows run round robin (every row once per round, then the next round)
// so that load from other processes spreads over all of them; each row
// reports the median and the minimum over the rounds. At least N rounds
// (default 15), more for small images, up to half a second per row.
// libdeflate runs at levels 1 to L (default 3).
//
// "2 bands" rows are the pigz idea for one zlib stream: the rows are cut
// into two halves, each deflated on its own (raw deflate, the first half
// ending with a sync flush so that the second starts on a byte boundary),
// with the Adler-32 of each half combined; a PNG writer would write each
// half as its own IDAT chunks, so nothing is copied to join them.
// jpeglib.h after <cstdio>: it uses FILE.
// clang-format off
#include <cstdio>
#include <jpeglib.h>
// clang-format on
#include <libdeflate.h>
#include <malloc.h>
#include <png.h>
#include <zlib.h>
#ifdef CONVCORR_HAVE_ISAL
#include <isa-l/igzip_lib.h>
#endif

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using Bytes = std::vector<uint8_t>;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "deflate_compare: %s\n", what.c_str());
  std::exit(1);
}

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;
  Bytes samples;  // interleaved, R,G,B(,A) or G(,A)
};

Image ReadPng(const std::string& path) {
  png_image png{};
  png.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&png, path.c_str())) {
    Fail(path + ": " + png.message);
  }
  const bool alpha = (png.format & PNG_FORMAT_FLAG_ALPHA) != 0;
  if ((png.format & PNG_FORMAT_FLAG_COLOR) != 0) {
    png.format = alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
  } else {
    png.format = alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY;
  }
  Image im;
  im.width = static_cast<int>(png.width);
  im.height = static_cast<int>(png.height);
  im.channels = static_cast<int>(PNG_IMAGE_PIXEL_CHANNELS(png.format));
  im.samples.resize(PNG_IMAGE_SIZE(png));
  if (!png_image_finish_read(&png, nullptr, im.samples.data(), 0, nullptr)) {
    Fail(path + ": " + png.message);
  }
  return im;
}

Image ReadJpeg(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) Fail(path + ": cannot open");
  jpeg_decompress_struct jpeg{};
  jpeg_error_mgr err{};
  jpeg.err = jpeg_std_error(&err);  // exits on error: fine for a bench
  jpeg_create_decompress(&jpeg);
  jpeg_stdio_src(&jpeg, f);
  jpeg_read_header(&jpeg, TRUE);
  jpeg.out_color_space = jpeg.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&jpeg);
  Image im;
  im.width = static_cast<int>(jpeg.output_width);
  im.height = static_cast<int>(jpeg.output_height);
  im.channels = jpeg.output_components;
  const size_t row_bytes = static_cast<size_t>(im.width) * im.channels;
  im.samples.resize(row_bytes * im.height);
  while (jpeg.output_scanline < jpeg.output_height) {
    JSAMPROW row = im.samples.data() + jpeg.output_scanline * row_bytes;
    jpeg_read_scanlines(&jpeg, &row, 1);
  }
  jpeg_finish_decompress(&jpeg);
  jpeg_destroy_decompress(&jpeg);
  std::fclose(f);
  return im;
}

// Binary PGM (P5) or PPM (P6) with maxval 255.
Image ReadPnm(const std::string& path, const Bytes& data) {
  size_t at = 2;
  auto number = [&] {
    while (at < data.size()) {
      if (data[at] == '#') {
        while (at < data.size() && data[at] != '\n') ++at;
      } else if (std::isspace(data[at])) {
        ++at;
      } else {
        break;
      }
    }
    long v = 0;
    bool any = false;
    while (at < data.size() && data[at] >= '0' && data[at] <= '9') {
      v = v * 10 + (data[at++] - '0');
      any = true;
      if (v > 1 << 24) Fail(path + ": PNM number too large");
    }
    if (!any) Fail(path + ": malformed PNM header");
    return static_cast<int>(v);
  };
  Image im;
  im.channels = data[1] == '5' ? 1 : 3;
  im.width = number();
  im.height = number();
  if (number() != 255) Fail(path + ": only 8-bit PNM (maxval 255)");
  ++at;  // the one whitespace byte before the samples
  const size_t size = static_cast<size_t>(im.width) * im.height * im.channels;
  if (data.size() - at < size) Fail(path + ": PNM cut short");
  im.samples.assign(data.begin() + static_cast<std::ptrdiff_t>(at),
                    data.begin() + static_cast<std::ptrdiff_t>(at + size));
  return im;
}

Image ReadImage(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) Fail(path + ": cannot open");
  Bytes data;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    data.insert(data.end(), buf, buf + n);
  }
  std::fclose(f);
  if (data.size() >= 8 && std::memcmp(data.data(), "\x89PNG", 4) == 0) {
    return ReadPng(path);
  }
  if (data.size() >= 3 && data[0] == 0xff && data[1] == 0xd8) {
    return ReadJpeg(path);
  }
  if (data.size() >= 3 && data[0] == 'P' &&
      (data[1] == '5' || data[1] == '6')) {
    return ReadPnm(path, data);
  }
  Fail(path + ": not a PNG, JPEG or binary PGM/PPM");
}

// What libpng deflates: each row as filter byte 1 (SUB) and the row minus
// itself shifted by one pixel (png_setup_sub_row_only in pngwutil.c).
Bytes SubFiltered(const Image& im) {
  const size_t row_bytes = static_cast<size_t>(im.width) * im.channels;
  const size_t bpp = static_cast<size_t>(im.channels);
  Bytes out((row_bytes + 1) * im.height);
  for (int y = 0; y < im.height; ++y) {
    const uint8_t* row = im.samples.data() + y * row_bytes;
    uint8_t* dst = out.data() + y * (row_bytes + 1);
    dst[0] = 1;
    for (size_t i = 0; i < bpp && i < row_bytes; ++i) dst[1 + i] = row[i];
    for (size_t i = bpp; i < row_bytes; ++i) {
      dst[1 + i] = static_cast<uint8_t>(row[i] - row[i - bpp]);
    }
  }
  return out;
}

// The whole PNG as convcorr's encoder writes it (same settings, rows given
// as B,G,R(,A) with png_set_bgr for colour, as the CLI holds them), into
// memory. Returns the file.
Bytes LibpngEncode(const Image& im, const Bytes& rows_for_libpng) {
  Bytes file;
  file.reserve(rows_for_libpng.size() + (1 << 20));
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) Fail("libpng write failed");
  png_set_write_fn(
      png, &file,
      [](png_structp p, png_bytep data, size_t n) {
        auto* f = static_cast<Bytes*>(png_get_io_ptr(p));
        f->insert(f->end(), data, data + n);
      },
      [](png_structp) {});
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  png_set_compression_level(png, Z_BEST_SPEED);
  png_set_compression_strategy(png, Z_RLE);
  static constexpr int kColorTypes[] = {
      PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
      PNG_COLOR_TYPE_RGB_ALPHA};
  png_set_IHDR(png, info, static_cast<png_uint_32>(im.width),
               static_cast<png_uint_32>(im.height), 8,
               kColorTypes[im.channels - 1], PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  if (im.channels >= 3) png_set_bgr(png);
  const size_t row_bytes = static_cast<size_t>(im.width) * im.channels;
  for (int y = 0; y < im.height; ++y) {
    png_write_row(png, rows_for_libpng.data() + y * row_bytes);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return file;
}

// The concatenated IDAT data of a PNG file, and how many IDAT chunks.
Bytes IdatData(const Bytes& file, int* chunks) {
  Bytes out;
  *chunks = 0;
  for (size_t at = 8; at + 12 <= file.size();) {
    const uint32_t len = uint32_t{file[at]} << 24 |
                         uint32_t{file[at + 1]} << 16 |
                         uint32_t{file[at + 2]} << 8 | file[at + 3];
    if (std::memcmp(&file[at + 4], "IDAT", 4) == 0) {
      out.insert(out.end(), file.begin() + static_cast<std::ptrdiff_t>(at + 8),
                 file.begin() + static_cast<std::ptrdiff_t>(at + 8 + len));
      ++*chunks;
    }
    at += 12 + len;
  }
  return out;
}

// ---- the compressors: each deflates in[0, n) into out (cap bytes) as one
// zlib stream and returns its size.

size_t Zlib(const uint8_t* in, size_t n, uint8_t* out, size_t cap, int level,
            int strategy) {
  z_stream s{};
  if (deflateInit2(&s, level, Z_DEFLATED, 15, 8, strategy) != Z_OK) {
    Fail("deflateInit2");
  }
  s.next_in = const_cast<Bytef*>(in);
  s.avail_in = static_cast<uInt>(n);
  s.next_out = out;
  s.avail_out = static_cast<uInt>(cap);
  if (deflate(&s, Z_FINISH) != Z_STREAM_END) Fail("zlib deflate");
  const size_t size = s.total_out;
  deflateEnd(&s);
  return size;
}

size_t Libdeflate(const uint8_t* in, size_t n, uint8_t* out, size_t cap,
                  int level) {
  libdeflate_compressor* c = libdeflate_alloc_compressor(level);
  if (c == nullptr) Fail("libdeflate_alloc_compressor");
  const size_t size = libdeflate_zlib_compress(c, in, n, out, cap);
  libdeflate_free_compressor(c);
  if (size == 0) Fail("libdeflate_zlib_compress: output too small");
  return size;
}

// One band of a split stream: raw deflate of in[0, n), ending with a sync
// flush unless it is the last band; *adler gets the band's Adler-32.
size_t ZlibBand(const uint8_t* in, size_t n, uint8_t* out, size_t cap,
                bool last, uint32_t* adler) {
  z_stream s{};
  if (deflateInit2(&s, Z_BEST_SPEED, Z_DEFLATED, -15, 8, Z_RLE) != Z_OK) {
    Fail("deflateInit2");
  }
  s.next_in = const_cast<Bytef*>(in);
  s.avail_in = static_cast<uInt>(n);
  s.next_out = out;
  s.avail_out = static_cast<uInt>(cap);
  const int r = deflate(&s, last ? Z_FINISH : Z_SYNC_FLUSH);
  if (r != (last ? Z_STREAM_END : Z_OK) || s.avail_in != 0 ||
      s.avail_out == 0) {
    Fail("zlib band deflate");
  }
  const size_t size = s.total_out;
  deflateEnd(&s);
  *adler = static_cast<uint32_t>(adler32(1, in, static_cast<uInt>(n)));
  return size;
}

#ifdef CONVCORR_HAVE_ISAL
// ISA-L 2.30's assembly returns with the upper halves of the AVX registers
// still in use (no vzeroupper), and nothing zlib calls clears them. Until
// something does, SSE code in the same thread pays for it. On the
// development machine, zlib's deflate took 1.1-1.3x its time (4K frame) to
// 2.9x (a small photo) in every row after the first ISA-L one. So every
// ISA-L call is followed by vzeroupper, as a writer using ISA-L would have
// to do (--no-vzeroupper leaves it out, to see the cost).
bool g_vzeroupper = true;

void ClearUpperAvx() {
#if defined(__x86_64__)
  static const bool avx = __builtin_cpu_supports("avx");
  if (avx && g_vzeroupper) asm volatile("vzeroupper" ::: "memory");
#endif
}

int IsalDeflate(isal_zstream* s) {
  const int r = isal_deflate(s);
  ClearUpperAvx();
  return r;
}

size_t IsalLevelBufSize(int level) {
  switch (level) {
    case 0:
      return 0;
    case 1:
      return ISAL_DEF_LVL1_DEFAULT;
    case 2:
      return ISAL_DEF_LVL2_DEFAULT;
    default:
      return ISAL_DEF_LVL3_DEFAULT;
  }
}

// isal_deflate (the streaming API a row-by-row writer would use) of
// in[0, n): a whole zlib stream (wrapper = IGZIP_ZLIB), or a raw band
// (IGZIP_DEFLATE) that ends with a sync flush unless it is the last.
size_t Isal(const uint8_t* in, size_t n, uint8_t* out, size_t cap, int level,
            uint16_t wrapper, bool last) {
  isal_zstream s;
  isal_deflate_init(&s);
  const size_t buf_size = IsalLevelBufSize(level);
  std::unique_ptr<uint8_t[]> buf(buf_size ? new uint8_t[buf_size] : nullptr);
  s.level = static_cast<uint32_t>(level);
  s.level_buf = buf.get();
  s.level_buf_size = static_cast<uint32_t>(buf_size);
  s.gzip_flag = wrapper;
  s.end_of_stream = last ? 1 : 0;
  s.flush = last ? NO_FLUSH : SYNC_FLUSH;
  s.next_in = const_cast<uint8_t*>(in);
  s.avail_in = static_cast<uint32_t>(n);
  s.next_out = out;
  s.avail_out = static_cast<uint32_t>(cap);
  for (int calls = 0;; ++calls) {
    if (IsalDeflate(&s) != COMP_OK) Fail("isal_deflate");
    const auto state = s.internal_state.state;
    if (last ? state == ZSTATE_END
             : s.avail_in == 0 && state == ZSTATE_NEW_HDR) {
      break;
    }
    if (s.avail_out == 0 || calls > 1000) Fail("isal_deflate: no progress");
  }
  return s.total_out;
}

// As a row-by-row PNG writer would use it: one isal_deflate call per
// filtered row, the output taken 64 KiB at a time (one IDAT chunk each).
size_t IsalRows(const uint8_t* in, size_t n, size_t row_len, uint8_t* out,
                size_t cap, int level) {
  constexpr size_t kChunk = size_t{1} << 16;
  isal_zstream s;
  isal_deflate_init(&s);
  const size_t buf_size = IsalLevelBufSize(level);
  std::unique_ptr<uint8_t[]> buf(buf_size ? new uint8_t[buf_size] : nullptr);
  s.level = static_cast<uint32_t>(level);
  s.level_buf = buf.get();
  s.level_buf_size = static_cast<uint32_t>(buf_size);
  s.gzip_flag = IGZIP_ZLIB;
  size_t written = 0;
  for (size_t at = 0; at < n; at += row_len) {
    s.next_in = const_cast<uint8_t*>(in + at);
    s.avail_in = static_cast<uint32_t>(std::min(row_len, n - at));
    s.end_of_stream = at + row_len >= n ? 1 : 0;
    do {
      const size_t room = std::min(kChunk, cap - written);
      s.next_out = out + written;
      s.avail_out = static_cast<uint32_t>(room);
      if (IsalDeflate(&s) != COMP_OK) Fail("isal_deflate");
      written += room - s.avail_out;
      if (written == cap) Fail("isal_deflate: output too small");
    } while (s.avail_in > 0 ||
             (s.end_of_stream && s.internal_state.state != ZSTATE_END));
  }
  return written;
}

size_t IsalBand(const uint8_t* in, size_t n, uint8_t* out, size_t cap,
                bool last, uint32_t* adler) {
  const size_t size = Isal(in, n, out, cap, 1, IGZIP_DEFLATE, last);
  *adler = isal_adler32(1, in, n);
  ClearUpperAvx();
  return size;
}
#endif

using BandFn = size_t (*)(const uint8_t*, size_t, uint8_t*, size_t, bool,
                          uint32_t*);

double ThreadCpuMs() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

// Where a run's output is split between out and out2, and for two bands
// the CPU time of the slower band: about the wall time two idle cores
// would take, whatever else runs on the machine.
struct RunInfo {
  size_t split = 0;
  double slower_band_ms = 0;
};

// Two bands (split at a row) deflated on `threads` threads (1 or 2) into
// out (the zlib header, the first band) and out2 (the second band, then
// the Adler-32): what a writer would emit as two runs of IDAT chunks.
// Returns the stream's total size.
size_t TwoBands(BandFn band, const uint8_t* in, size_t n, size_t split_at,
                uint8_t* out, uint8_t* out2, size_t cap, int threads,
                RunInfo* info) {
  uint32_t adler0 = 0, adler1 = 0;
  size_t size0 = 0, size1 = 0;
  double cpu0 = 0, cpu1 = 0;
  auto second = [&] {
    const double c = ThreadCpuMs();
    size1 = band(in + split_at, n - split_at, out2, cap - 4, true, &adler1);
    cpu1 = ThreadCpuMs() - c;
  };
  std::thread helper;
  if (threads > 1) helper = std::thread(second);
  out[0] = 0x78;  // deflate, 32K window
  out[1] = 0x01;  // FLEVEL 0 (fastest), FCHECK
  const double c = ThreadCpuMs();
  size0 = band(in, split_at, out + 2, cap - 2, false, &adler0);
  cpu0 = ThreadCpuMs() - c;
  if (threads > 1) {
    helper.join();
  } else {
    second();
  }
  const uLong adler =
      adler32_combine(adler0, adler1, static_cast<z_off_t>(n - split_at));
  uint8_t* trailer = out2 + size1;
  trailer[0] = static_cast<uint8_t>(adler >> 24);
  trailer[1] = static_cast<uint8_t>(adler >> 16);
  trailer[2] = static_cast<uint8_t>(adler >> 8);
  trailer[3] = static_cast<uint8_t>(adler);
  info->split = 2 + size0;
  info->slower_band_ms = std::max(cpu0, cpu1);
  return 2 + size0 + size1 + 4;
}

struct Row {
  std::string name;
  int threads = 1;
  // Compresses the filtered bytes into out (and out2 for two bands),
  // returns the size.
  std::function<size_t(const Bytes&, uint8_t*, uint8_t*, size_t, RunInfo*)> run;
  std::vector<double> ms;        // wall
  std::vector<double> cpu;       // CPU, all threads
  std::vector<double> band_cpu;  // CPU of the slower band (two bands)
  size_t bytes = 0;
};

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

std::vector<Row> Rows([[maybe_unused]] size_t row_len, size_t split_at,
                      int libdeflate_max) {
  std::vector<Row> rows;
  auto whole =
      [&rows](
          std::string name,
          std::function<size_t(const uint8_t*, size_t, uint8_t*, size_t)> f) {
        Row& row = rows.emplace_back();
        row.name = std::move(name);
        row.run = [f](const Bytes& in, uint8_t* out, uint8_t*, size_t cap,
                      RunInfo* info) {
          const size_t size = f(in.data(), in.size(), out, cap);
          info->split = size;
          return size;
        };
      };
  whole("zlib 1, Z_RLE (now)", [](auto in, auto n, auto out, auto cap) {
    return Zlib(in, n, out, cap, Z_BEST_SPEED, Z_RLE);
  });
  whole("zlib 1, default strategy", [](auto in, auto n, auto out, auto cap) {
    return Zlib(in, n, out, cap, Z_BEST_SPEED, Z_DEFAULT_STRATEGY);
  });
  for (int level = 1; level <= libdeflate_max; ++level) {
    whole("libdeflate " + std::to_string(level),
          [level](auto in, auto n, auto out, auto cap) {
            return Libdeflate(in, n, out, cap, level);
          });
  }
#ifdef CONVCORR_HAVE_ISAL
  for (int level = 0; level <= ISAL_DEF_MAX_LEVEL; ++level) {
    whole("ISA-L igzip " + std::to_string(level),
          [level](auto in, auto n, auto out, auto cap) {
            return Isal(in, n, out, cap, level, IGZIP_ZLIB, true);
          });
  }
  whole("ISA-L igzip 1, row by row",
        [row_len](auto in, auto n, auto out, auto cap) {
          return IsalRows(in, n, row_len, out, cap, 1);
        });
#endif
  auto bands = [&rows, split_at](std::string name, BandFn band, int threads) {
    Row& row = rows.emplace_back();
    row.name = std::move(name);
    row.threads = threads;
    row.run = [band, threads, split_at](const Bytes& in, uint8_t* out,
                                        uint8_t* out2, size_t cap,
                                        RunInfo* info) {
      return TwoBands(band, in.data(), in.size(), split_at, out, out2, cap,
                      threads, info);
    };
  };
  bands("zlib 1, Z_RLE, 2 bands", ZlibBand, 1);
  bands("zlib 1, Z_RLE, 2 bands", ZlibBand, 2);
#ifdef CONVCORR_HAVE_ISAL
  bands("ISA-L igzip 1, 2 bands", IsalBand, 2);
#endif
  return rows;
}

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// CPU time of the process (all its threads): unlike the wall time, it
// leaves out the time the rows wait for a core that another process holds.
double CpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

struct Total {
  std::string name;
  int threads;
  double ms = 0;
  double cpu_ms = 0;
  double bytes = 0;
};

void Bench(const std::string& path, int min_rounds, int libdeflate_max,
           std::vector<Total>* totals) {
  const Image im = ReadImage(path);
  const Bytes filtered = SubFiltered(im);
  const size_t row_bytes = static_cast<size_t>(im.width) * im.channels;
  const size_t split_at = (row_bytes + 1) * static_cast<size_t>(im.height / 2);

  // libpng's own output, from rows as the CLI holds them (B,G,R).
  Bytes bgr = im.samples;
  if (im.channels >= 3) {
    for (size_t i = 0; i + 2 < bgr.size(); i += im.channels) {
      std::swap(bgr[i], bgr[i + 2]);
    }
  }
  int idat_chunks = 0;
  const Bytes png_file = LibpngEncode(im, bgr);
  const Bytes idat = IdatData(png_file, &idat_chunks);

  const size_t cap = filtered.size() + filtered.size() / 8 + (1 << 20);
  Bytes out(cap, 0), out2(cap, 0), joined(cap), check(filtered.size());
  std::vector<Row> rows = Rows(row_bytes + 1, split_at, libdeflate_max);

  // One untimed run of each row: the check, and the time of one round.
  const double t0 = NowMs();
  for (Row& row : rows) {
    RunInfo info;
    row.bytes = row.run(filtered, out.data(), out2.data(), cap, &info);
    std::memcpy(joined.data(), out.data(), info.split);
    std::memcpy(joined.data() + info.split, out2.data(),
                row.bytes - info.split);
    uLongf got = check.size();
    if (uncompress(check.data(), &got, joined.data(), row.bytes) != Z_OK ||
        got != filtered.size() ||
        std::memcmp(check.data(), filtered.data(), got) != 0) {
      Fail(path + ": " + row.name + " does not decompress to its input");
    }
    if (&row == &rows[0]) {
      if (idat.size() != row.bytes ||
          std::memcmp(idat.data(), joined.data(), row.bytes) != 0) {
        Fail(path + ": zlib level 1 + Z_RLE does not make libpng's IDAT data");
      }
    }
  }
  const double round_ms = NowMs() - t0;
  const int rounds = std::clamp(
      static_cast<int>(500.0 * rows.size() / std::max(round_ms, 1e-3)),
      min_rounds, 1000);

  // libpng's whole encode (filter, transform, deflate, CRC, chunks), timed
  // in the same rounds as a reference.
  std::vector<double> libpng_ms, libpng_cpu;
  for (int r = 0; r < rounds; ++r) {
    for (Row& row : rows) {
      RunInfo info;
      const double c = CpuMs();
      const double a = NowMs();
      row.run(filtered, out.data(), out2.data(), cap, &info);
      row.ms.push_back(NowMs() - a);
      row.cpu.push_back(CpuMs() - c);
      row.band_cpu.push_back(info.slower_band_ms);
    }
    const double c = CpuMs();
    const double a = NowMs();
    const Bytes file = LibpngEncode(im, bgr);
    libpng_ms.push_back(NowMs() - a);
    libpng_cpu.push_back(CpuMs() - c);
    if (file.size() != png_file.size()) Fail("libpng output changed");
  }

  std::printf("## %s: %dx%d, %d channel%s, %zu bytes to deflate, %d rounds\n\n",
              path.c_str(), im.width, im.height, im.channels,
              im.channels == 1 ? "" : "s", filtered.size(), rounds);
  std::printf(
      "zlib 1 + Z_RLE makes libpng's IDAT data byte for byte (%zu bytes in "
      "%d IDAT chunks; file %zu bytes). libpng's whole encode with "
      "convcorr's settings (png_write_row from B,G,R rows, into memory): "
      "median %.2f ms, min %.2f ms, median CPU %.2f ms.\n\n",
      idat.size(), idat_chunks, png_file.size(), Median(libpng_ms),
      *std::min_element(libpng_ms.begin(), libpng_ms.end()),
      Median(libpng_cpu));
  std::printf(
      "| deflate | threads | median ms | min ms | median CPU ms | MB/s "
      "(input, median) | bytes | size vs now | time vs now | CPU vs now "
      "|\n");
  std::printf(
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
      "|\n");
  const double now_ms = Median(rows[0].ms);
  const double now_cpu = Median(rows[0].cpu);
  const double now_bytes = static_cast<double>(rows[0].bytes);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& row = rows[i];
    const double med = Median(row.ms);
    const double cpu = Median(row.cpu);
    std::printf(
        "| %s | %d | %.2f | %.2f | %.2f | %.0f | %zu | %+.1f%% | %.2fx | "
        "%.2fx |\n",
        row.name.c_str(), row.threads, med,
        *std::min_element(row.ms.begin(), row.ms.end()), cpu,
        filtered.size() / 1e3 / med, row.bytes,
        100.0 * (row.bytes / now_bytes - 1), med / now_ms, cpu / now_cpu);
    if (totals->size() <= i) totals->push_back({row.name, row.threads});
    (*totals)[i].ms += med;
    (*totals)[i].cpu_ms += cpu;
    (*totals)[i].bytes += static_cast<double>(row.bytes);
  }
  std::printf("\n");
  for (const Row& row : rows) {
    if (row.threads == 1 && row.name.find("bands") == std::string::npos) {
      continue;
    }
    const double band = Median(row.band_cpu);
    std::printf(
        "%s, %d thread%s: the slower band took %.2f ms of CPU (median), "
        "%.2fx the CPU time of the first row.\n",
        row.name.c_str(), row.threads, row.threads == 1 ? "" : "s", band,
        band / now_cpu);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  // As convcorr's main: freed buffers are reused, not mapped again per call.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  int min_rounds = 15;
  int libdeflate_max = 3;
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rounds" && i + 1 < argc) {
      min_rounds = std::max(1, std::atoi(argv[++i]));
#ifdef CONVCORR_HAVE_ISAL
    } else if (arg == "--no-vzeroupper") {
      g_vzeroupper = false;
#endif
    } else if (arg == "--libdeflate-max" && i + 1 < argc) {
      libdeflate_max = std::clamp(std::atoi(argv[++i]), 1, 12);
    } else if (arg == "-h" || arg == "--help") {
      std::printf(
          "usage: deflate_compare [--rounds N] [--libdeflate-max L] "
          "[--no-vzeroupper] IMAGE...\n");
      return 0;
    } else {
      paths.push_back(arg);
    }
  }
  if (paths.empty()) Fail("no images (deflate_compare --help)");
  std::printf("zlib %s, libdeflate %s, ", zlibVersion(),
              LIBDEFLATE_VERSION_STRING);
#ifdef CONVCORR_HAVE_ISAL
  std::printf("ISA-L igzip (levels 0-%d)%s\n\n", ISAL_DEF_MAX_LEVEL,
              g_vzeroupper ? "" : ", no vzeroupper after ISA-L calls");
#else
  std::printf("no ISA-L (libisal not found at build time)\n\n");
#endif
  std::vector<Total> totals;
  for (const std::string& path : paths) {
    Bench(path, min_rounds, libdeflate_max, &totals);
  }
  if (paths.size() > 1) {
    std::printf("## All %zu images: sums of the medians and of the sizes\n\n",
                paths.size());
    std::printf(
        "| deflate | threads | ms | CPU ms | bytes | size vs now | time vs now "
        "| CPU vs now |\n");
    std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (const Total& t : totals) {
      std::printf(
          "| %s | %d | %.2f | %.2f | %.0f | %+.1f%% | %.2fx | %.2fx |\n",
          t.name.c_str(), t.threads, t.ms, t.cpu_ms, t.bytes,
          100.0 * (t.bytes / totals[0].bytes - 1), t.ms / totals[0].ms,
          t.cpu_ms / totals[0].cpu_ms);
    }
  }
  return 0;
}
