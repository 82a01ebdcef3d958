// Photos through the binary: EXIF orientation applied (or not, with
// --no-auto-orient), the ICC profile and EXIF carried to every result in
// JPEG, PNG, TIFF and WebP (or dropped, with --strip), difference maps
// plain sRGB, gray+alpha TIFF, --quality, and output names that are never
// guessed into folders. exiftool and ImageMagick (Debian's
// libimage-exiftool-perl and imagemagick) read the outputs as independent
// tools; a test that needs one skips, saying so, where it is missing.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

namespace fs = std::filesystem;

bool Have(const std::string& tool) {
  return std::system(("command -v " + tool + " >/dev/null 2>&1").c_str()) == 0;
}

// What a shell command prints on stdout.
std::string Capture(const std::string& cmd) {
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> p(::popen(cmd.c_str(), "r"), ::pclose);
  if (!p) return out;
  std::array<char, 4096> buf;
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), p.get())) > 0;) {
    out.append(buf.data(), n);
  }
  return out;
}

// One tag as exiftool prints it (-s3: the value alone), "" when absent.
std::string ExifTool(const fs::path& file, const std::string& tag) {
  std::string v = Capture("exiftool -s3 -n '-" + tag + "' '" + file.string() +
                          "' 2>/dev/null");
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  return v;
}

// The embedded ICC profile's bytes, as exiftool extracts them.
std::string Icc(const fs::path& file) {
  return Capture("exiftool -b -icc_profile '" + file.string() +
                 "' 2>/dev/null");
}

const char* kPortrait = "rocket-portrait.jpg";

// The photo as a viewer shows it: OpenCV's imread turns it as the EXIF
// says (an independent decoder and rotation).
cv::Mat Upright() {
  return cv::imread(Photo(kPortrait).string(), cv::IMREAD_COLOR);
}

TEST(CliPhoto, ExifRotatedJpegComesOutUpright) {
  TempDir dir;
  const cv::Mat upright = Upright();
  ASSERT_EQ(upright.cols, 640);
  ASSERT_EQ(upright.rows, 427);
  RUN_OK(r, {"correlate", "-k", "sobel-x", "--bias", "128",
             Photo(kPortrait).string(), "-o", (dir / "edges.png").string()});
  const cv::Mat out = Read(dir / "edges.png");
  ASSERT_EQ(out.cols, 640);
  ASSERT_EQ(out.rows, 427);
  // The filter of the upright photo: the motion of a Sobel's x is along
  // the upright rows, not the stored ones.
  cv::Mat ref =
      RefCorrelate(upright, KernelMat({{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}));
  ref += cv::Scalar::all(128);
  EXPECT_TRUE(Near(out, Quantize(ref, CV_8U), 0));
  if (!Have("exiftool")) GTEST_SKIP() << "exiftool is not installed";
  EXPECT_EQ(ExifTool(dir / "edges.png", "Orientation"), "1");
}

TEST(CliPhoto, NoAutoOrientFiltersThePixelsAsStored) {
  TempDir dir;
  const cv::Mat stored =
      cv::imread(Photo(kPortrait).string(),
                 cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
  ASSERT_EQ(stored.cols, 427);
  RUN_OK(r, {"correlate", "-k", "box:3", "--no-auto-orient",
             Photo(kPortrait).string(), "-o", (dir / "box.jpg").string()});
  const cv::Mat out =
      cv::imread((dir / "box.jpg").string(),
                 cv::IMREAD_COLOR | cv::IMREAD_IGNORE_ORIENTATION);
  ASSERT_EQ(out.cols, 427);
  ASSERT_EQ(out.rows, 640);
  const float w = 1.0f / 9.0f;
  const cv::Mat ref =
      RefCorrelate(stored, KernelMat({{w, w, w}, {w, w, w}, {w, w, w}}));
  // JPEG output: within the encoder's loss, measured on the mean.
  cv::Mat diff;
  cv::absdiff(out, Quantize(ref, CV_8U), diff);
  EXPECT_LT(cv::mean(diff)[0], 3.0);
  if (!Have("exiftool")) GTEST_SKIP() << "exiftool is not installed";
  // The tag stays, so a viewer still turns the result upright; TIFF
  // writes it as its own tag.
  EXPECT_EQ(ExifTool(dir / "box.jpg", "Orientation"), "6");
  RUN_OK(t, {"correlate", "-k", "box:3", "--no-auto-orient",
             Photo(kPortrait).string(), "-o", (dir / "box.tif").string()});
  EXPECT_EQ(ExifTool(dir / "box.tif", "IFD0:Orientation"), "6");
}

TEST(CliPhoto, IccProfileAndExifGoToEveryFormat) {
  if (!Have("exiftool")) GTEST_SKIP() << "exiftool is not installed";
  TempDir dir;
  const std::string icc = Icc(Photo(kPortrait));
  ASSERT_GT(icc.size(), 1000u);
  ASSERT_NE(ExifTool(Photo(kPortrait), "ThumbnailLength"), "");
  for (const std::string ext : {"jpg", "png", "tif", "webp"}) {
    SCOPED_TRACE(ext);
    const fs::path out = dir / ("out." + ext);
    RUN_OK(r, {"convolve", "-k", "gaussian:1", Photo(kPortrait).string(), "-o",
               out.string()});
    EXPECT_EQ(Icc(out), icc);
    EXPECT_EQ(ExifTool(out, "Make"), "convcorr-samples");
    EXPECT_EQ(ExifTool(out, "Model"), "Rocket Portrait");
    EXPECT_EQ(ExifTool(out, "DateTimeOriginal"), "2019:03:02 07:49:03");
    // Upright pixels, so the tag says so (or is gone); no thumbnail of the
    // unfiltered photo.
    const std::string o = ExifTool(out, "Orientation");
    EXPECT_TRUE(o == "1" || o.empty()) << o;
    EXPECT_EQ(ExifTool(out, "ThumbnailLength"), "");
  }
}

TEST(CliPhoto, StripWritesNoMetadata) {
  if (!Have("exiftool")) GTEST_SKIP() << "exiftool is not installed";
  TempDir dir;
  for (const std::string ext : {"jpg", "png", "tif", "webp"}) {
    SCOPED_TRACE(ext);
    const fs::path out = dir / ("out." + ext);
    RUN_OK(r, {"correlate", "-k", "box:3", "--strip", Photo(kPortrait).string(),
               "-o", out.string()});
    EXPECT_EQ(Icc(out), "");
    EXPECT_EQ(ExifTool(out, "Make"), "");
    EXPECT_EQ(ExifTool(out, "DateTimeOriginal"), "");
    // Still upright: --strip drops the tag, not the turn.
    EXPECT_EQ(Read(out).cols, 640);
  }
}

TEST(CliPhoto, ResultsKeepTheProfileDifferenceMapsArePlainSrgb) {
  if (!Have("exiftool")) GTEST_SKIP() << "exiftool is not installed";
  TempDir dir;
  RUN_OK(r, {"compare", "-k", "emboss", "--panel", Photo(kPortrait).string(),
             "-o", dir.path().string()});
  const std::string icc = Icc(Photo(kPortrait));
  EXPECT_EQ(Icc(dir / "rocket-portrait.convolve.jpg"), icc);
  EXPECT_EQ(Icc(dir / "rocket-portrait.correlate.jpg"), icc);
  EXPECT_EQ(Icc(dir / "rocket-portrait.diff.png"), "");
  EXPECT_EQ(Icc(dir / "rocket-portrait.panel.png"), "");
  EXPECT_EQ(ExifTool(dir / "rocket-portrait.diff.png", "Make"), "");
}

TEST(CliPhoto, GrayAlphaTiffKeepsItsAlpha) {
  if (!Have("convert")) GTEST_SKIP() << "ImageMagick is not installed";
  TempDir dir;
  const fs::path ga = dir / "ga.tif";
  ASSERT_EQ(std::system(("convert '" + Photo("horse.png").string() +
                         "' -colorspace gray -type GrayscaleAlpha '" +
                         ga.string() + "'")
                            .c_str()),
            0);
  ASSERT_EQ(Capture("identify -format '%[channels]' '" + ga.string() + "'"),
            "graya");
  const fs::path out = dir / "out.tif";
  RUN_OK(r, {"correlate", "-k", "box:3", "--normalize", "--json", ga.string(),
             "-o", out.string()});
  EXPECT_NE(r.out.find("\"channels\":2"), std::string::npos) << r.out;
  EXPECT_EQ(Capture("identify -format '%[channels]' '" + out.string() + "'"),
            "graya");
  // The alpha is copied unchanged: ImageMagick extracts the same plane.
  const std::string a_in =
      Capture("convert '" + ga.string() + "' -alpha extract -depth 8 gray:-");
  const std::string a_out =
      Capture("convert '" + out.string() + "' -alpha extract -depth 8 gray:-");
  ASSERT_EQ(a_in.size(), 400u * 328u);
  EXPECT_TRUE(a_in == a_out);
}

TEST(CliPhoto, QualitySetsTheJpegQuality) {
  TempDir dir;
  RUN_OK(d, {"correlate", "-k", "identity", Photo("rocket.jpg").string(), "-o",
             (dir / "d.jpg").string()});
  RUN_OK(q, {"correlate", "-k", "identity", "--quality", "40",
             Photo("rocket.jpg").string(), "-o", (dir / "q.jpg").string()});
  EXPECT_LT(fs::file_size(dir / "q.jpg") * 2, fs::file_size(dir / "d.jpg"));
  if (Have("identify")) {
    EXPECT_EQ(Capture("identify -format %Q '" + (dir / "d.jpg").string() + "'"),
              "95");
    EXPECT_EQ(Capture("identify -format %Q '" + (dir / "q.jpg").string() + "'"),
              "40");
  }
  const RunResult bad = RunConvcorr({"correlate", "-k", "identity", "--quality",
                                     "101", Photo("rocket.jpg").string(), "-o",
                                     (dir / "x.jpg").string()});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_EQ(bad.err, "--quality must be 1 to 100 (0: the format's default)\n");
  EXPECT_FALSE(fs::exists(dir / "x.jpg"));
}

TEST(CliPhoto, MaxPixelsTakesAnExponent) {
  TempDir dir;
  RUN_OK(r, {"correlate", "-k", "box:3", "--max-pixels", "2.5e8",
             Photo("camera.png").string(), "-o", (dir / "o.png").string()});
  const RunResult small = RunConvcorr(
      {"correlate", "-k", "box:3", "--max-pixels", "2.6e5",
       Photo("camera.png").string(), "-o", (dir / "s.png").string()});
  EXPECT_EQ(small.exit_code, 1) << Describe(small);
  EXPECT_EQ(small.err, "input '" + Photo("camera.png").string() +
                           "': image is 512x512 (262144 pixels), over the "
                           "limit of 260000 (--max-pixels)\n");
  const RunResult frac = RunConvcorr(
      {"correlate", "-k", "box:3", "--max-pixels", "1.5",
       Photo("camera.png").string(), "-o", (dir / "f.png").string()});
  EXPECT_EQ(frac.exit_code, 2) << Describe(frac);
  EXPECT_EQ(frac.err, "--max-pixels must be a whole number of at least 1\n");
}

TEST(CliPhoto, AnOutputNameIsNeverGuessedIntoAFolder) {
  TempDir dir;
  const std::string in = Photo("camera.png").string();
  for (const std::string ext :
       {"gif", "avif", "heic", "jxl", "exr", "jp2", "svg"}) {
    SCOPED_TRACE(ext);
    const fs::path out = dir / ("out." + ext);
    const RunResult r =
        RunConvcorr({"correlate", "-k", "box:3", in, "-o", out.string()});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(r.err, "output '" + out.string() + "': convcorr cannot write ." +
                         ext +
                         " files; it writes png, jpg, jpeg, jpe, tif, tiff, "
                         "webp, bmp, pgm, ppm, pnm, pfm\n");
    EXPECT_FALSE(fs::exists(out));
  }
  // compare writes several files: a name with an extension is refused.
  const fs::path result = dir / "result.png";
  const RunResult c =
      RunConvcorr({"compare", "-k", "sobel-x", in, "-o", result.string()});
  EXPECT_EQ(c.exit_code, 2) << Describe(c);
  EXPECT_EQ(c.err, "compare writes several files, not the file '" +
                       result.string() +
                       "' (a trailing / makes any name a directory)\n");
  EXPECT_FALSE(fs::exists(result));
  // A trailing slash makes any name a directory.
  RUN_OK(s, {"compare", "-k", "sobel-x", in, "-o",
             (dir / "result.png").string() + "/"});
  EXPECT_TRUE(fs::is_directory(dir / "result.png"));
  EXPECT_TRUE(fs::exists(dir / "result.png" / "camera.diff.png"));
  // An existing directory with an extension in its name is a directory.
  fs::create_directory(dir / "by.date");
  RUN_OK(e, {"correlate", "-k", "box:3", in, "-o", (dir / "by.date").string()});
  EXPECT_TRUE(fs::exists(dir / "by.date" / "camera.png"));
}

}  // namespace
}  // namespace convcorr::testing
