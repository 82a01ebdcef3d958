// Helpers for the end-to-end CLI tests: reading and writing test images, an
// independent OpenCV oracle for correlate and convolve, and pixel comparisons
// that report the first bad pixel.
#pragma once

#include <gtest/gtest.h>
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "cli/run.h"

// Runs convcorr and asserts exit 0, naming the run's output on failure.
#define RUN_OK(result, ...)                          \
  const RunResult result = RunConvcorr(__VA_ARGS__); \
  ASSERT_EQ(result.exit_code, 0) << Describe(result)

namespace convcorr::testing {

// A sample photo by file name.
std::filesystem::path Photo(const std::string& name);

// The whole file as bytes ("" if it cannot be read).
std::string ReadBytes(const std::filesystem::path& p);
// Writes bytes to a file, replacing it.
void WriteBytes(const std::filesystem::path& p, const std::string& bytes);

// cv::imread with IMREAD_UNCHANGED (empty Mat if unreadable).
cv::Mat Read(const std::filesystem::path& p);
// cv::imdecode with IMREAD_UNCHANGED of in-memory bytes.
cv::Mat Decode(const std::string& bytes);
// Writes `rect` of the sample photo `name` to `dst` with cv::imwrite and
// returns dst.
std::filesystem::path WriteCrop(const std::string& name, cv::Rect rect,
                                const std::filesystem::path& dst);

// v as 4 bytes, most significant first (PNG's integers).
std::string Be32(uint32_t v);
// A PNG chunk: the data's length, the type, the data and the CRC-32 of
// type and data, for PNGs made or damaged by hand.
std::string PngChunk(const std::string& type, const std::string& data);

// A CV_32F kernel from rows of weights.
cv::Mat KernelMat(const std::vector<std::vector<float>>& rows);

enum class OutSize { kSame, kValid, kFull };

// Independent oracle: pads `src` with cv::copyMakeBorder (`border` an OpenCV
// BORDER_* value, `value` for BORDER_CONSTANT) by exactly what the output
// window needs, then correlates with cv::filter2D and crops. Returns float
// samples with the channel count of `src`:
//   same:  O(y,x) = sum K(i,j) I(y+i-ay, x+j-ax)
//   valid: O(y,x) = sum K(i,j) I(y+i, x+j)
//   full:  O(y,x) = sum K(i,j) I(y+i-(kh-1), x+j-(kw-1))
cv::Mat RefCorrelate(const cv::Mat& src, const cv::Mat& k, cv::Point anchor,
                     int border = cv::BORDER_REFLECT_101, double value = 0,
                     OutSize size = OutSize::kSame);
inline cv::Mat RefCorrelate(const cv::Mat& src, const cv::Mat& k) {
  return RefCorrelate(src, k, cv::Point(k.cols / 2, k.rows / 2));
}
// Convolution: the kernel flipped on both axes, the anchor mirrored.
cv::Mat RefConvolve(const cv::Mat& src, const cv::Mat& k, cv::Point anchor,
                    int border = cv::BORDER_REFLECT_101, double value = 0,
                    OutSize size = OutSize::kSame);
inline cv::Mat RefConvolve(const cv::Mat& src, const cv::Mat& k) {
  return RefConvolve(src, k, cv::Point(k.cols / 2, k.rows / 2));
}

// The colour channels of an image (alpha, if any, dropped) and its alpha.
cv::Mat ColorOf(const cv::Mat& img);
cv::Mat AlphaOf(const cv::Mat& img);

// Float samples rounded half to even and saturated to `depth` (CV_8U or
// CV_16U), as saturate_cast does.
cv::Mat Quantize(const cv::Mat& f, int depth);

// `actual` has the size and channel count of `expected` and every sample is
// within `tol` of it; otherwise says where the first bad sample is.
::testing::AssertionResult Near(const cv::Mat& actual, const cv::Mat& expected,
                                double tol);
// Same size, type and samples.
::testing::AssertionResult Identical(const cv::Mat& a, const cv::Mat& b);

// Regular files under `dir`, as sorted relative paths ("a.png", "sub/c.png").
std::vector<std::string> ListFiles(const std::filesystem::path& dir);
// Entries (files or directories) anywhere under `dir` whose name starts with
// '.': leftover temporary files.
std::vector<std::string> HiddenEntries(const std::filesystem::path& dir);

// Starts convcorr with `args` in `cwd` (empty: the current directory)
// without waiting: stdin from `stdin_fd` (-1: /dev/null), stdout and stderr
// on /dev/null. Returns its pid.
pid_t StartConvcorr(const std::vector<std::string>& args, int stdin_fd = -1,
                    const std::filesystem::path& cwd = {});

// Starts convcorr with `args` (stdout and stderr on /dev/null, stdin a pipe
// kept open, so reading "-" blocks), sends it signal `sig` after `delay_ms`
// milliseconds and returns its exit code (128+N if killed by signal N).
int RunAndSignal(const std::vector<std::string>& args, int sig, int delay_ms);

// Why a test that needs a pseudo-terminal cannot run here ("" if it can):
// script(1) is not installed, or it cannot open a pseudo-terminal (some
// containers have no /dev/pts).
std::string NoPseudoTerminal();
// Runs the shell command `command` in `cwd` under script(1), whose
// pseudo-terminal is the command's stdin, stdout and stderr; returns
// everything the terminal received (newlines as \r\n), and the command's
// exit code in *exit_code if given.
std::string OnATerminal(const std::string& command,
                        const std::filesystem::path& cwd,
                        int* exit_code = nullptr);

// Prints a run for failure messages.
std::string Describe(const RunResult& r);

}  // namespace convcorr::testing
