// Batch runs through the built binary (docs/batch.md): a generated tree of
// real sample photos with nested directories, names with spaces and
// non-ASCII letters, and bad files; files in flight, the report, resume
// after a kill, dry runs, input lists and shards (also with GNU parallel).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"
#include "io/provenance.h"

namespace convcorr::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// in/ with 9 good photos (crops of the samples, some nested, some with
// spaces or non-ASCII in their names), a corrupt file and a truncated PNG.
struct Tree {
  Tree() {
    const std::pair<const char*, const char*> photos[] = {
        {"camera.png", "a.png"},
        {"astronaut.png", "b.png"},
        {"chelsea.png", "sub/c.png"},
        {"coffee.png", "sub/deeper/d.png"},
        {"horse.png", "with space/e f.png"},
        {"clock_motion.png", "café/ü.png"},
        {"camera.png", "sub/g.png"},
        {"astronaut.png", "z.png"},
        {"chelsea.png", "sub/deeper/h.png"},
    };
    for (const auto& [photo, name] : photos) {
      fs::create_directories((t / "in" / name).parent_path());
      WriteCrop(photo, cv::Rect(20, 30, 61, 47), t / "in" / name);
      good.push_back(name);
    }
    WriteBytes(t / "in" / "sub" / "bad.png", "this is not an image\n");
    const std::string png = ReadBytes(t / "in" / "a.png");
    WriteBytes(t / "in" / "trunc.png", png.substr(0, png.size() / 2));
    bad = {"sub/bad.png", "trunc.png"};
  }
  RunResult Run(const std::vector<std::string>& args,
                const std::string& stdin_bytes = "") const {
    return RunConvcorr(args, stdin_bytes, t.path());
  }
  fs::path operator/(const std::string& name) const { return t / name; }
  TempDir t;
  std::vector<std::string> good;  // relative to in/
  std::vector<std::string> bad;
};

std::vector<json> ReadReport(const fs::path& p) {
  std::vector<json> out;
  for (const std::string& line : Lines(ReadBytes(p))) {
    out.push_back(json::parse(line));  // throws on a damaged line
  }
  return out;
}

// The per-input records of a report, by input name; the summary apart.
std::map<std::string, json> ByInput(const std::vector<json>& report,
                                    json* summary = nullptr) {
  std::map<std::string, json> out;
  for (const json& r : report) {
    if (r.contains("summary")) {
      if (summary != nullptr) *summary = r["summary"];
      continue;
    }
    EXPECT_TRUE(out.emplace(r["input"].get<std::string>(), r).second)
        << "input reported twice: " << r.dump();
  }
  return out;
}

std::vector<std::string> Sorted(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Every good input's output, decoded, equal in both trees.
void ExpectSameOutputs(const fs::path& a, const fs::path& b,
                       const std::vector<std::string>& names) {
  for (const std::string& n : names) {
    const cv::Mat x = Read(a / n);
    ASSERT_FALSE(x.empty()) << (a / n);
    EXPECT_TRUE(Identical(x, Read(b / n))) << n;
  }
}

TEST(CliBatch, FilesInFlightWriteWhatOneAtATimeWritesAndReportEachInput) {
  Tree tree;
  const RunResult one = tree.Run({"correlate", "-k", "emboss", "-r", "in", "-o",
                                  "one", "--jobs", "1", "--json"});
  EXPECT_EQ(one.exit_code, 1) << Describe(one);
  const RunResult three =
      tree.Run({"correlate", "-k", "emboss", "-r", "in", "-o", "three",
                "--jobs", "3", "--json", "--report", "report.jsonl"});
  EXPECT_EQ(three.exit_code, 1) << Describe(three);
  EXPECT_EQ(ListFiles(tree / "three"), Sorted(tree.good));
  ExpectSameOutputs(tree / "one", tree / "three", tree.good);
  // The terminal shows every input in input order, whatever finished first.
  const auto renamed = [](std::string text) {
    for (size_t at = 0; (at = text.find("three/", at)) != std::string::npos;) {
      text.replace(at, 6, "one/");
    }
    return text;
  };
  EXPECT_EQ(renamed(three.out), one.out);
  EXPECT_EQ(renamed(three.err), one.err);
  // One line per bad input, naming it and the reason (and the clipping
  // notes of the good ones).
  std::vector<std::string> errs;
  for (const std::string& line : Lines(three.err)) {
    if (line.rfind("note: ", 0) != 0) errs.push_back(line);
  }
  ASSERT_EQ(errs.size(), 2u) << three.err;
  EXPECT_EQ(errs[0].rfind("input 'in/sub/bad.png': ", 0), 0u) << errs[0];
  EXPECT_EQ(errs[1].rfind("input 'in/trunc.png': ", 0), 0u) << errs[1];
  EXPECT_TRUE(HiddenEntries(tree / "three").empty());

  json summary;
  const auto report = ByInput(ReadReport(tree / "report.jsonl"), &summary);
  ASSERT_EQ(report.size(), tree.good.size() + tree.bad.size());
  for (const std::string& n : tree.good) {
    const json& r = report.at("in/" + n);
    EXPECT_EQ(r["status"], "ok") << r.dump();
    EXPECT_TRUE(r["error"].is_null());
    EXPECT_EQ(r["outputs"], json::array({"three/" + n}));
    EXPECT_GE(r["ms"].get<double>(), 0.0);
  }
  for (const std::string& n : tree.bad) {
    const json& r = report.at("in/" + n);
    EXPECT_EQ(r["status"], "failed") << r.dump();
    EXPECT_EQ(r["error"].get<std::string>().rfind("input 'in/" + n + "': ", 0),
              0u);
    EXPECT_EQ(r["outputs"], json::array());
  }
  EXPECT_EQ(summary["processed"], 9);
  EXPECT_EQ(summary["failed"], 2);
  EXPECT_EQ(summary["skipped"], 0);
}

TEST(CliBatch, ProgressLineOnATerminalOnly) {
  if (const std::string why = NoPseudoTerminal(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  Tree tree;
  const std::string bin = ConvcorrBinary();
  const std::string shown = OnATerminal(
      bin + " correlate -k box:3 -r in -o out --jobs 2", tree.t.path());
  // Redrawn in place, ending at all 11 inputs with the 2 failures, then
  // erased before the summary line.
  EXPECT_NE(shown.find("[0/11]"), std::string::npos) << shown;
  EXPECT_NE(shown.find("\r\x1b[K[11/11]"), std::string::npos) << shown;
  EXPECT_NE(shown.find("files/s, ETA 0s, 2 failed"), std::string::npos)
      << shown;
  EXPECT_NE(shown.find("9 processed, 0 skipped, 2 failed in "),
            std::string::npos)
      << shown;
  // -q: nothing but the failures.
  const std::string quiet = OnATerminal(
      bin + " correlate -q -k box:3 -r in -o out2 --jobs 2", tree.t.path());
  EXPECT_EQ(quiet.find("/11]"), std::string::npos) << quiet;
  EXPECT_EQ(quiet.find("processed"), std::string::npos) << quiet;
  EXPECT_NE(quiet.find("input 'in/trunc.png'"), std::string::npos) << quiet;
  // Not a terminal (the other tests): no progress, no summary.
  const RunResult r =
      tree.Run({"correlate", "-k", "box:3", "-r", "in", "-o", "out3"});
  EXPECT_EQ(r.err.find("/11]"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("processed"), std::string::npos) << r.err;
}

TEST(CliBatch, ExtensionFilterPicksTheFilesOfDirectoryInputs) {
  Tree tree;
  WriteCrop("camera.png", cv::Rect(0, 0, 20, 16),
            tree / "in" / "sub" / "j.jpg");
  WriteCrop("camera.png", cv::Rect(0, 0, 20, 16), tree / "in" / "k.TIF");
  const RunResult r = tree.Run({"correlate", "-k", "box:3", "-r", "in", "-o",
                                "out", "--ext", "jpg, .tif", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "in/k.TIF -> out/k.TIF\nin/sub/j.jpg -> out/sub/j.jpg\n");
  // Files named on the command line are taken whatever their extension.
  const RunResult named = tree.Run({"correlate", "-k", "box:3", "in/a.png",
                                    "-o", "o/", "--ext", "jpg", "--dry-run"});
  EXPECT_EQ(named.out, "in/a.png -> o/a.png\n");
  const RunResult bad = tree.Run({"correlate", "-k", "box:3", "-r", "in", "-o",
                                  "out", "--ext", "jpg,doc"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_EQ(bad.err,
            "--ext 'jpg,doc': 'doc' is not an image format convcorr reads "
            "(e.g. jpg, png, tif)\n");
  // JPEG 2000 is never read, so --ext does not take it, and a directory
  // scan passes .jp2 files over.
  const RunResult jp2 = tree.Run(
      {"correlate", "-k", "box:3", "-r", "in", "-o", "out", "--ext", "jp2"});
  EXPECT_EQ(jp2.exit_code, 2) << Describe(jp2);
  EXPECT_EQ(jp2.err,
            "--ext 'jp2': 'jp2' is JPEG 2000, which convcorr does not read "
            "(convert it to png or tiff)\n");
  EXPECT_FALSE(fs::exists(tree / "out"));
  // The JP2 signature box: a JPEG 2000 file by its bytes.
  WriteBytes(tree / "in" / "sub" / "x.jp2",
             std::string("\0\0\0\x0cjP  \r\n\x87\n", 12));
  const RunResult scan = tree.Run(
      {"correlate", "-k", "box:3", "-r", "in/sub", "-o", "out", "--dry-run"});
  ASSERT_EQ(scan.exit_code, 0) << Describe(scan);
  EXPECT_EQ(scan.out.find("x.jp2"), std::string::npos) << scan.out;
}

TEST(CliBatch, CompareReportCarriesTheDifferenceStatistics) {
  Tree tree;
  const RunResult r =
      tree.Run({"compare", "-k", "sobel-x", "in/a.png", "in/sub/c.png", "-o",
                "cmp", "--jobs", "2", "--report", "cmp.jsonl", "-q"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  const auto report = ByInput(ReadReport(tree / "cmp.jsonl"));
  const json& a = report.at("in/a.png");
  EXPECT_EQ(a["outputs"],
            json::array({"cmp/a.convolve.png", "cmp/a.correlate.png",
                         "cmp/a.diff.png"}));
  EXPECT_GT(a["diff"]["max_abs_diff"].get<double>(), 0.0);
  EXPECT_EQ(a["diff"]["identical"], false);
  EXPECT_TRUE(report.at("in/sub/c.png")["diff"].contains("rms"));
}

TEST(CliBatch, SkipExistingSkipsCompleteOutputsAndRedoesTheRest) {
  Tree tree;
  const std::vector<std::string> args = {"correlate", "-k", "box:3", "-r",
                                         "in",        "-o", "out",   "-q"};
  const RunResult first = tree.Run(args);
  EXPECT_EQ(first.exit_code, 1) << Describe(first);
  const std::string kept = ReadBytes(tree / "out" / "a.png");
  // One output removed, one truncated by something else, one replaced by
  // bytes that are no image: those three are done again.
  fs::remove(tree / "out" / "z.png");
  const std::string c = ReadBytes(tree / "out" / "sub" / "c.png");
  WriteBytes(tree / "out" / "sub" / "c.png", c.substr(0, c.size() - 20));
  WriteBytes(tree / "out" / "sub" / "g.png", "not a png");
  std::vector<std::string> again = args;
  again.insert(again.end(), {"--skip-existing", "--report", "again.jsonl"});
  const RunResult second = tree.Run(again);
  EXPECT_EQ(second.exit_code, 1) << Describe(second);  // the bad inputs
  json summary;
  const auto report = ByInput(ReadReport(tree / "again.jsonl"), &summary);
  EXPECT_EQ(summary["processed"], 3);
  EXPECT_EQ(summary["skipped"], 6);
  EXPECT_EQ(summary["failed"], 2);
  EXPECT_EQ(report.at("in/z.png")["status"], "ok");
  EXPECT_EQ(report.at("in/sub/c.png")["status"], "ok");
  EXPECT_EQ(report.at("in/sub/g.png")["status"], "ok");
  EXPECT_EQ(report.at("in/a.png")["status"], "skipped");
  EXPECT_EQ(report.at("in/a.png")["outputs"], json::array({"out/a.png"}));
  EXPECT_EQ(ReadBytes(tree / "out" / "a.png"), kept);
  EXPECT_FALSE(Read(tree / "out" / "sub" / "c.png").empty());
  EXPECT_FALSE(Read(tree / "out" / "sub" / "g.png").empty());
}

TEST(CliBatch, RunKilledHalfWayResumesWithSkipExistingToTheSameOutputs) {
  TempDir t;
  // 48 inputs in 4 directories, each slow enough (a 49x49 Gaussian, every
  // tap, on a 512x512 photo) that the signal lands mid-run.
  std::vector<std::string> names;
  for (int d = 0; d < 4; ++d) {
    for (int i = 0; i < 12; ++i) {
      const std::string n =
          "d" + std::to_string(d) + "/p" + std::to_string(i) + ".png";
      fs::create_directories((t / "in" / n).parent_path());
      fs::copy_file(Photo("astronaut.png"), t / "in" / n);
      names.push_back(n);
    }
  }
  const std::vector<std::string> args = {
      "convolve", "-k", "gaussian:8,49", "--method", "direct", "-r",
      "in",       "-o", "out",           "--jobs",   "2"};
  for (const auto& [sig, code] :
       {std::pair{SIGTERM, 143}, std::pair{SIGINT, 130}}) {
    SCOPED_TRACE(sig);
    fs::remove_all(t / "out");
    fs::remove(t / "killed.jsonl");
    std::vector<std::string> killed = args;
    killed.insert(killed.end(), {"--report", "killed.jsonl"});
    const pid_t pid = StartConvcorr(killed, -1, t.path());
    // Wait for a few inputs to be done, then interrupt.
    const auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      if (fs::exists(t / "killed.jsonl") &&
          Lines(ReadBytes(t / "killed.jsonl")).size() >= 3) {
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFEXITED(status)) << "killed by a signal, not exited";
    EXPECT_EQ(WEXITSTATUS(status), code);
    // Whole report lines only, every output present complete, no
    // temporary files.
    const auto done = ByInput(ReadReport(t / "killed.jsonl"));
    EXPECT_GE(done.size(), 3u);
    const std::vector<std::string> present = ListFiles(t / "out");
    EXPECT_LT(present.size(), names.size()) << "the run was not interrupted";
    for (const std::string& n : present) {
      EXPECT_FALSE(Read(t / "out" / n).empty()) << n;
    }
    EXPECT_TRUE(HiddenEntries(t / "out").empty());

    std::vector<std::string> resume = args;
    resume.insert(resume.end(),
                  {"--skip-existing", "--report", "resumed.jsonl"});
    const RunResult r = RunConvcorr(resume, "", t.path());
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    json summary;
    ByInput(ReadReport(t / "resumed.jsonl"), &summary);
    EXPECT_EQ(summary["skipped"].get<size_t>(), present.size());
    EXPECT_EQ(summary["processed"].get<size_t>(),
              names.size() - present.size());
    EXPECT_EQ(ListFiles(t / "out"), Sorted(names));
  }
  // The same outputs as a run that was never interrupted.
  const RunResult clean =
      RunConvcorr({"convolve", "-k", "gaussian:8,49", "--method", "direct",
                   "in/d3", "-o", "clean", "-q"},
                  "", t.path());
  ASSERT_EQ(clean.exit_code, 0) << Describe(clean);
  for (int i = 0; i < 12; ++i) {
    const std::string p = "p" + std::to_string(i) + ".png";
    EXPECT_TRUE(Identical(Read(t / "out" / "d3" / p), Read(t / "clean" / p)));
  }
}

// "convcorr X.Y.Z", as --version prints it: how every provenance starts.
std::string VersionLine() {
  const RunResult r = RunConvcorr({"--version"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  return Lines(r.out).empty() ? "" : Lines(r.out)[0];
}

TEST(CliBatch, EveryOutputRecordsWhatMadeIt) {
  Tree tree;
  const std::string version = VersionLine();
  RUN_OK(png, {"correlate", "-k", "box:3", "in/a.png", "-o", "out/a.png"}, "",
         tree.t.path());
  // The kernel as parsed, every setting that decides the pixels.
  EXPECT_EQ(io::ReadProvenance(tree / "out" / "a.png"),
            version +
                " command=correlate kernel=3x3+1+1:0.1111111111111111,"
                "0.1111111111111111,0.1111111111111111,0.1111111111111111,"
                "0.1111111111111111,0.1111111111111111,0.1111111111111111,"
                "0.1111111111111111,0.1111111111111111 border=reflect101 "
                "size=same stride=1,1 scale=1 bias=0 abs=no filter-alpha=no "
                "alpha-weighted=yes rounding=saturate depth=keep gray=no "
                "auto-orient=yes "
                "metadata=keep");
  // Each format in its own slot, --strip keeping it (it is convcorr's).
  for (const std::string ext : {"jpg", "tif", "webp", "ppm"}) {
    SCOPED_TRACE(ext);
    const std::string out = "out/a." + ext;
    RUN_OK(r,
           {"convolve", "-k", "sobel-x", "--normalize", "--bias", "128",
            "--strip", "in/a.png", "-o", out},
           "", tree.t.path());
    const std::optional<std::string> p = io::ReadProvenance(tree / out);
    ASSERT_TRUE(p.has_value());
    EXPECT_TRUE(p->starts_with(version + " command=convolve kernel=3x3+1+1:"
                                         "-1,0,1,-2,0,2,-1,0,1 "))
        << *p;
    EXPECT_NE(p->find(" scale=0.25 bias=128 "), std::string::npos) << *p;
    EXPECT_NE(p->find(" metadata=strip"), std::string::npos) << *p;
    EXPECT_FALSE(Read(tree / out).empty());
  }
  // Standard output too.
  RUN_OK(piped, {"correlate", "-k", "box:3", "in/a.png", "-o", "-"}, "",
         tree.t.path());
  EXPECT_EQ(io::ReadProvenance(std::span<const uint8_t>(
                reinterpret_cast<const uint8_t*>(piped.out.data()),
                piped.out.size())),
            io::ReadProvenance(tree / "out" / "a.png"));
  // compare: one per output, the heat map's with its range.
  RUN_OK(cmp,
         {"compare", "-k", "sobel-x", "--raw-diff", "--panel", "in/a.png", "-o",
          "cmp"},
         "", tree.t.path());
  for (const std::string role :
       {"convolve.png", "correlate.png", "diff.png", "diff.tif", "panel.png"}) {
    const std::optional<std::string> p =
        io::ReadProvenance(tree / "cmp" / ("a." + role));
    ASSERT_TRUE(p.has_value()) << role;
    EXPECT_TRUE(p->starts_with(version + " command=compare output=")) << *p;
  }
  EXPECT_NE(io::ReadProvenance(tree / "cmp" / "a.diff.png")
                ->find(" diff-range=p99.5"),
            std::string::npos);
}

TEST(CliBatch, SkipExistingRedoesOutputsMadeWithOtherSettings) {
  Tree tree;
  const std::vector<std::string> inputs = {"in/a.png", "in/z.png"};
  const auto run = [&](std::vector<std::string> args,
                       const std::vector<std::string>& more) {
    args.insert(args.end(), inputs.begin(), inputs.end());
    args.insert(args.end(), {"-o", "out"});
    args.insert(args.end(), more.begin(), more.end());
    return tree.Run(args);
  };
  const std::vector<std::string> box3 = {"correlate", "-k", "box:3"};
  const std::vector<std::string> box5 = {"correlate", "-k", "box:5"};
  const RunResult first = run(box3, {"-q"});
  ASSERT_EQ(first.exit_code, 0) << Describe(first);
  const std::string a3 = ReadBytes(tree / "out" / "a.png");

  // The same settings: skipped, untouched.
  const RunResult same =
      run(box3, {"--skip-existing", "--report", "same.jsonl"});
  ASSERT_EQ(same.exit_code, 0) << Describe(same);
  json summary;
  ByInput(ReadReport(tree / "same.jsonl"), &summary);
  EXPECT_EQ(summary["skipped"], 2);
  EXPECT_EQ(summary["processed"], 0);
  EXPECT_EQ(ReadBytes(tree / "out" / "a.png"), a3);

  // Another kernel: the dry run says why each would be redone...
  const RunResult dry = run(box5, {"--skip-existing", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << Describe(dry);
  EXPECT_EQ(dry.out,
            "redo in/a.png (out/a.png was made with other settings)\n"
            "redo in/z.png (out/z.png was made with other settings)\n");
  const RunResult dry_json =
      run(box5, {"--skip-existing", "--dry-run", "--json"});
  ASSERT_EQ(dry_json.exit_code, 0) << Describe(dry_json);
  EXPECT_EQ(json::parse(Lines(dry_json.out).at(0)),
            json({{"input", "in/a.png"},
                  {"outputs", json::array({"out/a.png"})},
                  {"action", "redo"},
                  {"reason", "out/a.png was made with other settings"}}));
  EXPECT_EQ(ReadBytes(tree / "out" / "a.png"), a3);
  // ... and the run redoes them, saying so with -v and in the report.
  const RunResult redo =
      run(box5, {"--skip-existing", "--report", "redo.jsonl", "-v"});
  ASSERT_EQ(redo.exit_code, 0) << Describe(redo);
  EXPECT_NE(
      redo.err.find("redo in/a.png: out/a.png was made with other settings\n"),
      std::string::npos)
      << redo.err;
  const auto report = ByInput(ReadReport(tree / "redo.jsonl"), &summary);
  EXPECT_EQ(report.at("in/a.png")["status"], "ok");
  EXPECT_EQ(report.at("in/a.png")["redo"],
            "out/a.png was made with other settings");
  EXPECT_EQ(summary["processed"], 2);
  EXPECT_EQ(summary["redone"], 2);
  EXPECT_EQ(summary["skipped"], 0);
  EXPECT_NE(ReadBytes(tree / "out" / "a.png"), a3);
  RUN_OK(fresh, {"correlate", "-k", "box:5", "in/a.png", "-o", "fresh.png"}, "",
         tree.t.path());
  EXPECT_EQ(ReadBytes(tree / "out" / "a.png"), ReadBytes(tree / "fresh.png"));

  // The same kernel typed out: the same settings, skipped.
  const std::string row = "1/25,1/25,1/25,1/25,1/25";
  const std::string typed = row + ";" + row + ";" + row + ";" + row + ";" + row;
  const RunResult again =
      run({"correlate", "-k", typed}, {"--skip-existing", "--dry-run"});
  ASSERT_EQ(again.exit_code, 0) << Describe(again);
  EXPECT_EQ(again.out,
            "skip in/a.png (outputs exist: out/a.png)\n"
            "skip in/z.png (outputs exist: out/z.png)\n");

  // A file another tool wrote there (OpenCV's imwrite): redone.
  ASSERT_TRUE(
      cv::imwrite((tree / "out" / "a.png").string(), Read(tree / "fresh.png")));
  const RunResult foreign = run(box5, {"--skip-existing", "--dry-run"});
  ASSERT_EQ(foreign.exit_code, 0) << Describe(foreign);
  EXPECT_EQ(foreign.out,
            "redo in/a.png (out/a.png does not record how it was made)\n"
            "skip in/z.png (outputs exist: out/z.png)\n");
  const RunResult fixed =
      run(box5, {"--skip-existing", "--report", "fixed.jsonl"});
  ASSERT_EQ(fixed.exit_code, 0) << Describe(fixed);
  EXPECT_EQ(ByInput(ReadReport(tree / "fixed.jsonl")).at("in/a.png")["redo"],
            "out/a.png does not record how it was made");
  EXPECT_EQ(ReadBytes(tree / "out" / "a.png"), ReadBytes(tree / "fresh.png"));
}

TEST(CliBatch, SkipExistingTrustsCompleteOutputsOfFormatsWithoutText) {
  Tree tree;
  RUN_OK(first,
         {"correlate", "-k", "box:3", "in/a.png", "-o", "out", "--format",
          "bmp", "-q"},
         "", tree.t.path());
  const std::string bmp = ReadBytes(tree / "out" / "a.bmp");
  // BMP (and PFM) cannot say how they were made: a complete one is kept,
  // and the dry run says it was not checked.
  const RunResult dry =
      tree.Run({"correlate", "-k", "box:5", "in/a.png", "-o", "out", "--format",
                "bmp", "--skip-existing", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << Describe(dry);
  EXPECT_EQ(dry.out,
            "skip in/a.png (outputs exist: out/a.bmp; not checked: bmp files "
            "record no settings)\n");
  const RunResult dry_json =
      tree.Run({"correlate", "-k", "box:5", "in/a.png", "-o", "out", "--format",
                "bmp", "--skip-existing", "--dry-run", "--json"});
  EXPECT_EQ(json::parse(dry_json.out)["checked"], false);
  const RunResult run =
      tree.Run({"correlate", "-k", "box:5", "in/a.png", "-o", "out", "--format",
                "bmp", "--skip-existing", "-v"});
  ASSERT_EQ(run.exit_code, 0) << Describe(run);
  EXPECT_NE(run.err.find("skip in/a.png: its outputs exist (not checked)\n"),
            std::string::npos)
      << run.err;
  EXPECT_EQ(ReadBytes(tree / "out" / "a.bmp"), bmp);
}

TEST(CliBatch, SkipExistingChecksEveryCompareOutput) {
  Tree tree;
  const std::vector<std::string> args = {"compare",  "-k", "sobel-x", "--panel",
                                         "in/a.png", "-o", "cmp"};
  RUN_OK(first, args, "", tree.t.path());
  std::vector<std::string> same = args;
  same.insert(same.end(), {"--skip-existing", "--dry-run"});
  const RunResult skip = tree.Run(same);
  ASSERT_EQ(skip.exit_code, 0) << Describe(skip);
  EXPECT_EQ(skip.out,
            "skip in/a.png (outputs exist: cmp/a.convolve.png, "
            "cmp/a.correlate.png, cmp/a.diff.png, cmp/a.panel.png)\n");
  // Only the heat map (and the panel) depend on --diff-range.
  std::vector<std::string> range = same;
  range.insert(range.end(), {"--diff-range", "max"});
  const RunResult redo = tree.Run(range);
  ASSERT_EQ(redo.exit_code, 0) << Describe(redo);
  EXPECT_EQ(redo.out,
            "redo in/a.png (cmp/a.diff.png was made with other settings)\n");
}

TEST(CliBatch, DryRunListsTheWorkAndWritesNothing) {
  Tree tree;
  const RunResult r = tree.Run({"compare", "-k", "sobel-x", "in/a.png",
                                "in/sub/c.png", "-o", "cmp", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out,
            "in/a.png -> cmp/a.convolve.png, cmp/a.correlate.png, "
            "cmp/a.diff.png\n"
            "in/sub/c.png -> cmp/c.convolve.png, cmp/c.correlate.png, "
            "cmp/c.diff.png\n");
  EXPECT_FALSE(fs::exists(tree / "cmp"));
  // After a real run, --skip-existing --dry-run says what would be skipped.
  RUN_OK(
      real,
      {"correlate", "-k", "box:3", "in/a.png", "in/z.png", "-o", "out", "-q"},
      "", tree.t.path());
  fs::remove(tree / "out" / "z.png");
  const RunResult dry =
      tree.Run({"correlate", "-k", "box:3", "in/a.png", "in/z.png", "-o", "out",
                "--dry-run", "--skip-existing", "--json"});
  ASSERT_EQ(dry.exit_code, 0) << Describe(dry);
  const std::vector<std::string> lines = Lines(dry.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(json::parse(lines[0])["action"], "skip");
  EXPECT_EQ(json::parse(lines[1])["action"], "process");
  EXPECT_FALSE(fs::exists(tree / "out" / "z.png"));
  // Missing inputs are failures in a dry run too.
  const RunResult missing = tree.Run(
      {"correlate", "-k", "box:3", "in/nope.png", "-o", "x/", "--dry-run"});
  EXPECT_EQ(missing.exit_code, 1) << Describe(missing);
  EXPECT_EQ(missing.err, "input 'in/nope.png': no such file or directory\n");
}

TEST(CliBatch, FilesFromReadsNewlineAndNulListsAndMirrorsTheirDirectories) {
  Tree tree;
  // A name with a newline in it, as only a NUL-separated list can carry.
  WriteCrop("coffee.png", cv::Rect(0, 0, 30, 20),
            tree / "in" / "odd\nname.png");
  std::string nul;
  for (const std::string& n :
       {std::string("a.png"), std::string("sub/c.png"),
        std::string("with space/e f.png"), std::string("odd\nname.png")}) {
    nul += "./" + n + '\0';
  }
  const RunResult r = RunConvcorr(
      {"correlate", "-k", "box:3", "--files-from", "-", "-0", "-o", "../out"},
      nul, tree / "in");
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(
      ListFiles(tree / "out"),
      Sorted({"a.png", "sub/c.png", "with space/e f.png", "odd\nname.png"}));
  // Newlines, a CRLF line, a blank line and a missing file.
  WriteBytes(tree / "list.txt",
             "in/z.png\r\n\nin/sub/deeper/d.png\nin/gone.png\n");
  const RunResult l = tree.Run(
      {"correlate", "-k", "box:3", "--files-from", "list.txt", "-o", "lst"});
  EXPECT_EQ(l.exit_code, 1) << Describe(l);
  EXPECT_EQ(l.err, "input 'in/gone.png': no such file or directory\n");
  EXPECT_EQ(ListFiles(tree / "lst"),
            Sorted({"in/z.png", "in/sub/deeper/d.png"}));
  // Usage errors, before any work.
  const std::pair<std::vector<std::string>, std::string> usage[] = {
      {{"correlate", "-k", "box:3", "in/a.png", "-0", "-o", "u"},
       "-0 applies to --files-from: add it\n"},
      {{"correlate", "-k", "box:3", "--files-from", "-", "-", "-o", "u"},
       "--files-from - reads the list from stdin, so '-' cannot also be an "
       "input image\n"},
      {{"correlate", "-k", "box:3", "--files-from", "nolist.txt", "-o", "u"},
       "--files-from 'nolist.txt': no such file\n"},
      {{"correlate", "-k", "box:3", "--files-from", "-", "-o", "u"},
       "--files-from '-': the list names no paths\n"},
  };
  for (const auto& [args, message] : usage) {
    const RunResult u = tree.Run(args);
    EXPECT_EQ(u.exit_code, 2) << Describe(u);
    EXPECT_EQ(u.err, message);
  }
  EXPECT_FALSE(fs::exists(tree / "u"));
}

// The inputs each shard's report says it processed.
std::vector<std::string> Processed(const fs::path& report) {
  std::vector<std::string> out;
  for (const auto& [input, r] : ByInput(ReadReport(report))) {
    EXPECT_EQ(r["status"], "ok") << r.dump();
    out.push_back(input);
  }
  return out;
}

TEST(CliBatch, ShardsTogetherProcessEveryInputExactlyOnce) {
  Tree tree;
  fs::remove(tree / "in" / "sub" / "bad.png");
  fs::remove(tree / "in" / "trunc.png");
  std::vector<std::string> all;
  for (const std::string& n : tree.good) all.push_back("in/" + n);
  std::multiset<std::string> seen;
  for (int k = 0; k < 3; ++k) {
    const std::string rep = "shard" + std::to_string(k) + ".jsonl";
    const RunResult r =
        tree.Run({"correlate", "-k", "box:3", "-r", "in", "-o", "out",
                  "--shard", std::to_string(k) + "/3", "--report", rep});
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
    EXPECT_EQ(r.err, "note: shard " + std::to_string(k) + "/3 (from --shard '" +
                         std::to_string(k) + "/3'): 3 of 9 inputs\n");
    for (const std::string& in : Processed(tree / rep)) seen.insert(in);
  }
  EXPECT_EQ(std::vector<std::string>(seen.begin(), seen.end()), Sorted(all));
  EXPECT_EQ(ListFiles(tree / "out"), Sorted(tree.good));

  // The slice is the sorted list's positions k, k + 3, ...
  const RunResult dry = tree.Run({"correlate", "-k", "box:3", "-r", "in", "-o",
                                  "out", "--shard", "1/3", "--dry-run"});
  std::vector<std::string> sorted = Sorted(all);
  EXPECT_EQ(dry.out, sorted[1] + " -> out/" + sorted[1].substr(3) + "\n" +
                         sorted[4] + " -> out/" + sorted[4].substr(3) + "\n" +
                         sorted[7] + " -> out/" + sorted[7].substr(3) + "\n");

  // Slurm array tasks (indices 4, 6, 8: min 4, step 2) and Kubernetes
  // indexed Jobs pick the same slices from their environment.
  const auto dry_with = [&](const std::map<std::string, std::string>& env,
                            std::vector<std::string> extra = {}) {
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<std::string> args = {"correlate", "-k", "box:3", "-r",
                                     "in",        "-o", "out",   "--dry-run"};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = tree.Run(args);
    for (const auto& [k, v] : env) unsetenv(k.c_str());
    return r;
  };
  const RunResult slurm = dry_with({{"SLURM_ARRAY_TASK_ID", "6"},
                                    {"SLURM_ARRAY_TASK_MIN", "4"},
                                    {"SLURM_ARRAY_TASK_STEP", "2"},
                                    {"SLURM_ARRAY_TASK_COUNT", "3"}});
  EXPECT_EQ(slurm.exit_code, 0) << Describe(slurm);
  EXPECT_EQ(slurm.out, dry.out);
  EXPECT_EQ(slurm.err,
            "note: shard 1/3 (from SLURM_ARRAY_TASK_ID and "
            "SLURM_ARRAY_TASK_COUNT): 3 of 9 inputs\n");
  const RunResult k8s =
      dry_with({{"JOB_COMPLETION_INDEX", "1"}}, {"--shard-count", "3"});
  EXPECT_EQ(k8s.exit_code, 0) << Describe(k8s);
  EXPECT_EQ(k8s.out, dry.out);
  // --shard wins over the environment.
  const RunResult both =
      dry_with({{"SLURM_ARRAY_TASK_ID", "0"}, {"SLURM_ARRAY_TASK_COUNT", "9"}},
               {"--shard", "1/3"});
  EXPECT_EQ(both.out, dry.out);

  const std::pair<std::vector<std::string>, std::string> usage[] = {
      {{"--shard", "3/3"},
       "--shard '3/3': shard index 3 is not below the count 3\n"},
      {{"--shard", "x"},
       "--shard 'x': expected K/N with 0 <= K < N, e.g. 0/4\n"},
      {{"--shard", "0/0"},
       "--shard '0/0': the shard count must be from 1 to 1000000, not 0\n"},
      {{"--shard-count", "3"},
       "--shard-count needs a shard index from the environment "
       "(JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID); or give --shard K/N\n"},
  };
  for (const auto& [extra, message] : usage) {
    const RunResult u = dry_with({}, extra);
    EXPECT_EQ(u.exit_code, 2) << Describe(u);
    EXPECT_EQ(u.err, message);
  }
  const RunResult no_count = dry_with({{"SLURM_ARRAY_TASK_ID", "2"}});
  EXPECT_EQ(no_count.exit_code, 2);
  EXPECT_EQ(no_count.err,
            "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: give "
            "the number of shards with --shard-count N\n");
}

TEST(CliBatch, GnuParallelShardsTogetherProcessEveryInputExactlyOnce) {
  if (std::system("command -v parallel >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "GNU parallel is not installed (Debian package parallel)";
  }
  Tree tree;
  fs::remove(tree / "in" / "sub" / "bad.png");
  fs::remove(tree / "in" / "trunc.png");
  // The recipe of docs/scaling.md, four shards as four processes.
  const std::string cmd =
      "cd '" + tree.t.path().string() +
      "' && parallel --will-cite --halt now,fail=1 '" + ConvcorrBinary() +
      "' correlate -k box:3 -r in -o out -q --jobs 1 --shard {}/4 "
      "--report shard{}.jsonl ::: 0 1 2 3";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::multiset<std::string> seen;
  for (int k = 0; k < 4; ++k) {
    for (const std::string& in :
         Processed(tree / ("shard" + std::to_string(k) + ".jsonl"))) {
      seen.insert(in);
    }
  }
  std::vector<std::string> all;
  for (const std::string& n : tree.good) all.push_back("in/" + n);
  EXPECT_EQ(std::vector<std::string>(seen.begin(), seen.end()), Sorted(all));
  EXPECT_EQ(ListFiles(tree / "out"), Sorted(tree.good));

  // The across-hosts recipe: --sshlogin over two hosts, with a stand-in
  // for ssh (GNU parallel runs `ssh [options] HOST -- COMMAND`) that runs
  // the command here, so the distribution itself is what is tested.
  // GNU parallel quotes the remote command for the shell it finds in
  // $SHELL, or failing that its parent's; CI may run with no $SHELL, and
  // the quoting then picked does not survive `sh -c`, so name the shell.
  WriteBytes(tree / "fake-ssh",
             "#!/bin/sh\n"
             "while [ $# -gt 0 ]; do case \"$1\" in --) break;; -*) shift;; "
             "*) break;; esac; done\n"
             "shift\n"
             "[ \"${1:-}\" = \"--\" ] && shift\n"
             "exec sh -c \"$*\"\n");
  fs::permissions(tree / "fake-ssh", fs::perms::owner_all);
  const std::string remote =
      "cd '" + tree.t.path().string() +
      "' && PARALLEL_SHELL=/bin/sh parallel --will-cite --halt now,fail=1 "
      "--ssh ./fake-ssh "
      "--sshlogin 2/hostA,2/hostB \"cd '" +
      tree.t.path().string() + "' && '" + ConvcorrBinary() +
      "' correlate -k box:3 -r in -o remote -q --shard {}/4 --report "
      "remote{}.jsonl && echo \\$PARALLEL_SSHLOGIN >> hosts.txt\" ::: 0 1 2 3";
  ASSERT_EQ(std::system(remote.c_str()), 0) << remote;
  std::multiset<std::string> remote_seen;
  for (int k = 0; k < 4; ++k) {
    for (const std::string& in :
         Processed(tree / ("remote" + std::to_string(k) + ".jsonl"))) {
      remote_seen.insert(in);
    }
  }
  EXPECT_EQ(std::vector<std::string>(remote_seen.begin(), remote_seen.end()),
            Sorted(all));
  EXPECT_EQ(ListFiles(tree / "remote"), Sorted(tree.good));
  const std::vector<std::string> hosts =
      Sorted(Lines(ReadBytes(tree / "hosts.txt")));
  ASSERT_EQ(hosts.size(), 4u);
  EXPECT_EQ(std::set<std::string>(hosts.begin(), hosts.end()),
            (std::set<std::string>{"hostA", "hostB"}));
}

TEST(CliBatch, UnreadableInputIsReportedOnceAndTheOthersWritten) {
  if (geteuid() == 0) {
    GTEST_SKIP() << "root reads files whatever their mode";
  }
  Tree tree;
  WriteCrop("camera.png", cv::Rect(0, 0, 20, 16), tree / "in" / "locked.png");
  fs::permissions(tree / "in" / "locked.png", fs::perms::none);
  const RunResult r = tree.Run({"correlate", "-k", "box:3", "-r", "in", "-o",
                                "out", "-q", "--report", "r.jsonl"});
  fs::permissions(tree / "in" / "locked.png", fs::perms::owner_all);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("input 'in/locked.png': "), std::string::npos) << r.err;
  EXPECT_EQ(ListFiles(tree / "out"), Sorted(tree.good));
  EXPECT_EQ(ByInput(ReadReport(tree / "r.jsonl")).at("in/locked.png")["status"],
            "failed");
}

TEST(CliBatch, ReportFileErrors) {
  Tree tree;
  const RunResult same = tree.Run({"correlate", "-k", "box:3", "in/a.png", "-o",
                                   "out.png", "--report", "in/a.png"});
  EXPECT_EQ(same.exit_code, 2) << Describe(same);
  EXPECT_EQ(same.err,
            "--report 'in/a.png' is also the input of 'in/a.png'; choose "
            "another report file\n");
  const RunResult out = tree.Run({"correlate", "-k", "box:3", "in/a.png", "-o",
                                  "out.png", "--report", "out.png"});
  EXPECT_EQ(out.exit_code, 2) << Describe(out);
  const RunResult dir = tree.Run({"correlate", "-k", "box:3", "in/a.png", "-o",
                                  "out.png", "--report", "nodir/report.jsonl"});
  EXPECT_EQ(dir.exit_code, 3) << Describe(dir);
  EXPECT_EQ(dir.err,
            "report 'nodir/report.jsonl': No such file or directory\n");
  EXPECT_FALSE(fs::exists(tree / "out.png"));
  const RunResult jobs = tree.Run(
      {"correlate", "-k", "box:3", "in/a.png", "-o", "o.png", "--jobs", "-1"});
  EXPECT_EQ(jobs.exit_code, 2) << Describe(jobs);
  EXPECT_EQ(jobs.err, "--jobs must be 0 (one per core) or more\n");
}

}  // namespace
}  // namespace convcorr::testing
