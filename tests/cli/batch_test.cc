// The batch driver in-process (src/cli/batch.cc): each job's staged files
// are committed before the job is reported, and a failed commit stops the
// run as an output error without a temporary file left behind.
#include "cli/batch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/atomic_write.h"
#include "io/io_test_util.h"

namespace convcorr::cli {
namespace {

namespace fs = std::filesystem;
using convcorr::io::testing::DirEntries;
using convcorr::io::testing::ReadFile;
using convcorr::io::testing::TempDir;

Plan PlanOf(int n) {
  Plan plan;
  for (int i = 0; i < n; ++i) {
    Job job;
    job.name = "in" + std::to_string(i);
    plan.jobs.push_back(job);
  }
  return plan;
}

// The report's complete lines (one being written may be cut short).
std::vector<nlohmann::json> ReportLines(const fs::path& path) {
  const std::vector<uint8_t> bytes = ReadFile(path);
  std::vector<nlohmann::json> out;
  size_t start = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (bytes[i] != '\n') continue;
    out.push_back(
        nlohmann::json::parse(bytes.begin() + start, bytes.begin() + i));
    start = i + 1;
  }
  return out;
}

bool HasHiddenEntry(const fs::path& dir) {
  for (const std::string& name : DirEntries(dir)) {
    if (name[0] == '.') return true;
  }
  return false;
}

std::vector<uint8_t> Contents(const std::string& name) {
  return std::vector<uint8_t>(name.begin(), name.end());
}

class RunBatchTest : public ::testing::TestWithParam<int> {};

TEST_P(RunBatchTest, EveryReportedJobHasItsFilesInPlace) {
  TempDir dir;
  const fs::path report = dir / "report.jsonl";
  const fs::path out = dir / "out";
  fs::create_directory(out);
  const Plan plan = PlanOf(12);
  BatchSettings settings;
  settings.jobs = GetParam();
  settings.report = report.string();
  Reporter reporter(/*quiet=*/true, false, false);
  std::atomic<int> missing{0};
  std::mutex report_mutex;
  const int code = RunBatch(
      plan, settings, reporter,
      [&](const Job& job) {
        return std::vector<fs::path>{out / (job.name + ".a")};
      },
      [&](const Job& job, Reporter&) {
        // Whatever the report says is done so far must be on disk, whole.
        {
          const std::lock_guard<std::mutex> lock(report_mutex);
          for (const nlohmann::json& r : ReportLines(report)) {
            for (const auto& p : r["outputs"]) {
              const fs::path path = p.get<std::string>();
              if (!fs::exists(path) ||
                  ReadFile(path) != Contents(path.filename().string())) {
                ++missing;
              }
            }
          }
        }
        JobOutcome outcome;
        for (const char* role : {".a", ".b"}) {
          const fs::path path = out / (job.name + role);
          outcome.outputs.push_back(path);
          outcome.staged.push_back(
              io::StageFile(path, Contents(path.filename().string())));
        }
        return outcome;
      });
  EXPECT_EQ(code, 0);
  EXPECT_EQ(missing.load(), 0);
  const std::vector<nlohmann::json> lines = ReportLines(report);
  ASSERT_EQ(lines.size(), 13u);  // one per input and the summary
  std::set<std::string> inputs;
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    EXPECT_EQ(lines[i]["status"], "ok") << lines[i].dump();
    inputs.insert(lines[i]["input"].get<std::string>());
  }
  EXPECT_EQ(inputs.size(), 12u);
  EXPECT_EQ(lines.back()["summary"]["processed"], 12);
  EXPECT_EQ(DirEntries(out).size(), 24u);
  EXPECT_FALSE(HasHiddenEntry(out));
  for (int i = 0; i < 12; ++i) {
    const std::string name = "in" + std::to_string(i) + ".b";
    EXPECT_EQ(ReadFile(out / name), Contents(name));
  }
}

TEST_P(RunBatchTest, AFailedCommitIsAnOutputErrorThatStopsTheRun) {
  TempDir dir;
  const fs::path report = dir / "report.jsonl";
  const fs::path out = dir / "out";
  fs::create_directory(out);
  const Plan plan = PlanOf(6);
  BatchSettings settings;
  settings.jobs = GetParam();
  settings.report = report.string();
  Reporter reporter(/*quiet=*/false, /*verbose=*/true, false);
  const fs::path blocked = out / "in0.a";
  ::testing::internal::CaptureStderr();
  std::string message;
  try {
    RunBatch(
        plan, settings, reporter,
        [&](const Job& job) {
          return std::vector<fs::path>{out / (job.name + ".a")};
        },
        [&](const Job& job, Reporter& r) {
          const fs::path path = out / (job.name + ".a");
          JobOutcome outcome;
          outcome.outputs.push_back(path);
          outcome.staged.push_back(io::StageFile(path, Contents(job.name)));
          if (path == blocked) {
            // Staged, then its name taken by a non-empty directory: the
            // rename at commit time fails.
            fs::create_directory(path);
            std::ofstream(path / "keep.txt") << "x";
          }
          r.Verbose("wrote " + path.string());
          return outcome;
        });
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kOutput);
    message = e.what();
  }
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(message, "output '" + blocked.string() + "': is a directory");
  // The failed job does not say it wrote its file.
  EXPECT_EQ(err.find("wrote " + blocked.string()), std::string::npos) << err;
  EXPECT_TRUE(fs::is_directory(blocked));
  EXPECT_EQ(DirEntries(blocked), std::set<std::string>{"keep.txt"});
  EXPECT_FALSE(HasHiddenEntry(out));
  // The failed job is reported failed; the run stopped before its summary,
  // and every job it reported as done has its file.
  int failed = 0;
  for (const nlohmann::json& line : ReportLines(report)) {
    ASSERT_TRUE(line.contains("input")) << line.dump();
    const fs::path path = out / (line["input"].get<std::string>() + ".a");
    if (path == blocked) {
      ++failed;
      EXPECT_EQ(line["status"], "failed");
      EXPECT_EQ(line["error"], message);
    } else {
      EXPECT_EQ(line["status"], "ok");
      EXPECT_TRUE(fs::is_regular_file(path)) << path;
      EXPECT_EQ(ReadFile(path), Contents(line["input"].get<std::string>()));
    }
  }
  EXPECT_EQ(failed, 1);
}

INSTANTIATE_TEST_SUITE_P(Jobs, RunBatchTest, ::testing::Values(1, 2, 4),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return "jobs" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace convcorr::cli
