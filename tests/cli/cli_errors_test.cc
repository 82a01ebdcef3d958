// Failures through the built binary: exit codes (docs/cli.md), one stderr
// line per failure naming the file or spec, nothing written on usage errors,
// the other inputs written on input errors, and existing files never
// damaged. Messages documented in docs/cli.md and docs/kernels.md are pinned
// word for word.
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
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

// A few small inputs in a temporary working directory, used with relative
// paths so that messages can be pinned exactly.
struct Workdir {
  Workdir() {
    fs::create_directories(t / "photos");
    WriteCrop("camera.png", cv::Rect(100, 100, 20, 16), t / "photos" / "a.png");
    WriteCrop("astronaut.png", cv::Rect(100, 100, 18, 14),
              t / "photos" / "b.png");
  }
  RunResult Run(const std::vector<std::string>& args,
                const std::string& stdin_bytes = "") const {
    return RunConvcorr(args, stdin_bytes, t.path());
  }
  fs::path operator/(const std::string& name) const { return t / name; }
  TempDir t;
};

std::string RandomBytes(size_t n) {
  std::mt19937 rng(12345);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

// Exactly one line on stderr; returns it.
std::string OneLine(const RunResult& r) {
  const std::vector<std::string> lines = Lines(r.err);
  EXPECT_EQ(lines.size(), 1u) << Describe(r);
  EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n') << Describe(r);
  return lines.empty() ? "" : lines[0];
}

// ---------------------------------------------------------------- exit 2

struct SpecCase {
  std::string spec;
  std::string message;
};

const std::vector<SpecCase>& BadSpecs() {
  static const std::vector<SpecCase> cases = {
      {"gaussian:0", "kernel spec 'gaussian:0': sigma must be > 0"},
      {"1,2;3", "kernel spec '1,2;3': row 2 has 1 value, row 1 has 2"},
      {"blur",
       "kernel spec 'blur': unknown kernel 'blur' (known: identity, box, "
       "gaussian, sobel-x, sobel-y, scharr-x, scharr-y, prewitt-x, prewitt-y, "
       "laplacian, log, sharpen, unsharp, emboss, motion, shift)"},
      {"box:", "kernel spec 'box:': missing parameters after ':'"},
      {"1/0", "kernel spec '1/0': '1/0' divides by zero"},
      {"3x3:1,2,3,4,5,6,7,8",
       "kernel spec '3x3:1,2,3,4,5,6,7,8': expected 9 values (3x3), got 8"},
      {"Sobel-X",
       "kernel spec 'Sobel-X': unknown kernel 'Sobel-X' (names are lowercase: "
       "'sobel-x')"},
  };
  return cases;
}

TEST(CliErrors, BadKernelSpecIsExit2WithOneLineAndNothingWritten) {
  Workdir w;
  for (const SpecCase& c : BadSpecs()) {
    SCOPED_TRACE(c.spec);
    const RunResult conv =
        w.Run({"convolve", "-k", c.spec, "photos/a.png", "-o", "out.png"});
    EXPECT_EQ(conv.exit_code, 2) << Describe(conv);
    EXPECT_EQ(conv.err, c.message + "\n");
    EXPECT_EQ(conv.out, "");
    EXPECT_FALSE(fs::exists(w / "out.png"));

    const RunResult cmp =
        w.Run({"compare", "-k", c.spec, "photos/a.png", "-o", "cmp"});
    EXPECT_EQ(cmp.exit_code, 2) << Describe(cmp);
    EXPECT_EQ(cmp.err, c.message + "\n");
    EXPECT_FALSE(fs::exists(w / "cmp")) << "compare created its directory";

    const RunResult kern = w.Run({"kernel", c.spec});
    EXPECT_EQ(kern.exit_code, 2) << Describe(kern);
    EXPECT_EQ(kern.err, c.message + "\n");
    EXPECT_EQ(kern.out, "");

    const RunResult sig = w.Run({"signal", "1,2,3", "-k", c.spec});
    EXPECT_EQ(sig.exit_code, 2) << Describe(sig);
    EXPECT_EQ(sig.err, c.message + "\n");
  }
}

TEST(CliErrors, SignalErrorsAreExit2) {
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{"signal", "1,2,3", "-k", "box:3"},
       "kernel spec 'box:3': signal needs a 1-D kernel (1xN or Nx1), not 3x3"},
      {{"signal", "1,2", "-k", "1,2,3", "--size", "valid"},
       "values '1,2': 2 values are fewer than the 3 kernel taps, so --size "
       "valid has no output"},
      {{"signal", "1,x,3", "-k", "1,-1"},
       "values '1,x,3': 'x' is not a finite number"},
      {{"signal", "1,2,3", "-k", "1,-1", "--border", "bogus"},
       "--border 'bogus': expected reflect101, reflect, replicate, "
       "constant[:V] or wrap"},
      {{"signal", "1,2,3", "-k", "1,-1", "--size", "half"},
       "--size 'half': expected same, valid or full"},
      {{"kernel", "sobel-x", "--anchor", "5,5"},
       "--anchor '5,5': outside the 3x3 kernel (columns 0..2, rows 0..2)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.message);
    const RunResult r = RunConvcorr(c.args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r), c.message);
    EXPECT_EQ(r.out, "");
  }
}

TEST(CliErrors, MissingKernelFile) {
  Workdir w;
  const RunResult r =
      w.Run({"correlate", "-k", "@nope.txt", "photos/a.png", "-o", "out.png"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(
      OneLine(r),
      "kernel spec '@nope.txt': cannot read file 'nope.txt': No such file "
      "or directory");
  EXPECT_FALSE(fs::exists(w / "out.png"));
}

TEST(CliErrors, UnknownOptionIsExit2) {
  Workdir w;
  const RunResult r = w.Run({"convolve", "--frobnicate", "-k", "box:3",
                             "photos/a.png", "-o", "out.png"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(OneLine(r),
            "unknown option '--frobnicate'; see 'convcorr convolve --help'");
  EXPECT_FALSE(fs::exists(w / "out.png"));
  const RunResult typo = w.Run(
      {"compare", "-k", "box:3", "--pannel", "photos/a.png", "-o", "cmp"});
  EXPECT_EQ(typo.exit_code, 2) << Describe(typo);
  EXPECT_EQ(OneLine(typo),
            "unknown option '--pannel' (did you mean '--panel'?); see "
            "'convcorr compare --help'");
  EXPECT_FALSE(fs::exists(w / "cmp"));
}

// The messages of src/cli/guide.h through the binary (every one is pinned
// in-process by tests/cli/guide_test.cc): exit 2, one line, nothing
// written.
TEST(CliErrors, WrongTurnsPointTheRightWay) {
  Workdir w;
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"convolve", "-k", "1", "2", "1", "photos/a.png", "-o", "out.png"},
       "kernel spec '1': quote a kernel with spaces, as -k '1 2 1'"},
      {{"kernel", "1", "2", "1"},
       "kernel spec '1': quote a kernel with spaces, as in convcorr kernel "
       "'1 2 1'"},
      {{"convolve", "-k", "gausian:2", "photos/a.png", "-o", "out.png"},
       "kernel spec 'gausian:2': unknown kernel 'gausian' (did you mean "
       "'gaussian'?)"},
      {{"blur", "photos/a.png"},
       "unknown command 'blur'; see 'convcorr --help'"},
      {{"corelate", "-k", "box:3", "photos/a.png", "-o", "out.png"},
       "unknown command 'corelate' (did you mean 'correlate'?); see "
       "'convcorr --help'"},
      {{"help", "blur"}, "unknown command 'blur'; see 'convcorr --help'"},
      {{"convolve"},
       "convolve needs a kernel (-k), inputs and an output (-o), e.g. "
       "'convcorr convolve -k sobel-x photo.jpg -o edges.png'; see 'convcorr "
       "convolve --help'"},
      {{},
       "no command given: use convolve, correlate, compare, kernel or "
       "signal; see 'convcorr --help'"},
  };
  for (const auto& [args, message] : cases) {
    SCOPED_TRACE(message);
    const RunResult r = w.Run(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r), message);
    EXPECT_EQ(r.out, "");
  }
  EXPECT_FALSE(fs::exists(w / "out.png"));
}

TEST(CliErrors, HelpIsTheHelpAndExitsZero) {
  const RunResult top = RunConvcorr({"--help"});
  ASSERT_EQ(top.exit_code, 0) << Describe(top);
  const RunResult help = RunConvcorr({"help"});
  EXPECT_EQ(help.exit_code, 0) << Describe(help);
  EXPECT_EQ(help.out, top.out);
  EXPECT_EQ(help.err, "");
  EXPECT_NE(top.out.find("\nExamples:\n  convcorr convolve -k sobel-x "
                         "photo.jpg -o edges.png\n"),
            std::string::npos)
      << top.out;
  const RunResult convolve = RunConvcorr({"convolve", "--help"});
  const RunResult help_convolve = RunConvcorr({"help", "convolve"});
  EXPECT_EQ(help_convolve.exit_code, 0) << Describe(help_convolve);
  EXPECT_EQ(help_convolve.out, convolve.out);
  EXPECT_EQ(convolve.out.rfind("True convolution: the kernel mirrored through "
                               "its anchor\nUsage: convcorr convolve "
                               "[OPTIONS] [inputs...]\n",
                               0),
            0u)
      << convolve.out;
  EXPECT_NE(convolve.out.find("\n  -o,--output TEXT REQUIRED "),
            std::string::npos);
}

TEST(CliErrors, MissingOutputIsExit2) {
  Workdir w;
  const RunResult r = w.Run({"convolve", "-k", "box:3", "photos/a.png"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(OneLine(r),
            "no output given: add -o FILE, -o DIR or -o - for stdout");
}

TEST(CliErrors, MissingKernelOrInputOrCommandIsExit2) {
  Workdir w;
  {
    const RunResult r = w.Run({"convolve", "photos/a.png", "-o", "out.png"});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    const std::string line = OneLine(r);
    EXPECT_EQ(line.rfind("usage: ", 0), 0u) << line;
    EXPECT_NE(line.find("--kernel"), std::string::npos) << line;
  }
  {
    const RunResult r = w.Run({"convolve", "-k", "box:3", "-o", "out.png"});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r),
              "no inputs: give image files, directories, - for stdin, or "
              "--files-from FILE");
  }
  {
    const RunResult r = w.Run({});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
  }
  {
    const RunResult r = w.Run({"frobnicate"});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r),
              "unknown command 'frobnicate'; see 'convcorr --help'");
  }
  EXPECT_FALSE(fs::exists(w / "out.png"));
}

TEST(CliErrors, BadOptionValuesAreExit2NamingTheOption) {
  Workdir w;
  // A corrupt input too: option errors come before any input is read.
  WriteBytes(w / "photos" / "corrupt.png", RandomBytes(3000));
  struct Case {
    std::vector<std::string> args;
    std::string message;  // exact, or "" to check only the option name
    std::string option;
  };
  const std::vector<Case> cases = {
      {{"--border", "foo"},
       "--border 'foo': expected reflect101, reflect, replicate, constant[:V] "
       "or wrap",
       "--border"},
      {{"--border", "constant:x"},
       "--border 'constant:x': the constant must be a finite number",
       "--border"},
      {{"--size", "huge"},
       "--size 'huge': expected same, valid or full",
       "--size"},
      {{"--depth", "u32"},
       "--depth 'u32': expected keep, u8, u16 or f32",
       "--depth"},
      {{"--anchor", "1"},
       "--anchor '1': expected X,Y (column,row), e.g. 1,1",
       "--anchor"},
      {{"--anchor", "3,0"},
       "--anchor '3,0': outside the 3x3 kernel (columns 0..2, rows 0..2)",
       "--anchor"},
      {{"--threads=-1"},
       "--threads must be 0 (all cores) or more",
       "--threads"},
      {{"--max-pixels", "0"},
       "--max-pixels must be a whole number of at least 1",
       "--max-pixels"},
      {{"--max-pixels", "1.5"},
       "--max-pixels must be a whole number of at least 1",
       "--max-pixels"},
      {{"--quality", "101"},
       "--quality must be 1 to 100 (0: the format's default)",
       "--quality"},
      {{"--jobs=-1"}, "--jobs must be 0 (one per core) or more", "--jobs"},
      {{"--shard-count=-2"},
       "--shard-count must be 1 or more",
       "--shard-count"},
      {{"--method", "dft"},
       "--method 'dft': expected auto, direct, sparse, separable or fft",
       "--method"},
      {{"--compat", "matlab"},
       "--compat 'matlab': expected scipy, opencv, numpy, imagemagick, gmic "
       "or torch",
       "--compat"},
      {{"--scale", "abc"}, "", "--scale"},
      {{"--threads", "two"}, "", "--threads"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + (c.args.size() > 1 ? c.args[1] : ""));
    std::vector<std::string> args = {"correlate", "-k", "box:3"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    for (const char* a : {"photos/a.png", "photos/corrupt.png", "-o", "out"}) {
      args.push_back(a);
    }
    const RunResult r = w.Run(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    const std::string line = OneLine(r);
    if (!c.message.empty()) {
      EXPECT_EQ(line, c.message);
    }
    EXPECT_NE(line.find(c.option), std::string::npos) << line;
    EXPECT_FALSE(fs::exists(w / "out"));
  }
}

// Values are checked as CLI11 reads the options (src/cli/app.cc): a refused
// value is reported before a missing --kernel or a bad kernel spec, and
// --help still wins over it.
TEST(CliErrors, RefusedValuesComeFirstAndHelpWins) {
  Workdir w;
  const std::string border =
      "--border 'foo': expected reflect101, reflect, replicate, constant[:V] "
      "or wrap";
  {
    const RunResult r =
        w.Run({"correlate", "--border", "foo", "photos/a.png", "-o", "out"});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r), border);
  }
  {
    const RunResult r = w.Run({"correlate", "-k", "blur", "--border", "foo",
                               "photos/a.png", "-o", "out"});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r), border);
  }
  for (const char* help : {"--help", "-h"}) {
    const RunResult r = w.Run({"correlate", "--border", "foo", help});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("Cross-correlation"), std::string::npos) << r.out;
  }
  {
    const RunResult r =
        w.Run({"signal", "1,2", "-k", "1,-1", "--size", "x", "--help"});
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_NE(r.out.find("The 1-D form"), std::string::npos) << r.out;
  }
  EXPECT_FALSE(fs::exists(w / "out"));
}

TEST(CliErrors, FormatErrorsAreExit2) {
  Workdir w;
  {
    const RunResult r = w.Run({"correlate", "-k", "box:3", "--format", "xyz",
                               "photos/a.png", "-o", "out"});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r),
              "--format 'xyz': not an image format convcorr can write (e.g. "
              "png, tif, jpg)");
  }
  {
    const RunResult r = w.Run({"correlate", "-k", "box:3", "--format", "tif",
                               "photos/a.png", "-o", "out.png"});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r),
              "--format 'tif' conflicts with the output 'out.png'; drop one of "
              "them");
    EXPECT_FALSE(fs::exists(w / "out.png"));
  }
  EXPECT_FALSE(fs::exists(w / "out"));
}

TEST(CliErrors, FormatSpellingsOfTheSameEncodingAgree) {
  // docs/cli.md: the format comes from the extension and --format, if given,
  // must agree: jpeg is the jpg encoding, tiff the tif one.
  Workdir w;
  const RunResult a = w.Run({"correlate", "-k", "box:3", "--format", "tiff",
                             "photos/a.png", "-o", "out.tif"});
  EXPECT_EQ(a.exit_code, 0) << Describe(a);
  EXPECT_FALSE(Read(w / "out.tif").empty());
  const RunResult b = w.Run({"correlate", "-k", "box:3", "--format", "jpeg",
                             "photos/a.png", "-o", "out.jpg"});
  EXPECT_EQ(b.exit_code, 0) << Describe(b);
  EXPECT_FALSE(Read(w / "out.jpg").empty());
}

TEST(CliErrors, StdoutTakesExactlyOneInput) {
  Workdir w;
  {
    const RunResult r = w.Run(
        {"convolve", "-k", "box:3", "photos/a.png", "photos/b.png", "-o", "-"});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r), "-o - (stdout) takes exactly one input image");
    EXPECT_EQ(r.out, "") << "nothing on stdout";
  }
  {
    const RunResult r = w.Run({"convolve", "-k", "box:3", "photos", "-o", "-"});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r), "-o - (stdout) takes exactly one input image");
    EXPECT_EQ(r.out, "");
  }
  {
    const RunResult r =
        w.Run({"compare", "-k", "box:3", "photos/a.png", "-o", "-"});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r),
              "compare writes several files: -o must be a directory");
    EXPECT_EQ(r.out, "");
  }
  {
    const RunResult r =
        w.Run({"convolve", "-k", "box:3", "-", "-", "-o", "out"},
              ReadBytes(w / "photos" / "a.png"));
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r), "stdin ('-') can be given only once");
    EXPECT_FALSE(fs::exists(w / "out"));
  }
}

TEST(CliErrors, SeveralInputsToOneFileIsExit2) {
  Workdir w;
  const RunResult r = w.Run({"convolve", "-k", "box:3", "photos/a.png",
                             "photos/b.png", "-o", "out.png"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(OneLine(r),
            "several inputs need an output directory, not the file 'out.png' "
            "(a trailing / makes any name a directory)");
  EXPECT_FALSE(fs::exists(w / "out.png"));
}

TEST(CliErrors, TwoInputsWritingOneOutputIsExit2) {
  Workdir w;
  fs::create_directories(w / "x");
  fs::create_directories(w / "y");
  WriteCrop("camera.png", cv::Rect(0, 0, 8, 8), w / "x" / "same.png");
  WriteCrop("coffee.png", cv::Rect(0, 0, 8, 8), w / "y" / "same.png");
  const RunResult r = w.Run(
      {"convolve", "-k", "box:3", "x/same.png", "y/same.png", "-o", "out"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(OneLine(r),
            "inputs 'x/same.png' and 'y/same.png' would both write "
            "'out/same.png'");
  EXPECT_FALSE(fs::exists(w / "out"));
  // The same for compare, whose file names drop the extension.
  WriteCrop("camera.png", cv::Rect(0, 0, 8, 8), w / "x" / "same.tif");
  const RunResult c = w.Run(
      {"compare", "-k", "box:3", "x/same.png", "x/same.tif", "-o", "cmp"});
  EXPECT_EQ(c.exit_code, 2) << Describe(c);
  EXPECT_EQ(OneLine(c),
            "inputs 'x/same.png' and 'x/same.tif' would both write "
            "'cmp/same.diff.png'");
  EXPECT_FALSE(fs::exists(w / "cmp"));
}

TEST(CliErrors, OutputThatIsTheInputIsRefused) {
  Workdir w;
  const fs::path input = w / "photos" / "a.png";
  const std::string before = ReadBytes(input);
  fs::create_symlink(input, w / "link.png");
  fs::create_hard_link(input, w / "hard.png");
  struct Case {
    std::string output;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"photos/a.png",
       "output 'photos/a.png' is also the input 'photos/a.png'; choose another "
       "output"},
      {"./photos/../photos/a.png",
       "output './photos/../photos/a.png' is also the input 'photos/a.png'; "
       "choose another output"},
      {"link.png",
       "output 'link.png' is also the input 'photos/a.png'; choose another "
       "output"},
      {"hard.png",
       "output 'hard.png' is also the input 'photos/a.png'; choose another "
       "output"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.output);
    const RunResult r =
        w.Run({"convolve", "-k", "sobel-x", "photos/a.png", "-o", c.output});
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(OneLine(r), c.message);
    EXPECT_EQ(ReadBytes(input), before) << "the input was changed";
  }
  EXPECT_TRUE(fs::is_symlink(w / "link.png"));
  EXPECT_TRUE(HiddenEntries(w / "photos").empty());

  // A directory written into itself.
  const std::string b_before = ReadBytes(w / "photos" / "b.png");
  const RunResult d =
      w.Run({"convolve", "-k", "sobel-x", "photos", "-o", "photos"});
  EXPECT_EQ(d.exit_code, 2) << Describe(d);
  EXPECT_EQ(OneLine(d).rfind("output 'photos/", 0), 0u);
  EXPECT_EQ(ReadBytes(input), before);
  EXPECT_EQ(ReadBytes(w / "photos" / "b.png"), b_before);
  EXPECT_TRUE(HiddenEntries(w / "photos").empty());
}

// ---------------------------------------------------------------- exit 1

TEST(CliErrors, MissingInputAmongGoodOnesIsExit1) {
  Workdir w;
  const RunResult r =
      w.Run({"correlate", "-k", "box:3", "photos/a.png", "photos/missing.png",
             "photos/b.png", "-o", "out"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  const std::string line = OneLine(r);
  EXPECT_EQ(line.rfind("input 'photos/missing.png': ", 0), 0u) << line;
  EXPECT_EQ(ListFiles(w / "out"), (std::vector<std::string>{"a.png", "b.png"}));
  // -q silences notes, never failures.
  const RunResult q =
      w.Run({"correlate", "-q", "-k", "box:3", "photos/missing.png",
             "photos/b.png", "-o", "out"});
  EXPECT_EQ(q.exit_code, 1) << Describe(q);
  EXPECT_EQ(OneLine(q).rfind("input 'photos/missing.png': ", 0), 0u);
  EXPECT_TRUE(
      Near(Read(w / "out" / "b.png"),
           Quantize(RefCorrelate(Read(w / "photos" / "b.png"),
                                 cv::Mat(3, 3, CV_32F, cv::Scalar(1.0 / 9))),
                    CV_8U),
           1));
}

TEST(CliErrors, CorruptAndTruncatedFilesAreExit1) {
  Workdir w;
  fs::create_directories(w / "bad");
  WriteBytes(w / "bad" / "random.png", RandomBytes(5000));
  const std::string jpeg = ReadBytes(Photo("rocket.jpg"));
  WriteBytes(w / "bad" / "half.jpg", jpeg.substr(0, jpeg.size() / 2));
  const std::string png = ReadBytes(w / "photos" / "b.png");
  WriteBytes(w / "bad" / "half.png", png.substr(0, png.size() / 2));
  WriteBytes(w / "bad" / "empty.png", "");
  for (const std::string name :
       {"bad/random.png", "bad/half.jpg", "bad/half.png", "bad/empty.png"}) {
    SCOPED_TRACE(name);
    const RunResult r =
        w.Run({"correlate", "-k", "box:3", name, "photos/a.png", "-o", "out"});
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    const std::string line = OneLine(r);
    EXPECT_EQ(line.rfind("input '" + name + "': ", 0), 0u) << line;
    EXPECT_EQ(ListFiles(w / "out"), std::vector<std::string>{"a.png"})
        << "the bad input must not be written, the good one must";
    fs::remove_all(w / "out");

    const RunResult single =
        w.Run({"convolve", "-k", "box:3", name, "-o", "single.png"});
    EXPECT_EQ(single.exit_code, 1) << Describe(single);
    EXPECT_FALSE(fs::exists(w / "single.png"));
  }
  // Also from standard input.
  const RunResult piped = w.Run({"convolve", "-k", "box:3", "-", "-o", "-"},
                                jpeg.substr(0, jpeg.size() / 2));
  EXPECT_EQ(piped.exit_code, 1) << Describe(piped);
  EXPECT_EQ(OneLine(piped).rfind("input '-': ", 0), 0u);
  EXPECT_EQ(piped.out, "");
}

TEST(CliErrors, ValidWithAKernelLargerThanTheImageIsExit1) {
  Workdir w;
  WriteCrop("camera.png", cv::Rect(0, 0, 5, 4), w / "photos" / "tiny.png");
  const RunResult r = w.Run({"convolve", "-k", "box:7", "--size", "valid",
                             "photos/tiny.png", "photos/a.png", "-o", "out"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(OneLine(r),
            "input 'photos/tiny.png': the 7x7 kernel is larger than the 5x4 "
            "image, so --size valid has no output");
  EXPECT_EQ(ListFiles(w / "out"), std::vector<std::string>{"a.png"});
  const cv::Mat a = Read(w / "out" / "a.png");
  EXPECT_EQ(a.cols, 20 - 6);
  EXPECT_EQ(a.rows, 16 - 6);
}

TEST(CliErrors, SixteenBitToJpegIsExit1AndKeepsTheOldFile) {
  Workdir w;
  fs::create_directories(w / "out");
  fs::copy(Photo("chessboard_GRAY_U16.tif"), w / "photos" / "board.tif");
  const RunResult r =
      w.Run({"convolve", "-k", "box:3", "photos/board.tif", "-o", "out/a.jpg"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(OneLine(r),
            "output 'out/a.jpg': jpeg cannot store 16-bit samples; use png or "
            "tif, or --depth u8");
  EXPECT_FALSE(fs::exists(w / "out" / "a.jpg"));

  // An existing file of that name is left as it was.
  WriteBytes(w / "out" / "a.jpg", "old contents");
  const RunResult again =
      w.Run({"convolve", "-k", "box:3", "photos/board.tif", "-o", "out/a.jpg"});
  EXPECT_EQ(again.exit_code, 1) << Describe(again);
  EXPECT_EQ(ReadBytes(w / "out" / "a.jpg"), "old contents");

  // With --depth u8 it works.
  RUN_OK(ok,
         {"convolve", "-k", "box:3", "--depth", "u8", "photos/board.tif", "-o",
          "out/a.jpg"},
         "", w.t.path());
  const cv::Mat jpg = Read(w / "out" / "a.jpg");
  ASSERT_FALSE(jpg.empty());
  EXPECT_EQ(jpg.depth(), CV_8U);
  EXPECT_TRUE(HiddenEntries(w / "out").empty());
}

TEST(CliErrors, FloatToPngIsExit1NamingTheOutput) {
  Workdir w;
  const RunResult r = w.Run({"convolve", "-k", "sobel-x", "--depth", "f32",
                             "photos/a.png", "-o", "f.png"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(OneLine(r).rfind("output 'f.png': ", 0), 0u) << r.err;
  EXPECT_FALSE(fs::exists(w / "f.png"));
}

TEST(CliErrors, MaxPixelsRefusesLargeImages) {
  Workdir w;
  fs::copy(Photo("camera.png"), w / "photos" / "big.png");
  const RunResult r = w.Run({"correlate", "-k", "box:3", "--max-pixels", "1000",
                             "photos/big.png", "photos/a.png", "-o", "out"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(OneLine(r).rfind("input 'photos/big.png': ", 0), 0u) << r.err;
  EXPECT_EQ(ListFiles(w / "out"), std::vector<std::string>{"a.png"});
}

TEST(CliErrors, SmallFileClaimingAHugeImageIsRefused) {
  Workdir w;
  // A valid PNG header for 20000x20000 RGB (400 megapixels, over the
  // default --max-pixels of 100 million) with one tiny IDAT.
  std::string ihdr = Be32(20000) + Be32(20000);
  ihdr += std::string("\x08\x02\x00\x00\x00", 5);
  const std::string png =
      std::string("\x89PNG\r\n\x1a\n", 8) + PngChunk("IHDR", ihdr) +
      PngChunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8)) +
      PngChunk("IEND", "");
  WriteBytes(w / "photos" / "huge.png", png);
  const RunResult r = w.Run({"correlate", "-k", "box:3", "photos/huge.png",
                             "photos/a.png", "-o", "out"});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  const std::string line = OneLine(r);
  EXPECT_EQ(line.rfind("input 'photos/huge.png': ", 0), 0u) << line;
  EXPECT_NE(line.find("--max-pixels"), std::string::npos) << line;
  EXPECT_EQ(ListFiles(w / "out"), std::vector<std::string>{"a.png"});
}

TEST(CliErrors, InterruptedRunExitsWith130Or143AndLeavesNothingPartial) {
  // The first input is written, then the run blocks reading stdin (a pipe
  // that never closes) until the signal arrives.
  for (const auto& [sig, code] :
       {std::pair{SIGINT, 130}, std::pair{SIGTERM, 143}}) {
    SCOPED_TRACE(sig);
    TempDir t;
    const fs::path in =
        WriteCrop("camera.png", cv::Rect(0, 0, 20, 16), t / "first.png");
    fs::create_directories(t / "out");
    WriteBytes(t / "out" / "old.png", "old contents");
    EXPECT_EQ(RunAndSignal({"convolve", "-k", "box:3", in.string(), "-", "-o",
                            (t / "out").string()},
                           sig, 500),
              code);
    EXPECT_EQ(ListFiles(t / "out"),
              (std::vector<std::string>{"first.png", "old.png"}));
    EXPECT_FALSE(Read(t / "out" / "first.png").empty());
    EXPECT_EQ(ReadBytes(t / "out" / "old.png"), "old contents");
    EXPECT_TRUE(HiddenEntries(t / "out").empty());
  }
}

TEST(CliErrors, EmptyDirectoryIsExit2) {
  Workdir w;
  fs::create_directories(w / "empty" / "sub");
  WriteCrop("camera.png", cv::Rect(0, 0, 8, 8), w / "empty" / "sub" / "x.png");
  const RunResult r = w.Run({"correlate", "-k", "box:3", "empty", "-o", "out"});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_EQ(
      OneLine(r),
      "no input images found in 'empty' (use -r to search subdirectories)");
  EXPECT_FALSE(fs::exists(w / "out"));
}

// ---------------------------------------------------------------- exit 3

TEST(CliErrors, OutputDirectoryThatCannotBeCreatedIsExit3) {
  Workdir w;
  WriteBytes(w / "blocker", "a regular file\n");
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"convolve", "-k", "box:3", "photos/a.png",
                                 "photos/b.png", "-o", "blocker/out"},
        std::vector<std::string>{"convolve", "-k", "box:3", "photos/a.png",
                                 "-o", "blocker/out.png"},
        std::vector<std::string>{"compare", "-k", "box:3", "photos/a.png", "-o",
                                 "blocker/cmp"}}) {
    SCOPED_TRACE(args.back());
    const RunResult r = w.Run(args);
    EXPECT_EQ(r.exit_code, 3) << Describe(r);
    const std::string line = OneLine(r);
    EXPECT_NE(line.find("'blocker"), std::string::npos) << line;
    EXPECT_EQ(ReadBytes(w / "blocker"), "a regular file\n");
  }
}

TEST(CliErrors, ReadOnlyOutputDirectoryIsExit3) {
  if (geteuid() == 0) GTEST_SKIP() << "root can write anywhere";
  Workdir w;
  fs::create_directories(w / "ro");
  fs::permissions(w / "ro", fs::perms::owner_read | fs::perms::owner_exec);
  const RunResult r =
      w.Run({"convolve", "-k", "box:3", "photos/a.png", "-o", "ro/out.png"});
  fs::permissions(w / "ro", fs::perms::owner_all);
  EXPECT_EQ(r.exit_code, 3) << Describe(r);
  EXPECT_NE(OneLine(r).find("ro/out.png"), std::string::npos) << r.err;
  EXPECT_TRUE(ListFiles(w / "ro").empty());
}

// ------------------------------------------------------------ safety

TEST(CliErrors, ExistingOutputIsReplacedWholeWithNoTemporaryFiles) {
  Workdir w;
  fs::create_directories(w / "out");
  WriteBytes(w / "out" / "a.png", std::string(300000, 'x'));
  RUN_OK(r, {"correlate", "-k", "sobel-x", "photos/a.png", "-o", "out/a.png"},
         "", w.t.path());
  const cv::Mat got = Read(w / "out" / "a.png");
  const cv::Mat k = (cv::Mat_<float>(3, 3) << -1, 0, 1, -2, 0, 2, -1, 0, 1);
  EXPECT_TRUE(Near(
      got, Quantize(RefCorrelate(Read(w / "photos" / "a.png"), k), CV_8U), 1));
  EXPECT_LT(fs::file_size(w / "out" / "a.png"), 300000u);
  EXPECT_EQ(ListFiles(w / "out"), std::vector<std::string>{"a.png"});
  EXPECT_TRUE(HiddenEntries(w / "out").empty());

  // The same in directory mode and for compare.
  RUN_OK(d, {"correlate", "-k", "box:3", "photos", "-o", "out"}, "",
         w.t.path());
  RUN_OK(c,
         {"compare", "-k", "sobel-x", "--raw-diff", "--panel", "photos", "-o",
          "out"},
         "", w.t.path());
  EXPECT_TRUE(HiddenEntries(w / "out").empty());
  EXPECT_EQ(ListFiles(w / "out").size(), 2u + 2 * 5);
}

}  // namespace
}  // namespace convcorr::testing
