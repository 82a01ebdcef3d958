// The CNN view through the binary (docs/cnn.md): --stride and --dilation
// on the image commands, with PyTorch's output-size rules and pixels
// against OpenCV's filter2D with a kernel dilated here; and signal --grad,
// whose gradients are checked against values worked by hand and against
// an independent loop here.
#include <gtest/gtest.h>

#include <cmath>
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
using nlohmann::json;

// PyTorch's Conv2d output size along one axis: floor((n + 2p - d(k-1) - 1)
// / s) + 1, with p = 0 for valid and p = d(k-1) for full; same (which
// PyTorch refuses with a stride) keeps ceil(n / s), as TensorFlow's SAME.
int TorchOut(int n, int k, int s, int d, const std::string& size) {
  if (size == "same") return (n + s - 1) / s;
  const int p = size == "full" ? d * (k - 1) : 0;
  return (n + 2 * p - d * (k - 1) - 1) / s + 1;
}

// The kernel with d-1 zeros between taps, built here.
cv::Mat DilateHere(const cv::Mat& k, int dy, int dx) {
  cv::Mat out =
      cv::Mat::zeros((k.rows - 1) * dy + 1, (k.cols - 1) * dx + 1, CV_32F);
  for (int r = 0; r < k.rows; ++r) {
    for (int c = 0; c < k.cols; ++c)
      out.at<float>(r * dy, c * dx) = k.at<float>(r, c);
  }
  return out;
}

cv::Mat EveryNth(const cv::Mat& m, int sy, int sx) {
  cv::Mat out((m.rows + sy - 1) / sy, (m.cols + sx - 1) / sx, m.type());
  for (int y = 0; y < out.rows; ++y) {
    for (int x = 0; x < out.cols; ++x) {
      for (int c = 0; c < m.channels(); ++c) {
        out.ptr<float>(y)[x * m.channels() + c] =
            m.ptr<float>(y * sy)[x * sx * m.channels() + c];
      }
    }
  }
  return out;
}

TEST(CliCnn, StrideAndDilationFollowPyTorchSizesAndMatchFilter2D) {
  TempDir t;
  const fs::path in =
      WriteCrop("coffee.png", cv::Rect(300, 120, 37, 23), t / "crop.png");
  const cv::Mat src = Read(in);
  const cv::Mat k =
      KernelMat({{1, -2, 0, 3, 1}, {0, 2, -1, 1, -3}, {2, 0, 1, -1, 0}});
  const std::string spec = "1,-2,0,3,1; 0,2,-1,1,-3; 2,0,1,-1,0";
  for (const std::string size : {"valid", "full", "same"}) {
    for (const auto& [sy, sx] :
         std::vector<std::pair<int, int>>{{1, 1}, {2, 2}, {3, 2}}) {
      for (const auto& [dy, dx] :
           std::vector<std::pair<int, int>>{{1, 1}, {2, 2}, {1, 3}}) {
        SCOPED_TRACE(size + " stride " + std::to_string(sy) + "," +
                     std::to_string(sx) + " dilation " + std::to_string(dy) +
                     "," + std::to_string(dx));
        for (const std::string mode : {"correlate", "convolve"}) {
          const fs::path out = t / (mode + ".tif");
          RUN_OK(r,
                 {mode, "-k", spec, "--size", size, "--stride",
                  std::to_string(sy) + "," + std::to_string(sx), "--dilation",
                  std::to_string(dy) + "," + std::to_string(dx), "--depth",
                  "f32", in.string(), "-o", out.string()});
          const cv::Mat got = Read(out);
          ASSERT_EQ(got.rows, TorchOut(src.rows, k.rows, sy, dy, size));
          ASSERT_EQ(got.cols, TorchOut(src.cols, k.cols, sx, dx, size));
          const cv::Mat kd = DilateHere(k, dy, dx);
          const OutSize os = size == "valid"  ? OutSize::kValid
                             : size == "full" ? OutSize::kFull
                                              : OutSize::kSame;
          // The default anchor is the centre tap of the undilated kernel,
          // moved with it.
          const cv::Point moved((k.cols / 2) * dx, (k.rows / 2) * dy);
          const cv::Mat full_res =
              mode == "correlate"
                  ? RefCorrelate(src, kd, moved, cv::BORDER_REFLECT_101, 0, os)
                  : RefConvolve(src, kd, moved, cv::BORDER_REFLECT_101, 0, os);
          EXPECT_TRUE(Near(got, EveryNth(full_res, sy, sx), 1e-3)) << mode;
        }
      }
    }
  }
}

TEST(CliCnn, CompareWithStrideWritesStridedResults) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(100, 100, 31, 20), t / "crop.png");
  RUN_OK(r, {"compare", "-k", "sobel-x", "--stride", "2", "--dilation", "2",
             "--raw-diff", "--json", in.string(), "-o", (t / "out").string()});
  const json j = json::parse(Lines(r.out).at(0));
  EXPECT_EQ(j["width"], 16);
  EXPECT_EQ(j["height"], 10);
  const cv::Mat diff = Read(t / "out" / "crop.diff.tif");
  EXPECT_EQ(diff.cols, 16);
  EXPECT_EQ(diff.rows, 10);
  const cv::Mat sobel =
      DilateHere(KernelMat({{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}), 2, 2);
  const cv::Mat src = Read(in);
  const cv::Point a(2, 2);
  EXPECT_TRUE(Near(
      diff,
      EveryNth(RefConvolve(src, sobel, a) - RefCorrelate(src, sobel, a), 2, 2),
      1e-3));
}

TEST(CliCnn, SignalStrideAndDilationMatchConv1d) {
  // torch.nn.functional.conv1d(x, w, stride=2, dilation=2) for x = 0..8,
  // w = [1, 2, 3]: y[n] = x[2n] + 2 x[2n+2] + 3 x[2n+4] = [16, 28, 40].
  RUN_OK(r, {"signal", "0,1,2,3,4,5,6,7,8", "-k", "1,2,3", "--size", "valid",
             "--stride", "2", "--dilation", "2"});
  EXPECT_EQ(r.out, "convolve: [8, 20, 32]\ncorrelate: [16, 28, 40]\n");
}

TEST(CliCnn, GradOfTheWorkedExample) {
  // y = correlate_valid([2,1,3,5,4], [1,-1]) = [1,-2,-2,1]; with G = ones:
  // dL/dx = convolve_full(G, w) = [1,0,0,0,-1], dL/dw = [2+1+3+5, 1+3+5+4].
  RUN_OK(r, {"signal", "2,1,3,5,4", "-k", "1,-1", "--grad"});
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  EXPECT_EQ(lines[0], "forward y = correlate_valid(x, w): [1, -2, -2, 1]");
  EXPECT_EQ(lines[1], "upstream G: [1, 1, 1, 1]");
  EXPECT_EQ(lines[2], "dL/dx = convolve_full(G, w): [1, 0, 0, 0, -1]");
  EXPECT_EQ(lines[3], "dL/dw = correlate_valid(x, G): [11, 13]");
  EXPECT_EQ(lines[4].rfind("finite differences (h = 0.001): largest error ", 0),
            0u);
  RUN_OK(g, {"signal", "2,1,3,5,4", "-k", "1,-1", "--grad", "1,2,3,4"});
  // dL/dx_i = sum_n G[n] w[i-n]: [1, 2-1, 3-2, 4-3, -4].
  EXPECT_EQ(Lines(g.out).at(2),
            "dL/dx = convolve_full(G, w): [1, 1, 1, 1, -4]");
  // dL/dw_j = sum_n G[n] x[n+j]: [2+2+9+20, 1+6+15+16].
  EXPECT_EQ(Lines(g.out).at(3), "dL/dw = correlate_valid(x, G): [33, 38]");
}

TEST(CliCnn, GradWithStrideAndDilationMatchesLoopsHere) {
  const std::vector<double> x = {0.5, -1, 2, 3.25, -4, 1, 0, 2, -2, 1.5, 3};
  const std::vector<double> w = {1, -2, 0.5};
  const std::vector<double> g = {1, -1, 2};
  const int s = 3, d = 2;
  RUN_OK(r, {"signal", "0.5,-1,2,3.25,-4,1,0,2,-2,1.5,3", "-k", "1,-2,0.5",
             "--stride", "3", "--dilation", "2", "--grad", "1,-1,2", "--json"});
  const json j = json::parse(Lines(r.out).at(0));
  // y[n] = sum_j w[j] x[s n + d j]; dL/dx_i = sum over (n, j) with
  // s n + d j = i of G[n] w[j]; dL/dw_j = sum_n G[n] x[s n + d j].
  std::vector<double> y(g.size(), 0), dx(x.size(), 0), dw(w.size(), 0);
  for (size_t n = 0; n < g.size(); ++n) {
    for (size_t k = 0; k < w.size(); ++k) {
      y[n] += w[k] * x[s * n + d * k];
      dx[s * n + d * k] += g[n] * w[k];
      dw[k] += g[n] * x[s * n + d * k];
    }
  }
  ASSERT_EQ(j["forward"].size(), y.size());
  for (size_t i = 0; i < y.size(); ++i)
    EXPECT_NEAR(j["forward"][i].get<double>(), y[i], 1e-5);
  ASSERT_EQ(j["grad_x"].size(), x.size());
  for (size_t i = 0; i < x.size(); ++i)
    EXPECT_NEAR(j["grad_x"][i].get<double>(), dx[i], 1e-5);
  ASSERT_EQ(j["grad_w"].size(), w.size());
  for (size_t i = 0; i < w.size(); ++i)
    EXPECT_NEAR(j["grad_w"][i].get<double>(), dw[i], 1e-5);
  EXPECT_LT(j["max_error_x"].get<double>(), 1e-6);
  EXPECT_LT(j["max_error_w"].get<double>(), 1e-6);
  EXPECT_EQ(j["stride"], 3);
  EXPECT_EQ(j["dilation"], 2);
}

TEST(CliCnn, BadStrideDilationAndGradAreExit2) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(0, 0, 16, 16), t / "a.png");
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"correlate", "-k", "box:3", "--stride", "0", in.string(), "-o",
        "x.png"},
       "--stride '0': expected N or Y,X with whole numbers from 1 to 1024, "
       "e.g. 2 or 2,1"},
      {{"correlate", "-k", "box:3", "--dilation", "2,x", in.string(), "-o",
        "x.png"},
       "--dilation '2,x': expected N or Y,X with whole numbers from 1 to 1024, "
       "e.g. 2 or 2,1"},
      {{"convolve", "-k", "box:5", "--dilation", "300", in.string(), "-o",
        "x.png"},
       "--dilation 300,300: kernel 'box:5' would span 1201x1201, over the "
       "largest kernel side 1025"},
      {{"signal", "1,2,3", "-k", "1,1", "--grad", "--size", "full"},
       "--grad differentiates the valid correlation of a CNN layer; drop "
       "--size or give --size valid"},
      {{"signal", "1,2,3", "-k", "1,1", "--grad", "1,2,3"},
       "--grad '1,2,3': 3 values, but the forward pass has 2 outputs"},
      // A newline in a value is shown as '?': the message stays one line.
      {{"correlate", "-k", "box:3", "--stride", "2\n3", in.string(), "-o",
        "x.png"},
       "--stride '2?3': expected N or Y,X with whole numbers from 1 to 1024, "
       "e.g. 2 or 2,1"},
      {{"signal", "1,2,3", "-k", "1,1", "--stride", "1,2"},
       "--stride '1,2': signal takes one number, e.g. 2"},
      {{"signal", "1,2,3", "-k", "1,1", "--dilation", "3", "--grad"},
       "values '1,2,3': 3 values are fewer than the 4 kernel taps (dilated), "
       "so --grad has no output"},
  };
  for (const auto& [args, message] : cases) {
    const RunResult r = RunConvcorr(args, "", t.path());
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(r.err, message + "\n");
    EXPECT_FALSE(fs::exists(t / "x.png"));
  }
}

}  // namespace
}  // namespace convcorr::testing
