// Kernels drawn as images, -k @FILE.png, through the built binary
// (docs/kernels.md, "Image kernels"): the same weights written as numbers
// filter to the same bytes, a point light convolved draws the image as
// drawn and correlated draws it rotated by 180 degrees, the weights are
// normalised to sum 1 unless --psf-raw, colour is BT.601 luma times alpha,
// 16-bit and float images work, and every refusal is one line, exit 2 and
// nothing written. The PSF images are written here with OpenCV.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// The F of samples/kernels/psf-f.png: 19x19, 60 white pixels.
fs::path SamplePsf() {
  return fs::path(CONVCORR_SAMPLES_DIR) / "kernels" / "psf-f.png";
}

void WriteImage(const fs::path& p, const cv::Mat& m) {
  ASSERT_TRUE(cv::imwrite(p.string(), m)) << p;
}

json KernelJson(const std::vector<std::string>& args, const fs::path& cwd) {
  std::vector<std::string> all = {"kernel"};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back("--json");
  const RunResult r = RunConvcorr(all, "", cwd);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  if (r.exit_code != 0) return json::object();
  return json::parse(Lines(r.out).at(0));
}

// The kernel's weights, row by row, as `kernel --json` prints them.
std::vector<std::vector<double>> Matrix(const json& j) {
  return j.at("matrix").get<std::vector<std::vector<double>>>();
}

// Exactly one line on stderr, exit 2, nothing on stdout; returns the line.
std::string SpecError(const RunResult& r) {
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  const std::vector<std::string> lines = Lines(r.err);
  EXPECT_EQ(lines.size(), 1u) << Describe(r);
  return lines.empty() ? "" : lines[0];
}

// A random colour PSF with gray levels, so that every weight differs.
cv::Mat RandomPsf(int width, int height, unsigned seed) {
  cv::Mat m(height, width, CV_8UC3);
  std::mt19937 rng(seed);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      m.at<cv::Vec3b>(y, x) = {static_cast<uint8_t>(rng() & 0xff),
                               static_cast<uint8_t>(rng() & 0xff),
                               static_cast<uint8_t>(rng() & 0xff)};
    }
  }
  return m;
}

// The same weights given as numbers (kernel --to csv) filter to the same
// bytes: the image is only another way to write the kernel.
TEST(CliPsf, TheSameWeightsAsNumbersGiveTheSameBytes) {
  TempDir t;
  fs::copy_file(SamplePsf(), t / "f.png");
  WriteImage(t / "random.png", RandomPsf(7, 5, 17));
  WriteCrop("coffee.png", cv::Rect(200, 120, 64, 48), t / "in.png");
  for (const std::string psf : {"f.png", "random.png"}) {
    for (const std::vector<std::string>& raw :
         {std::vector<std::string>{}, std::vector<std::string>{"--psf-raw"}}) {
      SCOPED_TRACE(psf + (raw.empty() ? "" : " --psf-raw"));
      std::vector<std::string> to = {"kernel", "@" + psf, "--to", "csv"};
      to.insert(to.end(), raw.begin(), raw.end());
      RUN_OK(csv, to, "", t.path());
      WriteBytes(t / "k.csv", csv.out);
      for (const std::string mode : {"convolve", "correlate"}) {
        std::vector<std::string> image_run = {mode, "-k", "@" + psf};
        image_run.insert(image_run.end(), raw.begin(), raw.end());
        for (const std::string& a :
             {std::string("in.png"), std::string("-o"), std::string("a.png")})
          image_run.push_back(a);
        RUN_OK(a, image_run, "", t.path());
        RUN_OK(b, {mode, "-k", "@k.csv", "in.png", "-o", "b.png"}, "",
               t.path());
        const std::string bytes = ReadBytes(t / "a.png");
        EXPECT_FALSE(bytes.empty());
        EXPECT_EQ(bytes, ReadBytes(t / "b.png")) << mode;
      }
    }
  }
  // compare too, both of its results.
  RUN_OK(csv, {"kernel", "@random.png", "--to", "csv"}, "", t.path());
  WriteBytes(t / "k.csv", csv.out);
  RUN_OK(a, {"compare", "-k", "@random.png", "-q", "in.png", "-o", "ca"}, "",
         t.path());
  RUN_OK(b, {"compare", "-k", "@k.csv", "-q", "in.png", "-o", "cb"}, "",
         t.path());
  for (const std::string out : {"in.convolve.png", "in.correlate.png"}) {
    EXPECT_EQ(ReadBytes(t / "ca" / out), ReadBytes(t / "cb" / out)) << out;
  }
}

// One bright pixel on black: convolve draws the PSF as drawn, centred on
// the pixel by the anchor (9, 9), each weight 1/60 of the pixel; correlate
// draws it rotated by 180 degrees.
TEST(CliPsf, APointLightDrawsThePsfAsDrawnOrRotated) {
  TempDir t;
  fs::copy_file(SamplePsf(), t / "f.png");
  const cv::Mat psf = Read(SamplePsf());
  ASSERT_EQ(psf.type(), CV_8UC1);
  ASSERT_EQ(psf.size(), cv::Size(19, 19));
  ASSERT_EQ(cv::countNonZero(psf), 60);
  const int px = 20;
  const int py = 17;
  cv::Mat point = cv::Mat::zeros(37, 41, CV_8UC1);
  point.at<uint8_t>(py, px) = 255;
  WriteImage(t / "point.png", point);
  cv::Mat drawn = cv::Mat::zeros(37, 41, CV_32FC1);
  cv::Mat rotated = cv::Mat::zeros(37, 41, CV_32FC1);
  for (int r = 0; r < 19; ++r) {
    for (int c = 0; c < 19; ++c) {
      const float w = 255.0f * psf.at<uint8_t>(r, c) / 255.0f / 60.0f;
      drawn.at<float>(py + r - 9, px + c - 9) = w;
      rotated.at<float>(py - (r - 9), px - (c - 9)) = w;
    }
  }
  // The F is its own rotation nowhere: the two expectations differ.
  ASSERT_FALSE(Near(drawn, rotated, 1));
  for (const auto& [mode, want] :
       {std::pair{std::string("convolve"), drawn},
        std::pair{std::string("correlate"), rotated}}) {
    SCOPED_TRACE(mode);
    RUN_OK(r,
           {mode, "-k", "@f.png", "--depth", "f32", "point.png", "-o",
            mode + ".tif"},
           "", t.path());
    const cv::Mat got = Read(t / (mode + ".tif"));
    ASSERT_EQ(got.type(), CV_32FC1);
    // 255/60 = 4.25 on the strokes and 0 elsewhere, to float rounding.
    EXPECT_TRUE(Near(got, want, 1e-4));
  }
  // 8-bit output: round(4.25) = 4 on the strokes, exactly the drawing.
  RUN_OK(u8, {"convolve", "-k", "@f.png", "point.png", "-o", "u8.png"}, "",
         t.path());
  const cv::Mat got = Read(t / "u8.png");
  ASSERT_EQ(got.type(), CV_8UC1);
  EXPECT_TRUE(Identical(got(cv::Rect(px - 9, py - 9, 19, 19)), psf / 255 * 4));
  EXPECT_EQ(cv::countNonZero(got), 60);
}

TEST(CliPsf, NormalisedToSumOneUnlessRaw) {
  TempDir t;
  cv::Mat psf = (cv::Mat_<uint8_t>(2, 3) << 0, 51, 102, 0, 0, 255);
  WriteImage(t / "p.png", psf);
  const json n = KernelJson({"@p.png"}, t.path());
  EXPECT_EQ(n.at("rows"), 2);
  EXPECT_EQ(n.at("cols"), 3);
  EXPECT_EQ(n.at("anchor"), json::array({1, 1}));
  const std::vector<std::vector<double>> want = {{0, 0.125, 0.25},
                                                 {0, 0, 0.625}};
  const auto m = Matrix(n);
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 3; ++c) EXPECT_NEAR(m[r][c], want[r][c], 1e-15);
  }
  EXPECT_NEAR(n.at("sum").get<double>(), 1.0, 1e-15);
  EXPECT_EQ(n.at("image").at("normalized"), true);
  EXPECT_NEAR(n.at("image").at("sample_sum").get<double>(), 1.6, 1e-15);
  EXPECT_EQ(n.at("image").at("depth"), "u8");
  EXPECT_EQ(n.at("image").at("channels"), 1);

  const json raw = KernelJson({"@p.png", "--psf-raw"}, t.path());
  EXPECT_EQ(Matrix(raw),
            (std::vector<std::vector<double>>{{0, 0.2, 0.4}, {0, 0, 1}}));
  EXPECT_EQ(raw.at("image").at("normalized"), false);

  // The filters take --psf-raw too: on a flat image the raw weights
  // multiply it by their sum 1.6, the normalised ones keep it.
  WriteImage(t / "flat.png", cv::Mat(6, 7, CV_8UC1, cv::Scalar(100)));
  RUN_OK(a, {"convolve", "-k", "@p.png", "flat.png", "-o", "n.png"}, "",
         t.path());
  RUN_OK(b,
         {"convolve", "-k", "@p.png", "--psf-raw", "flat.png", "-o", "r.png"},
         "", t.path());
  EXPECT_TRUE(
      Identical(Read(t / "n.png"), cv::Mat(6, 7, CV_8UC1, cv::Scalar(100))));
  EXPECT_TRUE(
      Identical(Read(t / "r.png"), cv::Mat(6, 7, CV_8UC1, cv::Scalar(160))));

  // The text report says where the weights came from.
  fs::copy_file(SamplePsf(), t / "f.png");
  RUN_OK(text, {"kernel", "@f.png"}, "", t.path());
  const std::vector<std::string> lines = Lines(text.out);
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0],
            "kernel '@f.png': 19x19 (columns x rows), anchor x=9 y=9");
  EXPECT_EQ(lines[1],
            "from image 'f.png' (gray, u8): the samples, scaled to 0..1, "
            "divided by their sum 60 (--psf-raw keeps them)");
  RUN_OK(text_raw, {"kernel", "@f.png", "--psf-raw"}, "", t.path());
  EXPECT_EQ(Lines(text_raw.out).at(1),
            "from image 'f.png' (gray, u8): the samples, scaled to 0..1, not "
            "normalised (--psf-raw): they sum to 60");

  // --psf-raw is for image kernels only.
  for (const auto& [args, spec] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"kernel", "sobel-x", "--psf-raw"}, "sobel-x"},
           {{"convolve", "-k", "1,2,1", "--psf-raw", "flat.png", "-o", "x.png"},
            "1,2,1"},
           {{"signal", "1,2,3", "-k", "@k.txt", "--psf-raw"}, "@k.txt"}}) {
    const RunResult r = RunConvcorr(args, "", t.path());
    EXPECT_EQ(SpecError(r),
              "--psf-raw keeps the samples of an image kernel "
              "(-k @FILE.png); '" +
                  spec + "' is not one: drop --psf-raw");
  }
  EXPECT_FALSE(fs::exists(t / "x.png"));
  EXPECT_EQ(SpecError(RunConvcorr({"kernel", "--list", "--psf-raw"})),
            "--list prints every named kernel: drop --psf-raw");
}

TEST(CliPsf, ColourIsBt601LumaTimesAlpha) {
  TempDir t;
  cv::Mat rgb(1, 4, CV_8UC3);
  rgb.at<cv::Vec3b>(0, 0) = {0, 0, 255};      // red (OpenCV is B, G, R)
  rgb.at<cv::Vec3b>(0, 1) = {0, 255, 0};      // green
  rgb.at<cv::Vec3b>(0, 2) = {255, 0, 0};      // blue
  rgb.at<cv::Vec3b>(0, 3) = {153, 153, 153};  // gray 0.6
  WriteImage(t / "rgb.png", rgb);
  const json raw = KernelJson({"@rgb.png", "--psf-raw"}, t.path());
  EXPECT_EQ(Matrix(raw),
            (std::vector<std::vector<double>>{{0.299, 0.587, 0.114, 0.6}}));
  EXPECT_EQ(raw.at("image").at("channels"), 3);
  const auto n = Matrix(KernelJson({"@rgb.png"}, t.path()));
  const double sum = 0.299 + 0.587 + 0.114 + 0.6;
  EXPECT_NEAR(n[0][0], 0.299 / sum, 1e-15);
  EXPECT_NEAR(n[0][3], 0.6 / sum, 1e-15);

  // Alpha multiplies: a transparent white adds nothing, a white at alpha
  // 51 adds 0.2.
  cv::Mat rgba(1, 3, CV_8UC4);
  rgba.at<cv::Vec4b>(0, 0) = {255, 255, 255, 0};
  rgba.at<cv::Vec4b>(0, 1) = {255, 255, 255, 51};
  rgba.at<cv::Vec4b>(0, 2) = {0, 0, 255, 255};
  WriteImage(t / "rgba.png", rgba);
  EXPECT_EQ(Matrix(KernelJson({"@rgba.png", "--psf-raw"}, t.path())),
            (std::vector<std::vector<double>>{{0, 0.2, 0.299}}));
}

TEST(CliPsf, SixteenBitAndFloatImages) {
  TempDir t;
  cv::Mat g16 = (cv::Mat_<uint16_t>(1, 3) << 65535, 13107, 0);
  WriteImage(t / "g16.png", g16);
  const json raw16 = KernelJson({"@g16.png", "--psf-raw"}, t.path());
  EXPECT_EQ(Matrix(raw16), (std::vector<std::vector<double>>{{1, 0.2, 0}}));
  EXPECT_EQ(raw16.at("image").at("depth"), "u16");
  const auto n16 = Matrix(KernelJson({"@g16.png"}, t.path()));
  EXPECT_NEAR(n16[0][0], 1 / 1.2, 1e-15);
  EXPECT_NEAR(n16[0][1], 0.2 / 1.2, 1e-15);

  // Float samples as stored, negative and above 1 included; two rows, so
  // that PFM's bottom-up rows show as drawn.
  const cv::Mat f = (cv::Mat_<float>(2, 2) << 1, 2, -0.5f, 0.25f);
  for (const std::string name : {"f.pfm", "f.tif"}) {
    SCOPED_TRACE(name);
    WriteImage(t / name, f);
    const json raw = KernelJson({"@" + name, "--psf-raw"}, t.path());
    EXPECT_EQ(Matrix(raw),
              (std::vector<std::vector<double>>{{1, 2}, {-0.5, 0.25}}));
    EXPECT_EQ(raw.at("image").at("depth"), "f32");
    EXPECT_EQ(Matrix(KernelJson({"@" + name}, t.path())),
              (std::vector<std::vector<double>>{
                  {0.36363636363636365, 0.7272727272727273},
                  {-0.18181818181818182, 0.09090909090909091}}));
  }
  // A photo is drawn upright: EXIF orientation 6 turns the stored 427x640
  // pixels to 640x427, as a viewer shows them.
  fs::copy_file(Photo("rocket-portrait.jpg"), t / "portrait.jpg");
  RUN_OK(turned, {"kernel", "@portrait.jpg", "--to", "csv"}, "", t.path());
  const std::vector<std::string> rows = Lines(turned.out);
  ASSERT_EQ(rows.size(), 427u);
  EXPECT_EQ(std::count(rows[0].begin(), rows[0].end(), ','), 639);
}

// A 1-D image kernel works for signal too.
TEST(CliPsf, SignalTakesAnImageRow) {
  TempDir t;
  WriteImage(t / "row.png", (cv::Mat_<uint8_t>(1, 3) << 0, 255, 255));
  RUN_OK(r, {"signal", "0,0,1,0,0", "-k", "@row.png"}, "", t.path());
  EXPECT_EQ(r.out,
            "convolve: [0, 0, 0, 0.5, 0.5, 0, 0]\n"
            "correlate: [0, 0, 0.5, 0.5, 0, 0, 0]\n");
}

TEST(CliPsf, ASumOfZeroIsAKernelSpecError) {
  TempDir t;
  WriteImage(t / "in.png", cv::Mat(4, 4, CV_8UC1, cv::Scalar(9)));
  WriteImage(t / "black.png", cv::Mat::zeros(5, 5, CV_8UC1));
  EXPECT_EQ(SpecError(RunConvcorr(
                {"convolve", "-k", "@black.png", "in.png", "-o", "out.png"}, "",
                t.path())),
            "kernel spec '@black.png': image 'black.png' is all black: its "
            "samples sum to 0, so they cannot be normalised to sum 1");
  EXPECT_FALSE(fs::exists(t / "out.png"));
  WriteImage(t / "dog.pfm", (cv::Mat_<float>(1, 3) << -1, 2, -1));
  EXPECT_EQ(SpecError(RunConvcorr({"kernel", "@dog.pfm"}, "", t.path())),
            "kernel spec '@dog.pfm': the samples of image 'dog.pfm' sum to "
            "0, so they cannot be normalised to sum 1; --psf-raw uses them "
            "as they are");
  // Raw, both are kernels like any other.
  RUN_OK(zero, {"kernel", "@black.png", "--psf-raw"}, "", t.path());
  EXPECT_EQ(Matrix(KernelJson({"@dog.pfm", "--psf-raw"}, t.path())),
            (std::vector<std::vector<double>>{{-1, 2, -1}}));
}

// The limits of images and of kernels both hold, before anything is
// decoded; damaged files are one line naming the file; nothing is written.
TEST(CliPsf, OversizedHostileAndDamagedImagesAreRefused) {
  TempDir t;
  WriteImage(t / "in.png", cv::Mat(4, 4, CV_8UC1, cv::Scalar(9)));
  const auto run = [&](const std::string& psf,
                       std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"convolve", "-k", "@" + psf};
    args.insert(args.end(), extra.begin(), extra.end());
    for (const char* a : {"in.png", "-o", "out.png"}) args.push_back(a);
    const RunResult r = RunConvcorr(args, "", t.path());
    EXPECT_FALSE(fs::exists(t / "out.png")) << psf;
    return SpecError(r);
  };
  // Larger than the largest kernel, though a small image.
  WriteImage(t / "wide.png", cv::Mat(3, 1100, CV_8UC1, cv::Scalar(1)));
  EXPECT_EQ(run("wide.png"),
            "kernel spec '@wide.png': image 'wide.png' is 1100x3: each side "
            "must be 1 to 1025 (the largest kernel)");
  // A small file whose header claims 20000x20000: refused on the header
  // by the image limit (--max-pixels), as an input would be.
  std::string ihdr = Be32(20000) + Be32(20000);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);
  WriteBytes(t / "huge.png",
             std::string("\x89PNG\r\n\x1a\n", 8) + PngChunk("IHDR", ihdr) +
                 PngChunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00"
                                              "\x01",
                                              8)) +
                 PngChunk("IEND", ""));
  EXPECT_EQ(run("huge.png"),
            "kernel spec '@huge.png': cannot read image 'huge.png': image is "
            "20000x20000 (400000000 pixels), over the limit of 100000000 "
            "(--max-pixels)");
  // --max-pixels applies to the kernel image too.
  fs::copy_file(SamplePsf(), t / "f.png");
  EXPECT_EQ(run("f.png", {"--max-pixels", "100"}),
            "kernel spec '@f.png': cannot read image 'f.png': image is 19x19 "
            "(361 pixels), over the limit of 100 (--max-pixels)");
  // Truncated and corrupt files.
  std::vector<uint8_t> png;
  ASSERT_TRUE(cv::imencode(".png", RandomPsf(31, 31, 3), png));
  WriteBytes(t / "cut.png",
             std::string(png.begin(), png.begin() + png.size() / 2));
  EXPECT_EQ(run("cut.png"),
            "kernel spec '@cut.png': cannot read image 'cut.png': truncated "
            "PNG (the image data ends early)");
  std::string bad_crc(png.begin(), png.end());
  bad_crc[29] ^= 0x55;  // the IHDR's CRC
  WriteBytes(t / "crc.png", bad_crc);
  EXPECT_EQ(run("crc.png"),
            "kernel spec '@crc.png': cannot read image 'crc.png': corrupt PNG "
            "(IHDR: CRC error)");
  std::mt19937 rng(5);
  std::string junk(3000, '\0');
  for (char& c : junk) c = static_cast<char>(rng() & 0xff);
  WriteBytes(t / "junk.jpg", junk);
  EXPECT_EQ(
      run("junk.jpg")
          .rfind("kernel spec '@junk.jpg': cannot read image 'junk.jpg': ", 0),
      0u);
}

TEST(CliPsf, AMissingFileIsNamed) {
  TempDir t;
  WriteImage(t / "in.png", cv::Mat(4, 4, CV_8UC1, cv::Scalar(9)));
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"kernel", "@missing.png"},
        std::vector<std::string>{"convolve", "-k", "@missing.png", "in.png",
                                 "-o", "out.png"},
        std::vector<std::string>{"compare", "-k", "@missing.png", "in.png",
                                 "-o", "out"}}) {
    EXPECT_EQ(SpecError(RunConvcorr(args, "", t.path())),
              "kernel spec '@missing.png': cannot read image 'missing.png': "
              "no such file or directory");
  }
  EXPECT_FALSE(fs::exists(t / "out.png"));
  EXPECT_FALSE(fs::exists(t / "out"));
  fs::create_directory(t / "dir.png");
  EXPECT_EQ(SpecError(RunConvcorr({"kernel", "@dir.png"}, "", t.path())),
            "kernel spec '@dir.png': cannot read image 'dir.png': is a "
            "directory");
  // The extension decides, in any case: a text kernel named .PNG is an
  // image to convcorr, and a PNG named .txt is text.
  WriteBytes(t / "text.PNG", "1 2 1\n");
  EXPECT_EQ(SpecError(RunConvcorr({"kernel", "@text.PNG"}, "", t.path()))
                .rfind("kernel spec '@text.PNG': cannot read image "
                       "'text.PNG': ",
                       0),
            0u);
}

}  // namespace
}  // namespace convcorr::testing
