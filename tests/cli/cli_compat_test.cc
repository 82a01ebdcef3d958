// --compat through the binary: what each preset changes (the anchor of
// even kernels, the default border, rounding, float results), that the
// user's own --anchor, --border and --depth win, and the usage errors. The
// numbers against the tools themselves are tests/oracle/compat_oracle.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

namespace fs = std::filesystem;

TEST(CliCompat, EvenKernelAnchorBorderAndDepthPerTool) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(200, 150, 21, 17), t / "in.png");
  const cv::Mat src = Read(in);
  const cv::Mat k = KernelMat({{1, -2}, {3, 1}});
  const std::string spec = "1,-2;3,1";
  struct Case {
    std::string tool;
    cv::Point anchor;
    int border;
    bool floats;
  };
  const std::vector<Case> cases = {
      {"opencv", {1, 1}, cv::BORDER_REFLECT_101, false},
      {"scipy", {1, 1}, cv::BORDER_REFLECT, false},
      {"imagemagick", {0, 0}, cv::BORDER_REPLICATE, false},
      {"gmic", {0, 0}, cv::BORDER_REPLICATE, true},
      {"torch", {0, 0}, cv::BORDER_CONSTANT, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.tool);
    // Float results unrounded, to see the anchor and border alone.
    RUN_OK(r, {"correlate", "-k", spec, "--compat", c.tool, "--depth", "f32",
               in.string(), "-o", (t / "out.tif").string()});
    EXPECT_TRUE(Near(Read(t / "out.tif"),
                     RefCorrelate(src, k, c.anchor, c.border), 1e-3));
    // Without --depth, gmic and torch keep floats: PNG cannot hold them.
    const RunResult png =
        RunConvcorr({"correlate", "-k", spec, "--compat", c.tool, in.string(),
                     "-o", (t / "out.png").string()});
    EXPECT_EQ(png.exit_code, c.floats ? 1 : 0) << Describe(png);
  }
  // The user's --anchor and --border win over the preset.
  RUN_OK(own, {"correlate", "-k", spec, "--compat", "torch", "--anchor", "1,1",
               "--border", "wrap", "--depth", "f32", in.string(), "-o",
               (t / "own.tif").string()});
  EXPECT_TRUE(Near(Read(t / "own.tif"),
                   RefCorrelate(src, k, {1, 1}, cv::BORDER_WRAP), 1e-3));
  // An anchor the spec sets itself is kept too.
  RUN_OK(im_form,
         {"correlate", "-k", "3x2+0+0: 1,-2,0,3,1,2", "--compat", "torch",
          "--depth", "f32", in.string(), "-o", (t / "imform.tif").string()});
  EXPECT_TRUE(Near(Read(t / "imform.tif"),
                   RefCorrelate(src, KernelMat({{1, -2, 0}, {3, 1, 2}}), {0, 0},
                                cv::BORDER_CONSTANT),
                   1e-3));
}

// ImageMagick's numbers depend on the output's format: its PNG writer
// truncates 16-bit quanta to 8 bits, the others round (what convert gave
// for these 3x1 images; the quanta are pinned in
// tests/core/imagemagick_test.cc).
TEST(CliCompat, ImageMagickRoundsAsItsWriterForTheFormatDoes) {
  TempDir t;
  WriteBytes(t / "row.pgm", std::string("P5\n3 1\n255\n\x03\x04\xa7", 14));
  const std::string spec = "0.123,0.456,0.421";
  for (const auto& [out, want] : std::vector<std::pair<std::string, cv::Mat>>{
           {"out.pgm", (cv::Mat_<uint8_t>(1, 3) << 3, 72, 147)},
           {"out.png", (cv::Mat_<uint8_t>(1, 3) << 3, 72, 146)}}) {
    SCOPED_TRACE(out);
    RUN_OK(r,
           {"correlate", "-k", spec, "--compat", "imagemagick", "row.pgm", "-o",
            out},
           "", t.path());
    EXPECT_TRUE(Identical(Read(t / out), want));
  }
  // With alpha, colours are weighted by alpha and alpha is filtered as
  // opacity (PNG: truncated as opacity). cv::Mat holds BGRA.
  const cv::Mat rgba =
      (cv::Mat_<cv::Vec4b>(1, 3) << cv::Vec4b(0, 100, 200, 255),
       cv::Vec4b(70, 60, 50, 0), cv::Vec4b(30, 20, 10, 128));
  ASSERT_TRUE(cv::imwrite((t / "rgba.png").string(), rgba));
  RUN_OK(a,
         {"correlate", "-k", "0.25,0.5,0.25", "--compat", "imagemagick",
          "rgba.png", "-o", "rgba-out.png"},
         "", t.path());
  EXPECT_TRUE(
      Identical(Read(t / "rgba-out.png"),
                (cv::Mat_<cv::Vec4b>(1, 3) << cv::Vec4b(0, 100, 200, 192),
                 cv::Vec4b(10, 73, 136, 96), cv::Vec4b(30, 20, 10, 96))));
  RUN_OK(v,
         {"correlate", "-k", spec, "--compat", "imagemagick", "-v", "row.pgm",
          "-o", "v.png"},
         "", t.path());
  EXPECT_NE(v.err.find("engine: ImageMagick Q16 arithmetic (sums in double on "
                       "16-bit quanta), compat imagemagick, "),
            std::string::npos)
      << v.err;
}

// SciPy stores results by a C cast: out-of-range samples wrap around, and
// the note says so (OpenCV's preset clips, and says that).
TEST(CliCompat, SciPyWrapsAndTheNoteSaysSo) {
  TempDir t;
  WriteBytes(t / "row.pgm", std::string("P5\n4 1\n255\n\x64\x80\xc8\x0a", 15));
  RUN_OK(scipy,
         {"correlate", "-k", "2", "--compat", "scipy", "row.pgm", "-o",
          "scipy.pgm"},
         "", t.path());
  EXPECT_TRUE(Identical(Read(t / "scipy.pgm"),
                        (cv::Mat_<uint8_t>(1, 4) << 200, 0, 144, 20)));
  EXPECT_EQ(scipy.err,
            "note: output 'scipy.pgm': 2 samples outside 0..255 wrapped around "
            "(the low 8 bits kept, as SciPy's integer cast does; use --depth "
            "f32, --scale or --bias to keep them)\n");
  RUN_OK(opencv,
         {"correlate", "-k", "2", "--compat", "opencv", "row.pgm", "-o",
          "opencv.pgm"},
         "", t.path());
  EXPECT_TRUE(Identical(Read(t / "opencv.pgm"),
                        (cv::Mat_<uint8_t>(1, 4) << 200, 255, 255, 20)));
  EXPECT_EQ(opencv.err,
            "note: output 'opencv.pgm': 2 samples clipped to 0..255 (use "
            "--depth f32, --scale or --bias to keep them)\n");
}

TEST(CliCompat, TorchAnchorsEachModeAsPyTorchDoes) {
  // PyTorch's convolution is conv2d of the flipped weights, anchored at
  // (size-1)/2 like its correlation: the flipped 2x2 at (0,0).
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(200, 150, 21, 17), t / "in.png");
  const cv::Mat src = Read(in);
  const cv::Mat k = KernelMat({{1, -2}, {3, 1}});
  cv::Mat flipped;
  cv::flip(k, flipped, -1);
  const std::string spec = "1,-2;3,1";
  const cv::Mat want_corr = RefCorrelate(src, k, {0, 0}, cv::BORDER_CONSTANT);
  const cv::Mat want_conv =
      RefCorrelate(src, flipped, {0, 0}, cv::BORDER_CONSTANT);
  RUN_OK(conv, {"convolve", "-k", spec, "--compat", "torch", in.string(), "-o",
                (t / "conv.tif").string()});
  EXPECT_TRUE(Near(Read(t / "conv.tif"), want_conv, 1e-3));
  RUN_OK(corr, {"correlate", "-k", spec, "--compat", "torch", in.string(), "-o",
                (t / "corr.tif").string()});
  EXPECT_TRUE(Near(Read(t / "corr.tif"), want_corr, 1e-3));
  // compare gives the same two results, in two passes.
  RUN_OK(cmp, {"compare", "-k", spec, "--compat", "torch", "--format", "tif",
               "-v", in.string(), "-o", (t / "cmp").string()});
  EXPECT_TRUE(Near(Read(t / "cmp" / "in.convolve.tif"), want_conv, 1e-3));
  EXPECT_TRUE(Near(Read(t / "cmp" / "in.correlate.tif"), want_corr, 1e-3));
  EXPECT_NE(cmp.err.find("compare two passes"), std::string::npos) << cmp.err;
  // Whether convolve equals correlate is said of the two kernels used:
  // box:2 under both anchors gives one result, an impulse two.
  for (const auto& [kernel, equal] : std::vector<std::pair<std::string, bool>>{
           {"box:2", true}, {"1,0;0,0", false}}) {
    RUN_OK(j, {"compare", "-k", kernel, "--compat", "torch", "--format", "tif",
               "--json", in.string(), "-o", (t / "sym").string()});
    const nlohmann::json line = nlohmann::json::parse(j.out);
    EXPECT_EQ(line["kernel"]["convolve_equals_correlate"], equal) << kernel;
    EXPECT_EQ(line["identical"], equal) << kernel << ": " << j.out;
  }
  // Odd sizes have one centre: compare fuses as usual.
  RUN_OK(odd, {"compare", "-k", "sobel-x", "--compat", "torch", "--format",
               "tif", "-v", in.string(), "-o", (t / "odd").string()});
  EXPECT_NE(odd.err.find("compare fused"), std::string::npos) << odd.err;
}

TEST(CliCompat, UsageErrors) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(0, 0, 8, 8), t / "a.png");
  for (const auto& [args, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"correlate", "-k", "box:3", "--compat", "matlab", in.string(),
             "-o", "x.png"},
            "--compat 'matlab': expected scipy, opencv, numpy, imagemagick, "
            "gmic or torch"},
           {{"convolve", "-k", "box:3", "--compat", "numpy", in.string(), "-o",
             "x.png"},
            "--compat numpy: NumPy convolves 1-D arrays only; use it with "
            "signal, or --compat scipy for images"}}) {
    const RunResult r = RunConvcorr(args, "", t.path());
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(r.err, message + "\n");
    EXPECT_FALSE(fs::exists(t / "x.png"));
  }
}

TEST(CliCompat, SignalNumpySameAnchorsEachModeAsNumpyDoes) {
  // numpy.convolve([2,1,3,5,4], [1,2,-1,4], 'same') = [5,3,18,15,15] and
  // numpy.correlate(..., 'same') = [2,15,21,18,9]: 'same' is the centred
  // crop of 'full', which anchors convolve at (4-1)/2 and correlate at 4/2.
  RUN_OK(r, {"signal", "2,1,3,5,4", "-k", "1,2,-1,4", "--size", "same",
             "--compat", "numpy"});
  EXPECT_EQ(r.out,
            "convolve: [5, 3, 18, 15, 15]\ncorrelate: [2, 15, 21, 18, 9]\n");
}

}  // namespace
}  // namespace convcorr::testing
