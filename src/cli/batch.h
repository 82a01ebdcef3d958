// The batch driver: runs a plan's jobs on several files at once, in input
// order on the terminal, with a JSON-lines report, resume (--skip-existing),
// a dry run and sharding over processes and machines (docs/batch.md).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/options.h"
#include "cli/plan.h"
#include "cli/report.h"
#include "io/atomic_write.h"

namespace convcorr::cli {

// One slice of the sorted input list: inputs at positions p with
// p % count == index.
struct Shard {
  int index = 0;
  int count = 1;
  std::string source;  // where it came from, for the note: "--shard", ...
};

// The shard this process runs: --shard K/N; else, from the environment,
// a Slurm array task (SLURM_ARRAY_TASK_ID, _COUNT, _MIN, _STEP) or a
// Kubernetes indexed Job (JOB_COMPLETION_INDEX, with N from --shard-count);
// nullopt for every input. `env` looks a variable up (nullptr if unset).
// Throws Error(kUsage) for malformed or inconsistent values.
std::optional<Shard> ResolveShard(
    const FilterOptions& options,
    const std::function<const char*(const char*)>& env);

// The jobs of `shard`, in sorted order of their names.
std::vector<Job> SelectShard(const std::vector<Job>& jobs, const Shard& shard);

// Files in flight for `jobs` inputs: --jobs, or by default one per core
// (at most one per input).
int ResolveJobs(int requested, size_t jobs);

// The inputs named by --files-from (a file, or "-" for stdin).
std::vector<std::string> ReadInputList(const std::string& source, bool nul);

struct BatchSettings {
  int jobs = 1;                // files in flight
  std::string report;          // JSON-lines report path, or empty
  bool skip_existing = false;  // skip inputs whose outputs are complete
  bool dry_run = false;        // list what would be done, write nothing
  bool summary = false;        // print the summary line on stderr
  bool progress = false;       // keep a progress line on stderr (a terminal)
  // Called with each input's report record once its files are in place
  // (compare --html collects them), from the committing thread.
  std::function<void(const nlohmann::json&)> on_record;
};

// The progress line: "[done/total] rate/s, ETA, failures".
std::string ProgressLine(size_t done, size_t total, size_t failed,
                         double seconds);

// What one finished input wrote, for the report.
struct JobOutcome {
  std::vector<std::filesystem::path> outputs;
  nlohmann::json details;  // more report fields (compare statistics), or null
  // The job's files, written but not yet flushed and renamed: RunBatch
  // commits them before it reports the job.
  std::vector<io::StagedFile> staged;
};

using JobBody = std::function<JobOutcome(const Job&, Reporter&)>;
using JobOutputs =
    std::function<std::vector<std::filesystem::path>(const Job&)>;
// The provenance (io/provenance.h) each of a job's outputs must hold for
// --skip-existing to keep it, in the order of JobOutputs; nullopt for an
// output whose format holds none (it is kept if complete, unchecked).
using JobProvenance =
    std::function<std::vector<std::optional<std::string>>(const Job&)>;

// What --skip-existing does with a job whose outputs may exist.
struct Resume {
  enum class Action {
    kProcess,  // an output is missing or incomplete
    kRedo,     // all complete, but one was made otherwise
    kSkip,     // all complete, and as this run would make them
  };
  Action action = Action::kProcess;
  // kRedo: why, naming the first output found wanting: "out/a.png was made
  // with other settings" or "out/a.png does not record how it was made".
  std::string why;
  // kSkip: no output's provenance could be checked (formats without one).
  bool unchecked = false;
};
// Checks `outputs` against `expected` (JobProvenance's, or empty: every
// complete output is kept unchecked).
Resume CheckExisting(const std::vector<std::filesystem::path>& outputs,
                     const std::vector<std::optional<std::string>>& expected);

// Runs `body` for every job, `settings.jobs` at a time, and commits the
// files each job staged (on a committer thread when there are several
// jobs). A job's lines are printed once its files are in place and every
// job before it has been printed, so the terminal shows them in input
// order; the report gets one line per input as each is committed, written
// whole, so a run killed half way leaves a valid report of what it
// finished. Input errors fail that input alone; an output error stops
// taking new inputs and is rethrown once the inputs in flight are done.
// With --skip-existing, a job is skipped or redone as CheckExisting says
// (`provenance` gives what its outputs must hold; none: completeness
// alone). Returns kExitSomeFailed if any input failed.
int RunBatch(const Plan& plan, const BatchSettings& settings,
             Reporter& reporter, const JobOutputs& outputs, const JobBody& body,
             const JobProvenance& provenance = nullptr);

}  // namespace convcorr::cli
