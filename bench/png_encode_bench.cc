// convcorr's PNG encoder on large images: libpng's one zlib stream (what
// src/io/png_codec.cc writes below png::kBandedMinBytes, and wrote for
// every image before the banded path) against the banded path on 1, 2, ...
// threads, with zlib and with ISA-L (PngDeflate::kIsal, compare's heat
// maps) (docs/performance.md, "PNG encoding in bands on threads").
//
//   png_encode_bench [--rounds N] [--threads 1,2] IMAGE...
//
// IMAGE is any image convcorr reads (typically the heat map a 4K compare
// writes), decoded by convcorr into the samples the CLI encodes. Each row
// encodes it whole into memory as the CLI does (io::EncodeRaster: 64 rows
// per WriteRows into a growing vector, IDAT CRCs, the zlib stream's
// Adler-32); "libpng, one stream" is libpng with png_codec.cc's settings
// (SUB filter, zlib level 1, Z_RLE, png_set_bgr and png_set_swap) on the
// same rows. Every output is decoded once by convcorr and compared sample
// for sample with the input. The rows run round robin, N rounds (default
// 15); each reports the median and minimum wall time, the median CPU time
// of the process (all threads) and the size.
#include <malloc.h>
#include <png.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <functional>
#include <string>
#include <vector>

#include "io/codec.h"
#include "io/image_io.h"

namespace {

using convcorr::io::Raster;
using Bytes = std::vector<uint8_t>;

[[noreturn]] void Fail(const std::string& what) {
  std::fprintf(stderr, "png_encode_bench: %s\n", what.c_str());
  std::exit(1);
}

double NowMs() {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double CpuMs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

void Append(png_structp png, png_bytep data, size_t n) {
  auto* out = static_cast<Bytes*>(png_get_io_ptr(png));
  out->insert(out->end(), data, data + n);
}

// libpng's one stream, png_codec.cc's settings, into a growing vector.
Bytes LibpngEncode(const Raster& r) {
  const convcorr::core::ConstImageView v = r.View();
  const int bits = r.depth() == convcorr::core::Depth::kU16 ? 16 : 8;
  static constexpr int kColorTypes[] = {
      PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
      PNG_COLOR_TYPE_RGB_ALPHA};
  Bytes file;
  png_structp png =
      png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  if (setjmp(png_jmpbuf(png))) Fail("libpng write failed");
  png_set_write_fn(png, &file, Append, nullptr);
  png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_SUB);
  png_set_compression_level(png, Z_BEST_SPEED);
  png_set_compression_strategy(png, Z_RLE);
  png_set_IHDR(png, info, static_cast<png_uint_32>(r.width()),
               static_cast<png_uint_32>(r.height()), bits,
               kColorTypes[r.channels() - 1], PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  if (r.channels() >= 3) png_set_bgr(png);
  if (bits == 16) png_set_swap(png);
  for (int y = 0; y < r.height(); ++y) {
    png_write_row(
        png, reinterpret_cast<png_const_bytep>(v.base[0]) + y * v.row_bytes);
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return file;
}

bool SameSamples(const Raster& a, const Raster& b) {
  if (a.width() != b.width() || a.height() != b.height() ||
      a.channels() != b.channels() || a.depth() != b.depth()) {
    return false;
  }
  const auto va = a.View(), vb = b.View();
  const size_t n = static_cast<size_t>(a.width()) * a.channels() *
                   convcorr::core::SampleBytes(a.depth());
  for (int y = 0; y < a.height(); ++y) {
    if (std::memcmp(va.base[0] + y * va.row_bytes,
                    vb.base[0] + y * vb.row_bytes, n) != 0) {
      return false;
    }
  }
  return true;
}

// How many IDAT chunks, and their data's size (the zlib stream).
int IdatChunks(const Bytes& png, size_t* stream) {
  int n = 0;
  *stream = 0;
  for (size_t at = 8; at + 12 <= png.size();) {
    const uint32_t len = png_get_uint_32(png.data() + at);
    if (std::memcmp(png.data() + at + 4, "IDAT", 4) == 0) {
      ++n;
      *stream += len;
    }
    at += 12 + size_t{len};
  }
  return n;
}

struct Row {
  std::string name;
  std::function<Bytes()> run;
  std::vector<double> ms, cpu;
  size_t bytes = 0;
  size_t stream = 0;  // the zlib stream, IDAT chunks' data
  int idat = 0;
};

void Bench(const std::string& path, int rounds,
           const std::vector<int>& counts) {
  const Raster raster = convcorr::io::ReadRaster(path, {});
  std::vector<Row> rows;
  const auto add = [&rows](std::string name, std::function<Bytes()> run) {
    Row& row = rows.emplace_back();
    row.name = std::move(name);
    row.run = std::move(run);
  };
  add("libpng, one stream (before)",
      [&raster] { return LibpngEncode(raster); });
  for (const convcorr::io::PngDeflate deflate :
       {convcorr::io::PngDeflate::kZlib, convcorr::io::PngDeflate::kIsal}) {
    for (const int threads : counts) {
      add(std::string(deflate == convcorr::io::PngDeflate::kIsal
                          ? "banded ISA-L, "
                          : "banded, ") +
              std::to_string(threads) + " thread" + (threads == 1 ? "" : "s"),
          [&raster, threads, deflate] {
            convcorr::io::EncodeOptions options;
            options.threads = threads;
            options.png_deflate = deflate;
            return convcorr::io::EncodeRaster(raster, "png", "bench", {},
                                              options);
          });
    }
  }
  for (Row& row : rows) {
    const Bytes png = row.run();
    row.bytes = png.size();
    row.idat = IdatChunks(png, &row.stream);
    if (!SameSamples(convcorr::io::DecodeRaster(png, "bench", {}), raster)) {
      Fail(path + ": " + row.name + " does not decode to the input");
    }
  }
  for (int r = 0; r < rounds; ++r) {
    for (Row& row : rows) {
      const double c = CpuMs();
      const double a = NowMs();
      const Bytes png = row.run();
      row.ms.push_back(NowMs() - a);
      row.cpu.push_back(CpuMs() - c);
      if (png.size() != row.bytes) Fail(row.name + ": size changed");
    }
  }
  const size_t samples = static_cast<size_t>(raster.width()) * raster.height() *
                         raster.channels() *
                         convcorr::core::SampleBytes(raster.depth());
  std::printf("## %s: %dx%d, %d channel%s, %zu bytes of samples, %d rounds\n\n",
              path.c_str(), raster.width(), raster.height(), raster.channels(),
              raster.channels() == 1 ? "" : "s", samples, rounds);
  std::printf(
      "| encoder | median ms | min ms | median CPU ms | file bytes | vs "
      "before | IDAT chunks | zlib stream bytes | vs before | time vs before "
      "|\n");
  std::printf(
      "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
      "|\n");
  const double base_ms = Median(rows[0].ms);
  const double base_bytes = static_cast<double>(rows[0].bytes);
  const double base_stream = static_cast<double>(rows[0].stream);
  for (const Row& row : rows) {
    const double med = Median(row.ms);
    std::printf(
        "| %s | %.1f | %.1f | %.1f | %zu | %+.3f%% | %d | %zu | %+.3f%% | "
        "%.2fx |\n",
        row.name.c_str(), med, *std::min_element(row.ms.begin(), row.ms.end()),
        Median(row.cpu), row.bytes, 100.0 * (row.bytes / base_bytes - 1),
        row.idat, row.stream, 100.0 * (row.stream / base_stream - 1),
        med / base_ms);
  }
  std::printf("\n");
}

std::vector<int> ParseCounts(const std::string& list) {
  std::vector<int> out;
  size_t at = 0;
  while (at <= list.size()) {
    const size_t comma = std::min(list.find(',', at), list.size());
    const int n = std::atoi(list.substr(at, comma - at).c_str());
    if (n < 1) Fail("--threads takes counts like 1,2");
    out.push_back(n);
    at = comma + 1;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  // As convcorr's main: freed buffers are reused, not mapped again per call.
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  int rounds = 15;
  std::vector<int> counts = {1, 2};
  std::vector<std::string> paths;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--rounds" && i + 1 < argc) {
      rounds = std::max(1, std::atoi(argv[++i]));
    } else if (arg == "--threads" && i + 1 < argc) {
      counts = ParseCounts(argv[++i]);
    } else if (arg == "-h" || arg == "--help") {
      std::printf(
          "usage: png_encode_bench [--rounds N] [--threads 1,2] IMAGE...\n");
      return 0;
    } else {
      paths.push_back(arg);
    }
  }
  if (paths.empty()) Fail("no images (png_encode_bench --help)");
  std::printf("zlib %s, libpng %s\n\n", zlibVersion(), png_libpng_ver);
  for (const std::string& path : paths) Bench(path, rounds, counts);
  return 0;
}
