// Alpha-weighted filtering end to end: a cut-out whose transparent pixels
// hold a loud colour, blurred by convcorr and by ImageMagick.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <string>
#include <vector>

#include "cli/cli_util.h"

namespace convcorr::testing {
namespace {

// A cut-out from the horse photo (a black horse on white): alpha is the
// darkness (the horse opaque, its antialiased rim semi-transparent, the
// background transparent); the colour a sienna with a blue ramp across
// the image where alpha > 0, and pure green (0,255,0) under alpha 0.
cv::Mat CutOut() {
  const cv::Mat horse = Read(Photo("horse.png"));
  cv::Mat gray;
  cv::cvtColor(horse, gray, cv::COLOR_BGRA2GRAY);
  cv::Mat out(gray.size(), CV_8UC4);
  for (int y = 0; y < gray.rows; ++y) {
    for (int x = 0; x < gray.cols; ++x) {
      const int a = 255 - gray.at<uint8_t>(y, x);
      const auto blue = static_cast<uint8_t>(x * 255 / (gray.cols - 1));
      out.at<cv::Vec4b>(y, x) =
          a == 0 ? cv::Vec4b(0, 255, 0, 0) : cv::Vec4b(blue, 82, 160, a);
    }
  }
  return out;
}

// The largest green sample of `img` (BGRA) where `mask` (the input's
// alpha) is nonzero.
int MaxGreen(const cv::Mat& img, const cv::Mat& in) {
  int g = 0;
  for (int y = 0; y < img.rows; ++y) {
    for (int x = 0; x < img.cols; ++x) {
      if (in.at<cv::Vec4b>(y, x)[3] > 0) {
        g = std::max<int>(g, img.at<cv::Vec4b>(y, x)[1]);
      }
    }
  }
  return g;
}

// A 5x5 box as ImageMagick 6 takes it: `-morphology Convolve` with 25
// weights of 0.04. ImageMagick's default channels are synced: colour is
// weighted by alpha and divided by the sum of the weights times alpha
// (with `-channel RGBA` it is not), and alpha itself is filtered. Its
// default virtual pixels are `edge` (convcorr's replicate).
std::string ImageMagickBox5(const std::string& in, const std::string& out) {
  std::string weights;
  for (int i = 0; i < 25; ++i) weights += i == 0 ? "0.04" : ",0.04";
  return "convert '" + in + "' -morphology Convolve '5x5:" + weights + "' '" +
         out + "'";
}

TEST(CliAlpha, CutOutBlurHasNoRimAndMatchesImageMagick) {
  if (std::system("command -v convert >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "ImageMagick's convert is not installed";
  }
  TempDir dir;
  const cv::Mat cut = CutOut();
  const std::string in = (dir / "cut.png").string();
  ASSERT_TRUE(cv::imwrite(in, cut));
  const std::string im = (dir / "im.png").string();
  const std::string cmd = ImageMagickBox5(in, im);
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  const cv::Mat want = Read(im);
  ASSERT_EQ(want.type(), CV_8UC4);

  // Alpha filtered (as ImageMagick filters it) and carried (the default):
  // the colour is the same rule either way.
  for (const bool filter_alpha : {true, false}) {
    SCOPED_TRACE(filter_alpha ? "--filter-alpha" : "alpha carried");
    const std::string out = (dir / "cc.png").string();
    std::vector<std::string> args = {"convolve",  "-k", "box:5", "--border",
                                     "replicate", in,   "-o",    out};
    if (filter_alpha) args.push_back("--filter-alpha");
    RUN_OK(run, args);
    const cv::Mat got = Read(out);
    ASSERT_EQ(got.type(), CV_8UC4);
    // No green rim: the only green besides 82 is under alpha 0.
    EXPECT_LE(MaxGreen(got, cut), 82);
    // ImageMagick's colour on every pixel with alpha > 0 in the input
    // (opaque or semi-transparent), within 1 level: both divide the same
    // sums, ImageMagick in double on 16-bit quanta, convcorr in float32,
    // each rounding once to 8 bits.
    int worst = 0, worst_alpha = 0;
    for (int y = 0; y < cut.rows; ++y) {
      for (int x = 0; x < cut.cols; ++x) {
        if (cut.at<cv::Vec4b>(y, x)[3] == 0) continue;
        const cv::Vec4b g = got.at<cv::Vec4b>(y, x);
        const cv::Vec4b w = want.at<cv::Vec4b>(y, x);
        for (int c = 0; c < 3; ++c)
          worst = std::max(worst, std::abs(g[c] - w[c]));
        worst_alpha = std::max(worst_alpha, std::abs(g[3] - w[3]));
      }
    }
    EXPECT_LE(worst, 1) << "largest colour difference from ImageMagick";
    if (filter_alpha) {
      EXPECT_LE(worst_alpha, 1);
    }
    // Alpha carried: the input's, unchanged.
    if (!filter_alpha) {
      std::vector<cv::Mat> a(4), b(4);
      cv::split(got, a);
      cv::split(cut, b);
      EXPECT_EQ(cv::countNonZero(a[3] != b[3]), 0);
    }
  }

  // The off switch gives the old sums: the green bleeds in.
  const std::string old = (dir / "old.png").string();
  RUN_OK(off, {"convolve", "-k", "box:5", "--border", "replicate", in, "-o",
               old, "--no-alpha-weighting"});
  EXPECT_GT(MaxGreen(Read(old), cut), 150);
}

// Streamed (file output) and held whole (standard output) agree, and
// compare (held whole with alpha weighting) gives filter's convolve.
TEST(CliAlpha, EveryPathGivesTheSameSamples) {
  TempDir dir;
  const std::string in = (dir / "cut.png").string();
  ASSERT_TRUE(cv::imwrite(in, CutOut()));
  for (const std::string kernel : {"gaussian:2", "sobel-x", "1 2; -3 4"}) {
    for (const bool linear : {false, true}) {
      SCOPED_TRACE(kernel + (linear ? " --linear" : ""));
      const std::string out = (dir / "f.png").string();
      std::vector<std::string> args = {"convolve", "-k", kernel, in,
                                       "-o",       out,  "-v"};
      if (linear) args.push_back("--linear");
      RUN_OK(file, args);
      EXPECT_NE(file.err.find("streamed in bands"), std::string::npos)
          << file.err;
      args[5] = "-";
      args.pop_back();
      args.push_back("--format");
      args.push_back("png");
      if (linear) args.push_back("--linear");
      RUN_OK(piped, args);
      EXPECT_TRUE(Decode(piped.out).size() == Read(out).size());
      EXPECT_EQ(cv::norm(Decode(piped.out), Read(out), cv::NORM_INF), 0);
      std::vector<std::string> cmp = {"compare", "-k", kernel,
                                      in,        "-o", dir.path().string()};
      if (linear) cmp.push_back("--linear");
      RUN_OK(compared, cmp);
      EXPECT_EQ(
          cv::norm(Read(dir / "cut.convolve.png"), Read(out), cv::NORM_INF), 0);
    }
  }
}

// The --compat presets reproduce tools that filter colour as stored:
// alpha weighting is off under them, as with --no-alpha-weighting.
TEST(CliAlpha, CompatPresetsFilterColourAsStored) {
  TempDir dir;
  const std::string in = (dir / "cut.png").string();
  ASSERT_TRUE(cv::imwrite(in, CutOut()));
  for (const std::string tool : {"opencv", "scipy"}) {
    const std::string a = (dir / "a.png").string();
    const std::string b = (dir / "b.png").string();
    RUN_OK(preset, {"convolve", "-k", "box:5", "--compat", tool, in, "-o", a});
    RUN_OK(off, {"convolve", "-k", "box:5", "--compat", tool,
                 "--no-alpha-weighting", in, "-o", b});
    EXPECT_EQ(cv::norm(Read(a), Read(b), cv::NORM_INF), 0) << tool;
  }
  // Without a preset the weighting keeps the green out of the edge.
  RUN_OK(weighted,
         {"convolve", "-k", "box:5", in, "-o", (dir / "w.png").string()});
  RUN_OK(stored, {"convolve", "-k", "box:5", "--no-alpha-weighting", in, "-o",
                  (dir / "s.png").string()});
  EXPECT_GT(cv::norm(Read(dir / "w.png"), Read(dir / "s.png"), cv::NORM_INF),
            0);
}

}  // namespace
}  // namespace convcorr::testing
