// --compat through the binary: what each preset changes (the anchor of
// even kernels, the default border, rounding, float results), that the
// user's own --anchor, --border and --depth win, and the usage errors. The
// numbers against the tools themselves are tests/oracle/compat_oracle.py.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
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
  RUN_OK(v, {"correlate", "-k", spec, "--compat", "imagemagick", "-v",
             in.string(), "-o", (t / "v.png").string()});
  EXPECT_NE(v.err.find("compat imagemagick"), std::string::npos) << v.err;
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
