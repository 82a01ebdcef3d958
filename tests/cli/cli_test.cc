// convolve and correlate through the built binary, on the sample photos and
// crops of them, checked by pixel values against an independent oracle:
// cv::filter2D on the decoded input (correlate), with the kernel flipped and
// the anchor mirrored (convolve), after padding with cv::copyMakeBorder.
//
// Tolerances: float outputs of integer kernels on integer samples are exact
// in float32, so 1e-3 * sum|K| is ample (it only absorbs the order of
// additions for fractional weights); 8- and 16-bit outputs are compared
// within 1 after rounding, since the oracle accumulates in float and
// convcorr in double, which may round a .5 case differently.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

namespace fs = std::filesystem;

cv::Mat SobelX() { return KernelMat({{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}); }
cv::Mat SobelY() { return KernelMat({{-1, -2, -1}, {0, 0, 0}, {1, 2, 1}}); }
cv::Mat Box(int n) { return cv::Mat(n, n, CV_32F, cv::Scalar(1.0 / (n * n))); }
double L1(const cv::Mat& k) { return cv::norm(k, cv::NORM_L1); }

// Runs convcorr and fails the test (with its stderr) unless it exits 0.
#define RUN_OK(result, ...)                          \
  const RunResult result = RunConvcorr(__VA_ARGS__); \
  ASSERT_EQ(result.exit_code, 0) << Describe(result)

// Number of float samples that round outside [0, max].
uint64_t CountClipped(const cv::Mat& f, double max) {
  cv::Mat flat = f.reshape(1);
  uint64_t n = 0;
  for (int y = 0; y < flat.rows; ++y) {
    for (int x = 0; x < flat.cols; ++x) {
      const double r = std::nearbyint(flat.at<float>(y, x));
      if (r < 0 || r > max) ++n;
    }
  }
  return n;
}

TEST(CliFilter, AstronautSobelXFloatMatchesFilter2D) {
  TempDir t;
  const fs::path in = Photo("astronaut.png");
  const cv::Mat src = Read(in);
  ASSERT_EQ(src.type(), CV_8UC3);
  const double tol = 1e-3 * 255 * L1(SobelX());
  for (const std::string mode : {"correlate", "convolve"}) {
    SCOPED_TRACE(mode);
    const fs::path out = t / (mode + ".tif");
    RUN_OK(r, {mode, "-k", "sobel-x", "--depth", "f32", in.string(), "-o",
               out.string()});
    const cv::Mat got = Read(out);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.type(), CV_32FC3);
    const cv::Mat want = mode == "correlate" ? RefCorrelate(src, SobelX())
                                             : RefConvolve(src, SobelX());
    EXPECT_TRUE(Near(got, want, tol));
    double lo = 0;
    cv::minMaxLoc(got.reshape(1), &lo);
    EXPECT_LT(lo, 0) << "f32 keeps negative values";
  }
}

TEST(CliFilter, AstronautSobelXEightBitIsRoundedAndSaturated) {
  TempDir t;
  const fs::path in = Photo("astronaut.png");
  const fs::path out = t / "x.png";
  RUN_OK(r, {"correlate", "-k", "sobel-x", "--json", in.string(), "-o",
             out.string()});
  const cv::Mat want = RefCorrelate(Read(in), SobelX());
  const cv::Mat got = Read(out);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.type(), CV_8UC3);
  EXPECT_TRUE(Near(got, Quantize(want, CV_8U), 1));

  const uint64_t clipped = CountClipped(want, 255);
  ASSERT_GT(clipped, 0u);
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const nlohmann::json j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["input"], in.string());
  EXPECT_EQ(j["output"], out.string());
  EXPECT_EQ(j["mode"], "correlate");
  EXPECT_EQ(j["width"], 512);
  EXPECT_EQ(j["height"], 512);
  EXPECT_EQ(j["channels"], 3);
  EXPECT_EQ(j["depth"], "u8");
  EXPECT_EQ(j["saturated"].get<uint64_t>(), clipped);
  // The clipped samples are reported in a note naming the output.
  EXPECT_NE(r.err.find("note: output '" + out.string() + "': " +
                       std::to_string(clipped) + " samples clipped to 0..255"),
            std::string::npos)
      << r.err;
}

TEST(CliFilter, GrayCameraConvolveWithBias) {
  TempDir t;
  const fs::path in = Photo("camera.png");
  const fs::path out = t / "lap.png";
  RUN_OK(r, {"convolve", "-k", "laplacian:8", "--bias=128", in.string(), "-o",
             out.string()});
  const cv::Mat src = Read(in);
  ASSERT_EQ(src.type(), CV_8UC1);
  const cv::Mat k = KernelMat({{1, 1, 1}, {1, -8, 1}, {1, 1, 1}});
  const cv::Mat got = Read(out);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.type(), CV_8UC1);
  EXPECT_TRUE(Near(got, Quantize(RefConvolve(src, k) + 128, CV_8U), 1));
}

TEST(CliFilter, RgbaAlphaIsCarriedUnchangedInSameMode) {
  TempDir t;
  const fs::path in = Photo("horse.png");
  const cv::Mat src = Read(in);
  ASSERT_EQ(src.type(), CV_8UC4);
  // The pixels whose 3x3 window is all opaque: there alpha weighting (the
  // default) gives the unweighted sums; horse.png has a few pixels that
  // are not opaque.
  cv::Mat opaque = AlphaOf(src) == 255;
  cv::erode(opaque, opaque, cv::Mat::ones(3, 3, CV_8U));
  ASSERT_GT(cv::countNonZero(opaque), 0);
  for (const std::string mode : {"correlate", "convolve"}) {
    for (const bool weighted : {true, false}) {
      SCOPED_TRACE(mode + (weighted ? "" : " --no-alpha-weighting"));
      const fs::path out = t / (mode + ".png");
      std::vector<std::string> args = {
          mode, "-k", "sobel-y", "--bias=128", in.string(), "-o", out.string()};
      if (!weighted) args.push_back("--no-alpha-weighting");
      RUN_OK(r, args);
      const cv::Mat got = Read(out);
      ASSERT_FALSE(got.empty());
      ASSERT_EQ(got.type(), CV_8UC4);
      EXPECT_TRUE(Identical(AlphaOf(got), AlphaOf(src)));
      const cv::Mat want = mode == "correlate"
                               ? RefCorrelate(ColorOf(src), SobelY())
                               : RefConvolve(ColorOf(src), SobelY());
      cv::Mat got_colour = ColorOf(got).clone();
      cv::Mat want_colour = Quantize(want + cv::Scalar::all(128), CV_8U);
      if (weighted) {
        got_colour.setTo(0, ~opaque);
        want_colour.setTo(0, ~opaque);
      }
      EXPECT_TRUE(Near(got_colour, want_colour, 1));
    }
  }
}

TEST(CliFilter, FilterAlphaFiltersAlphaLikeAColourChannel) {
  TempDir t;
  const fs::path in = Photo("horse.png");
  const fs::path out = t / "blur.png";
  RUN_OK(r, {"correlate", "-k", "box:5", "--filter-alpha", in.string(), "-o",
             out.string()});
  const cv::Mat src = Read(in);
  const cv::Mat got = Read(out);
  ASSERT_FALSE(got.empty());
  ASSERT_EQ(got.type(), CV_8UC4);
  EXPECT_TRUE(Near(AlphaOf(got),
                   Quantize(RefCorrelate(AlphaOf(src), Box(5)), CV_8U), 1));
  EXPECT_TRUE(Near(ColorOf(got),
                   Quantize(RefCorrelate(ColorOf(src), Box(5)), CV_8U), 1));
  EXPECT_FALSE(Identical(AlphaOf(got), AlphaOf(src)))
      << "the silhouette's edge must be blurred";
}

TEST(CliFilter, AlphaIsCroppedForValidAndExtendedForFull) {
  TempDir t;
  const fs::path in = Photo("horse.png");
  const cv::Mat src = Read(in);
  const cv::Mat alpha = AlphaOf(src);
  {
    const fs::path out = t / "valid.png";
    RUN_OK(r, {"correlate", "-k", "box:3", "--size", "valid", in.string(), "-o",
               out.string()});
    const cv::Mat got = Read(out);
    ASSERT_FALSE(got.empty());
    ASSERT_EQ(got.type(), CV_8UC4);
    EXPECT_EQ(got.cols, src.cols - 2);
    EXPECT_EQ(got.rows, src.rows - 2);
    EXPECT_TRUE(
        Identical(AlphaOf(got),
                  alpha(cv::Rect(1, 1, src.cols - 2, src.rows - 2)).clone()));
    EXPECT_TRUE(
        Near(ColorOf(got),
             Quantize(RefCorrelate(ColorOf(src), Box(3), {1, 1},
                                   cv::BORDER_CONSTANT, 0, OutSize::kValid),
                      CV_8U),
             1));
  }
  {
    // constant:0 makes the added margin transparent.
    const fs::path out = t / "full.png";
    RUN_OK(r, {"correlate", "-k", "box:3", "--size", "full", "--border",
               "constant", in.string(), "-o", out.string()});
    const cv::Mat got = Read(out);
    ASSERT_FALSE(got.empty());
    ASSERT_EQ(got.type(), CV_8UC4);
    cv::Mat want_alpha;
    cv::copyMakeBorder(alpha, want_alpha, 1, 1, 1, 1, cv::BORDER_CONSTANT, 0);
    EXPECT_TRUE(Identical(AlphaOf(got), want_alpha));
  }
}

TEST(CliFilter, SixteenBitTiffStaysSixteenBit) {
  TempDir t;
  const fs::path in = Photo("chessboard_GRAY_U16.tif");
  const cv::Mat src = Read(in);
  ASSERT_EQ(src.type(), CV_16UC1);
  const cv::Mat want = Quantize(RefConvolve(src, Box(5)), CV_16U);
  for (const std::string ext : {"tif", "png"}) {
    SCOPED_TRACE(ext);
    const fs::path out = t / ("blur." + ext);
    RUN_OK(r, {"convolve", "-k", "box:5", in.string(), "-o", out.string()});
    const cv::Mat got = Read(out);
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.type(), CV_16UC1);
    EXPECT_TRUE(Near(got, want, 1));
  }
}

TEST(CliFilter, JpegInputToPngOutput) {
  TempDir t;
  const fs::path in = Photo("rocket.jpg");
  const fs::path out = t / "rocket.png";
  RUN_OK(r, {"correlate", "-k", "sharpen", in.string(), "-o", out.string()});
  const cv::Mat src = Read(in);
  ASSERT_EQ(src.type(), CV_8UC3);
  const cv::Mat k = KernelMat({{0, -1, 0}, {-1, 5, -1}, {0, -1, 0}});
  const cv::Mat got = Read(out);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got.type(), CV_8UC3);
  EXPECT_TRUE(Near(got, Quantize(RefCorrelate(src, k), CV_8U), 1));
}

TEST(CliFilter, EveryBorderModeMatchesOpenCVPadding) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(200, 150, 23, 17), t / "crop.png");
  const cv::Mat src = Read(in);
  // 3 rows x 4 columns, anchor (2, 1), nothing symmetric about it.
  const std::string spec = "1,2,0,-1; 0,3,1,2; -2,1,1,0";
  const cv::Mat k = KernelMat({{1, 2, 0, -1}, {0, 3, 1, 2}, {-2, 1, 1, 0}});
  struct Case {
    std::string name;
    int cv_border;
    double value;
  };
  const std::vector<Case> cases = {
      {"reflect101", cv::BORDER_REFLECT_101, 0},
      {"mirror", cv::BORDER_REFLECT_101, 0},
      {"reflect", cv::BORDER_REFLECT, 0},
      {"replicate", cv::BORDER_REPLICATE, 0},
      {"nearest", cv::BORDER_REPLICATE, 0},
      {"constant", cv::BORDER_CONSTANT, 0},
      {"constant:77.5", cv::BORDER_CONSTANT, 77.5},
      {"constant:-20", cv::BORDER_CONSTANT, -20},
      {"wrap", cv::BORDER_WRAP, 0},
  };
  for (const Case& c : cases) {
    for (const std::string mode : {"correlate", "convolve"}) {
      SCOPED_TRACE(c.name + " " + mode);
      const fs::path out = t / "out.tif";
      RUN_OK(r, {mode, "-k", spec, "--border", c.name, "--depth", "f32",
                 in.string(), "-o", out.string()});
      const cv::Mat want =
          mode == "correlate"
              ? RefCorrelate(src, k, {2, 1}, c.cv_border, c.value)
              : RefConvolve(src, k, {2, 1}, c.cv_border, c.value);
      EXPECT_TRUE(Near(Read(out), want, 1e-3 * L1(k)));
    }
  }
}

TEST(CliFilter, ValidAndFullSizes) {
  TempDir t;
  const fs::path in =
      WriteCrop("astronaut.png", cv::Rect(100, 100, 31, 20), t / "crop.png");
  const cv::Mat src = Read(in);
  // 3 rows x 5 columns.
  const std::string spec = "1,0,2,0,-1; 0,1,0,1,0; 3,0,-1,0,1";
  const cv::Mat k =
      KernelMat({{1, 0, 2, 0, -1}, {0, 1, 0, 1, 0}, {3, 0, -1, 0, 1}});
  struct Case {
    std::string size;
    std::string border;
    OutSize out_size;
    int cv_border;
    int width, height;
  };
  const std::vector<Case> cases = {
      {"valid", "reflect101", OutSize::kValid, cv::BORDER_REFLECT_101, 27, 18},
      {"full", "constant", OutSize::kFull, cv::BORDER_CONSTANT, 35, 22},
      {"full", "reflect", OutSize::kFull, cv::BORDER_REFLECT, 35, 22},
      {"same", "replicate", OutSize::kSame, cv::BORDER_REPLICATE, 31, 20},
  };
  for (const Case& c : cases) {
    for (const std::string mode : {"correlate", "convolve"}) {
      SCOPED_TRACE(c.size + " " + c.border + " " + mode);
      const fs::path out = t / "out.tif";
      RUN_OK(r, {mode, "-k", spec, "--size", c.size, "--border", c.border,
                 "--depth", "f32", in.string(), "-o", out.string()});
      const cv::Mat got = Read(out);
      ASSERT_FALSE(got.empty());
      EXPECT_EQ(got.cols, c.width);
      EXPECT_EQ(got.rows, c.height);
      const cv::Mat want =
          mode == "correlate"
              ? RefCorrelate(src, k, {2, 1}, c.cv_border, 0, c.out_size)
              : RefConvolve(src, k, {2, 1}, c.cv_border, 0, c.out_size);
      EXPECT_TRUE(Near(got, want, 1e-3 * L1(k)));
    }
  }
}

TEST(CliFilter, ValidDoesNotDependOnAnchorOrBorder) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(0, 0, 30, 25), t / "crop.png");
  const std::string spec = "1,-2,3; 0,4,-5; 6,0,-1";
  RUN_OK(a, {"convolve", "-k", spec, "--size", "valid", "--depth", "f32",
             in.string(), "-o", (t / "a.tif").string()});
  RUN_OK(b, {"convolve", "-k", spec, "--size", "valid", "--anchor", "0,2",
             "--border", "wrap", "--depth", "f32", in.string(), "-o",
             (t / "b.tif").string()});
  EXPECT_TRUE(Identical(Read(t / "a.tif"), Read(t / "b.tif")));
}

// SPEC 1, --size valid: "The result does not depend on the anchor or the
// border" -- for an image with alpha too, whose alpha is "cropped like the
// image"; and a centro-symmetric kernel gives the same valid result both
// ways whatever its anchor.
TEST(CliFilter, ValidWithAlphaDoesNotDependOnAnchorOrMode) {
  TempDir t;
  const fs::path in = Photo("horse.png");
  RUN_OK(a, {"correlate", "-k", "box:3", "--size", "valid", in.string(), "-o",
             (t / "a.png").string()});
  RUN_OK(b, {"correlate", "-k", "box:3", "--size", "valid", "--anchor", "0,0",
             in.string(), "-o", (t / "b.png").string()});
  RUN_OK(c, {"convolve", "-k", "box:3", "--size", "valid", "--anchor", "0,0",
             in.string(), "-o", (t / "c.png").string()});
  const cv::Mat ra = Read(t / "a.png"), rb = Read(t / "b.png"),
                rc = Read(t / "c.png");
  ASSERT_FALSE(ra.empty() || rb.empty() || rc.empty());
  EXPECT_TRUE(Identical(ColorOf(rb), ColorOf(ra)));
  EXPECT_TRUE(Identical(ColorOf(rc), ColorOf(ra)));
  EXPECT_TRUE(Identical(AlphaOf(rb), AlphaOf(ra)))
      << "alpha moved with --anchor";
  EXPECT_TRUE(Identical(AlphaOf(rc), AlphaOf(ra)))
      << "alpha moved with the mode";
}

TEST(CliFilter, KernelLargerThanTheImageExtendsRepeatedly) {
  TempDir t;
  const fs::path in =
      WriteCrop("coffee.png", cv::Rect(300, 200, 5, 4), t / "tiny.png");
  const cv::Mat src = Read(in);
  // 7 rows x 9 columns of small integers, anchor (4, 3).
  std::vector<std::vector<float>> rows(7, std::vector<float>(9));
  std::string spec;
  for (int i = 0; i < 7; ++i) {
    for (int j = 0; j < 9; ++j) {
      rows[i][j] = static_cast<float>((i * 9 + j * 5) % 7 - 3);
      spec += std::to_string(static_cast<int>(rows[i][j]));
      spec += j < 8 ? "," : ";";
    }
  }
  const cv::Mat k = KernelMat(rows);
  struct Case {
    std::string name;
    int cv_border;
    double value;
  };
  for (const Case& c :
       std::vector<Case>{{"reflect101", cv::BORDER_REFLECT_101, 0},
                         {"reflect", cv::BORDER_REFLECT, 0},
                         {"replicate", cv::BORDER_REPLICATE, 0},
                         {"wrap", cv::BORDER_WRAP, 0},
                         {"constant:5", cv::BORDER_CONSTANT, 5}}) {
    for (const std::string mode : {"correlate", "convolve"}) {
      SCOPED_TRACE(c.name + " " + mode);
      const fs::path out = t / "out.tif";
      RUN_OK(r, {mode, "-k", spec, "--border", c.name, "--depth", "f32",
                 in.string(), "-o", out.string()});
      const cv::Mat want =
          mode == "correlate"
              ? RefCorrelate(src, k, {4, 3}, c.cv_border, c.value)
              : RefConvolve(src, k, {4, 3}, c.cv_border, c.value);
      EXPECT_TRUE(Near(Read(out), want, 1e-3 * L1(k)));
    }
  }
}

TEST(CliFilter, AnchorMatchesFilter2DAnchor) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(300, 260, 40, 30), t / "crop.png");
  cv::Mat src;
  Read(in).convertTo(src, CV_32F);
  const cv::Mat k = KernelMat({{1, -2, 3}, {0, 4, -5}, {6, 0, -1}});
  const std::string spec = "1,-2,3; 0,4,-5; 6,0,-1";
  {
    RUN_OK(r, {"correlate", "-k", spec, "--anchor", "0,2", "--depth", "f32",
               in.string(), "-o", (t / "corr.tif").string()});
    cv::Mat want;
    cv::filter2D(src, want, CV_32F, k, cv::Point(0, 2), 0,
                 cv::BORDER_REFLECT_101);
    EXPECT_TRUE(Near(Read(t / "corr.tif"), want, 1e-3 * L1(k)));
  }
  {
    // Convolve: the kernel flipped, the anchor mirrored to (2, 0).
    RUN_OK(r, {"convolve", "-k", spec, "--anchor", "0,2", "--depth", "f32",
               in.string(), "-o", (t / "conv.tif").string()});
    cv::Mat kf;
    cv::flip(k, kf, -1);
    cv::Mat want;
    cv::filter2D(src, want, CV_32F, kf, cv::Point(2, 0), 0,
                 cv::BORDER_REFLECT_101);
    EXPECT_TRUE(Near(Read(t / "conv.tif"), want, 1e-3 * L1(k)));
  }
  {
    // An even kernel with an explicit anchor.
    RUN_OK(r, {"correlate", "-k", "1,2;3,-4", "--anchor", "0,0", "--depth",
               "f32", in.string(), "-o", (t / "even.tif").string()});
    cv::Mat want;
    cv::filter2D(src, want, CV_32F, KernelMat({{1, 2}, {3, -4}}),
                 cv::Point(0, 0), 0, cv::BORDER_REFLECT_101);
    EXPECT_TRUE(Near(Read(t / "even.tif"), want, 1e-3 * 10));
  }
}

TEST(CliFilter, NormalizedOnesEqualBoxAverage) {
  TempDir t;
  const fs::path in =
      WriteCrop("astronaut.png", cv::Rect(200, 200, 64, 48), t / "crop.png");
  RUN_OK(a, {"correlate", "-k", "1,1,1; 1,1,1; 1,1,1", "--normalize",
             in.string(), "-o", (t / "ones.png").string()});
  RUN_OK(b, {"correlate", "-k", "box:3", in.string(), "-o",
             (t / "box.png").string()});
  EXPECT_EQ(a.err, "");
  const cv::Mat want = Quantize(RefCorrelate(Read(in), Box(3)), CV_8U);
  EXPECT_TRUE(Near(Read(t / "ones.png"), want, 1));
  EXPECT_TRUE(Near(Read(t / "box.png"), want, 1));
  EXPECT_TRUE(Near(Read(t / "ones.png"), Read(t / "box.png"), 1));
}

TEST(CliFilter, NormalizeOfZeroSumKernelUsesPositiveSumWithANote) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(100, 100, 32, 32), t / "crop.png");
  const fs::path out = t / "n.tif";
  RUN_OK(r, {"correlate", "-k", "sobel-x", "--normalize", "--depth", "f32",
             in.string(), "-o", out.string()});
  EXPECT_EQ(r.err,
            "note: kernel 'sobel-x' sums to 0: --normalize divides by the sum "
            "of its positive weights (4)\n");
  EXPECT_TRUE(Near(Read(out), RefCorrelate(Read(in), SobelX()) / 4, 1e-3));

  RUN_OK(q, {"correlate", "-q", "-k", "sobel-x", "--normalize", "--depth",
             "f32", in.string(), "-o", out.string()});
  EXPECT_EQ(q.err, "") << "-q silences notes";
}

TEST(CliFilter, ScaleAndBias) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(250, 100, 50, 40), t / "crop.png");
  const cv::Mat ref = RefCorrelate(Read(in), SobelX());
  {
    RUN_OK(r, {"correlate", "-k", "sobel-x", "--scale", "0.25", "--bias=128",
               in.string(), "-o", (t / "a.png").string()});
    EXPECT_TRUE(Near(Read(t / "a.png"), Quantize(ref * 0.25 + 128, CV_8U), 1));
  }
  {
    // A negative bias written with '='; scale and --normalize multiply.
    RUN_OK(r, {"correlate", "-k", "sobel-x", "--scale", "2", "--normalize",
               "--bias=-64", "--depth", "f32", in.string(), "-o",
               (t / "b.tif").string()});
    EXPECT_TRUE(Near(Read(t / "b.tif"), ref * 0.5 - 64, 1e-3));
  }
}

TEST(CliFilter, AbsWritesTheMagnitudeAfterBias) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(250, 100, 50, 40), t / "crop.png");
  const cv::Mat ref = RefConvolve(Read(in), SobelX());
  {
    RUN_OK(r, {"convolve", "-k", "sobel-x", "--abs", in.string(), "-o",
               (t / "a.png").string()});
    EXPECT_TRUE(Near(Read(t / "a.png"), Quantize(cv::abs(ref), CV_8U), 1));
  }
  {
    RUN_OK(r, {"convolve", "-k", "sobel-x", "--abs", "--bias=-10", "--depth",
               "f32", in.string(), "-o", (t / "b.tif").string()});
    EXPECT_TRUE(Near(Read(t / "b.tif"), cv::abs(ref - 10), 1e-3));
  }
}

TEST(CliFilter, DepthOptions) {
  TempDir t;
  const fs::path in =
      WriteCrop("astronaut.png", cv::Rect(50, 60, 40, 30), t / "crop.png");
  const cv::Mat ref = RefCorrelate(Read(in), SobelY());
  {
    RUN_OK(r, {"correlate", "-k", "sobel-y", "--depth", "u16", in.string(),
               "-o", (t / "a.png").string()});
    const cv::Mat got = Read(t / "a.png");
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.type(), CV_16UC3);
    EXPECT_TRUE(Near(got, Quantize(ref, CV_16U), 1));
  }
  {
    RUN_OK(r, {"correlate", "-k", "sobel-y", "--depth", "u8", in.string(), "-o",
               (t / "b.tif").string()});
    const cv::Mat got = Read(t / "b.tif");
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.type(), CV_8UC3);
    EXPECT_TRUE(Near(got, Quantize(ref, CV_8U), 1));
  }
  {
    RUN_OK(r, {"correlate", "-k", "sobel-y", "--depth", "f32", in.string(),
               "-o", (t / "c.tif").string()});
    const cv::Mat got = Read(t / "c.tif");
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.type(), CV_32FC3);
    EXPECT_TRUE(Near(got, ref, 1e-3));
  }
  {
    // 16-bit input to 8-bit output: saturated.
    const fs::path board = Photo("chessboard_GRAY_U16.tif");
    RUN_OK(r, {"correlate", "-k", "box:3", "--depth", "u8", board.string(),
               "-o", (t / "d.png").string()});
    const cv::Mat got = Read(t / "d.png");
    ASSERT_FALSE(got.empty());
    EXPECT_EQ(got.type(), CV_8UC1);
    EXPECT_TRUE(
        Near(got, Quantize(RefCorrelate(Read(board), Box(3)), CV_8U), 1));
  }
}

TEST(CliFilter, GrayConvertsToOneChannelAndDropsAlpha) {
  TempDir t;
  const fs::path in =
      WriteCrop("astronaut.png", cv::Rect(150, 100, 64, 48), t / "crop.png");
  RUN_OK(a, {"correlate", "-k", "identity", "--gray", in.string(), "-o",
             (t / "gray.png").string()});
  const cv::Mat gray = Read(t / "gray.png");
  ASSERT_FALSE(gray.empty());
  EXPECT_EQ(gray.type(), CV_8UC1);
  cv::Mat want_gray;
  cv::cvtColor(Read(in), want_gray, cv::COLOR_BGR2GRAY);
  // Decoders convert with slightly different coefficients and rounding.
  EXPECT_TRUE(Near(gray, want_gray, 2));

  RUN_OK(b, {"correlate", "-k", "sobel-x", "--gray", "--depth", "f32",
             in.string(), "-o", (t / "edges.tif").string()});
  const cv::Mat edges = Read(t / "edges.tif");
  ASSERT_FALSE(edges.empty());
  EXPECT_EQ(edges.type(), CV_32FC1);
  EXPECT_TRUE(Near(edges, RefCorrelate(want_gray, SobelX()), 2 * L1(SobelX())));

  RUN_OK(c, {"correlate", "-k", "box:3", "--gray", Photo("horse.png").string(),
             "-o", (t / "horse.png").string()});
  const cv::Mat horse = Read(t / "horse.png");
  ASSERT_FALSE(horse.empty());
  EXPECT_EQ(horse.channels(), 1) << "--gray drops alpha";
}

TEST(CliFilter, ThreadsNeverChangeTheResult) {
  TempDir t;
  const fs::path in = Photo("camera.png");
  std::vector<cv::Mat> results;
  for (const std::string threads : {"1", "2", "3", "0"}) {
    const fs::path out = t / ("t" + threads + ".tif");
    RUN_OK(r, {"convolve", "-k", "motion:5,30", "--threads", threads, "--depth",
               "f32", in.string(), "-o", out.string()});
    results.push_back(Read(out));
  }
  for (size_t i = 1; i < results.size(); ++i) {
    EXPECT_TRUE(Identical(results[i], results[0])) << "run " << i;
  }
}

// convolve(K) == correlate(rot180 K) with the anchor mirrored, bit for bit,
// through the command line, in every size and several borders.
TEST(CliFilter, ConvolveEqualsCorrelateOfRotatedKernel) {
  TempDir t;
  const fs::path in =
      WriteCrop("chelsea.png", cv::Rect(120, 80, 37, 29), t / "crop.png");
  struct Case {
    std::string spec, anchor, rotated, rotated_anchor;
  };
  // 2 rows x 3 columns: the default anchor is (1,1), mirrored to (1,0).
  const std::vector<Case> cases = {
      {"1,2,3; 4,5,6", "", "6,5,4; 3,2,1", "1,0"},
      {"0.5,-1.25,3; 2,0,-7; 1/3,4,1", "2,0", "1,4,1/3; -7,0,2; 3,-1.25,0.5",
       "0,2"},
  };
  for (const Case& c : cases) {
    for (const std::string border : {"reflect101", "wrap", "constant:3"}) {
      for (const std::string size : {"same", "valid", "full"}) {
        SCOPED_TRACE(c.spec + " anchor " + c.anchor + " " + border + " " +
                     size);
        std::vector<std::string> conv = {
            "convolve", "-k",        c.spec, "--border",
            border,     "--size",    size,   "--depth",
            "f32",      in.string(), "-o",   (t / "conv.tif").string()};
        if (!c.anchor.empty()) {
          conv.push_back("--anchor");
          conv.push_back(c.anchor);
        }
        RUN_OK(a, conv);
        RUN_OK(b, {"correlate", "-k", c.rotated, "--anchor", c.rotated_anchor,
                   "--border", border, "--size", size, "--depth", "f32",
                   in.string(), "-o", (t / "corr.tif").string()});
        EXPECT_TRUE(Identical(Read(t / "conv.tif"), Read(t / "corr.tif")));
      }
    }
  }
}

// The same identity for every engine and strategy, on rank-1 (separable)
// kernels, which the separable strategy factors: 3x3 and 5x5 outer products
// of asymmetric vectors, and their rotations (both vectors reversed).
TEST(CliFilter, ConvolveEqualsCorrelateOfRotatedKernelInEveryEngine) {
  TempDir t;
  const fs::path in =
      WriteCrop("coffee.png", cv::Rect(200, 120, 41, 27), t / "crop.png");
  const auto outer = [](const std::vector<int>& col,
                        const std::vector<int>& row) {
    std::string spec;
    for (int c : col) {
      for (size_t j = 0; j < row.size(); ++j) {
        spec += std::to_string(c * row[j]);
        spec += j + 1 < row.size() ? "," : ";";
      }
    }
    return spec;
  };
  const auto reversed = [](std::vector<int> v) {
    std::reverse(v.begin(), v.end());
    return v;
  };
  const std::vector<std::pair<std::vector<int>, std::vector<int>>> factors = {
      {{1, 2, 1}, {-1, 0, 1}},  // sobel-x
      {{1, 2, 3}, {2, -1, 0}},
      {{1, 3, -2, 4, 5}, {1, -1, 2, 0, 3}},
  };
  for (const auto& [col, row] : factors) {
    const std::string spec = outer(col, row);
    const std::string rotated = outer(reversed(col), reversed(row));
    for (const std::string engine :
         {"--method=auto", "--method=direct", "--method=sparse",
          "--method=separable", "--method=fft", "--no-simd"}) {
      // Both sizes for the 5x5 kernel only, to keep the run short.
      const std::vector<std::string> sizes =
          col.size() == 5 ? std::vector<std::string>{"same", "full"}
                          : std::vector<std::string>{"same"};
      for (const std::string& size : sizes) {
        SCOPED_TRACE(spec + " " + engine + " " + size);
        // Default anchor (centre) mirrors to the centre for odd sizes.
        RUN_OK(a, {"convolve", "-k", spec, engine, "--size", size, "--border",
                   "reflect", "--depth", "f32", in.string(), "-o",
                   (t / "conv.tif").string()});
        RUN_OK(b, {"correlate", "-k", rotated, engine, "--size", size,
                   "--border", "reflect", "--depth", "f32", in.string(), "-o",
                   (t / "corr.tif").string()});
        const cv::Mat conv = Read(t / "conv.tif");
        EXPECT_TRUE(Identical(conv, Read(t / "corr.tif")));
        // And every engine agrees with the OpenCV oracle.
        std::vector<std::vector<float>> rows;
        for (int c : col) {
          rows.emplace_back();
          for (int r : row) rows.back().push_back(static_cast<float>(c * r));
        }
        const cv::Mat k = KernelMat(rows);
        const cv::Point anchor(k.cols / 2, k.rows / 2);
        EXPECT_TRUE(
            Near(conv,
                 RefConvolve(Read(in), k, anchor, cv::BORDER_REFLECT, 0,
                             size == "same" ? OutSize::kSame : OutSize::kFull),
                 1e-5 * 255 * L1(k)));
      }
    }
  }
}

// The weights of a kernel spec, as `convcorr kernel SPEC --json` gives
// them.
cv::Mat KernelOfSpec(const std::string& spec) {
  const RunResult info = RunConvcorr({"kernel", spec, "--json"});
  EXPECT_EQ(info.exit_code, 0) << Describe(info);
  const nlohmann::json j = nlohmann::json::parse(info.out);
  std::vector<std::vector<float>> rows;
  for (const auto& row : j["matrix"]) {
    rows.emplace_back();
    for (const auto& v : row) rows.back().push_back(v.get<float>());
  }
  return KernelMat(rows);
}

// log:SIGMA (a Laplacian of Gaussian, made zero-sum: rank 3) and
// unsharp:SIGMA (identity minus a Gaussian: rank 2) run as sums of rank-1
// passes under auto; on a photo they agree with OpenCV's filter2D.
TEST(CliFilter, LowRankKernelsRunAsSumsOfSeparablePasses) {
  TempDir t;
  const fs::path in =
      WriteCrop("coffee.png", cv::Rect(100, 60, 300, 200), t / "crop.png");
  const cv::Mat src = Read(in);
  for (const auto& [spec, passes] :
       {std::pair<std::string, int>{"log:3", 3}, {"unsharp:2", 2}}) {
    SCOPED_TRACE(spec);
    const cv::Mat k = KernelOfSpec(spec);
    RUN_OK(r, {"correlate", "-v", "-k", spec, "--depth", "f32", in.string(),
               "-o", (t / "out.tif").string()});
    EXPECT_NE(r.err.find("strategy separable (" + std::to_string(passes) +
                         " rank-1 passes)"),
              std::string::npos)
        << r.err;
    EXPECT_TRUE(Near(Read(t / "out.tif"),
                     RefCorrelate(src, k, cv::Point(k.cols / 2, k.rows / 2)),
                     1e-5 * 255 * L1(k)));
  }
}

// A Gaussian (one rank-1 term, both factors symmetric) runs its mirror
// pairs added before the multiply, and -v says so; on an 8-bit photo its
// samples are OpenCV's filter2D of the same kernel, rounded, to one level,
// and those of --method direct. A rank-1 kernel whose factors are not
// symmetric runs plain separable passes.
TEST(CliFilter, SymmetricSeparablePassesOnAPhoto) {
  TempDir t;
  const fs::path in =
      WriteCrop("coffee.png", cv::Rect(40, 30, 301, 203), t / "crop.png");
  const cv::Mat src = Read(in);
  RUN_OK(r, {"correlate", "-v", "-k", "gaussian:1.5,7", in.string(), "-o",
             (t / "sym.png").string()});
  EXPECT_NE(r.err.find("strategy separable (symmetric passes)"),
            std::string::npos)
      << r.err;
  RUN_OK(direct, {"correlate", "-k", "gaussian:1.5,7", "--method", "direct",
                  in.string(), "-o", (t / "direct.png").string()});
  const cv::Mat k = KernelOfSpec("gaussian:1.5,7");
  const cv::Mat sym = Read(t / "sym.png");
  cv::Mat ref;
  RefCorrelate(src, k, cv::Point(3, 3)).convertTo(ref, CV_8U);
  EXPECT_TRUE(Near(sym, ref, 1.0));
  EXPECT_TRUE(Near(sym, Read(t / "direct.png"), 1.0));
  RUN_OK(plain, {"correlate", "-v", "-k", "1,2,4;1,2,4;1,2,4", "--method",
                 "separable", in.string(), "-o", (t / "plain.png").string()});
  EXPECT_NE(plain.err.find("strategy separable,"), std::string::npos)
      << plain.err;
}

// -v says when an integer kernel's 8-bit samples run in int16 lanes, and
// not for a float kernel, the reference, or compare (whose results are
// float bands); the lanes' samples are those of the float engine.
TEST(CliFilter, VerboseNamesTheIntegerLanes) {
  TempDir t;
  const fs::path in =
      WriteCrop("coffee.png", cv::Rect(40, 30, 301, 203), t / "crop.png");
  const std::string lanes =
      "strategy sparse (int16 lanes for 8-bit gray and RGB)";
  RUN_OK(sobel, {"correlate", "-v", "-k", "sobel-x", in.string(), "-o",
                 (t / "lanes.png").string()});
  EXPECT_NE(sobel.err.find(lanes + ","), std::string::npos) << sobel.err;
  RUN_OK(pair, {"compare", "-v", "-k", "sobel-x", in.string(), "-o",
                (t / "pair").string()});
  EXPECT_NE(pair.err.find("strategy sparse, compare fused"), std::string::npos)
      << pair.err;
  RUN_OK(gauss, {"correlate", "-v", "-k", "gaussian:1.5,7", in.string(), "-o",
                 (t / "gauss.png").string()});
  EXPECT_EQ(gauss.err.find("int16"), std::string::npos) << gauss.err;
  RUN_OK(ref, {"correlate", "-v", "--no-simd", "-k", "sobel-x", in.string(),
               "-o", (t / "ref.png").string()});
  EXPECT_EQ(ref.err.find("int16"), std::string::npos) << ref.err;
  EXPECT_TRUE(Near(Read(t / "lanes.png"), Read(t / "ref.png"), 0.0));
}

TEST(CliFilter, SeparableMethodRefusesAKernelOfRankAboveFour) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(0, 0, 16, 16), t / "crop.png");
  // diag(1, 2, 3, 4, 5) has rank 5: no sum of four rank-1 terms.
  const RunResult r = RunConvcorr(
      {"correlate", "-k", "1,0,0,0,0;0,2,0,0,0;0,0,3,0,0;0,0,0,4,0;0,0,0,0,5",
       "--method", "separable", in.string(), "-o", (t / "out.png").string()});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_NE(r.err.find("--method separable"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("rank 5"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(t / "out.png"));
  const RunResult bad =
      RunConvcorr({"correlate", "-k", "box:3", "--method", "winograd",
                   in.string(), "-o", (t / "out.png").string()});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_NE(bad.err.find("--method"), std::string::npos) << bad.err;
  EXPECT_FALSE(fs::exists(t / "out.png"));
}

// Images without alpha are filtered on their decoded samples straight into
// the output depth; images with alpha go through planar float planes with
// the alpha carried. Both must give the same colour samples: the same
// picture with an opaque alpha channel added is filtered both ways.
TEST(CliFilter, DirectAndPlanarPathsWriteTheSameSamples) {
  TempDir t;
  const fs::path rgb =
      WriteCrop("coffee.png", cv::Rect(100, 60, 67, 41), t / "rgb.png");
  cv::Mat bgra;
  cv::cvtColor(Read(rgb), bgra, cv::COLOR_BGR2BGRA);
  ASSERT_TRUE(cv::imwrite((t / "rgba.png").string(), bgra));
  for (const std::string spec :
       {"sobel-x", "gaussian:1.5,7", "emboss", "motion:9,30"}) {
    for (const std::string size : {"same", "full"}) {
      RUN_OK(a, {"correlate", "-k", spec, "--size", size, "--bias", "100",
                 rgb.string(), "-o", (t / "a.png").string()});
      RUN_OK(b, {"correlate", "-k", spec, "--size", size, "--bias", "100",
                 (t / "rgba.png").string(), "-o", (t / "b.png").string()});
      cv::Mat with_alpha = Read(t / "b.png");
      ASSERT_EQ(with_alpha.channels(), 4);
      cv::Mat colour;
      cv::cvtColor(with_alpha, colour, cv::COLOR_BGRA2BGR);
      EXPECT_TRUE(Identical(Read(t / "a.png"), colour)) << spec << " " << size;
    }
  }
}

TEST(CliFilter, VerbosePrintsOneLinePerFile) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(0, 0, 16, 16), t / "crop.png");
  RUN_OK(r, {"correlate", "-v", "-k", "box:3", in.string(), "-o",
             (t / "out.png").string()});
  // The engine line first (docs/cli.md: -v names the SIMD target), then
  // one line per file.
  const std::vector<std::string> lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 2u) << r.err;
  EXPECT_EQ(lines[0].rfind("engine: simd ", 0), 0u) << lines[0];
  EXPECT_NE(lines[1].find("crop.png"), std::string::npos) << lines[1];
  EXPECT_NE(lines[1].find("out.png"), std::string::npos) << lines[1];

  RUN_OK(q, {"correlate", "-k", "box:3", in.string(), "-o",
             (t / "out.png").string()});
  EXPECT_EQ(q.out, "");
  EXPECT_EQ(q.err, "") << "a plain run is silent";
}

TEST(CliFilter, PlainRunOnPhotosWithColourProfilesIsSilent) {
  // astronaut.png and chelsea.png carry an sRGB iCCP chunk that libpng warns
  // about on its default handler; that is not an error of the run.
  TempDir t;
  RUN_OK(r, {"correlate", "-k", "box:3", Photo("astronaut.png").string(),
             Photo("chelsea.png").string(), "-o", t.path().string()});
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(ListFiles(t.path()),
            (std::vector<std::string>{"astronaut.png", "chelsea.png"}));
}

}  // namespace
}  // namespace convcorr::testing
