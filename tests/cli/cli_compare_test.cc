// compare through the built binary: the files it writes, the heat map, the
// raw difference, the panel, and the statistics (text and JSON) checked
// against the raw difference and against the OpenCV oracle.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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

cv::Mat SobelX() { return KernelMat({{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}); }

fs::path Crop(const TempDir& t) {
  return WriteCrop("astronaut.png", cv::Rect(200, 180, 64, 48), t / "crop.png");
}

// Statistics of a float difference image, computed here.
struct Stats {
  double max_abs = 0;
  int max_x = 0, max_y = 0, max_channel = 0;
  double mean_abs = 0;
  double rms = 0;
  uint64_t above = 0;
  uint64_t samples = 0;
};

Stats StatsOf(const cv::Mat& diff, double threshold) {
  Stats s;
  const int ch = diff.channels();
  const cv::Mat flat = diff.reshape(1);
  double sum_abs = 0, sum_sq = 0;
  for (int y = 0; y < flat.rows; ++y) {
    for (int xc = 0; xc < flat.cols; ++xc) {
      const double d = flat.at<float>(y, xc);
      sum_abs += std::fabs(d);
      sum_sq += d * d;
      if (std::fabs(d) > threshold) ++s.above;
      if (std::fabs(d) > s.max_abs) {
        s.max_abs = std::fabs(d);
        s.max_x = xc / ch;
        s.max_y = y;
        s.max_channel = xc % ch;
      }
      ++s.samples;
    }
  }
  s.mean_abs = sum_abs / s.samples;
  s.rms = std::sqrt(sum_sq / s.samples);
  return s;
}

nlohmann::json OneJsonLine(const std::string& out) {
  const std::vector<std::string> lines = Lines(out);
  EXPECT_EQ(lines.size(), 1u) << out;
  if (lines.empty()) return {};
  return nlohmann::json::parse(lines[0]);
}

TEST(CliCompare, WritesConvolveCorrelateAndDiff) {
  TempDir t;
  const fs::path in = Crop(t);
  const fs::path out = t / "out";
  RUN_OK(r, {"compare", "-k", "sobel-x", in.string(), "-o", out.string()});
  EXPECT_EQ(ListFiles(out),
            (std::vector<std::string>{"crop.convolve.png", "crop.correlate.png",
                                      "crop.diff.png"}));
  const cv::Mat src = Read(in);
  const cv::Mat conv = RefConvolve(src, SobelX());
  const cv::Mat corr = RefCorrelate(src, SobelX());
  EXPECT_TRUE(Near(Read(out / "crop.convolve.png"), Quantize(conv, CV_8U), 1));
  EXPECT_TRUE(Near(Read(out / "crop.correlate.png"), Quantize(corr, CV_8U), 1));

  // The heat map: white where every channel agrees, red where convolve is
  // larger in every channel, blue where it is smaller.
  const cv::Mat heat = Read(out / "crop.diff.png");
  ASSERT_FALSE(heat.empty());
  ASSERT_EQ(heat.type(), CV_8UC3);
  ASSERT_EQ(heat.size(), src.size());
  const cv::Mat d = conv - corr;
  double max_abs = 0;
  const cv::Mat abs_d = cv::abs(d);
  cv::minMaxLoc(abs_d.reshape(1), nullptr, &max_abs);
  ASSERT_GT(max_abs, 0);
  // Only clear cases: every channel of one sign, the largest |d| at least a
  // tenth of the range (smaller ones may round to white).
  const float big = static_cast<float>(0.1 * max_abs);
  int red = 0, blue = 0;
  for (int y = 0; y < d.rows; ++y) {
    for (int x = 0; x < d.cols; ++x) {
      const cv::Vec3f v = d.at<cv::Vec3f>(y, x);
      const cv::Vec3b c = heat.at<cv::Vec3b>(y, x);  // B, G, R
      const float largest =
          std::max({std::fabs(v[0]), std::fabs(v[1]), std::fabs(v[2])});
      if (v[0] == 0 && v[1] == 0 && v[2] == 0) {
        EXPECT_EQ(c, cv::Vec3b(255, 255, 255)) << "x=" << x << " y=" << y;
      } else if (largest < big) {
        continue;
      } else if (v[0] > 0 && v[1] > 0 && v[2] > 0) {
        EXPECT_GT(c[2], c[0])
            << "positive must be red at x=" << x << " y=" << y;
        ++red;
      } else if (v[0] < 0 && v[1] < 0 && v[2] < 0) {
        EXPECT_GT(c[0], c[2])
            << "negative must be blue at x=" << x << " y=" << y;
        ++blue;
      }
    }
  }
  EXPECT_GT(red, 0);
  EXPECT_GT(blue, 0);

  // The text report.
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_GE(lines.size(), 5u) << r.out;
  EXPECT_EQ(
      lines[0],
      in.string() + ": 64x48, 3 channels, kernel 'sobel-x' (asymmetry 1)");
  EXPECT_NE(r.out.find("max |diff| "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("psnr "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("share |diff| > 0: "), std::string::npos) << r.out;
  EXPECT_EQ(lines.back(), "  wrote: " + (out / "crop.convolve.png").string() +
                              " " + (out / "crop.correlate.png").string() +
                              " " + (out / "crop.diff.png").string());
  EXPECT_EQ(r.out.find("exactly zero"), std::string::npos);
}

TEST(CliCompare, RawDiffIsConvolveMinusCorrelate) {
  TempDir t;
  const fs::path in = Crop(t);
  const fs::path out = t / "out";
  RUN_OK(r, {"compare", "-k", "sobel-x", "--raw-diff", in.string(), "-o",
             out.string()});
  const cv::Mat raw = Read(out / "crop.diff.tif");
  ASSERT_FALSE(raw.empty());
  EXPECT_EQ(raw.type(), CV_32FC3);
  const cv::Mat src = Read(in);
  EXPECT_TRUE(Near(
      raw, RefConvolve(src, SobelX()) - RefCorrelate(src, SobelX()), 1e-3));
}

// docs/flip.md: with K = S + A (S = (K + rot180 K) / 2 symmetric, A = (K -
// rot180 K) / 2 antisymmetric), convolve - correlate = -2 (A correlated with
// I): the difference map is predicted by the antisymmetric part alone, and
// the symmetric part cancels. Checked for random kernels of odd sizes
// (anchor at the centre) against OpenCV's filter2D with A, made here.
TEST(CliCompare, DifferenceIsMinusTwiceTheAntisymmetricPartCorrelated) {
  TempDir t;
  const fs::path in = Crop(t);
  cv::RNG rng(2026);
  for (const auto& [rows, cols] :
       std::vector<std::pair<int, int>>{{3, 3}, {5, 5}, {3, 7}, {1, 5}}) {
    SCOPED_TRACE(std::to_string(rows) + "x" + std::to_string(cols));
    cv::Mat k(rows, cols, CV_32F);
    std::string spec;
    for (int r = 0; r < rows; ++r) {
      for (int c = 0; c < cols; ++c) {
        const int v = rng.uniform(-9, 10);
        k.at<float>(r, c) = static_cast<float>(v);
        spec += std::to_string(v) + (c + 1 < cols ? "," : "");
      }
      if (r + 1 < rows) spec += ";";
    }
    cv::Mat rotated;
    cv::flip(k, rotated, -1);
    const cv::Mat a = (k - rotated) / 2;
    const fs::path out = t / ("out" + std::to_string(rows * 10 + cols));
    RUN_OK(r, {"compare", "-k", spec, "--raw-diff", in.string(), "-o",
               out.string()});
    const cv::Mat raw = Read(out / "crop.diff.tif");
    ASSERT_FALSE(raw.empty());
    const cv::Mat predicted = -2 * RefCorrelate(Read(in), a);
    EXPECT_TRUE(Near(raw, predicted, 1e-2));
  }
}

TEST(CliCompare, FloatResultsAndRawDiffAgreeExactly) {
  TempDir t;
  const fs::path in =
      WriteCrop("coffee.png", cv::Rect(250, 150, 45, 33), t / "crop.png");
  const fs::path out = t / "out";
  RUN_OK(r, {"compare", "-k", "emboss", "--format", "tif", "--depth", "f32",
             "--raw-diff", in.string(), "-o", out.string()});
  EXPECT_EQ(ListFiles(out),
            (std::vector<std::string>{"crop.convolve.tif", "crop.correlate.tif",
                                      "crop.diff.png", "crop.diff.tif"}));
  const cv::Mat conv = Read(out / "crop.convolve.tif");
  const cv::Mat corr = Read(out / "crop.correlate.tif");
  ASSERT_FALSE(conv.empty());
  ASSERT_FALSE(corr.empty());
  ASSERT_EQ(conv.type(), CV_32FC3);
  const cv::Mat emboss = KernelMat({{-2, -1, 0}, {-1, 1, 1}, {0, 1, 2}});
  EXPECT_TRUE(Near(conv, RefConvolve(Read(in), emboss), 1e-3));
  EXPECT_TRUE(Near(corr, RefCorrelate(Read(in), emboss), 1e-3));
  cv::Mat diff = conv - corr;
  EXPECT_TRUE(Identical(Read(out / "crop.diff.tif"), diff));
}

// --diff-range: the map's range and rule in the JSON, against the
// percentiles computed here from the raw difference (per pixel, the
// largest |d| over channels, as the map draws it).
TEST(CliCompare, DiffRangeChoosesTheMapsColourRange) {
  TempDir t;
  const fs::path in = Crop(t);
  std::vector<float> mags;  // per pixel, the largest |d| over channels
  double max_abs = 0;
  {
    RUN_OK(r, {"compare", "-k", "sobel-x", "--raw-diff", "--json", in.string(),
               "-o", (t / "raw").string()});
    const cv::Mat raw = Read(t / "raw" / "crop.diff.tif");
    ASSERT_EQ(raw.type(), CV_32FC3);
    for (int y = 0; y < raw.rows; ++y) {
      for (int x = 0; x < raw.cols; ++x) {
        const cv::Vec3f v = raw.at<cv::Vec3f>(y, x);
        const float m =
            std::max({std::abs(v[0]), std::abs(v[1]), std::abs(v[2])});
        if (m != 0) mags.push_back(m);
        max_abs = std::max(max_abs, static_cast<double>(m));
      }
    }
    const nlohmann::json j = OneJsonLine(r.out);
    EXPECT_EQ(j["map_range_rule"], "p99.5");
    std::sort(mags.begin(), mags.end());
    // Nearest rank.
    const size_t k = static_cast<size_t>(std::ceil(0.995 * mags.size())) - 1;
    EXPECT_DOUBLE_EQ(j["map_range"].get<double>(), mags[k]);
    EXPECT_DOUBLE_EQ(j["max_abs_diff"].get<double>(), max_abs);
  }
  for (const auto& [arg, range] : std::vector<std::pair<std::string, double>>{
           {"max", max_abs},
           {"p50", mags[static_cast<size_t>(std::ceil(0.5 * mags.size())) - 1]},
           {"7.5", 7.5}}) {
    SCOPED_TRACE(arg);
    RUN_OK(r, {"compare", "-k", "sobel-x", "--json", "--diff-range", arg,
               in.string(), "-o", (t / arg).string() + "/"});
    const nlohmann::json j = OneJsonLine(r.out);
    EXPECT_EQ(j["map_range_rule"], arg);
    EXPECT_DOUBLE_EQ(j["map_range"].get<double>(), range);
  }
  const RunResult bad =
      RunConvcorr({"compare", "-k", "sobel-x", "--diff-range", "p0",
                   in.string(), "-o", (t / "bad").string()});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err,
            "--diff-range 'p0': expected max, pNN (a percentile above 0, up "
            "to 100, e.g. p99.5) or a positive value\n");
  EXPECT_FALSE(fs::exists(t / "bad"));
}

TEST(CliCompare, JsonStatisticsAreConsistentWithTheRawDiff) {
  TempDir t;
  const fs::path in = Crop(t);
  const fs::path out = t / "out";
  RUN_OK(r, {"compare", "-k", "sobel-x", "--json", "--raw-diff", in.string(),
             "-o", out.string()});
  const nlohmann::json j = OneJsonLine(r.out);
  for (const char* key :
       {"input", "outputs", "width", "height", "channels", "kernel",
        "identical", "max_abs_diff", "max_location", "mean_abs_diff", "rms",
        "psnr", "peak", "threshold", "share_above_threshold", "samples"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["input"], in.string());
  EXPECT_EQ(j["outputs"], (nlohmann::json{(out / "crop.convolve.png").string(),
                                          (out / "crop.correlate.png").string(),
                                          (out / "crop.diff.png").string(),
                                          (out / "crop.diff.tif").string()}));
  EXPECT_EQ(j["width"], 64);
  EXPECT_EQ(j["height"], 48);
  EXPECT_EQ(j["channels"], 3);
  EXPECT_EQ(j["kernel"]["spec"], "sobel-x");
  EXPECT_DOUBLE_EQ(j["kernel"]["asymmetry"].get<double>(), 1.0);
  EXPECT_EQ(j["kernel"]["centro_symmetric"], false);
  EXPECT_EQ(j["kernel"]["convolve_equals_correlate"], false);
  EXPECT_EQ(j["identical"], false);
  EXPECT_EQ(j["samples"], 64 * 48 * 3);
  EXPECT_DOUBLE_EQ(j["peak"].get<double>(), 255.0);
  EXPECT_DOUBLE_EQ(j["threshold"].get<double>(), 0.0);

  const cv::Mat raw = Read(out / "crop.diff.tif");
  ASSERT_FALSE(raw.empty());
  const Stats s = StatsOf(raw, 0.0);
  EXPECT_GT(s.max_abs, 0);
  EXPECT_DOUBLE_EQ(j["max_abs_diff"].get<double>(), s.max_abs);
  const int mx = j["max_location"]["x"], my = j["max_location"]["y"],
            mc = j["max_location"]["channel"];
  ASSERT_TRUE(mx >= 0 && mx < 64 && my >= 0 && my < 48 && mc >= 0 && mc < 3)
      << j["max_location"];
  EXPECT_EQ(std::fabs(raw.at<cv::Vec3f>(my, mx)[mc]), s.max_abs)
      << "max_location points at a largest |diff|";
  EXPECT_NEAR(j["mean_abs_diff"].get<double>(), s.mean_abs, 1e-6 * s.max_abs);
  EXPECT_NEAR(j["rms"].get<double>(), s.rms, 1e-6 * s.max_abs);
  EXPECT_LE(j["mean_abs_diff"].get<double>(), j["rms"].get<double>());
  EXPECT_LE(j["rms"].get<double>(), j["max_abs_diff"].get<double>());
  ASSERT_TRUE(j["psnr"].is_number()) << j["psnr"];
  EXPECT_NEAR(j["psnr"].get<double>(),
              10 * std::log10(255.0 * 255.0 / (s.rms * s.rms)), 1e-6);
  const double share = j["share_above_threshold"].get<double>();
  EXPECT_GE(share, 0.0);
  EXPECT_LE(share, 1.0);
  EXPECT_DOUBLE_EQ(share, static_cast<double>(s.above) / s.samples);
}

TEST(CliCompare, ThresholdChangesTheShare) {
  TempDir t;
  const fs::path in = Crop(t);
  RUN_OK(a, {"compare", "-k", "sobel-x", "--json", "--raw-diff", in.string(),
             "-o", (t / "a").string()});
  RUN_OK(b, {"compare", "-k", "sobel-x", "--json", "--threshold", "100",
             in.string(), "-o", (t / "b").string()});
  const nlohmann::json ja = OneJsonLine(a.out);
  const nlohmann::json jb = OneJsonLine(b.out);
  EXPECT_DOUBLE_EQ(jb["threshold"].get<double>(), 100.0);
  const Stats s = StatsOf(Read(t / "a" / "crop.diff.tif"), 100.0);
  EXPECT_DOUBLE_EQ(jb["share_above_threshold"].get<double>(),
                   static_cast<double>(s.above) / s.samples);
  EXPECT_LT(jb["share_above_threshold"].get<double>(),
            ja["share_above_threshold"].get<double>());
  EXPECT_EQ(jb["max_abs_diff"], ja["max_abs_diff"]) << "only the share changes";
}

TEST(CliCompare, PanelIsAnEightBitColourImage) {
  TempDir t;
  const fs::path in = Crop(t);
  const fs::path out = t / "out";
  RUN_OK(r, {"compare", "-k", "sobel-x", "--panel", in.string(), "-o",
             out.string()});
  EXPECT_EQ(ListFiles(out),
            (std::vector<std::string>{"crop.convolve.png", "crop.correlate.png",
                                      "crop.diff.png", "crop.panel.png"}));
  const cv::Mat panel = Read(out / "crop.panel.png");
  ASSERT_FALSE(panel.empty());
  EXPECT_EQ(panel.type(), CV_8UC3);
  // Four tiles side by side.
  EXPECT_GT(panel.cols, panel.rows);
  EXPECT_GE(panel.cols, 4 * 64);
  // Gray and 16-bit inputs make a panel too.
  RUN_OK(g, {"compare", "-k", "sobel-y", "--panel",
             Photo("chessboard_GRAY_U16.tif").string(), "-o", out.string()});
  const cv::Mat board = Read(out / "chessboard_GRAY_U16.panel.png");
  ASSERT_FALSE(board.empty());
  EXPECT_EQ(board.type(), CV_8UC3);
}

// compare computes both results in one fused pass (-v says so). emboss has
// a symmetric and an antisymmetric part, so the pass runs K and its
// rotation over one ring: the files equal the standalone commands' bit for
// bit. sobel-x is purely antisymmetric and takes the mirror pairs: within
// one unit for 8-bit outputs and within the engine's bound for f32. Both
// for centred and off-centre anchors.
TEST(CliCompare, FusedResultsMatchTheStandaloneCommands) {
  TempDir t;
  const fs::path in =
      WriteCrop("coffee.png", cv::Rect(120, 90, 53, 37), t / "crop.png");
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--anchor", "0,2"},
        std::vector<std::string>{"--depth", "f32", "--format", "tif"}}) {
    const bool f32 = extra.size() == 4;
    const std::string ext = f32 ? "tif" : "png";
    for (const std::string spec : {"emboss", "sobel-x"}) {
      std::vector<std::string> args = {"compare", "-v", "-k", spec};
      args.insert(args.end(), extra.begin(), extra.end());
      args.insert(args.end(), {in.string(), "-o", (t / "cmp").string()});
      RUN_OK(r, args);
      EXPECT_NE(r.err.find(", compare fused,"), std::string::npos) << r.err;
      for (const std::string mode : {"convolve", "correlate"}) {
        std::vector<std::string> one = {mode, "-k", spec};
        one.insert(one.end(), extra.begin(), extra.end());
        one.insert(one.end(),
                   {in.string(), "-o", (t / ("one." + ext)).string()});
        RUN_OK(s, one);
        const cv::Mat fused = Read(t / "cmp" / ("crop." + mode + "." + ext));
        const cv::Mat alone = Read(t / ("one." + ext));
        ASSERT_FALSE(fused.empty());
        ASSERT_EQ(fused.type(), alone.type());
        if (spec == "emboss") {
          EXPECT_TRUE(Identical(fused, alone)) << spec << " " << mode;
        } else {
          // sobel-x: sum |K| = 8 on 0..255 samples.
          EXPECT_TRUE(Near(fused, alone, f32 ? 1e-4 : 1.0))
              << spec << " " << mode;
        }
      }
    }
  }
}

TEST(CliCompare, CentroSymmetricKernelsGiveIdenticalResults) {
  TempDir t;
  const fs::path in = Crop(t);
  for (const std::string spec : {"gaussian:1.5", "laplacian", "box:3"}) {
    SCOPED_TRACE(spec);
    const fs::path out = t / spec;
    // "gaussian:1.5" has an extension: the trailing / makes it a directory.
    RUN_OK(r, {"compare", "-k", spec, in.string(), "-o", out.string() + "/"});
    EXPECT_TRUE(Identical(Read(out / "crop.convolve.png"),
                          Read(out / "crop.correlate.png")));
    const cv::Mat heat = Read(out / "crop.diff.png");
    ASSERT_FALSE(heat.empty());
    EXPECT_EQ(heat.type(), CV_8UC3);
    EXPECT_TRUE(Identical(
        heat, cv::Mat(heat.size(), CV_8UC3, cv::Scalar(255, 255, 255))))
        << "all white";
    EXPECT_NE(r.out.find("  difference: exactly zero everywhere: convolve == "
                         "correlate (the kernel is centro-symmetric about its "
                         "anchor)\n"),
              std::string::npos)
        << r.out;
    EXPECT_EQ(r.out.find("psnr"), std::string::npos) << r.out;

    RUN_OK(js,
           {"compare", "-k", spec, "--json", in.string(), "-o", out.string()});
    const nlohmann::json j = OneJsonLine(js.out);
    EXPECT_EQ(j["identical"], true);
    EXPECT_TRUE(j["psnr"].is_null()) << j["psnr"];
    EXPECT_EQ(j["max_abs_diff"].get<double>(), 0.0);
    EXPECT_EQ(j["share_above_threshold"].get<double>(), 0.0);
    EXPECT_EQ(j["kernel"]["centro_symmetric"], true);
    EXPECT_EQ(j["kernel"]["convolve_equals_correlate"], true);
    EXPECT_EQ(j["kernel"]["asymmetry"].get<double>(), 0.0);
  }
}

TEST(CliCompare, EvenBoxDiffersByAShiftInSameMode) {
  TempDir t;
  const fs::path in = Crop(t);
  RUN_OK(same, {"compare", "-k", "box:2", "--json", in.string(), "-o",
                (t / "same").string()});
  const nlohmann::json js = OneJsonLine(same.out);
  EXPECT_EQ(js["identical"], false);
  EXPECT_EQ(js["kernel"]["centro_symmetric"], true);
  EXPECT_EQ(js["kernel"]["convolve_equals_correlate"], false);
  RUN_OK(valid, {"compare", "-k", "box:2", "--size", "valid", "--json",
                 in.string(), "-o", (t / "valid").string()});
  const nlohmann::json jv = OneJsonLine(valid.out);
  EXPECT_EQ(jv["identical"], true);
  EXPECT_EQ(jv["width"], 63);
  EXPECT_EQ(jv["height"], 47);
}

TEST(CliCompare, ShiftMovesContentOppositeWays) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(220, 120, 40, 30), t / "crop.png");
  const cv::Mat src = Read(in);
  {
    const fs::path out = t / "x";
    RUN_OK(r, {"compare", "-k", "shift:1,0", in.string(), "-o", out.string()});
    const cv::Mat conv = Read(out / "crop.convolve.png");
    const cv::Mat corr = Read(out / "crop.correlate.png");
    ASSERT_FALSE(conv.empty());
    ASSERT_FALSE(corr.empty());
    // convolve moves content right by 1, correlate left by 1.
    EXPECT_TRUE(Identical(conv(cv::Rect(1, 0, 39, 30)).clone(),
                          src(cv::Rect(0, 0, 39, 30)).clone()));
    EXPECT_TRUE(Identical(corr(cv::Rect(0, 0, 39, 30)).clone(),
                          src(cv::Rect(1, 0, 39, 30)).clone()));
  }
  {
    const fs::path out = t / "y";
    RUN_OK(r, {"compare", "-k", "shift:0,2", in.string(), "-o", out.string()});
    const cv::Mat conv = Read(out / "crop.convolve.png");
    const cv::Mat corr = Read(out / "crop.correlate.png");
    ASSERT_FALSE(conv.empty());
    ASSERT_FALSE(corr.empty());
    // convolve moves content down by 2, correlate up by 2.
    EXPECT_TRUE(Identical(conv(cv::Rect(0, 2, 40, 28)).clone(),
                          src(cv::Rect(0, 0, 40, 28)).clone()));
    EXPECT_TRUE(Identical(corr(cv::Rect(0, 0, 40, 28)).clone(),
                          src(cv::Rect(0, 2, 40, 28)).clone()));
  }
}

TEST(CliCompare, SixteenBitInputUsesPeak65535) {
  TempDir t;
  const fs::path in = Photo("chessboard_GRAY_U16.tif");
  const fs::path out = t / "out";
  RUN_OK(r, {"compare", "-k", "sobel-x", "--json", in.string(), "-o",
             out.string()});
  const nlohmann::json j = OneJsonLine(r.out);
  EXPECT_DOUBLE_EQ(j["peak"].get<double>(), 65535.0);
  EXPECT_EQ(j["channels"], 1);
  EXPECT_EQ(ListFiles(out),
            (std::vector<std::string>{"chessboard_GRAY_U16.convolve.tif",
                                      "chessboard_GRAY_U16.correlate.tif",
                                      "chessboard_GRAY_U16.diff.png"}));
  const cv::Mat conv = Read(out / "chessboard_GRAY_U16.convolve.tif");
  ASSERT_FALSE(conv.empty());
  EXPECT_EQ(conv.type(), CV_16UC1);
  EXPECT_TRUE(Near(conv, Quantize(RefConvolve(Read(in), SobelX()), CV_16U), 1));
}

TEST(CliCompare, DirectoryInputIsMirrored) {
  TempDir t;
  fs::create_directories(t / "in" / "sub");
  WriteCrop("camera.png", cv::Rect(0, 0, 12, 10), t / "in" / "a.png");
  WriteCrop("coffee.png", cv::Rect(0, 0, 12, 10), t / "in" / "sub" / "b.png");
  RUN_OK(r, {"compare", "-r", "-k", "sobel-x", "-q", (t / "in").string(), "-o",
             (t / "out").string()});
  EXPECT_EQ(r.out, "") << "-q silences the statistics";
  EXPECT_EQ(
      ListFiles(t / "out"),
      (std::vector<std::string>{"a.convolve.png", "a.correlate.png",
                                "a.diff.png", "sub/b.convolve.png",
                                "sub/b.correlate.png", "sub/b.diff.png"}));
}

}  // namespace
}  // namespace convcorr::testing
