// Runs the built convcorr binary as a user would, capturing everything.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace convcorr::testing {

struct RunResult {
  int exit_code = -1;  // 128+N when killed by signal N
  std::string out;     // stdout bytes (may be an image)
  std::string err;     // stderr text
};

// The binary under test: $CONVCORR_TEST_BINARY when set (CI runs these
// tests against the sanitizer builds' binaries), else the one this build
// made (CONVCORR_BINARY).
std::string ConvcorrBinary();

// Runs ConvcorrBinary() with `args` in `cwd` (empty: the current directory),
// feeding `stdin_bytes` on standard input.
RunResult RunConvcorr(const std::vector<std::string>& args,
                      const std::string& stdin_bytes = "",
                      const std::filesystem::path& cwd = {});

// A fresh empty directory under the system temp directory, removed by the
// destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const {
    return path_ / name;
  }

 private:
  std::filesystem::path path_;
};

// The sample photos directory of the source tree.
std::filesystem::path SamplesDir();

// All lines of `text` (without the newline).
std::vector<std::string> Lines(const std::string& text);

}  // namespace convcorr::testing
