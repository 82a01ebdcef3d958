// The streaming run through the binary: a file output is decoded, filtered
// and encoded band by band, and must be the very file the whole-image path
// writes to standard output; a tall image is filtered in bounded memory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

// The same image written to a file (streamed) and to standard output
// (held whole, so that a failure writes nothing): byte for byte equal,
// metadata included, for every format and kernel class.
TEST(CliStream, FileOutputEqualsTheWholeImagePath) {
  TempDir dir;
  const struct {
    std::string photo, ext;
    std::vector<std::string> extra;
  } cases[] = {
      {"astronaut.png", "png", {}},
      {"rocket.jpg", "jpg", {}},
      {"rocket.jpg", "tif", {}},
      {"chelsea.png", "ppm", {"--border", "wrap"}},
      {"camera.png", "pgm", {"--size", "valid"}},
      {"chessboard_GRAY_U16.tif", "png", {"--size", "full"}},
      {"coffee.png", "webp", {}},
      {"horse.png", "bmp", {"--gray"}},
      // RGBA: alpha carried, or filtered, in the stream.
      {"horse.png", "png", {"--size", "full", "--border", "constant"}},
      {"horse.png", "tif", {"--filter-alpha", "--depth", "u16"}},
  };
  for (const auto& c : cases) {
    for (const std::string kernel : {"motion:15,30", "1 2 3; 4 5 6; 7 8 -9"}) {
      const std::string out = (dir / ("out." + c.ext)).string();
      std::vector<std::string> args = {
          "correlate", "-k", kernel, Photo(c.photo).string(), "-o", out};
      args.insert(args.end(), c.extra.begin(), c.extra.end());
      RUN_OK(file, args);
      args[5] = "-";
      args.push_back("--format");
      args.push_back(c.ext);
      RUN_OK(piped, args);
      EXPECT_TRUE(ReadBytes(out) == piped.out)
          << c.photo << " -> " << c.ext << " with " << kernel;
    }
  }
  // -v says which path a file took.
  RUN_OK(alpha, {"correlate", "-k", "sobel-x", Photo("horse.png").string(),
                 "-o", (dir / "h.png").string(), "-v"});
  EXPECT_NE(alpha.err.find("4 channels, u8; streamed in bands"),
            std::string::npos)
      << alpha.err;
}

// A copy of the PNG `png` with a tEXt chunk inserted before IEND (its last
// 12 bytes), as ImageMagick writes its date chunks after the image data.
std::string WithTrailingText(std::string png, const std::string& key,
                             const std::string& text) {
  png.insert(png.size() - 12,
             PngChunk("tEXt", key + std::string(1, '\0') + text));
  return png;
}

// Text after the image data that no output keeps (ImageMagick's dates)
// does not stop a PNG from streaming: the file output, streamed, equals the
// whole-image path's.
TEST(CliStream, TrailingDateTextStillStreams) {
  TempDir dir;
  const std::filesystem::path in = dir / "late.png";
  WriteBytes(in, WithTrailingText(ReadBytes(Photo("astronaut.png")),
                                  "date:modify", "2026-12-02T07:30:00+00:00"));
  const std::string out = (dir / "out.png").string();
  RUN_OK(file, {"correlate", "-k", "sobel-x", in.string(), "-o", out, "-v"});
  EXPECT_NE(file.err.find("streamed in bands"), std::string::npos) << file.err;
  RUN_OK(piped, {"correlate", "-k", "sobel-x", in.string(), "-o", "-",
                 "--format", "png"});
  EXPECT_TRUE(ReadBytes(out) == piped.out);
}

// Peak resident memory of one run of the binary, in KiB (wait4).
long PeakKiB(const std::vector<std::string>& args) {
  std::vector<std::string> all = {ConvcorrBinary()};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) ||
      WEXITSTATUS(status) != 0) {
    return -1;
  }
  return usage.ru_maxrss;
}

// A binary PPM of random samples.
void WritePpm(const std::filesystem::path& p, int width, int height) {
  std::string bytes =
      "P6\n" + std::to_string(width) + " " + std::to_string(height) + "\n255\n";
  std::mt19937 rng(5);
  const size_t n = static_cast<size_t>(width) * height * 3;
  bytes.reserve(bytes.size() + n);
  for (size_t i = 0; i < n; ++i) bytes.push_back(static_cast<char>(rng()));
  WriteBytes(p, bytes);
}

// A short (1,000 rows) and a tall (20,000 rows) image of 1,000 RGB pixels
// in dir / "short.ppm" and dir / "tall.ppm", for the tests that compare
// the binary's peak memory on both. Skipped with a sanitizer's binary.
class CliStreamTall : public ::testing::Test {
 protected:
  void SetUp() override {
    if (std::getenv("CONVCORR_TEST_BINARY") != nullptr) {
      GTEST_SKIP() << "a sanitizer's binary: its shadow memory and "
                      "quarantine are not the program's";
    }
    WritePpm(dir / "short.ppm", 1000, 1000);
    WritePpm(dir / "tall.ppm", 1000, 20000);
  }
  TempDir dir;
};

// 1,000 rows against 20,000 rows of 1,000 RGB pixels: the whole image
// held three times over would add about 170 MiB; the stream adds a few
// bands' worth at most.
TEST_F(CliStreamTall, ImageInBoundedMemory) {
  for (const std::string kernel : {"sobel-x", "gaussian:4", "box:31"}) {
    const long short_kib =
        PeakKiB({"correlate", "-k", kernel, (dir / "short.ppm").string(), "-o",
                 (dir / "short-out.ppm").string()});
    const long tall_kib =
        PeakKiB({"correlate", "-k", kernel, (dir / "tall.ppm").string(), "-o",
                 (dir / "tall-out.ppm").string()});
    ASSERT_GT(short_kib, 0);
    ASSERT_GT(tall_kib, 0);
    // 20x the rows, at most 16 MiB more memory (the image is 57 MiB).
    EXPECT_LT(tall_kib - short_kib, 16 * 1024)
        << kernel << ": " << short_kib << " KiB for 1,000 rows, " << tall_kib
        << " KiB for 20,000";
  }
}

// TIFF and BMP outputs too (and BMP inputs): TIFF's directory comes last
// and BMP's rows run bottom-up, but a file can be written and read at any
// offset, so neither holds the image (the TIFF file of the tall image is 57 MiB
// in 8-bit, 229 MiB in float).
TEST_F(CliStreamTall, ImageToTiffAndBmpInBoundedMemory) {
  const struct {
    std::string command, ext;
    std::vector<std::string> extra;
  } cases[] = {{"correlate", "tif", {}},
               {"correlate", "tif", {"--depth", "f32"}},
               {"correlate", "bmp", {}},
               {"compare", "", {"--format", "tif"}}};
  int n = 0;
  for (const auto& c : cases) {
    const std::string tag = "-" + std::to_string(n++);
    const auto args = [&](const std::string& name) {
      std::vector<std::string> a = {
          c.command,
          "-k",
          "sobel-x",
          (dir / (name + ".ppm")).string(),
          "-o",
          (dir / (name + tag + (c.ext.empty() ? "" : "." + c.ext))).string()};
      a.insert(a.end(), c.extra.begin(), c.extra.end());
      return a;
    };
    const long short_kib = PeakKiB(args("short"));
    const long tall_kib = PeakKiB(args("tall"));
    ASSERT_GT(short_kib, 0) << c.command << " " << c.ext;
    ASSERT_GT(tall_kib, 0) << c.command << " " << c.ext;
    EXPECT_LT(tall_kib - short_kib, 16 * 1024)
        << c.command << " to " << c.ext << " "
        << ::testing::PrintToString(c.extra) << ": " << short_kib
        << " KiB for 1,000 rows, " << tall_kib << " KiB for 20,000";
  }
  // The BMP outputs as inputs: their bottom-up rows are read at their
  // offsets, a band at a time.
  {
    const long short_kib =
        PeakKiB({"correlate", "-k", "sobel-x", (dir / "short-2.bmp").string(),
                 "-o", (dir / "short-bmp.ppm").string()});
    const long tall_kib =
        PeakKiB({"correlate", "-k", "sobel-x", (dir / "tall-2.bmp").string(),
                 "-o", (dir / "tall-bmp.ppm").string()});
    ASSERT_GT(short_kib, 0);
    ASSERT_GT(tall_kib, 0);
    EXPECT_LT(tall_kib - short_kib, 16 * 1024)
        << "BMP input: " << short_kib << " KiB for 1,000 rows, " << tall_kib
        << " KiB for 20,000";
  }
  // What was written reads back whole, the same pixels in both formats
  // (OpenCV's decoders).
  const cv::Mat tif =
      cv::imread((dir / "tall-0.tif").string(), cv::IMREAD_UNCHANGED);
  const cv::Mat bmp =
      cv::imread((dir / "tall-2.bmp").string(), cv::IMREAD_UNCHANGED);
  ASSERT_EQ(tif.rows, 20000);
  ASSERT_EQ(tif.cols, 1000);
  ASSERT_EQ(bmp.size(), tif.size());
  ASSERT_EQ(bmp.type(), tif.type());
  EXPECT_EQ(cv::norm(tif, bmp, cv::NORM_INF), 0.0);
}

// compare too: its record of the difference (4 bytes a pixel, 76 MiB for
// the tall image) is in an unnamed file beside the outputs, not in memory;
// and --html's thumbnails read the outputs back row by row.
TEST_F(CliStreamTall, ImageComparedInBoundedMemory) {
  const int probe = ::open(dir.path().c_str(), O_TMPFILE | O_RDWR, 0600);
  if (probe < 0) {
    GTEST_SKIP() << "the temporary directory's file system has no O_TMPFILE: "
                    "the record is kept in memory there";
  }
  ::close(probe);
  for (const std::string kernel : {"sobel-x", "motion:9,30"}) {
    const bool html = kernel == "motion:9,30";
    const auto args = [&](const std::string& in, const std::string& out) {
      std::vector<std::string> a = {"compare", "-k", kernel,     in,
                                    "-o",      out,  "--format", "ppm"};
      if (html) a.push_back("--html");
      return a;
    };
    const long short_kib = PeakKiB(
        args((dir / "short.ppm").string(), (dir / "short-out").string()));
    const long tall_kib =
        PeakKiB(args((dir / "tall.ppm").string(), (dir / "tall-out").string()));
    ASSERT_GT(short_kib, 0);
    ASSERT_GT(tall_kib, 0);
    EXPECT_LT(tall_kib - short_kib, 16 * 1024)
        << kernel << ": " << short_kib << " KiB for 1,000 rows, " << tall_kib
        << " KiB for 20,000";
    // The three images (and the page and its thumbnails).
    EXPECT_EQ(
        std::distance(std::filesystem::directory_iterator(dir / "tall-out"),
                      std::filesystem::directory_iterator{}),
        html ? 5 : 3);
    if (html) {
      EXPECT_TRUE(std::filesystem::is_regular_file(dir / "tall-out" / "thumbs" /
                                                   "tall.diff.png.jpg"));
    }
  }
}

}  // namespace
}  // namespace convcorr::testing

namespace convcorr::testing {
namespace {

// compare band by band (no --panel) and held whole (--panel, which needs
// the whole image, the path compare always took before it streamed): the
// same convolve, correlate, heat map and raw difference pixels, and the
// same statistics, text and JSON, on sample photos of every kind (8-bit,
// JPEG, 16-bit gray, RGBA).
TEST(CliStream, CompareStreamedEqualsCompareHeldWhole) {
  TempDir dir;
  for (const std::string photo : {"astronaut.png", "rocket.jpg",
                                  "chessboard_GRAY_U16.tif", "horse.png"}) {
    for (const std::string kernel : {"sobel-x", "gaussian:2", "1 2; 3 4"}) {
      const std::string a = (dir / "a").string();
      const std::string b = (dir / "b").string();
      RUN_OK(streamed, {"compare", "-k", kernel, Photo(photo).string(), "-o", a,
                        "--raw-diff", "--json", "-v"});
      RUN_OK(whole, {"compare", "-k", kernel, Photo(photo).string(), "-o", b,
                     "--raw-diff", "--json", "-v", "--panel"});
      EXPECT_NE(streamed.err.find("streamed in bands"), std::string::npos)
          << streamed.err;
      EXPECT_NE(whole.err.find("held whole: --panel"), std::string::npos)
          << whole.err;
      std::string json = streamed.out;
      // The outputs' directory and the panel apart, the same line.
      for (size_t at = json.find(a); at != std::string::npos;
           at = json.find(a, at)) {
        json.replace(at, a.size(), b);
      }
      std::string panel_free = whole.out;
      const std::string stem = std::filesystem::path(photo).stem().string();
      const std::string entry = ",\"" + b + "/" + stem + ".panel.png\"";
      const size_t at = panel_free.find(entry);
      ASSERT_NE(at, std::string::npos) << whole.out;
      panel_free.erase(at, entry.size());
      EXPECT_EQ(json, panel_free) << photo << " " << kernel;
      for (const std::string out : {".convolve", ".correlate", ".diff"}) {
        const std::string ext =
            out == ".diff" ? "png"
            : photo == "rocket.jpg"
                ? "jpg"
                : std::filesystem::path(photo).extension().string().substr(1);
        const cv::Mat x = Read(dir / "a" / (stem + out + "." + ext));
        const cv::Mat y = Read(dir / "b" / (stem + out + "." + ext));
        ASSERT_FALSE(x.empty()) << stem + out;
        EXPECT_EQ(cv::norm(x, y, cv::NORM_INF), 0) << photo << out;
      }
      EXPECT_EQ(ReadBytes(dir / "a" / (stem + ".diff.tif")),
                ReadBytes(dir / "b" / (stem + ".diff.tif")));
      if (kernel == "sobel-x") {
        // The report as text: the same lines, the panel's name apart.
        const std::string c = (dir / "c").string();
        const std::string d = (dir / "d").string();
        RUN_OK(text, {"compare", "-k", kernel, Photo(photo).string(), "-o", c});
        RUN_OK(text_whole, {"compare", "-k", kernel, Photo(photo).string(),
                            "-o", d, "--panel"});
        std::string got = text.out;
        for (size_t at = got.find(c); at != std::string::npos;
             at = got.find(c, at)) {
          got.replace(at, c.size(), d);
        }
        std::string want = text_whole.out;
        const std::string panel = " " + d + "/" + stem + ".panel.png";
        const size_t p = want.find(panel);
        ASSERT_NE(p, std::string::npos) << want;
        want.erase(p, panel.size());
        EXPECT_EQ(got, want) << photo;
        EXPECT_NE(got.find("mean |diff|"), std::string::npos) << got;
        std::filesystem::remove_all(dir / "c");
        std::filesystem::remove_all(dir / "d");
      }
      std::filesystem::remove_all(dir / "a");
      std::filesystem::remove_all(dir / "b");
    }
  }
}

}  // namespace
}  // namespace convcorr::testing
