#include "cli/plan.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>
#include <system_error>
#include <utility>

#include "cli/parse.h"
#include "common/error.h"
#include "io/files.h"
#include "io/format.h"

namespace convcorr::cli {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void Usage(const std::string& message) {
  throw Error(ErrorKind::kUsage, message);
}

bool IsDirectory(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The encoding for a job written into a directory: --format, else the
// input's own extension, else png.
std::string DirectoryExt(const FilterOptions& options, const fs::path& input) {
  if (!options.format.empty()) return options.format;
  const std::string ext = io::ExtensionOf(input);
  return io::IsWritableExtension(ext) ? ext : "png";
}

// Lexically normalised absolute path, for comparing paths that may not exist.
fs::path Normal(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return (ec ? p : abs).lexically_normal();
}

// The inputs by file identity (device, inode) and by normalised name, built
// once, so that checking every output costs one stat and two lookups
// instead of a walk over every input (quadratic in the size of a folder).
class InputIndex {
 public:
  explicit InputIndex(const std::vector<Job>& jobs) {
    for (const Job& job : jobs) {
      if (job.from_stdin || job.error) continue;
      struct stat st {};
      if (::stat(job.input.c_str(), &st) == 0) {
        by_id_.emplace(std::make_pair(st.st_dev, st.st_ino), &job);
      }
      by_name_.emplace(Normal(job.input), &job);
    }
  }

  // A usage error if `out` is one of the inputs (the same file, or the same
  // path once normalised).
  void CheckNotAnInput(const fs::path& out) const {
    const Job* hit = nullptr;
    struct stat st {};
    if (::stat(out.c_str(), &st) == 0) {
      const auto it = by_id_.find({st.st_dev, st.st_ino});
      if (it != by_id_.end()) hit = it->second;
    }
    if (hit == nullptr) {
      const auto it = by_name_.find(Normal(out));
      if (it != by_name_.end()) hit = it->second;
    }
    if (hit != nullptr) {
      Usage("output '" + out.string() + "' is also the input '" + hit->name +
            "'; choose another output");
    }
  }

 private:
  std::map<std::pair<dev_t, ino_t>, const Job*> by_id_;
  std::map<fs::path, const Job*> by_name_;
};

}  // namespace

std::vector<fs::path> CompareOutputs(const Job& job,
                                     const FilterOptions& options) {
  const fs::path base = job.out_dir / job.stem;
  std::vector<fs::path> out = {
      base.string() + ".convolve." + job.ext,
      base.string() + ".correlate." + job.ext,
      base.string() + ".diff.png",
  };
  if (options.raw_diff) out.push_back(base.string() + ".diff.tif");
  if (options.panel) out.push_back(base.string() + ".panel.png");
  return out;
}

Plan MakePlan(const FilterOptions& options, bool compare) {
  CheckWritableFormat(options.format);
  if (options.output.empty()) {
    Usage("no output given: add -o FILE, -o DIR or -o - for stdout");
  }
  Plan plan;
  const std::vector<std::string> extensions =
      ParseExtensions(options.extensions);

  // Inputs, with the relative path each one is mirrored to.
  struct Source {
    Job job;
    fs::path relative;
  };
  std::vector<Source> sources;
  bool any_directory = false;
  int stdin_count = 0;
  for (const std::string& arg : options.inputs) {
    if (arg == "-") {
      ++stdin_count;
      Job job;
      job.name = "-";
      job.from_stdin = true;
      sources.push_back({job, "stdin"});
      continue;
    }
    const fs::path p(arg);
    if (IsDirectory(p)) {
      any_directory = true;
      for (const io::InputFile& f :
           io::ListImages(p, options.recursive, extensions)) {
        Job job;
        job.name = f.path.string();
        job.input = f.path;
        sources.push_back({job, f.relative});
      }
      continue;
    }
    Job job;
    job.name = arg;
    job.input = p;
    std::error_code ec;
    if (!fs::exists(fs::symlink_status(p, ec)) || !fs::exists(p, ec)) {
      job.error = "input '" + arg + "': no such file or directory";
    }
    sources.push_back({job, p.filename()});
  }
  // --files-from: each listed file keeps its relative directory, so that
  // `find . -name '*.jpg'` mirrors the tree; a path that is absolute or
  // climbs out with .. is written under its file name alone.
  for (const std::string& entry : options.listed) {
    const fs::path p(entry);
    Job job;
    job.name = entry;
    job.input = p;
    std::error_code ec;
    if (IsDirectory(p)) {
      job.error =
          "input '" + entry + "': is a directory (--files-from lists files)";
    } else if (!fs::exists(fs::symlink_status(p, ec)) || !fs::exists(p, ec)) {
      job.error = "input '" + entry + "': no such file or directory";
    }
    const fs::path normal = p.lexically_normal();
    const bool inside =
        normal.is_relative() && !normal.empty() && *normal.begin() != "..";
    sources.push_back({job, inside ? normal : p.filename()});
    any_directory = true;  // several files, or one mirrored: a directory
  }
  if (stdin_count > 1) Usage("stdin ('-') can be given only once");
  if (sources.empty()) {
    Usage("no input images found in " +
          std::string(options.inputs.size() == 1 ? "'" + options.inputs[0] + "'"
                                                 : "the given directories") +
          (options.recursive ? "" : " (use -r to search subdirectories)"));
  }

  // Where the results go.
  const std::string& out = options.output;
  if (out == "-") {
    if (compare) Usage("compare writes several files: -o must be a directory");
    if (sources.size() != 1 || any_directory) {
      Usage("-o - (stdout) takes exactly one input image");
    }
    Job& job = sources[0].job;
    job.to_stdout = true;
    job.ext = options.format.empty() ? "png" : options.format;
    plan.jobs.push_back(job);
    return plan;
  }
  const fs::path out_path(out);
  const std::string out_ext = io::ExtensionOf(out_path);
  // An -o with an extension names a file unless it is an existing
  // directory or ends with '/': its name is never guessed into a folder.
  const bool names_file =
      !out_ext.empty() && !IsDirectory(out_path) && out.back() != '/';
  if (names_file) {
    const std::string why = compare ? "compare writes several files"
                            : any_directory && sources.size() == 1
                                ? "a directory input needs an output directory"
                                : "several inputs need an output directory";
    if (compare || sources.size() > 1 || any_directory) {
      Usage(why + ", not the file '" + out +
            "' (a trailing / makes any name a directory)");
    }
    if (!io::IsWritableExtension(out_ext)) {
      Usage("output '" + out + "': convcorr cannot write ." + out_ext +
            " files; it writes " + io::WritableExtensionList());
    }
  }
  const bool single_file =
      !compare && sources.size() == 1 && !any_directory && names_file;
  if (single_file) {
    if (!options.format.empty() &&
        io::FormatOf(options.format) != io::FormatOf(out_ext)) {
      Usage("--format '" + options.format + "' conflicts with the output '" +
            out + "'; drop one of them");
    }
    Job& job = sources[0].job;
    job.output = out_path;
    job.ext = out_ext;
    plan.jobs.push_back(job);
    InputIndex(plan.jobs).CheckNotAnInput(job.output);
    return plan;
  }

  plan.output_is_dir = true;
  plan.out_root = out_path;
  std::map<fs::path, std::string> claimed;  // output -> input name
  std::vector<fs::path> all_outputs;
  for (Source& s : sources) {
    Job& job = s.job;
    job.ext = s.job.from_stdin
                  ? (options.format.empty() ? "png" : options.format)
                  : DirectoryExt(options, job.input);
    const fs::path rel_dir = s.relative.parent_path();
    job.out_dir = out_path / rel_dir;
    job.stem = s.relative.stem().string();
    std::vector<fs::path> outputs;
    if (compare) {
      outputs = CompareOutputs(job, options);
    } else {
      fs::path name = s.relative.filename();
      if (job.from_stdin) name = "stdin." + job.ext;
      if (!options.format.empty()) name.replace_extension(job.ext);
      job.output = job.out_dir / name;
      outputs = {job.output};
    }
    for (const fs::path& o : outputs) {
      const auto [it, inserted] = claimed.emplace(Normal(o), job.name);
      if (!inserted) {
        Usage("inputs '" + it->second + "' and '" + job.name +
              "' would both write '" + o.string() + "'");
      }
      all_outputs.push_back(o);
    }
    plan.jobs.push_back(job);
  }
  const InputIndex inputs(plan.jobs);
  for (const fs::path& o : all_outputs) inputs.CheckNotAnInput(o);
  return plan;
}

}  // namespace convcorr::cli
