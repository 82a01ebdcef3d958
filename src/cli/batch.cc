#include "cli/batch.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <new>
#include <numeric>
#include <string_view>
#include <system_error>
#include <thread>

#include "cli/exit_codes.h"
#include "common/error.h"
#include "core/filter.h"
#include "io/atomic_write.h"
#include "io/files.h"
#include "io/format.h"
#include "io/provenance.h"

namespace convcorr::cli {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void Usage(const std::string& message) {
  throw Error(ErrorKind::kUsage, message);
}

// A whole non-negative decimal number, or nullopt.
std::optional<long> ParseCount(std::string_view text) {
  long value = 0;
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

long EnvCount(const std::function<const char*(const char*)>& env,
              const char* name) {
  const char* v = env(name);
  const std::optional<long> n = ParseCount(v == nullptr ? "" : v);
  if (!n) {
    Usage(fmt::format("environment variable {}='{}': expected a whole number",
                      name, v == nullptr ? "" : v));
  }
  return *n;
}

Shard Checked(long index, long count, std::string source) {
  if (count < 1 || count > 1'000'000) {
    Usage(fmt::format("{}: the shard count must be from 1 to 1000000, not {}",
                      source, count));
  }
  if (index >= count) {
    Usage(fmt::format("{}: shard index {} is not below the count {}", source,
                      index, count));
  }
  return {static_cast<int>(index), static_cast<int>(count), std::move(source)};
}

// The report: one JSON object per line, each written with one write(2) so
// that a killed run leaves whole lines only.
class ReportFile {
 public:
  explicit ReportFile(const std::string& path) : path_(path) {
    if (path.empty()) return;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd_ < 0) {
      throw Error(ErrorKind::kOutput,
                  fmt::format("report '{}': {}", path,
                              std::generic_category().message(errno)));
    }
  }
  ~ReportFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  ReportFile(const ReportFile&) = delete;
  ReportFile& operator=(const ReportFile&) = delete;

  void Write(const nlohmann::json& record) {
    if (fd_ < 0) return;
    const std::string line = record.dump() + "\n";
    const std::lock_guard<std::mutex> lock(mutex_);
    size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw Error(ErrorKind::kOutput,
                    fmt::format("report '{}': {}", path_,
                                std::generic_category().message(errno)));
      }
      done += static_cast<size_t>(n);
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  std::mutex mutex_;
};

nlohmann::json PathsJson(const std::vector<fs::path>& paths) {
  nlohmann::json out = nlohmann::json::array();
  for (const fs::path& p : paths) out.push_back(p.string());
  return out;
}

// What --skip-existing does with `job`; kProcess without it.
Resume ResumeOf(const Job& job, const BatchSettings& settings,
                const JobOutputs& outputs, const JobProvenance& provenance) {
  if (!settings.skip_existing || job.error || job.to_stdout) return {};
  return CheckExisting(
      outputs(job),
      provenance ? provenance(job) : std::vector<std::optional<std::string>>{});
}

int DryRun(const Plan& plan, const BatchSettings& settings, Reporter& reporter,
           const JobOutputs& outputs, const JobProvenance& provenance) {
  using Action = Resume::Action;
  for (const Job& job : plan.jobs) {
    if (job.error) {
      reporter.Failure(*job.error);
      continue;
    }
    const std::vector<fs::path> out = outputs(job);
    const Resume resume = ResumeOf(job, settings, outputs, provenance);
    std::vector<std::string> names;
    for (const fs::path& p : out) names.push_back(p.string());
    std::string line;
    if (reporter.json()) {
      nlohmann::json j = {{"input", job.name}, {"outputs", PathsJson(out)}};
      switch (resume.action) {
        case Action::kProcess:
          j["action"] = "process";
          break;
        case Action::kRedo:
          j["action"] = "redo";
          j["reason"] = resume.why;
          break;
        case Action::kSkip:
          j["action"] = "skip";
          j["checked"] = !resume.unchecked;
          break;
      }
      line = j.dump();
    } else if (resume.action == Action::kSkip) {
      line = fmt::format(
          "skip {} (outputs exist: {}{})", job.name, fmt::join(names, ", "),
          resume.unchecked
              ? fmt::format("; not checked: {} files record no settings",
                            io::ExtensionOf(out.front()))
              : std::string());
    } else if (resume.action == Action::kRedo) {
      line = fmt::format("redo {} ({})", job.name, resume.why);
    } else {
      line = fmt::format("{} -> {}", job.name, fmt::join(names, ", "));
    }
    Reporter::Print({{true, line + "\n"}});
  }
  return reporter.failures() > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace

Resume CheckExisting(const std::vector<fs::path>& outputs,
                     const std::vector<std::optional<std::string>>& expected) {
  Resume r;
  if (outputs.empty() ||
      !std::all_of(outputs.begin(), outputs.end(),
                   [](const fs::path& p) { return io::LooksComplete(p); })) {
    return r;  // kProcess
  }
  bool checked = false;
  for (size_t i = 0; i < outputs.size() && i < expected.size(); ++i) {
    if (!expected[i]) continue;  // the format holds none
    checked = true;
    const std::optional<std::string> found = io::ReadProvenance(outputs[i]);
    if (found == expected[i]) continue;
    r.action = Resume::Action::kRedo;
    r.why = outputs[i].string() + (found ? " was made with other settings"
                                         : " does not record how it was made");
    return r;
  }
  r.action = Resume::Action::kSkip;
  r.unchecked = !checked && !expected.empty();
  return r;
}

std::optional<Shard> ResolveShard(
    const FilterOptions& options,
    const std::function<const char*(const char*)>& env) {
  if (!options.shard.empty()) {
    if (options.shard_count > 0) {
      Usage("--shard K/N and --shard-count N: give one of them");
    }
    const std::string& s = options.shard;
    const size_t slash = s.find('/');
    const std::optional<long> k =
        slash == std::string::npos
            ? std::nullopt
            : ParseCount(std::string_view(s).substr(0, slash));
    const std::optional<long> n =
        slash == std::string::npos
            ? std::nullopt
            : ParseCount(std::string_view(s).substr(slash + 1));
    if (!k || !n) {
      Usage(fmt::format("--shard '{}': expected K/N with 0 <= K < N, e.g. 0/4",
                        s));
    }
    return Checked(*k, *n, fmt::format("--shard '{}'", s));
  }
  if (env("SLURM_ARRAY_TASK_ID") != nullptr) {
    // Array indices may start anywhere and step: --array=1-16:3.
    const long id = EnvCount(env, "SLURM_ARRAY_TASK_ID");
    const long min = env("SLURM_ARRAY_TASK_MIN") != nullptr
                         ? EnvCount(env, "SLURM_ARRAY_TASK_MIN")
                         : 0;
    const long step = env("SLURM_ARRAY_TASK_STEP") != nullptr
                          ? std::max(1L, EnvCount(env, "SLURM_ARRAY_TASK_STEP"))
                          : 1;
    long count = 0;
    if (options.shard_count > 0) {
      count = options.shard_count;
    } else if (env("SLURM_ARRAY_TASK_COUNT") != nullptr) {
      count = EnvCount(env, "SLURM_ARRAY_TASK_COUNT");
    } else {
      Usage(
          "SLURM_ARRAY_TASK_ID is set but not SLURM_ARRAY_TASK_COUNT: give "
          "the number of shards with --shard-count N");
    }
    if (id < min || (id - min) % step != 0) {
      Usage(
          fmt::format("SLURM_ARRAY_TASK_ID={} is not in the array that "
                      "starts at {} with step {}",
                      id, min, step));
    }
    return Checked((id - min) / step, count,
                   "SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT");
  }
  if (env("JOB_COMPLETION_INDEX") != nullptr && options.shard_count > 0) {
    return Checked(EnvCount(env, "JOB_COMPLETION_INDEX"), options.shard_count,
                   "JOB_COMPLETION_INDEX and --shard-count");
  }
  if (options.shard_count > 0) {
    Usage(
        "--shard-count needs a shard index from the environment "
        "(JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID); or give --shard K/N");
  }
  return std::nullopt;
}

std::vector<Job> SelectShard(const std::vector<Job>& jobs, const Shard& shard) {
  std::vector<size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return jobs[a].name < jobs[b].name;
  });
  std::vector<Job> out;
  for (size_t p = 0; p < order.size(); ++p) {
    if (static_cast<int>(p % static_cast<size_t>(shard.count)) == shard.index) {
      out.push_back(jobs[order[p]]);
    }
  }
  return out;
}

int ResolveJobs(int requested, size_t jobs) {
  const int wanted = requested > 0 ? requested : core::ResolveThreads(0);
  return static_cast<int>(
      std::clamp<size_t>(std::min<size_t>(static_cast<size_t>(wanted), jobs), 1,
                         static_cast<size_t>(io::kMaxWriters)));
}

std::vector<std::string> ReadInputList(const std::string& source, bool nul) {
  std::vector<uint8_t> bytes;
  if (source == "-") {
    bytes = io::ReadStdinBytes();
  } else {
    std::error_code ec;
    if (!fs::is_regular_file(source, ec)) {
      Usage(fmt::format(
          "--files-from '{}': {}", source,
          fs::exists(source, ec) ? "not a regular file" : "no such file"));
    }
    try {
      bytes = io::ReadFileBytes(source);
    } catch (const Error& e) {
      Usage(fmt::format("--files-from '{}': cannot be read", source));
    }
  }
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()),
                              bytes.size());
  std::vector<std::string> list = io::SplitInputList(text, nul);
  // An entry is always a path: "-" in a list is a file named "-".
  for (std::string& entry : list) {
    if (entry == "-") entry = "./-";
  }
  return list;
}

std::string ProgressLine(size_t done, size_t total, size_t failed,
                         double seconds) {
  std::string line = fmt::format("[{}/{}]", done, total);
  if (done > 0 && seconds > 0) {
    const double rate = static_cast<double>(done) / seconds;
    const double eta = static_cast<double>(total - done) / rate;
    line += fmt::format(
        " {:.1f} files/s, ETA {}", rate,
        eta >= 60 ? fmt::format("{}m{:02}s", static_cast<int>(eta) / 60,
                                static_cast<int>(eta) % 60)
                  : fmt::format("{}s", static_cast<int>(std::ceil(eta))));
  }
  if (failed > 0) line += fmt::format(", {} failed", failed);
  return line;
}

int RunBatch(const Plan& plan, const BatchSettings& settings,
             Reporter& reporter, const JobOutputs& outputs, const JobBody& body,
             const JobProvenance& provenance) {
  if (settings.dry_run) {
    return DryRun(plan, settings, reporter, outputs, provenance);
  }
  ReportFile report(settings.report);
  const auto start = std::chrono::steady_clock::now();
  const size_t n = plan.jobs.size();
  const int workers =
      std::clamp(settings.jobs, 1, static_cast<int>(std::max<size_t>(n, 1)));

  std::vector<std::vector<Reporter::Line>> logs(n);
  std::vector<char> finished(n, 0);
  size_t printed = 0;  // jobs [0, printed) have had their lines printed
  std::mutex print_mutex;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::exception_ptr fatal;
  std::atomic<int> ok{0}, skipped{0}, failed{0}, redone{0};

  // The progress line is redrawn in place after each input; the lines of
  // finished inputs are printed above it (it is erased first).
  size_t completed = 0;
  const bool progress = settings.progress && !reporter.quiet() && n > 1;
  const auto print_ready = [&] {
    bool erased = false;
    while (printed < n && finished[printed]) {
      if (progress && !erased && !logs[printed].empty()) {
        Reporter::Print({{false, "\r\x1b[K"}});
        erased = true;
      }
      Reporter::Print(logs[printed]);
      logs[printed].clear();
      ++printed;
    }
    if (progress) {
      const double seconds = std::chrono::duration<double>(
                                 std::chrono::steady_clock::now() - start)
                                 .count();
      Reporter::Print(
          {{false,
            "\r\x1b[K" + ProgressLine(completed, n, failed.load(), seconds)}});
    }
  };

  // A job whose body has run; its staged outputs are not yet committed.
  struct Done {
    size_t index = 0;
    std::string status;
    std::string error;
    JobOutcome outcome;
    double ms = 0;
    std::string redo;  // why its existing outputs were made again
  };

  const auto run_one = [&](size_t i) -> Done {
    const Job& job = plan.jobs[i];
    Reporter r(reporter.quiet(), reporter.verbose(), reporter.json());
    r.Capture(&logs[i]);
    const auto t0 = std::chrono::steady_clock::now();
    Done done{i, "ok", "", {}, 0, ""};
    try {
      const Resume resume = ResumeOf(job, settings, outputs, provenance);
      if (resume.action == Resume::Action::kSkip) {
        done.status = "skipped";
        done.outcome.outputs = outputs(job);
        r.Verbose(fmt::format("skip {}: its outputs exist{}", job.name,
                              resume.unchecked ? " (not checked)" : ""));
      } else {
        if (resume.action == Resume::Action::kRedo) {
          done.redo = resume.why;
          r.Verbose(fmt::format("redo {}: {}", job.name, resume.why));
        }
        done.outcome = body(job, r);
      }
    } catch (const Error& e) {
      done.status = "failed";
      done.error = e.what();
      if (e.kind() != ErrorKind::kInput && e.kind() != ErrorKind::kUsage) {
        // Not this input's fault (an output that cannot be written): the
        // run stops once the inputs in flight are done.
        const std::lock_guard<std::mutex> lock(print_mutex);
        if (!fatal) fatal = std::current_exception();
        stop = true;
      } else {
        // A usage error found only now (a format that cannot hold this
        // input's depth) concerns this input alone.
        r.Failure(e.what());
      }
    } catch (const std::bad_alloc&) {
      done.error = fmt::format("input '{}': out of memory", job.name);
      r.Failure(done.error);
      done.status = "failed";
    } catch (...) {
      const std::lock_guard<std::mutex> lock(print_mutex);
      if (!fatal) fatal = std::current_exception();
      stop = true;
      done.status = "failed";
      done.error = "internal error";
    }
    done.ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - t0)
                  .count();
    return done;
  };

  // Commits a job's outputs (fsync and rename), then reports it: its lines
  // reach the terminal and the report only once its files are in place.
  const auto complete = [&](Done&& done) {
    const size_t i = done.index;
    try {
      for (io::StagedFile& file : done.outcome.staged) file.Commit();
    } catch (const Error& e) {
      const std::lock_guard<std::mutex> lock(print_mutex);
      if (!fatal) fatal = std::current_exception();
      stop = true;
      done.status = "failed";
      done.error = e.what();
      logs[i].clear();  // it said the file was written
    }
    done.outcome.staged.clear();  // removes what was not committed
    (done.status == "ok"        ? ok
     : done.status == "skipped" ? skipped
                                : failed) += 1;
    if (done.status == "ok" && !done.redo.empty()) ++redone;
    nlohmann::json record = {{"input", plan.jobs[i].name}};
    record["outputs"] = PathsJson(done.outcome.outputs);
    record["status"] = done.status;
    record["error"] =
        done.error.empty() ? nlohmann::json() : nlohmann::json(done.error);
    record["ms"] = std::round(done.ms * 10) / 10;
    if (!done.outcome.details.is_null()) record.update(done.outcome.details);
    if (!done.redo.empty()) record["redo"] = done.redo;
    try {
      report.Write(record);
      if (settings.on_record) settings.on_record(record);
    } catch (...) {
      // The report could not be written: stop, and say so once.
      const std::lock_guard<std::mutex> lock(print_mutex);
      if (!fatal) fatal = std::current_exception();
      stop = true;
    }
    const std::lock_guard<std::mutex> lock(print_mutex);
    finished[i] = 1;
    ++completed;
    try {
      print_ready();
    } catch (...) {
      // Standard output or error could not be written (fmt throws).
      if (!fatal) fatal = std::current_exception();
      stop = true;
    }
  };

  // With several inputs, one committer thread flushes and renames each
  // job's files while the workers go on with the next inputs: fsync mostly
  // waits for the disk, and a worker waiting with it would leave its core
  // idle. A short queue keeps the files staged at once (and their
  // descriptors) few.
  constexpr size_t kQueued = 2;
  std::deque<Done> queue;
  std::mutex queue_mutex;
  std::condition_variable queue_changed;
  bool workers_done = false;
  const bool committer = n > 1;
  const auto hand_over = [&](Done&& done) {
    if (!committer) {
      complete(std::move(done));
      return;
    }
    std::unique_lock<std::mutex> lock(queue_mutex);
    queue_changed.wait(lock, [&] { return queue.size() < kQueued; });
    queue.push_back(std::move(done));
    queue_changed.notify_all();
  };
  const auto commit_loop = [&] {
    for (;;) {
      std::unique_lock<std::mutex> lock(queue_mutex);
      queue_changed.wait(lock, [&] { return !queue.empty() || workers_done; });
      if (queue.empty()) return;
      Done done = std::move(queue.front());
      queue.pop_front();
      queue_changed.notify_all();
      lock.unlock();
      complete(std::move(done));
    }
  };

  const auto worker = [&] {
    while (!stop) {
      const size_t i = next.fetch_add(1);
      if (i >= n) break;
      hand_over(run_one(i));
    }
  };
  if (progress) Reporter::Print({{false, ProgressLine(0, n, 0, 0)}});
  std::thread commit_thread;
  if (committer) commit_thread = std::thread(commit_loop);
  if (workers == 1) {
    worker();
  } else {
    std::vector<std::thread> threads;
    threads.reserve(workers);
    for (int t = 0; t < workers; ++t) threads.emplace_back(worker);
    for (std::thread& t : threads) t.join();
  }
  if (committer) {
    {
      const std::lock_guard<std::mutex> lock(queue_mutex);
      workers_done = true;
    }
    queue_changed.notify_all();
    commit_thread.join();
  }
  {
    // After a stop, the lines of the inputs that finished, in order.
    const std::lock_guard<std::mutex> lock(print_mutex);
    for (size_t i = printed; i < n; ++i) {
      if (finished[i]) Reporter::Print(logs[i]);
    }
  }
  if (progress) Reporter::Print({{false, "\r\x1b[K"}});
  if (fatal) std::rethrow_exception(fatal);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  report.Write({{"summary",
                 {{"processed", ok.load()},
                  {"redone", redone.load()},
                  {"skipped", skipped.load()},
                  {"failed", failed.load()},
                  {"seconds", std::round(seconds * 1000) / 1000}}}});
  if (settings.summary && !reporter.quiet()) {
    Reporter::Print(
        {{false,
          fmt::format("{} processed{}, {} skipped, {} failed in {:.2f} s\n",
                      ok.load(),
                      redone > 0 ? fmt::format(" ({} redone)", redone.load())
                                 : std::string(),
                      skipped.load(), failed.load(), seconds)}});
  }
  return failed > 0 ? kExitSomeFailed : kExitOk;
}

}  // namespace convcorr::cli
