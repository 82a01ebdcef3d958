#include "cli/cli_util.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <thread>

extern char** environ;

namespace convcorr::testing {

namespace fs = std::filesystem;

fs::path Photo(const std::string& name) { return SamplesDir() / name; }

std::string ReadBytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void WriteBytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f << bytes;
}

cv::Mat Read(const fs::path& p) {
  return cv::imread(p.string(), cv::IMREAD_UNCHANGED);
}

cv::Mat Decode(const std::string& bytes) {
  if (bytes.empty()) return {};
  const std::vector<uchar> buf(bytes.begin(), bytes.end());
  return cv::imdecode(buf, cv::IMREAD_UNCHANGED);
}

fs::path WriteCrop(const std::string& name, cv::Rect rect,
                   const fs::path& dst) {
  const cv::Mat img = Read(Photo(name));
  if (img.empty()) throw std::runtime_error("cannot read sample " + name);
  if (!cv::imwrite(dst.string(), img(rect).clone())) {
    throw std::runtime_error("cannot write " + dst.string());
  }
  return dst;
}

namespace {

uint32_t Crc32(const std::string& bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k)
      crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

}  // namespace

std::string Be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
          static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string PngChunk(const std::string& type, const std::string& data) {
  return Be32(static_cast<uint32_t>(data.size())) + type + data +
         Be32(Crc32(type + data));
}

cv::Mat KernelMat(const std::vector<std::vector<float>>& rows) {
  cv::Mat k(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()),
            CV_32F);
  for (int i = 0; i < k.rows; ++i) {
    for (int j = 0; j < k.cols; ++j) k.at<float>(i, j) = rows[i][j];
  }
  return k;
}

cv::Mat RefCorrelate(const cv::Mat& src, const cv::Mat& k, cv::Point anchor,
                     int border, double value, OutSize size) {
  cv::Mat f;
  src.convertTo(f, CV_32F);
  int top = 0, bottom = 0, left = 0, right = 0;
  switch (size) {
    case OutSize::kSame:
      top = anchor.y;
      bottom = k.rows - 1 - anchor.y;
      left = anchor.x;
      right = k.cols - 1 - anchor.x;
      break;
    case OutSize::kValid:
      break;
    case OutSize::kFull:
      top = bottom = k.rows - 1;
      left = right = k.cols - 1;
      break;
  }
  cv::Mat padded;
  cv::copyMakeBorder(f, padded, top, bottom, left, right, border,
                     cv::Scalar::all(value));
  // With the anchor at (0,0), output (y,x) is sum K(i,j) padded(y+i, x+j);
  // the top-left (rows-kh+1) x (cols-kw+1) never reads outside `padded`.
  cv::Mat out;
  cv::filter2D(padded, out, CV_32F, k, cv::Point(0, 0), 0, cv::BORDER_CONSTANT);
  return out(cv::Rect(0, 0, padded.cols - k.cols + 1, padded.rows - k.rows + 1))
      .clone();
}

cv::Mat RefConvolve(const cv::Mat& src, const cv::Mat& k, cv::Point anchor,
                    int border, double value, OutSize size) {
  cv::Mat flipped;
  cv::flip(k, flipped, -1);
  return RefCorrelate(src, flipped,
                      cv::Point(k.cols - 1 - anchor.x, k.rows - 1 - anchor.y),
                      border, value, size);
}

cv::Mat ColorOf(const cv::Mat& img) {
  if (img.channels() == 4) {
    cv::Mat bgr;
    cv::cvtColor(img, bgr, cv::COLOR_BGRA2BGR);
    return bgr;
  }
  if (img.channels() == 2) {
    cv::Mat planes[2];
    cv::split(img, planes);
    return planes[0];
  }
  return img;
}

cv::Mat AlphaOf(const cv::Mat& img) {
  if (img.channels() != 4 && img.channels() != 2) return {};
  std::vector<cv::Mat> planes;
  cv::split(img, planes);
  return planes.back();
}

cv::Mat Quantize(const cv::Mat& f, int depth) {
  cv::Mat q;
  f.convertTo(q, depth);
  return q;
}

::testing::AssertionResult Near(const cv::Mat& actual, const cv::Mat& expected,
                                double tol) {
  if (actual.empty()) {
    return ::testing::AssertionFailure()
           << "the output is missing or cannot be decoded";
  }
  if (actual.size() != expected.size() ||
      actual.channels() != expected.channels()) {
    return ::testing::AssertionFailure()
           << "output is " << actual.cols << "x" << actual.rows << "x"
           << actual.channels() << ", expected " << expected.cols << "x"
           << expected.rows << "x" << expected.channels();
  }
  cv::Mat a, e;
  actual.convertTo(a, CV_64F);
  expected.convertTo(e, CV_64F);
  a = a.reshape(1);
  e = e.reshape(1);
  const int ch = actual.channels();
  int bad = 0;
  double worst = 0;
  std::ostringstream first;
  for (int y = 0; y < a.rows; ++y) {
    for (int xc = 0; xc < a.cols; ++xc) {
      const double av = a.at<double>(y, xc);
      const double ev = e.at<double>(y, xc);
      const double d = std::fabs(av - ev);
      if (!(d <= tol)) {  // NaN counts as bad
        if (bad == 0) {
          first << "first bad sample at x=" << xc / ch << " y=" << y
                << " channel " << xc % ch << ": got " << av << ", expected "
                << ev;
        }
        ++bad;
        if (!(d <= worst)) worst = d;
      }
    }
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " samples off by more than " << tol << " (worst " << worst
         << "); " << first.str();
}

::testing::AssertionResult Identical(const cv::Mat& a, const cv::Mat& b) {
  if (a.empty() || b.empty()) {
    return ::testing::AssertionFailure() << "an image is missing";
  }
  if (a.type() != b.type()) {
    return ::testing::AssertionFailure()
           << "types differ: " << a.type() << " vs " << b.type();
  }
  return Near(a, b, 0.0);
}

std::vector<std::string> ListFiles(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      out.push_back(fs::relative(e.path(), dir).generic_string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> HiddenEntries(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().filename().string().rfind('.', 0) == 0) {
      out.push_back(fs::relative(e.path(), dir).generic_string());
    }
  }
  return out;
}

pid_t StartConvcorr(const std::vector<std::string>& args, int stdin_fd,
                    const fs::path& cwd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  for (int fd = 1; fd <= 2; ++fd) {
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0);
  }
  std::vector<std::string> argv_s = {ConvcorrBinary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // As in RunConvcorr: change directory around the spawn.
  const fs::path old_cwd = fs::current_path();
  if (!cwd.empty()) fs::current_path(cwd);
  pid_t pid = 0;
  const int rc =
      posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  if (!cwd.empty()) fs::current_path(old_cwd);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot run " + argv_s[0]);
  return pid;
}

int RunAndSignal(const std::vector<std::string>& args, int sig, int delay_ms) {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  pid_t pid = 0;
  try {
    pid = StartConvcorr(args, pipe_fds[0]);
  } catch (...) {
    close(pipe_fds[0]);
    close(pipe_fds[1]);
    throw;
  }
  close(pipe_fds[0]);
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  close(pipe_fds[1]);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string NoPseudoTerminal() {
  if (std::system("command -v script >/dev/null 2>&1") != 0) {
    return "script(1) is not installed (Debian package bsdutils)";
  }
  // Without pseudo-terminals to give, script fails before running anything.
  if (std::system("script -qec 'test -t 1 && test -t 2' /dev/null "
                  ">/dev/null 2>&1") != 0) {
    return "script(1) cannot open a pseudo-terminal here";
  }
  return "";
}

std::string OnATerminal(const std::string& command, const fs::path& cwd,
                        int* exit_code) {
  const fs::path log = cwd / "terminal.log";
  const std::string cmd = "cd '" + cwd.string() + "' && script -qec \"" +
                          command + "\" '" + log.string() + "' >/dev/null";
  const int status = std::system(cmd.c_str());
  EXPECT_NE(status, -1);
  // script -e exits with the command's code.
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ReadBytes(log);
}

std::string Describe(const RunResult& r) {
  std::string s = "exit " + std::to_string(r.exit_code) + "\nstderr:\n" + r.err;
  const bool text = std::all_of(r.out.begin(), r.out.end(), [](char c) {
    return c == '\n' || c == '\t' ||
           (static_cast<unsigned char>(c) >= 32 &&
            static_cast<unsigned char>(c) < 127);
  });
  s += text ? "stdout:\n" + r.out.substr(0, 4000)
            : "stdout: " + std::to_string(r.out.size()) + " binary bytes";
  return s;
}

}  // namespace convcorr::testing
