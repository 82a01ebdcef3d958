// The malformed-image corpus (tests/corpus/make_bad_images.py, generated
// at test time from the sample photos, never downloaded) through the
// binary: every bad file gives one line naming it, exit code 1 and no
// output, on the file path, on stdin and in a batch beside a good photo.
// The sanitizer build (CI) runs the same test, so none may crash it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

namespace fs = std::filesystem;

struct BadFile {
  std::string name;
  std::string cls;
  std::string why;
};

// Generates the corpus into `dir` and reads its manifest; adds the two
// classes a script cannot leave in a tree (a directory named like an image
// and, unless the tests run as root, an unreadable file).
std::vector<BadFile> MakeCorpus(const fs::path& dir) {
  const std::string cmd = std::string("'") + CONVCORR_PYTHON + "' '" +
                          CONVCORR_CORPUS_SCRIPT + "' '" +
                          CONVCORR_SAMPLES_DIR + "' '" + dir.string() + "'";
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::vector<BadFile> files;
  for (const std::string& line : Lines(ReadBytes(dir / "manifest.tsv"))) {
    const size_t a = line.find('\t');
    const size_t b = line.find('\t', a + 1);
    files.push_back(
        {line.substr(0, a), line.substr(a + 1, b - a - 1), line.substr(b + 1)});
  }
  fs::remove(dir / "manifest.tsv");
  fs::create_directory(dir / "directory-photo.png");
  files.push_back({"directory-photo.png", "directory", "a directory"});
  if (geteuid() != 0) {
    WriteCrop("camera.png", cv::Rect(0, 0, 16, 16), dir / "unreadable-x.png");
    fs::permissions(dir / "unreadable-x.png", fs::perms::none);
    files.push_back({"unreadable-x.png", "unreadable", "mode 000"});
  }
  return files;
}

TEST(CliHostile, EveryBadFileIsOneLineExit1AndNoOutput) {
  TempDir t;
  const std::vector<BadFile> files = MakeCorpus(t / "bad");
  std::set<std::string> classes;
  for (const BadFile& f : files) classes.insert(f.cls);
  EXPECT_GE(files.size(), 40u);
  EXPECT_GE(classes.size(), 12u + (geteuid() != 0 ? 1 : 0));

  for (const BadFile& f : files) {
    SCOPED_TRACE(f.name + " (" + f.why + ")");
    const std::string path = "bad/" + f.name;
    const RunResult r = RunConvcorr(
        {"correlate", "-k", "box:3", path, "-o", "out.png"}, "", t.path());
    const std::vector<std::string> lines = Lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err;
    EXPECT_FALSE(fs::exists(t / "out.png"));
    if (f.cls == "directory") {
      // A directory input is the images in it (docs/cli.md): none here, so
      // the run has nothing to do, a usage error.
      EXPECT_EQ(r.exit_code, 2) << Describe(r);
      EXPECT_EQ(lines[0], "no input images found in '" + path +
                              "' (use -r to search subdirectories)");
      continue;
    }
    EXPECT_EQ(r.exit_code, 1) << Describe(r);
    EXPECT_EQ(lines[0].rfind("input '" + path + "': ", 0), 0u) << lines[0];
    if (f.cls == "unreadable") continue;
    // The same bytes on stdin.
    const RunResult piped =
        RunConvcorr({"correlate", "-k", "box:3", "-", "-o", "-"},
                    ReadBytes(t / path), t.path());
    EXPECT_EQ(piped.exit_code, 1) << Describe(piped);
    EXPECT_EQ(piped.out, "");
    const std::vector<std::string> piped_lines = Lines(piped.err);
    ASSERT_EQ(piped_lines.size(), 1u) << piped.err;
    EXPECT_EQ(piped_lines[0].rfind("input '-': ", 0), 0u) << piped_lines[0];
  }
  if (geteuid() != 0) {
    fs::permissions(t / "bad" / "unreadable-x.png", fs::perms::owner_all);
  }
}

TEST(CliHostile, BatchOfBadFilesWritesOnlyTheGoodOne) {
  TempDir t;
  const std::vector<BadFile> files = MakeCorpus(t / "in");
  WriteCrop("astronaut.png", cv::Rect(0, 0, 40, 30), t / "in" / "good.png");
  std::vector<std::string> args = {"correlate", "-k", "sobel-x", "-o",
                                   "out",       "-q", "--jobs",  "2"};
  std::vector<BadFile> bad;  // the directory holds no images: no input
  for (const BadFile& f : files) {
    args.push_back("in/" + f.name);
    if (f.cls != "directory") bad.push_back(f);
  }
  args.push_back("in/good.png");
  const RunResult r = RunConvcorr(args, "", t.path());
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  // One line per bad file, in input order, each naming its file.
  const std::vector<std::string> lines = Lines(r.err);
  ASSERT_EQ(lines.size(), bad.size()) << r.err;
  for (size_t i = 0; i < bad.size(); ++i) {
    EXPECT_EQ(lines[i].rfind("input 'in/" + bad[i].name + "': ", 0), 0u)
        << lines[i];
  }
  EXPECT_EQ(ListFiles(t / "out"), std::vector<std::string>{"good.png"});
  EXPECT_TRUE(HiddenEntries(t / "out").empty());
  if (geteuid() != 0) {
    fs::permissions(t / "in" / "unreadable-x.png", fs::perms::owner_all);
  }
}

// Malformed kernel specs, in every shape a user or a script could produce:
// one line starting "kernel spec '", exit 2, nothing written, no trace.
TEST(CliHostile, MalformedKernelSpecsAreOneLineExit2) {
  TempDir t;
  WriteCrop("camera.png", cv::Rect(0, 0, 16, 16), t / "a.png");
  WriteBytes(t / "empty.txt", "");
  WriteBytes(t / "ragged.txt", "1,2,3\n4,5\n");
  WriteBytes(t / "binary.txt", std::string("\x89PNG\r\n\x1a\n\0\0", 10));
  std::string long_row;
  for (int i = 0; i < 2000; ++i) long_row += "1,";
  long_row += "1";  // 2001 columns: over the 1025 limit
  const std::vector<std::string> specs = {"",
                                          " ",
                                          ";",
                                          ",,,",
                                          "1,,2",
                                          "1;;2",
                                          "1,2;3",
                                          "nan",
                                          "inf",
                                          "-inf",
                                          "1,nan",
                                          "1e400",
                                          "1/0",
                                          "1/1e-320",
                                          "0x10",
                                          "--1",
                                          "1..2",
                                          "gaussian:",
                                          "gaussian:-1",
                                          "gaussian:nan",
                                          "gaussian:1e300",
                                          "gaussian:1,100000",
                                          "gaussian:1,2,3",
                                          "box:0",
                                          "box:-3",
                                          "box:100000",
                                          "box:3.5",
                                          "box:3,3",
                                          "motion:0",
                                          "motion:1e9",
                                          "shift:1e9,0",
                                          "shift:1",
                                          "laplacian:5",
                                          "emboss:nan",
                                          "unsharp:1,inf",
                                          "log:0",
                                          "3x3:",
                                          "3x3+5+5:1,2,3,4,5,6,7,8,9",
                                          "0x0:",
                                          "99999x99999:1",
                                          "3x:1",
                                          "x3:1",
                                          "@",
                                          "@nope.txt",
                                          "@empty.txt",
                                          "@ragged.txt",
                                          "@binary.txt",
                                          "@/dev/zero",
                                          "\xff\xfe",
                                          "caf\xc3\xa9",
                                          std::string(5000, 'x'),
                                          long_row};
  for (const std::string& spec : specs) {
    SCOPED_TRACE(spec.substr(0, 60));
    const RunResult r = RunConvcorr(
        {"correlate", "-k", spec, "a.png", "-o", "out.png"}, "", t.path());
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    const std::vector<std::string> lines = Lines(r.err);
    ASSERT_EQ(lines.size(), 1u) << r.err.substr(0, 400);
    EXPECT_EQ(lines[0].rfind("kernel spec '", 0), 0u)
        << lines[0].substr(0, 200);
    EXPECT_LE(lines[0].size(), 400u) << "the message quotes a long spec whole";
    EXPECT_FALSE(fs::exists(t / "out.png"));
  }
}

// Every out-of-range or malformed option: one line, exit 2, nothing written.
TEST(CliHostile, OutOfRangeOptionsAreOneLineExit2) {
  TempDir t;
  WriteCrop("camera.png", cv::Rect(0, 0, 16, 16), t / "a.png");
  const std::vector<std::vector<std::string>> options = {
      {"--threads", "-1"},
      {"--threads", "99999999999"},
      {"--threads", "two"},
      {"--scale", "nan"},
      {"--scale", "1e400"},
      {"--bias", "inf"},
      {"--anchor", "99,99"},
      {"--anchor", "x"},
      {"--anchor", "-1,0"},
      {"--max-pixels", "0"},
      {"--max-pixels", "-1"},
      {"--border", "foo"},
      {"--border", "constant:nan"},
      {"--size", "bar"},
      {"--depth", "u12"},
      {"--method", "x"},
      {"--jobs", "-1"},
      {"--shard", "5/2"},
      {"--shard", "1/"},
      {"--format", "gif"},
      {"--ext", "exe"},
      {"--no-such-option"}};
  for (const std::vector<std::string>& opt : options) {
    SCOPED_TRACE(opt[0] + (opt.size() > 1 ? " " + opt[1] : ""));
    std::vector<std::string> args = {"correlate", "-k", "box:3",
                                     "a.png",     "-o", "out.png"};
    args.insert(args.end(), opt.begin(), opt.end());
    const RunResult r = RunConvcorr(args, "", t.path());
    EXPECT_EQ(r.exit_code, 2) << Describe(r);
    EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
    EXPECT_FALSE(fs::exists(t / "out.png"));
  }
}

// What RunLimited reports: exit code, stderr and the child's peak memory.
struct LimitedRun {
  int exit_code = -1;
  std::string err;
  long max_rss_kb = 0;
};

// Runs convcorr in `cwd` with stdin from `stdin_path` (empty: /dev/null),
// stdout to /dev/null, and, when `file_size_limit` > 0, a file-size limit
// (RLIMIT_FSIZE, with SIGXFSZ ignored so that a write past it fails with
// EFBIG, as on a full disk); returns the peak resident memory (wait4).
LimitedRun RunLimited(const std::vector<std::string>& args, const fs::path& cwd,
                      rlim_t file_size_limit = 0,
                      const fs::path& stdin_path = {}) {
  const fs::path err = cwd / "limited.err";
  std::vector<std::string> argv_s = {ConvcorrBinary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string in = stdin_path.empty() ? "/dev/null" : stdin_path.string();
  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls between fork and exec.
    if (chdir(cwd.c_str()) != 0) _exit(126);
    const int fd_in = open(in.c_str(), O_RDONLY);
    const int fd_out = open("/dev/null", O_WRONLY);
    const int fd_err = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd_in < 0 || fd_out < 0 || fd_err < 0) _exit(126);
    dup2(fd_in, 0);
    dup2(fd_out, 1);
    dup2(fd_err, 2);
    if (file_size_limit > 0) {
      signal(SIGXFSZ, SIG_IGN);
      const rlimit lim = {file_size_limit, file_size_limit};
      setrlimit(RLIMIT_FSIZE, &lim);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  LimitedRun r;
  int status = 0;
  rusage usage = {};
  wait4(pid, &status, 0, &usage);
  r.exit_code =
      WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.max_rss_kb = usage.ru_maxrss;
  r.err = ReadBytes(err);
  fs::remove(err);
  return r;
}

// A full disk (a file-size limit: writes past it fail with EFBIG) is exit
// 3 with one line; the existing output and the input are untouched and no
// temporary file is left; in a batch, no further input is started.
TEST(CliHostile, FullDiskIsExit3AndKeepsTheExistingOutput) {
  TempDir t;
  fs::copy_file(Photo("astronaut.png"), t / "in.png");
  WriteBytes(t / "out.png", "the previous output");
  const std::string input = ReadBytes(t / "in.png");
  const LimitedRun r = RunLimited(
      {"correlate", "-k", "box:3", "in.png", "-o", "out.png"}, t.path(), 4096);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(Lines(r.err).size(), 1u) << r.err;
  EXPECT_EQ(r.err.rfind("output 'out.png': ", 0), 0u) << r.err;
  EXPECT_EQ(ReadBytes(t / "out.png"), "the previous output");
  EXPECT_EQ(ReadBytes(t / "in.png"), input);
  EXPECT_TRUE(HiddenEntries(t.path()).empty());

  // A batch into a directory: stops with exit 3, leaves no partial file.
  fs::create_directories(t / "many");
  for (int i = 0; i < 6; ++i) {
    fs::copy_file(Photo("astronaut.png"),
                  t / "many" / ("p" + std::to_string(i) + ".png"));
  }
  const LimitedRun batch =
      RunLimited({"correlate", "-k", "box:3", "many", "-o", "out", "--jobs",
                  "2", "--report", "r.jsonl"},
                 t.path(), 4096);
  EXPECT_EQ(batch.exit_code, 3) << batch.err;
  EXPECT_TRUE(HiddenEntries(t / "out").empty());
  EXPECT_TRUE(ListFiles(t / "out").empty());
}

// A decompression bomb is refused from its header, before any pixel
// memory is taken, on the file path, on stdin and in a batch: the peak
// memory stays that of a process that decoded nothing big (a 100000 x
// 100000 RGB image would need 30 GB).
TEST(CliHostile, BombsAreRefusedWithLittleMemory) {
  TempDir t;
  const std::vector<BadFile> files = MakeCorpus(t / "bad");
  fs::copy_file(Photo("camera.png"), t / "good.png");
  // The baseline: the same binary filtering a real 512x512 photo.
  const LimitedRun good = RunLimited(
      {"correlate", "-k", "box:3", "good.png", "-o", "good-out.png"}, t.path());
  ASSERT_EQ(good.exit_code, 0) << good.err;
  for (const BadFile& f : files) {
    if (f.cls != "bomb") continue;
    SCOPED_TRACE(f.name);
    for (int path = 0; path < 3; ++path) {
      const std::string name = "bad/" + f.name;
      const LimitedRun r =
          path == 0
              ? RunLimited({"correlate", "-k", "box:3", name, "-o", "o.png"},
                           t.path())
          : path == 1
              ? RunLimited({"correlate", "-k", "box:3", "-", "-o", "o.png"},
                           t.path(), 0, t / name)
              : RunLimited(
                    {"correlate", "-k", "box:3", name, "good.png", "-o", "dir"},
                    t.path());
      EXPECT_EQ(r.exit_code, 1) << r.err;
      EXPECT_NE(r.err.find("--max-pixels"), std::string::npos) << r.err;
      // Within 32 MiB of the baseline run.
      EXPECT_LT(r.max_rss_kb, good.max_rss_kb + 32 * 1024)
          << "peak " << r.max_rss_kb << " KiB against " << good.max_rss_kb;
    }
  }
}

// A chunk whose length field is corrupt (2 GiB for a tEXt chunk of a
// 16x12 PNG, found by fuzz_decode_filter): libpng only warns that the
// length is past png_set_chunk_malloc_max, then allocates and zeroes it
// (2 GB and 8 s); the decoder's allocator refuses it, and the file is one
// input error, in the memory of a small photo, on every path.
TEST(CliHostile, ACorruptChunkLengthTakesNoMemory) {
  TempDir t;
  fs::copy_file(Photo("camera.png"), t / "good.png");
  const LimitedRun good = RunLimited(
      {"correlate", "-k", "box:3", "good.png", "-o", "good-out.png"}, t.path());
  ASSERT_EQ(good.exit_code, 0) << good.err;
  // The signature, IHDR (16x12, 8-bit RGB) with its CRC, then a tEXt
  // chunk header claiming 0x7f3b4076 bytes and a few of them.
  const unsigned char bytes[] = {
      0x89, 'P',  'N',  'G',  0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00,
      0x0d, 'I',  'H',  'D',  'R',  0x00, 0x00, 0x00, 0x10, 0x00, 0x00,
      0x00, 0x0c, 0x08, 0x02, 0x00, 0x00, 0x00, 0xe4, 0x85, 0xaa, 0xd6,
      0x7f, 0x3b, 0x40, 0x76, 't',  'E',  'X',  't',  'c',  'o',  'n',
      'v',  'c',  'o',  'r',  'r',  0x00, 'x'};
  WriteBytes(t / "long-text.png",
             std::string(reinterpret_cast<const char*>(bytes), sizeof bytes));
  for (const bool from_stdin : {false, true}) {
    const LimitedRun r =
        from_stdin
            ? RunLimited({"correlate", "-k", "box:3", "-", "-o", "o.png"},
                         t.path(), 0, t / "long-text.png")
            : RunLimited(
                  {"correlate", "-k", "box:3", "long-text.png", "-o", "o.png"},
                  t.path());
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_NE(r.err.find(from_stdin ? "input '-'" : "long-text.png"),
              std::string::npos)
        << r.err;
    EXPECT_LT(r.max_rss_kb, good.max_rss_kb + 32 * 1024)
        << "peak " << r.max_rss_kb << " KiB against " << good.max_rss_kb;
    EXPECT_FALSE(fs::exists(t / "o.png"));
  }
}

// ------------------------------------------------- faults as root too

// Whether this machine lets the tests make a private mount namespace
// (unshare -m: root, or CAP_SYS_ADMIN); containers may not.
bool CanUnshareMounts() {
  static const bool ok = std::system("unshare -m true >/dev/null 2>&1") == 0;
  return ok;
}

// Runs the shell `script` in `cwd` inside a private mount namespace, with
// $CONVCORR naming the binary. What the script mounts is gone when it
// exits, so it copies what the test checks into the working directory.
void RunInMountNamespace(const fs::path& cwd, const std::string& script) {
  WriteBytes(cwd / "ns.sh", "set -u\n" + script);
  const std::string cmd = "cd '" + cwd.string() + "' && CONVCORR='" +
                          ConvcorrBinary() + "' unshare -m sh ./ns.sh";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << script;
}

int ExitCodeIn(const fs::path& file) { return std::stoi(ReadBytes(file)); }

// A full disk for real: a 64 KiB tmpfs. A single output, a batch and a
// compare all end with exit 3 and one line per failed output naming it;
// the previous output is kept byte for byte and no temporary file is left.
TEST(CliHostile, FullDiskOnATinyTmpfsIsExit3AndLeavesNoPartialFile) {
  if (!CanUnshareMounts()) {
    GTEST_SKIP() << "no private mount namespace here (unshare -m); the "
                    "file-size limit test covers a full disk";
  }
  TempDir t;
  fs::copy_file(Photo("astronaut.png"), t / "in.png");
  for (int i = 0; i < 4; ++i) {
    fs::create_directories(t / "many");
    fs::copy_file(Photo("astronaut.png"),
                  t / "many" / ("p" + std::to_string(i) + ".png"));
  }
  fs::create_directories(t / "disk");
  fs::create_directories(t / "seen");
  RunInMountNamespace(t.path(), R"(
mount -t tmpfs -o size=64k tmpfs disk
printf 'the previous output' > disk/out.png
"$CONVCORR" correlate -k box:3 in.png -o disk/out.png 2> seen/single.err
echo $? > seen/single.rc
"$CONVCORR" correlate -k box:3 many -o disk/out --jobs 2 -q 2> seen/batch.err
echo $? > seen/batch.rc
"$CONVCORR" compare -k sobel-x in.png -o disk/cmp -q 2> seen/compare.err
echo $? > seen/compare.rc
cp disk/out.png seen/out.png
find disk -mindepth 1 -type f | sort > seen/files
find disk -mindepth 1 -name '.*' > seen/hidden
)");
  EXPECT_EQ(ExitCodeIn(t / "seen" / "single.rc"), 3);
  const std::string single = ReadBytes(t / "seen" / "single.err");
  EXPECT_EQ(Lines(single).size(), 1u) << single;
  EXPECT_EQ(single.rfind("output 'disk/out.png': ", 0), 0u) << single;
  EXPECT_NE(single.find("no space left on device"), std::string::npos)
      << single;
  EXPECT_EQ(ReadBytes(t / "seen" / "out.png"), "the previous output");
  EXPECT_EQ(ExitCodeIn(t / "seen" / "batch.rc"), 3);
  EXPECT_NE(ReadBytes(t / "seen" / "batch.err").find("output 'disk/out/"),
            std::string::npos)
      << ReadBytes(t / "seen" / "batch.err");
  EXPECT_EQ(ExitCodeIn(t / "seen" / "compare.rc"), 3);
  EXPECT_EQ(ReadBytes(t / "seen" / "compare.err").rfind("output 'disk/cmp/", 0),
            0u)
      << ReadBytes(t / "seen" / "compare.err");
  // Nothing but the old output: no partial PNG, no temporary file.
  EXPECT_EQ(Lines(ReadBytes(t / "seen" / "files")),
            std::vector<std::string>{"disk/out.png"});
  EXPECT_EQ(ReadBytes(t / "seen" / "hidden"), "");
}

// A read-only output directory, for root too (a read-only bind mount: root
// writes through mode bits, not through a read-only mount): exit 3, one
// line naming the output, nothing created, the file already there kept.
TEST(CliHostile, ReadOnlyOutputDirectoryIsExit3EvenForRoot) {
  if (!CanUnshareMounts()) {
    GTEST_SKIP() << "no private mount namespace here (unshare -m); "
                    "CliErrors.ReadOnlyOutputDirectoryIsExit3 covers users "
                    "other than root";
  }
  TempDir t;
  WriteCrop("camera.png", cv::Rect(0, 0, 24, 20), t / "in.png");
  WriteCrop("camera.png", cv::Rect(8, 8, 24, 20), t / "in2.png");
  fs::create_directories(t / "ro");
  WriteBytes(t / "ro" / "keep.png", "kept");
  fs::create_directories(t / "seen");
  RunInMountNamespace(t.path(), R"(
mount --bind ro ro
mount -o remount,bind,ro ro
"$CONVCORR" convolve -k box:3 in.png -o ro/out.png 2> seen/file.err
echo $? > seen/file.rc
"$CONVCORR" convolve -k box:3 in.png in2.png -o ro/dir 2> seen/dir.err
echo $? > seen/dir.rc
"$CONVCORR" convolve -k box:3 in.png -o ro/keep.png 2> seen/keep.err
echo $? > seen/keep.rc
find ro -mindepth 1 | sort > seen/listing
)");
  EXPECT_EQ(ExitCodeIn(t / "seen" / "file.rc"), 3);
  const std::string file = ReadBytes(t / "seen" / "file.err");
  EXPECT_EQ(Lines(file).size(), 1u) << file;
  EXPECT_EQ(file.rfind("output 'ro/out.png': ", 0), 0u) << file;
  EXPECT_NE(file.find("read-only file system"), std::string::npos) << file;
  EXPECT_EQ(ExitCodeIn(t / "seen" / "dir.rc"), 3);
  EXPECT_NE(ReadBytes(t / "seen" / "dir.err").find("'ro/dir"),
            std::string::npos)
      << ReadBytes(t / "seen" / "dir.err");
  EXPECT_EQ(ExitCodeIn(t / "seen" / "keep.rc"), 3);
  EXPECT_EQ(Lines(ReadBytes(t / "seen" / "listing")),
            std::vector<std::string>{"ro/keep.png"});
  EXPECT_EQ(ReadBytes(t / "ro" / "keep.png"), "kept");
}

// An unreadable input when the tests run as root (root reads any mode):
// the run drops to the unprivileged user `nobody` with runuser(1).
TEST(CliHostile, UnreadableInputIsExit1EvenWhenTheTestsRunAsRoot) {
  if (geteuid() != 0) {
    GTEST_SKIP() << "not root: the corpus test has an unreadable file";
  }
  const std::string probe = "runuser -u nobody -- '" + ConvcorrBinary() +
                            "' --version >/dev/null 2>&1";
  if (std::system(probe.c_str()) != 0) {
    GTEST_SKIP() << "user nobody cannot run the binary here (runuser, or "
                    "the build directory's permissions)";
  }
  TempDir t;
  fs::permissions(t.path(), fs::perms::all);
  WriteCrop("camera.png", cv::Rect(0, 0, 24, 20), t / "locked.png");
  WriteCrop("camera.png", cv::Rect(0, 0, 24, 20), t / "open.png");
  fs::permissions(t / "locked.png", fs::perms::none);
  fs::permissions(t / "open.png", fs::perms::owner_read |
                                      fs::perms::group_read |
                                      fs::perms::others_read);
  const std::string cmd = "cd '" + t.path().string() +
                          "' && runuser -u nobody -- '" + ConvcorrBinary() +
                          "' correlate -k box:3 locked.png open.png -o out "
                          "-q 2> err";
  const int status = std::system(cmd.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string err = ReadBytes(t / "err");
  EXPECT_EQ(Lines(err).size(), 1u) << err;
  EXPECT_EQ(err.rfind("input 'locked.png': ", 0), 0u) << err;
  EXPECT_NE(err.find("permission denied"), std::string::npos) << err;
  EXPECT_EQ(ListFiles(t / "out"), std::vector<std::string>{"open.png"});
}

// What a file is, to tell whether anything touched it: content hash
// (64-bit FNV-1a), size, inode, link count and modification and change
// times (a rename over it, a new hard link or a chmod all show).
struct Fingerprint {
  uint64_t hash = 0;
  uint64_t size = 0;
  ino_t inode = 0;
  nlink_t links = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  bool operator==(const Fingerprint&) const = default;
};

std::map<std::string, Fingerprint> FingerprintTree(const fs::path& dir) {
  std::map<std::string, Fingerprint> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st = {};
    EXPECT_EQ(lstat(e.path().c_str(), &st), 0) << e.path();
    Fingerprint f;
    f.size = static_cast<uint64_t>(st.st_size);
    f.inode = st.st_ino;
    f.links = st.st_nlink;
    f.mtime_ns = st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec;
    f.ctime_ns = st.st_ctim.tv_sec * 1'000'000'000LL + st.st_ctim.tv_nsec;
    f.hash = 1469598103934665603ull;
    if (e.is_regular_file()) {
      for (unsigned char c : ReadBytes(e.path())) {
        f.hash = (f.hash ^ c) * 1099511628211ull;
      }
    }
    out[fs::relative(e.path(), dir).string()] = f;
  }
  return out;
}

// Inputs are never modified: a tree of photos, the malformed corpus and a
// kernel file, hashed before and after every kind of run over it (batch,
// compare, stdin, refused outputs that are inputs, --skip-existing).
TEST(CliHostile, InputsAreNeverModified) {
  TempDir t;
  MakeCorpus(t / "in" / "bad");
  fs::create_directories(t / "in" / "photos");
  for (const char* name : {"astronaut.png", "camera.png", "rocket.jpg"}) {
    fs::copy_file(Photo(name), t / "in" / "photos" / name);
  }
  WriteBytes(t / "in" / "k.txt", "1, 2, 0\n-1, 0, 1\n");
  const auto before = FingerprintTree(t / "in");
  ASSERT_GT(before.size(), 45u);

  const std::vector<std::vector<std::string>> runs = {
      {"correlate", "-k", "@in/k.txt", "-r", "in", "-o", "out", "--jobs", "2",
       "--report", "r.jsonl", "-q"},
      {"compare", "-k", "sobel-x", "-r", "in", "-o", "cmp", "-q"},
      {"convolve", "-k", "box:3", "-r", "in", "-o", "out", "--skip-existing",
       "-q"},
      {"convolve", "-k", "box:3", "in/photos/camera.png", "-o",
       "in/photos/camera.png"},
      {"convolve", "-k", "box:3", "-r", "in", "-o", "in"},
      {"convolve", "-k", "motion:9,30", "in/photos/astronaut.png", "--format",
       "tiff", "--depth", "f32", "-o", "out-f32"},
      {"kernel", "@in/k.txt"},
  };
  for (const auto& args : runs) {
    SCOPED_TRACE(args[0] + " " + args.back());
    const RunResult r = RunConvcorr(args, "", t.path());
    EXPECT_NE(r.exit_code, 70) << Describe(r);
  }
  const RunResult piped =
      RunConvcorr({"correlate", "-k", "emboss", "-", "-o", "stdin.png"},
                  ReadBytes(t / "in" / "photos" / "camera.png"), t.path());
  EXPECT_EQ(piped.exit_code, 0) << Describe(piped);
  EXPECT_TRUE(fs::exists(t / "out" / "photos" / "astronaut.png"));
  EXPECT_EQ(FingerprintTree(t / "in"), before);
}

}  // namespace
}  // namespace convcorr::testing
