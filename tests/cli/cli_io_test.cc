// Standard input and output, and directory inputs mirrored into output
// directories, through the built binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

namespace fs = std::filesystem;

cv::Mat SobelX() { return KernelMat({{-1, 0, 1}, {-2, 0, 2}, {-1, 0, 1}}); }

TEST(CliStdio, StdinToStdoutPngMatchesTheFileResult) {
  TempDir t;
  const fs::path in =
      WriteCrop("astronaut.png", cv::Rect(180, 90, 48, 40), t / "crop.png");
  RUN_OK(piped,
         {"convolve", "-k", "sobel-x", "-", "-o", "-", "--format", "png"},
         ReadBytes(in));
  ASSERT_EQ(piped.out.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  RUN_OK(file, {"convolve", "-k", "sobel-x", in.string(), "-o",
                (t / "file.png").string()});
  const cv::Mat from_stdout = Decode(piped.out);
  EXPECT_TRUE(Identical(from_stdout, Read(t / "file.png")));
  EXPECT_TRUE(
      Near(from_stdout, Quantize(RefConvolve(Read(in), SobelX()), CV_8U), 1));
  // Only notes (clipped samples) may go to stderr, never the image.
  for (const std::string& line : Lines(piped.err)) {
    EXPECT_EQ(line.rfind("note: output '-': ", 0), 0u) << line;
  }
}

TEST(CliStdio, StdinToStdoutTiff) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(10, 20, 33, 21), t / "crop.png");
  RUN_OK(piped,
         {"correlate", "-k", "sobel-x", "--depth", "f32", "-", "-o", "-",
          "--format", "tif"},
         ReadBytes(in));
  RUN_OK(file, {"correlate", "-k", "sobel-x", "--depth", "f32", in.string(),
                "-o", (t / "file.tif").string()});
  const cv::Mat from_stdout = Decode(piped.out);
  ASSERT_FALSE(from_stdout.empty()) << "stdout is not a decodable TIFF";
  EXPECT_EQ(from_stdout.type(), CV_32FC1);
  EXPECT_TRUE(Identical(from_stdout, Read(t / "file.tif")));
  EXPECT_TRUE(Near(from_stdout, RefCorrelate(Read(in), SobelX()), 1e-3));
}

TEST(CliStdio, StdoutDefaultsToPngAndJsonGoesToStderr) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(10, 20, 16, 12), t / "crop.png");
  RUN_OK(r, {"correlate", "-k", "box:3", "--json", in.string(), "-o", "-"});
  ASSERT_EQ(r.out.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  const std::vector<std::string> lines = Lines(r.err);
  ASSERT_EQ(lines.size(), 1u) << r.err;
  const nlohmann::json j = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(j["output"], "-");
  EXPECT_EQ(j["input"], in.string());
  EXPECT_EQ(j["width"], 16);
  EXPECT_EQ(j["height"], 12);
  EXPECT_EQ(j["channels"], 1);
  EXPECT_EQ(j["depth"], "u8");
  EXPECT_EQ(j["mode"], "correlate");
}

// Binary output is refused onto a terminal, before anything is read or
// written: an image to -o - as kernel --to npy is (exit 2, one line). A
// pipe or a file takes it (the tests above).
TEST(CliStdio, BinaryOutputOntoATerminalIsRefused) {
  if (const std::string why = NoPseudoTerminal(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  TempDir t;
  WriteCrop("camera.png", cv::Rect(10, 20, 16, 12), t / "crop.png");
  const std::string bin = CONVCORR_BINARY;
  const std::string png_magic("\x89PNG", 4);
  // Lines the terminal showed: it ends each with \r\n (script's own log
  // header and footer end with \n).
  const auto terminal_lines = [](const std::string& shown) {
    size_t n = 0;
    for (size_t at = shown.find("\r\n"); at != std::string::npos;
         at = shown.find("\r\n", at + 2)) {
      ++n;
    }
    return n;
  };
  struct Case {
    std::string args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {"correlate -k box:3 crop.png -o -",
            "-o - writes binary data: redirect it to a file, e.g. > out.png"},
           {"convolve -k sobel-x --depth f32 --format tif crop.png -o -",
            "-o - writes binary data: redirect it to a file, e.g. > out.tif"},
           // stdin is the terminal too: refused before it is read.
           {"correlate -k box:3 - -o - --format ppm",
            "-o - writes binary data: redirect it to a file, e.g. > out.ppm"},
           {"kernel sobel-x --to npy",
            "--to npy writes binary data: redirect it to a file, e.g. > "
            "kernel.npy"}}) {
    SCOPED_TRACE(c.args);
    int code = -1;
    const std::string shown = OnATerminal(bin + " " + c.args, t.path(), &code);
    EXPECT_EQ(code, 2) << shown;
    EXPECT_NE(shown.find(c.message + "\r\n"), std::string::npos) << shown;
    EXPECT_EQ(terminal_lines(shown), 1u) << shown;
    EXPECT_EQ(shown.find(png_magic), std::string::npos) << shown;
    EXPECT_EQ(shown.find("NUMPY"), std::string::npos) << shown;
  }
  // --dry-run writes no image, so it may show its plan on a terminal.
  int code = -1;
  const std::string plan = OnATerminal(
      bin + " correlate -k box:3 crop.png -o - --dry-run", t.path(), &code);
  EXPECT_EQ(code, 0) << plan;
  EXPECT_NE(plan.find("crop.png -> -"), std::string::npos) << plan;
}

TEST(CliStdio, StdinIntoADirectoryIsNamedStdin) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(10, 20, 16, 12), t / "crop.png");
  RUN_OK(r, {"correlate", "-k", "box:3", "-", "-o", (t / "out").string()},
         ReadBytes(in));
  EXPECT_EQ(ListFiles(t / "out"), std::vector<std::string>{"stdin.png"});
  RUN_OK(r2,
         {"correlate", "-k", "box:3", "--format", "tif", "-", "-o",
          (t / "out2").string()},
         ReadBytes(in));
  EXPECT_EQ(ListFiles(t / "out2"), std::vector<std::string>{"stdin.tif"});
  EXPECT_TRUE(
      Identical(Read(t / "out" / "stdin.png"), Read(t / "out2" / "stdin.tif")));
}

// A tree of sample crops with a subdirectory, a hidden file, a hidden
// directory and a text file.
struct Tree {
  explicit Tree(const fs::path& root) : in(root / "in") {
    fs::create_directories(in / "sub" / "deeper");
    fs::create_directories(in / ".git");
    WriteCrop("camera.png", cv::Rect(100, 100, 20, 16), in / "a.png");
    WriteCrop("astronaut.png", cv::Rect(100, 100, 18, 14), in / "b.png");
    WriteCrop("coffee.png", cv::Rect(300, 200, 24, 10), in / "sub" / "c.png");
    WriteCrop("chelsea.png", cv::Rect(200, 100, 12, 12),
              in / "sub" / "deeper" / "d.tif");
    WriteCrop("camera.png", cv::Rect(0, 0, 8, 8), in / ".hidden.png");
    WriteCrop("camera.png", cv::Rect(0, 0, 8, 8), in / ".git" / "e.png");
    WriteBytes(in / "notes.txt", "not an image\n");
    WriteBytes(in / "sub" / "README", "neither\n");
  }
  fs::path in;
};

TEST(CliDirs, DirectoryWithoutRecursionSkipsSubdirectories) {
  TempDir t;
  const Tree tree(t.path());
  const fs::path out = t / "out";
  RUN_OK(r,
         {"correlate", "-k", "sobel-x", tree.in.string(), "-o", out.string()});
  EXPECT_EQ(ListFiles(out), (std::vector<std::string>{"a.png", "b.png"}));
  EXPECT_TRUE(Near(
      Read(out / "a.png"),
      Quantize(RefCorrelate(Read(tree.in / "a.png"), SobelX()), CV_8U), 1));
  EXPECT_TRUE(Near(
      Read(out / "b.png"),
      Quantize(RefCorrelate(Read(tree.in / "b.png"), SobelX()), CV_8U), 1));
}

TEST(CliDirs, RecursionMirrorsTheTree) {
  TempDir t;
  const Tree tree(t.path());
  const fs::path out = t / "out";
  RUN_OK(r, {"convolve", "-r", "-k", "sobel-x", tree.in.string(), "-o",
             out.string()});
  EXPECT_EQ(ListFiles(out),
            (std::vector<std::string>{"a.png", "b.png", "sub/c.png",
                                      "sub/deeper/d.tif"}));
  EXPECT_TRUE(Near(
      Read(out / "sub" / "c.png"),
      Quantize(RefConvolve(Read(tree.in / "sub" / "c.png"), SobelX()), CV_8U),
      1));
  const cv::Mat d = Read(out / "sub" / "deeper" / "d.tif");
  ASSERT_FALSE(d.empty());
  EXPECT_EQ(d.type(), CV_8UC3) << "the input's own encoding and depth";
  EXPECT_TRUE(Near(
      d,
      Quantize(
          RefConvolve(Read(tree.in / "sub" / "deeper" / "d.tif"), SobelX()),
          CV_8U),
      1));
}

TEST(CliDirs, FormatChangesEveryExtension) {
  TempDir t;
  const Tree tree(t.path());
  const fs::path out = t / "out";
  RUN_OK(r, {"correlate", "-r", "--format", "tif", "--depth", "f32", "-k",
             "sobel-x", tree.in.string(), "-o", out.string()});
  EXPECT_EQ(ListFiles(out),
            (std::vector<std::string>{"a.tif", "b.tif", "sub/c.tif",
                                      "sub/deeper/d.tif"}));
  const cv::Mat c = Read(out / "sub" / "c.tif");
  ASSERT_FALSE(c.empty());
  EXPECT_EQ(c.type(), CV_32FC3);
  EXPECT_TRUE(
      Near(c, RefCorrelate(Read(tree.in / "sub" / "c.png"), SobelX()), 1e-3));
}

TEST(CliDirs, JsonLinePerInputAndFileInputsBesideADirectory) {
  TempDir t;
  const Tree tree(t.path());
  const fs::path extra =
      WriteCrop("coffee.png", cv::Rect(0, 0, 9, 7), t / "extra.png");
  const fs::path out = t / "out";
  RUN_OK(r, {"correlate", "--json", "-k", "box:3", tree.in.string(),
             extra.string(), "-o", out.string()});
  EXPECT_EQ(ListFiles(out),
            (std::vector<std::string>{"a.png", "b.png", "extra.png"}));
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 3u) << r.out;
  std::vector<std::string> outputs;
  for (const std::string& line : lines) {
    const nlohmann::json j = nlohmann::json::parse(line);
    for (const char* key : {"input", "output", "mode", "width", "height",
                            "channels", "depth", "saturated"}) {
      EXPECT_TRUE(j.contains(key)) << key << " in " << line;
    }
    outputs.push_back(
        fs::path(j["output"].get<std::string>()).filename().string());
    EXPECT_EQ(j["saturated"], 0) << "box:3 cannot clip";
  }
  std::sort(outputs.begin(), outputs.end());
  EXPECT_EQ(outputs, (std::vector<std::string>{"a.png", "b.png", "extra.png"}));
  EXPECT_TRUE(HiddenEntries(out).empty());
}

TEST(CliDirs, TrailingSlashMakesASingleInputGoToADirectory) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(0, 0, 9, 7), t / "one.png");
  RUN_OK(r, {"correlate", "-k", "box:3", in.string(), "-o",
             (t / "dir.png").string() + "/"});
  EXPECT_EQ(ListFiles(t / "dir.png"), std::vector<std::string>{"one.png"});
}

}  // namespace
}  // namespace convcorr::testing
