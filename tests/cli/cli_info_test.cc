// kernel and signal through the built binary. Expected values are the
// documented kernels and hand-computed numpy.convolve/numpy.correlate results.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Whitespace-separated numbers of a matrix line.
std::vector<double> Numbers(const std::string& line) {
  std::istringstream s(line);
  std::vector<double> v;
  for (double x; s >> x;) v.push_back(x);
  return v;
}

json KernelJson(const std::string& spec,
                const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"kernel", spec, "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const RunResult r = RunConvcorr(args);
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  const std::vector<std::string> lines = Lines(r.out);
  EXPECT_EQ(lines.size(), 1u) << r.out;
  if (lines.size() != 1) return {};
  return json::parse(lines[0]);
}

TEST(CliKernel, TextShowsMatrixRotationRankAndAsymmetry) {
  RUN_OK(r, {"kernel", "sobel-x"});
  EXPECT_EQ(r.err, "");
  const std::vector<std::string> lines = Lines(r.out);
  size_t rot = 0;
  while (rot < lines.size() &&
         lines[rot].rfind("rotated 180 degrees", 0) != 0) {
    ++rot;
  }
  ASSERT_LT(rot + 3, lines.size()) << r.out;
  ASSERT_GE(rot, 3u) << r.out;
  EXPECT_EQ(Numbers(lines[rot - 3]), (std::vector<double>{-1, 0, 1}));
  EXPECT_EQ(Numbers(lines[rot - 2]), (std::vector<double>{-2, 0, 2}));
  EXPECT_EQ(Numbers(lines[rot - 1]), (std::vector<double>{-1, 0, 1}));
  EXPECT_EQ(Numbers(lines[rot + 1]), (std::vector<double>{1, 0, -1}));
  EXPECT_EQ(Numbers(lines[rot + 2]), (std::vector<double>{2, 0, -2}));
  EXPECT_EQ(Numbers(lines[rot + 3]), (std::vector<double>{1, 0, -1}));
  EXPECT_NE(lines[rot].find("anchor x=1 y=1"), std::string::npos) << lines[rot];
  EXPECT_NE(r.out.find("\nrank: 1 (separable)\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nasymmetry ||K - rot180 K|| / (2 ||K||): 1\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("centro-symmetric (K == rot180 K): no"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("symmetric part"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("antisymmetric part"), std::string::npos) << r.out;
}

TEST(CliKernel, TextForASymmetricKernel) {
  RUN_OK(r, {"kernel", "laplacian"});
  EXPECT_NE(r.out.find("\nrank: 2 (not separable)\n"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("\nasymmetry ||K - rot180 K|| / (2 ||K||): 0\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("centro-symmetric (K == rot180 K): yes"),
            std::string::npos)
      << r.out;
}

TEST(CliKernel, JsonForSobelX) {
  const json j = KernelJson("sobel-x");
  for (const char* key :
       {"spec", "rows", "cols", "anchor", "matrix", "rotated", "rotated_anchor",
        "sum", "positive_sum", "negative_sum", "normalize_scale",
        "normalize_uses_positive_sum", "symmetric", "antisymmetric",
        "asymmetry", "rank", "separable", "centro_symmetric",
        "convolve_equals_correlate"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["spec"], "sobel-x");
  EXPECT_EQ(j["rows"], 3);
  EXPECT_EQ(j["cols"], 3);
  EXPECT_EQ(j["anchor"], json::parse("[1,1]"));
  EXPECT_EQ(j["matrix"], json::parse("[[-1,0,1],[-2,0,2],[-1,0,1]]"));
  EXPECT_EQ(j["rotated"], json::parse("[[1,0,-1],[2,0,-2],[1,0,-1]]"));
  EXPECT_EQ(j["rotated_anchor"], json::parse("[1,1]"));
  EXPECT_EQ(j["sum"].get<double>(), 0.0);
  EXPECT_EQ(j["positive_sum"].get<double>(), 4.0);
  EXPECT_EQ(j["negative_sum"].get<double>(), -4.0);
  EXPECT_EQ(j["normalize_scale"].get<double>(), 0.25);
  EXPECT_EQ(j["normalize_uses_positive_sum"], true);
  EXPECT_EQ(j["symmetric"], json::parse("[[0,0,0],[0,0,0],[0,0,0]]"));
  EXPECT_EQ(j["antisymmetric"], j["matrix"]);
  EXPECT_DOUBLE_EQ(j["asymmetry"].get<double>(), 1.0);
  EXPECT_EQ(j["rank"], 1);
  EXPECT_EQ(j["separable"], true);
  EXPECT_EQ(j["centro_symmetric"], false);
  EXPECT_EQ(j["convolve_equals_correlate"], false);
}

TEST(CliKernel, JsonForGaussian) {
  const json j = KernelJson("gaussian:1");
  EXPECT_EQ(j["rows"], 7);
  EXPECT_EQ(j["cols"], 7);
  EXPECT_EQ(j["anchor"], json::parse("[3,3]"));
  EXPECT_EQ(j["centro_symmetric"], true);
  EXPECT_EQ(j["convolve_equals_correlate"], true);
  EXPECT_EQ(j["rank"], 1);
  EXPECT_EQ(j["asymmetry"].get<double>(), 0.0);
  EXPECT_EQ(j["rotated"], j["matrix"]);
  EXPECT_NEAR(j["sum"].get<double>(), 1.0, 1e-12);
  EXPECT_EQ(j["normalize_uses_positive_sum"], false);
}

TEST(CliKernel, JsonForEvenBox) {
  const json j = KernelJson("box:2");
  EXPECT_EQ(j["matrix"], json::parse("[[0.25,0.25],[0.25,0.25]]"));
  EXPECT_EQ(j["anchor"], json::parse("[1,1]"));
  EXPECT_EQ(j["rotated_anchor"], json::parse("[0,0]"));
  EXPECT_EQ(j["centro_symmetric"], true);
  EXPECT_EQ(j["convolve_equals_correlate"], false);
  EXPECT_EQ(j["rank"], 1);
}

TEST(CliKernel, JsonForOtherShapesAndAnchors) {
  // 1x4 with the anchor on the 2: every tap matches its mirror.
  const json a = KernelJson("0,1,2,1");
  EXPECT_EQ(a["anchor"], json::parse("[2,0]"));
  EXPECT_EQ(a["centro_symmetric"], false);
  EXPECT_EQ(a["convolve_equals_correlate"], true);

  const json b = KernelJson("sobel-x", {"--anchor", "0,0"});
  EXPECT_EQ(b["anchor"], json::parse("[0,0]"));
  EXPECT_EQ(b["rotated_anchor"], json::parse("[2,2]"));
  EXPECT_EQ(b["convolve_equals_correlate"], false);

  const json c = KernelJson("1,1; 1,1.001");
  EXPECT_EQ(c["rank"], 2);
  EXPECT_EQ(c["separable"], false);

  const json d = KernelJson("shift:2,-1");
  EXPECT_EQ(d["rows"], 3);
  EXPECT_EQ(d["cols"], 5);
  EXPECT_EQ(d["matrix"], json::parse("[[0,0,0,0,1],[0,0,0,0,0],[0,0,0,0,0]]"));
  EXPECT_EQ(d["anchor"], json::parse("[2,1]"));
}

TEST(CliKernel, KernelFileWithComments) {
  TempDir t;
  WriteBytes(t / "k.txt",
             "# sharpen\n0 -1  0\n-1 5 -1   # the middle\n\n0 -1 0\n");
  std::string spec = "@";  // appended, not "@" + ..., which trips GCC 12's
  spec += (t / "k.txt").string();  // -Wrestrict false positive
  const json j = KernelJson(spec);
  EXPECT_EQ(j["matrix"], json::parse("[[0,-1,0],[-1,5,-1],[0,-1,0]]"));
  EXPECT_EQ(j["sum"].get<double>(), 1.0);
}

// kernel --list: one line per named kernel, usage then description, and
// every name it lists is a kernel `kernel` describes.
TEST(CliKernel, ListShowsEveryNamedKernel) {
  RUN_OK(text, {"kernel", "--list"});
  const std::vector<std::string> lines = Lines(text.out);
  ASSERT_EQ(lines.size(), 16u) << text.out;
  EXPECT_EQ(lines[0],
            "identity[:N]            1 at the centre of N x N (N odd, default "
            "3): the image unchanged");
  EXPECT_EQ(lines[2],
            "gaussian:SIGMA[,SIZE]   Gaussian blur, sum 1 (SIGMA default 1, "
            "SIZE default 2*ceil(3*SIGMA)+1)");
  EXPECT_EQ(lines[15],
            "shift:DX,DY             moves the content by DX,DY under "
            "convolve, by -DX,-DY under correlate");
  RUN_OK(js, {"kernel", "--list", "--json"});
  const std::vector<std::string> objects = Lines(js.out);
  ASSERT_EQ(objects.size(), lines.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    const json j = json::parse(objects[i]);
    const std::string name = j["name"];
    const std::string usage = j["usage"];
    SCOPED_TRACE(name);
    EXPECT_EQ(lines[i].rfind(usage + "  ", 0), 0u) << lines[i];
    EXPECT_EQ(lines[i].substr(24), j["description"].get<std::string>());
    if (j["min_params"] == 0) {
      EXPECT_EQ(KernelJson(name)["spec"], name);
    }
  }
  EXPECT_EQ(json::parse(objects[14]),
            json::parse(R"j({"name":"motion","usage":"motion:LENGTH[,ANGLE]",)j"
                        R"j("min_params":1,"max_params":2,"description":)j"
                        R"j("one-sided motion blur, LENGTH 1 to 513 taps )j"
                        R"j(towards ANGLE degrees (default 0)"})j"));
  const RunResult both = RunConvcorr({"kernel", "--list", "sobel-x"});
  EXPECT_EQ(both.exit_code, 2) << Describe(both);
  EXPECT_EQ(both.err, "--list prints every named kernel: drop 'sobel-x'\n");
  EXPECT_EQ(both.out, "");
}

TEST(CliSignal, ValidMatchesNumpy) {
  RUN_OK(r, {"signal", "2,1,3,5,4", "-k", "1,-1", "--size", "valid"});
  EXPECT_EQ(r.out, "convolve: [-1, 2, 2, -1]\ncorrelate: [1, -2, -2, 1]\n");
  EXPECT_EQ(r.err, "");
}

TEST(CliSignal, FullIsTheDefaultAndMatchesNumpy) {
  RUN_OK(r, {"signal", "2,1,3,5,4", "-k", "1,-1"});
  // numpy.convolve([2,1,3,5,4], [1,-1]) and numpy.correlate(..., 'full').
  EXPECT_EQ(
      r.out,
      "convolve: [2, -1, 2, 2, -1, -4]\ncorrelate: [-2, 1, -2, -2, 1, 4]\n");
  RUN_OK(f, {"signal", "2,1,3,5,4", "-k", "1,-1", "--size", "full"});
  EXPECT_EQ(f.out, r.out);
}

TEST(CliSignal, SymmetricKernelGivesTheSameResultBothWays) {
  RUN_OK(r, {"signal", "2,1,3,5,4", "-k", "-1,2,-1", "--size", "valid"});
  EXPECT_EQ(r.out, "convolve: [-3, 0, 3]\ncorrelate: [-3, 0, 3]\n");
}

TEST(CliSignal, ColumnKernelAndSpacesWork) {
  RUN_OK(r, {"signal", "2 1 3 5 4", "-k", "1;-1", "--size", "valid"});
  EXPECT_EQ(r.out, "convolve: [-1, 2, 2, -1]\ncorrelate: [1, -2, -2, 1]\n");
}

TEST(CliSignal, Json) {
  RUN_OK(r, {"signal", "2,1,3,5,4", "-k", "1,-1", "--size", "valid", "--json"});
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 1u) << r.out;
  const json j = json::parse(lines[0]);
  EXPECT_EQ(j["size"], "valid");
  EXPECT_EQ(j["border"], "constant");
  EXPECT_EQ(j["convolve"], json::parse("[-1,2,2,-1]"));
  EXPECT_EQ(j["correlate"], json::parse("[1,-2,-2,1]"));
}

TEST(CliSignal, LeadingMinusListAfterDoubleDash) {
  RUN_OK(r, {"signal", "-k", "1,-1", "--", "-2,1,3"});
  // numpy.convolve([-2,1,3], [1,-1]) and numpy.correlate(..., 'full').
  EXPECT_EQ(r.out, "convolve: [-2, 3, 2, -3]\ncorrelate: [2, -3, -2, 3]\n");
}

TEST(CliSignal, FloatsPrintInShortestForm) {
  RUN_OK(r, {"signal", "1,2", "-k", "1/3"});
  EXPECT_EQ(r.out,
            "convolve: [0.33333334, 0.6666667]\ncorrelate: [0.33333334, "
            "0.6666667]\n");
}

TEST(CliInfo, VersionAndHelp) {
  RUN_OK(v, {"--version"});
  EXPECT_EQ(v.out.rfind("convcorr ", 0), 0u) << v.out;
  RUN_OK(h, {"--help"});
  for (const char* word :
       {"convolve", "correlate", "compare", "kernel", "signal"}) {
    EXPECT_NE(h.out.find(word), std::string::npos) << word << " in\n" << h.out;
  }
  RUN_OK(c, {"convolve", "--help"});
  EXPECT_NE(c.out.find("--kernel"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("--border"), std::string::npos) << c.out;
}

}  // namespace
}  // namespace convcorr::testing
