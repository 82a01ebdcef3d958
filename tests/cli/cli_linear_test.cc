// --linear through the binary: results against an oracle made here of the
// sRGB formulas and OpenCV's filter2D (decode, convolve, encode, round),
// the streamed file equal to the whole-image path's, compare's streamed
// results equal to its held-whole ones, and the setting recorded so that
// --skip-existing redoes outputs made without it.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

// The curve of IEC 61966-2-1 on every sample of a float image in 0..max.
cv::Mat Curve(const cv::Mat& m, double max, bool decode) {
  cv::Mat out = m.clone();
  // Every sample: one channel of as many columns as samples.
  cv::Mat samples = out.reshape(1);
  samples.forEach<float>([&](float& v, const int*) {
    const double x = v / max;
    double y;
    if (decode) {
      y = x <= 0.04045 ? x / 12.92 : std::pow((x + 0.055) / 1.055, 2.4);
    } else {
      y = x <= 0.0031308 ? 12.92 * x : 1.055 * std::pow(x, 1 / 2.4) - 0.055;
    }
    v = static_cast<float>(max * y);
  });
  return out;
}

TEST(CliLinear, AgreesWithDecodeFilterEncodeWithinOneLevel) {
  TempDir dir;
  const cv::Mat motion = KernelMat({{0, 0, 0, 0, 0.1f},
                                    {0, 0, 0, 0.2f, 0},
                                    {0, 0, 0.4f, 0, 0},
                                    {0, 0.2f, 0, 0, 0},
                                    {0.1f, 0, 0, 0, 0}});
  const std::string spec =
      "0,0,0,0,0.1;0,0,0,0.2,0;0,0,0.4,0,0;0,0.2,0,0,0;"
      "0.1,0,0,0,0";
  for (const std::string photo : {"rocket.jpg", "chessboard_GRAY_U16.tif"}) {
    const cv::Mat in = Read(Photo(photo));
    const bool u16 = in.depth() == CV_16U;
    const double max = u16 ? 65535 : 255;
    const std::string out = (dir / (u16 ? "o.tif" : "o.png")).string();
    RUN_OK(r, {"convolve", "-k", spec, "--linear", Photo(photo).string(), "-o",
               out});
    cv::Mat f;
    in.convertTo(f, CV_32F);
    const cv::Mat want =
        Quantize(Curve(RefConvolve(Curve(f, max, true), motion), max, false),
                 in.depth());
    EXPECT_TRUE(Near(Read(out), want, u16 ? 257 : 1)) << photo;
    if (!u16) {
      // And it is not the blur of the encoded values. (The 16-bit sample
      // holds levels 0 to 255 only, where the curve is a straight line.)
      const cv::Mat plain = Quantize(RefConvolve(f, motion), in.depth());
      EXPECT_GT(cv::norm(Read(out), plain, cv::NORM_INF), 1);
    }
  }
}

TEST(CliLinear, StreamedFileEqualsTheWholeImagePath) {
  TempDir dir;
  for (const std::string photo :
       {"rocket.jpg", "horse.png", "chessboard_GRAY_U16.tif"}) {
    const std::string out = (dir / "out.png").string();
    RUN_OK(file, {"correlate", "-k", "motion:9,30", "--linear",
                  Photo(photo).string(), "-o", out, "-v"});
    EXPECT_NE(file.err.find("streamed in bands"), std::string::npos)
        << file.err;
    RUN_OK(piped, {"correlate", "-k", "motion:9,30", "--linear",
                   Photo(photo).string(), "-o", "-", "--format", "png"});
    EXPECT_TRUE(ReadBytes(out) == piped.out) << photo;
    if (photo == "horse.png") {
      // Alpha is carried as it is.
      EXPECT_TRUE(Identical(AlphaOf(Read(out)), AlphaOf(Read(Photo(photo)))));
    }
  }
}

TEST(CliLinear, CompareStreamedEqualsCompareHeldWhole) {
  TempDir dir;
  const std::string a = (dir / "a").string();
  const std::string b = (dir / "b").string();
  RUN_OK(streamed, {"compare", "-k", "emboss", "--linear",
                    Photo("chelsea.png").string(), "-o", a, "--json"});
  RUN_OK(whole, {"compare", "-k", "emboss", "--linear",
                 Photo("chelsea.png").string(), "-o", b, "--json", "--panel"});
  for (const std::string out :
       {".convolve.png", ".correlate.png", ".diff.png"}) {
    EXPECT_TRUE(Identical(Read(dir / "a" / ("chelsea" + out)),
                          Read(dir / "b" / ("chelsea" + out))))
        << out;
  }
  // The statistics are the same numbers: the JSON but for its outputs.
  const auto stats = [](std::string json) {
    const size_t at = json.find("\"outputs\":[");
    EXPECT_NE(at, std::string::npos) << json;
    if (at == std::string::npos) return json;
    return json.erase(at, json.find(']', at) + 1 - at);
  };
  EXPECT_EQ(stats(streamed.out), stats(whole.out));
  RUN_OK(plain, {"compare", "-k", "emboss", Photo("chelsea.png").string(), "-o",
                 (dir / "c").string(), "--json"});
  EXPECT_NE(stats(plain.out), stats(streamed.out));
}

TEST(CliLinear, SkipExistingRedoesOutputsMadeWithoutIt) {
  TempDir dir;
  const std::string out = (dir / "o.png").string();
  RUN_OK(first,
         {"correlate", "-k", "box:3", Photo("camera.png").string(), "-o", out});
  RUN_OK(dry, {"correlate", "-k", "box:3", "--linear", "--skip-existing",
               "--dry-run", Photo("camera.png").string(), "-o", out});
  EXPECT_NE(dry.out.find("redo"), std::string::npos) << dry.out;
  RUN_OK(linear, {"correlate", "-k", "box:3", "--linear",
                  Photo("camera.png").string(), "-o", out});
  RUN_OK(again, {"correlate", "-k", "box:3", "--linear", "--skip-existing",
                 "--dry-run", Photo("camera.png").string(), "-o", out});
  EXPECT_NE(again.out.find("skip"), std::string::npos) << again.out;
}

}  // namespace
}  // namespace convcorr::testing
