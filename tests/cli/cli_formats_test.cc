// Kernel interchange through the binary: `kernel --to FORMAT` for each
// format, NumPy reading what convcorr writes and convcorr reading what
// NumPy writes (Debian's python3-numpy, an independent implementation of
// .npy), and a libvips .mat offset applied as a bias.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

json KernelJson(const std::string& spec, const fs::path& cwd) {
  const RunResult r = RunConvcorr({"kernel", spec, "--json"}, "", cwd);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  return json::parse(Lines(r.out).at(0));
}

bool HaveNumpy() {
  const std::string cmd = std::string("'") + CONVCORR_PYTHON +
                          "' -c 'import numpy' >/dev/null 2>&1";
  return std::string(CONVCORR_PYTHON).size() > 0 &&
         std::system(cmd.c_str()) == 0;
}

TEST(CliFormats, KernelToEachFormat) {
  RUN_OK(im, {"kernel", "emboss", "--to", "imagemagick"});
  EXPECT_EQ(im.out, "3x3+1+1: -2,-1,0,-1,1,1,0,1,2\n");
  RUN_OK(g, {"kernel", "emboss", "--to", "gmic"});
  EXPECT_EQ(g.out, "(-2,-1,0;-1,1,1;0,1,2)\n");
  RUN_OK(v, {"kernel", "box:3", "--to", "vips"});
  EXPECT_EQ(v.out, "3 3 9 0\n1 1 1\n1 1 1\n1 1 1\n");
  RUN_OK(c, {"kernel", "sobel-x", "--to", "csv"});
  EXPECT_EQ(c.out, "-1,0,1\n-2,0,2\n-1,0,1\n");
  // What one format writes, the spec parser reads back.
  RUN_OK(back, {"kernel", g.out.substr(0, g.out.size() - 1), "--to", "spec"});
  EXPECT_EQ(back.out, "-2,-1,0; -1,1,1; 0,1,2\n");
  for (const auto& [args, message] :
       std::vector<std::pair<std::vector<std::string>, std::string>>{
           {{"kernel", "emboss", "--to", "json"},
            "--to 'json': expected one of spec, imagemagick, gmic, vips, csv, "
            "npy"},
           {{"kernel", "emboss", "--to", "csv", "--json"},
            "--to prints the kernel itself: drop --json"},
           {{"kernel", "1,2,3", "--anchor", "0,0", "--to", "csv"},
            "kernel '1,2,3': its anchor 0,0 is not the centre, and csv has no "
            "anchor: use --to imagemagick, or give --anchor 0,0 when "
            "filtering"}}) {
    const RunResult r = RunConvcorr(args);
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(r.err, message + "\n");
    EXPECT_EQ(r.out, "");
  }
}

// Every --to format written to a file reads back through -k @FILE as the
// same kernel: the file names users would give them (vips needs .mat).
TEST(CliFormats, EveryToFormatReadsBackThroughAKernelFile) {
  TempDir t;
  for (const std::string spec :
       {"emboss", "motion:7,30", "1/3,-2.5;7,0.125", "gaussian:1.2,5"}) {
    RUN_OK(want, {"kernel", spec, "--json"}, "", t.path());
    for (const auto& [format, file] :
         std::vector<std::pair<std::string, std::string>>{
             {"spec", "k.txt"},
             {"imagemagick", "k.txt"},
             {"gmic", "k.txt"},
             {"csv", "k.csv"},
             {"vips", "k.mat"},
             {"npy", "k.npy"}}) {
      SCOPED_TRACE(spec + " --to " + format);
      RUN_OK(written, {"kernel", spec, "--to", format}, "", t.path());
      WriteBytes(t / file, written.out);
      RUN_OK(back, {"kernel", "@" + file, "--json"}, "", t.path());
      json a = json::parse(want.out);
      json b = json::parse(back.out);
      // The spec text differs (@FILE); the kernel itself must not.
      a.erase("spec");
      b.erase("spec");
      if (format == "vips") {
        // .mat stores integer weights and a scale: w*s/s may differ in the
        // last place; compare the matrix to 1e-12 and the rest exactly.
        const json am = a["matrix"];
        const json bm = b["matrix"];
        ASSERT_EQ(am.size(), bm.size());
        for (size_t r = 0; r < am.size(); ++r) {
          for (size_t c = 0; c < am[r].size(); ++c) {
            EXPECT_NEAR(bm[r][c].get<double>(), am[r][c].get<double>(), 1e-12);
          }
        }
        continue;
      }
      EXPECT_EQ(b, a);
    }
  }
}

TEST(CliFormats, NumpyReadsWhatConvcorrWritesAndTheOtherWayRound) {
  if (!HaveNumpy()) GTEST_SKIP() << "python3-numpy is not installed";
  TempDir t;
  // convcorr -> NumPy.
  for (const std::string spec :
       {"emboss", "gaussian:1.2,5", "motion:9,30", "1,-1"}) {
    SCOPED_TRACE(spec);
    RUN_OK(npy, {"kernel", spec, "--to", "npy"});
    WriteBytes(t / "k.npy", npy.out);
    const std::string cmd =
        std::string("'") + CONVCORR_PYTHON +
        "' -c 'import numpy, json, sys; "
        "print(json.dumps(numpy.load(sys.argv[1]).tolist()))' '" +
        (t / "k.npy").string() + "' > '" + (t / "loaded.json").string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
    EXPECT_EQ(json::parse(ReadBytes(t / "loaded.json")),
              KernelJson(spec, t.path())["matrix"]);
  }
  // NumPy -> convcorr: dtypes, byte orders and memory orders.
  const std::string make =
      std::string("'") + CONVCORR_PYTHON +
      "' -c '"
      "import numpy as np\n"
      "m = np.array([[1, -2, 3], [4, 5, -6]])\n"
      "np.save(\"i64.npy\", m)\n"
      "np.save(\"f32f.npy\", np.asfortranarray(m.astype(np.float32)))\n"
      "np.save(\"be.npy\", m.astype(\">f8\"))\n"
      "np.save(\"i16.npy\", m.astype(np.int16))\n"
      "np.save(\"row.npy\", np.array([0.5, 0.25, 0.25]))\n"
      "'";
  ASSERT_EQ(std::system(("cd '" + t.path().string() + "' && " + make).c_str()),
            0);
  const json expected = json::parse("[[1,-2,3],[4,5,-6]]");
  for (const std::string name : {"i64.npy", "f32f.npy", "be.npy", "i16.npy"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(KernelJson("@" + name, t.path())["matrix"], expected);
  }
  EXPECT_EQ(KernelJson("@row.npy", t.path())["matrix"],
            json::parse("[[0.5,0.25,0.25]]"));
}

// A libvips matrix with a scale and an offset filters as
// sum / scale + offset, as `vips conv` computes it.
TEST(CliFormats, VipsMatOffsetIsAddedLikeABias) {
  TempDir t;
  const fs::path in =
      WriteCrop("camera.png", cv::Rect(100, 100, 40, 30), t / "in.png");
  WriteBytes(t / "sharp.mat", "3 3 8 128\n-1 -1 -1\n-1 16 -1\n-1 -1 -1\n");
  RUN_OK(a, {"correlate", "-k", "@sharp.mat", "in.png", "-o", "a.png", "-q"},
         "", t.path());
  RUN_OK(b,
         {"correlate", "-k", "-1,-1,-1;-1,16,-1;-1,-1,-1", "--scale", "0.125",
          "--bias", "128", "in.png", "-o", "b.png", "-q"},
         "", t.path());
  EXPECT_TRUE(Identical(Read(t / "a.png"), Read(t / "b.png")));
  EXPECT_EQ(KernelJson("@sharp.mat", t.path())["offset"], 128);
  // signal adds it too.
  WriteBytes(t / "plus5.mat", "1 1 1 5\n1\n");
  RUN_OK(sig, {"signal", "1,2,3", "-k", "@plus5.mat"}, "", t.path());
  EXPECT_EQ(sig.out, "convolve: [6, 7, 8]\ncorrelate: [6, 7, 8]\n");
  RUN_OK(v, {"kernel", "@sharp.mat", "--to", "vips"}, "", t.path());
  EXPECT_EQ(v.out, "3 3 8 128\n-1 -1 -1\n-1 16 -1\n-1 -1 -1\n");
}

}  // namespace
}  // namespace convcorr::testing
