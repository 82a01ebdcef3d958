#include "cli/run.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace convcorr::testing {

namespace fs = std::filesystem;

namespace {

std::string Slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  for (int attempt = 0; attempt < 100; ++attempt) {
    fs::path p =
        fs::temp_directory_path() /
        ("convcorr-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::error_code ec;
    if (fs::create_directory(p, ec)) {
      path_ = p;
      return;
    }
  }
  throw std::runtime_error("cannot create a temporary directory");
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

std::string ConvcorrBinary() {
  const char* given = std::getenv("CONVCORR_TEST_BINARY");
  return given != nullptr && *given != '\0' ? given : CONVCORR_BINARY;
}

RunResult RunConvcorr(const std::vector<std::string>& args,
                      const std::string& stdin_bytes, const fs::path& cwd) {
  TempDir io;
  const fs::path in = io / "stdin";
  const fs::path out = io / "stdout";
  const fs::path err = io / "stderr";
  std::ofstream(in, std::ios::binary) << stdin_bytes;

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<std::string> argv_s = {ConvcorrBinary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);

  // posix_spawn has no portable chdir action in glibc 2.36's C++ headers:
  // change directory around the spawn (tests run one spawn at a time).
  const fs::path old_cwd = fs::current_path();
  if (!cwd.empty()) fs::current_path(cwd);
  pid_t pid = 0;
  const int rc =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  if (!cwd.empty()) fs::current_path(old_cwd);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot run " + argv_s[0]);

  int status = 0;
  waitpid(pid, &status, 0);
  RunResult r;
  r.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = Slurp(out);
  r.err = Slurp(err);
  return r;
}

fs::path SamplesDir() { return fs::path(CONVCORR_SAMPLES_DIR) / "photos"; }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream s(text);
  for (std::string line; std::getline(s, line);) lines.push_back(line);
  return lines;
}

}  // namespace convcorr::testing
