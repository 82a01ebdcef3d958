// Inputs to jobs, in-process (src/cli/plan.cc and the shard logic of
// src/cli/batch.cc): where each input's outputs go, and the plans that are
// refused before any work.
#include "cli/plan.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/batch.h"
#include "cli/usage_error.h"
#include "common/error.h"
#include "io/io_test_util.h"

namespace convcorr::cli {
namespace {

namespace fs = std::filesystem;
using convcorr::io::testing::TempDir;
using convcorr::io::testing::WriteFile;

FilterOptions Options(std::vector<std::string> inputs, std::string output) {
  FilterOptions o;
  o.inputs = std::move(inputs);
  o.output = std::move(output);
  return o;
}

// A directory with a.png, b.jpg, notes.txt and sub/c.tif.
struct Tree {
  TempDir dir;
  Tree() {
    fs::create_directory(dir / "in");
    fs::create_directory(dir / "in" / "sub");
    for (const char* name :
         {"in/a.png", "in/b.jpg", "in/notes.txt", "in/sub/c.tif"}) {
      WriteFile(dir / name, "x");
    }
  }
  std::string in() const { return (dir / "in").string(); }
  std::string out() const { return (dir / "out").string(); }
};

TEST(MakePlan, OneFileToOneFile) {
  Tree t;
  const Plan plan = MakePlan(
      Options({(t.dir / "in/a.png").string()}, (t.dir / "x.tif").string()),
      false);
  ASSERT_EQ(plan.jobs.size(), 1u);
  EXPECT_FALSE(plan.output_is_dir);
  EXPECT_EQ(plan.jobs[0].output, t.dir / "x.tif");
  EXPECT_EQ(plan.jobs[0].ext, "tif");
  EXPECT_FALSE(plan.jobs[0].error);
}

TEST(MakePlan, DirectoryMirrorsItsImagesAndKeepsTheirFormats) {
  Tree t;
  FilterOptions o = Options({t.in()}, t.out());
  std::map<std::string, fs::path> outputs;
  for (const Job& job : MakePlan(o, false).jobs) {
    outputs[fs::path(job.name).filename().string()] = job.output;
  }
  EXPECT_EQ(outputs.size(), 2u) << "sub/ without -r, notes.txt never";
  EXPECT_EQ(outputs["a.png"], fs::path(t.out()) / "a.png");
  EXPECT_EQ(outputs["b.jpg"], fs::path(t.out()) / "b.jpg");

  o.recursive = true;
  o.format = "webp";
  outputs.clear();
  for (const Job& job : MakePlan(o, false).jobs) {
    outputs[fs::path(job.name).filename().string()] = job.output;
    EXPECT_EQ(job.ext, "webp");
  }
  EXPECT_EQ(outputs["c.tif"], fs::path(t.out()) / "sub" / "c.webp");
  EXPECT_EQ(outputs["a.png"], fs::path(t.out()) / "a.webp");
}

TEST(MakePlan, CompareWritesItsFilesByRole) {
  Tree t;
  FilterOptions o = Options({(t.dir / "in/b.jpg").string()}, t.out());
  o.panel = true;
  o.raw_diff = true;
  const Plan plan = MakePlan(o, true);
  ASSERT_EQ(plan.jobs.size(), 1u);
  const fs::path base = fs::path(t.out()) / "b";
  EXPECT_EQ(CompareOutputs(plan.jobs[0], o),
            (std::vector<fs::path>{
                base.string() + ".convolve.jpg",
                base.string() + ".correlate.jpg", base.string() + ".diff.png",
                base.string() + ".diff.tif", base.string() + ".panel.png"}));
}

TEST(MakePlan, MissingInputsBecomeJobErrorsNotPlanErrors) {
  Tree t;
  const std::string missing = (t.dir / "gone.png").string();
  const Plan plan = MakePlan(Options({missing, t.in()}, t.out()), false);
  ASSERT_EQ(plan.jobs.size(), 3u);
  ASSERT_TRUE(plan.jobs[0].error);
  EXPECT_EQ(*plan.jobs[0].error,
            "input '" + missing + "': no such file or directory");
}

TEST(MakePlan, RefusedPlans) {
  Tree t;
  const std::string a = (t.dir / "in/a.png").string();
  const std::string b = (t.dir / "in/b.jpg").string();
  EXPECT_EQ(UsageError([&] { MakePlan(Options({a}, ""), false); }),
            "no output given: add -o FILE, -o DIR or -o - for stdout");
  EXPECT_EQ(UsageError([&] {
              MakePlan(Options({a, b}, "-"), false);
            }),
            "-o - (stdout) takes exactly one input image");
  EXPECT_EQ(UsageError([&] { MakePlan(Options({a}, "-"), true); }),
            "compare writes several files: -o must be a directory");
  EXPECT_EQ(UsageError([&] {
              MakePlan(Options({"-", "-"}, t.out()), false);
            }),
            "stdin ('-') can be given only once");
  const std::string two = (t.dir / "two.png").string();
  EXPECT_EQ(UsageError([&] {
              MakePlan(Options({a, b}, two), false);
            }),
            "several inputs need an output directory, not the file '" + two +
                "' (a trailing / makes any name a directory)");
  const std::string gif = (t.dir / "out.gif").string();
  EXPECT_EQ(UsageError([&] { MakePlan(Options({a}, gif), false); }),
            "output '" + gif +
                "': convcorr cannot write .gif files; it writes png, jpg, "
                "jpeg, jpe, tif, tiff, webp, bmp, pgm, ppm, pnm, pfm");
  EXPECT_EQ(UsageError([&] { MakePlan(Options({a}, a), false); }),
            "output '" + a + "' is also the input '" + a +
                "'; choose another output");
  // The same file by another spelling, and through a hard link.
  const std::string dotted = (t.dir / "in/./a.png").string();
  EXPECT_FALSE(
      UsageError([&] { MakePlan(Options({a}, dotted), false); }).empty());
  fs::create_hard_link(a, t.dir / "link.png");
  EXPECT_FALSE(UsageError([&] {
                 MakePlan(Options({a}, (t.dir / "link.png").string()), false);
               }).empty());
  // Two inputs whose outputs collide.
  fs::create_directory(t.dir / "other");
  WriteFile(t.dir / "other" / "a.png", "x");
  EXPECT_EQ(UsageError([&] {
              MakePlan(Options({a, (t.dir / "other/a.png").string()}, t.out()),
                       false);
            }),
            "inputs '" + a + "' and '" + (t.dir / "other/a.png").string() +
                "' would both write '" +
                (fs::path(t.out()) / "a.png").string() + "'");
  FilterOptions bad_ext = Options({t.in()}, t.out());
  bad_ext.extensions = "png,gif";
  EXPECT_EQ(UsageError([&] { MakePlan(bad_ext, false); }),
            "--ext 'png,gif': 'gif' is not an image format convcorr reads "
            "(e.g. jpg, png, tif)");
}

// --- shards ------------------------------------------------------------------

std::function<const char*(const char*)> Env(
    std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

TEST(ResolveShard, FromTheOptionOrTheEnvironment) {
  FilterOptions o;
  EXPECT_FALSE(ResolveShard(o, Env({})));
  o.shard = "1/4";
  std::optional<Shard> s = ResolveShard(o, Env({}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 1);
  EXPECT_EQ(s->count, 4);

  FilterOptions slurm;
  s = ResolveShard(slurm, Env({{"SLURM_ARRAY_TASK_ID", "7"},
                               {"SLURM_ARRAY_TASK_MIN", "1"},
                               {"SLURM_ARRAY_TASK_STEP", "3"},
                               {"SLURM_ARRAY_TASK_COUNT", "6"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 2);  // ids 1, 4, 7, ...
  EXPECT_EQ(s->count, 6);

  FilterOptions k8s;
  k8s.shard_count = 3;
  s = ResolveShard(k8s, Env({{"JOB_COMPLETION_INDEX", "2"}}));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->index, 2);
  EXPECT_EQ(s->count, 3);
}

TEST(ResolveShard, InconsistentValuesAreUsageErrors) {
  FilterOptions o;
  for (const char* bad : {"4/4", "1", "a/2", "-1/2", "1/"}) {
    o.shard = bad;
    EXPECT_FALSE(UsageError([&] { ResolveShard(o, Env({})); }).empty()) << bad;
  }
  o.shard = "0/0";
  EXPECT_EQ(UsageError([&] { ResolveShard(o, Env({})); }),
            "--shard '0/0': the shard count must be from 1 to 1000000, not 0");
  o.shard = "0/2";
  o.shard_count = 2;
  EXPECT_EQ(UsageError([&] { ResolveShard(o, Env({})); }),
            "--shard K/N and --shard-count N: give one of them");
  FilterOptions slurm;
  EXPECT_EQ(UsageError([&] {
              ResolveShard(slurm, Env({{"SLURM_ARRAY_TASK_ID", "2"}}));
            }),
            "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: give "
            "the number of shards with --shard-count N");
  EXPECT_EQ(UsageError([&] {
              ResolveShard(slurm, Env({{"SLURM_ARRAY_TASK_ID", "x"},
                                       {"SLURM_ARRAY_TASK_COUNT", "2"}}));
            }),
            "environment variable SLURM_ARRAY_TASK_ID='x': expected a whole "
            "number");
  FilterOptions count_only;
  count_only.shard_count = 2;
  EXPECT_FALSE(UsageError([&] { ResolveShard(count_only, Env({})); }).empty());
}

TEST(SelectShard, ShardsPartitionTheSortedInputs) {
  std::vector<Job> jobs;
  for (const char* name : {"d", "a", "c", "e", "b", "g", "f"}) {
    Job job;
    job.name = name;
    jobs.push_back(job);
  }
  std::multiset<std::string> seen;
  for (int k = 0; k < 3; ++k) {
    const std::vector<Job> part = SelectShard(jobs, Shard{k, 3, ""});
    for (const Job& job : part) seen.insert(job.name);
    if (k == 0) {
      ASSERT_EQ(part.size(), 3u);
      EXPECT_EQ(part[0].name, "a");  // sorted positions 0, 3, 6
      EXPECT_EQ(part[1].name, "d");
      EXPECT_EQ(part[2].name, "g");
    }
  }
  EXPECT_EQ(seen,
            (std::multiset<std::string>{"a", "b", "c", "d", "e", "f", "g"}));
}

TEST(ResolveJobs, DefaultsToTheCoresAndNeverExceedsTheInputs) {
  EXPECT_EQ(ResolveJobs(4, 2), 2);
  EXPECT_EQ(ResolveJobs(3, 100), 3);
  EXPECT_EQ(ResolveJobs(1, 0), 1);
  EXPECT_GE(ResolveJobs(0, 1000), 1);
  EXPECT_EQ(ResolveJobs(100000, 100000), 256);
}

TEST(ProgressLine, CountsRateAndTimeLeft) {
  EXPECT_EQ(ProgressLine(0, 10, 0, 0), "[0/10]");
  EXPECT_EQ(ProgressLine(5, 10, 0, 2.0), "[5/10] 2.5 files/s, ETA 2s");
  EXPECT_EQ(ProgressLine(10, 1000, 2, 1.0),
            "[10/1000] 10.0 files/s, ETA 1m39s, 2 failed");
}

}  // namespace
}  // namespace convcorr::cli
