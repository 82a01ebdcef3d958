// io::SpillFile: compare's record of the difference, in an unnamed
// temporary file or, when the file cannot be had or fails, in memory.
#include "io/spill_file.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "io/io_test_util.h"

namespace convcorr::io {
namespace {

namespace fs = std::filesystem;
using testing::DirEntries;
using testing::TempDir;

std::vector<uint8_t> Pattern(size_t n, uint8_t seed) {
  std::vector<uint8_t> b(n);
  for (size_t i = 0; i < n; ++i) {
    b[i] = static_cast<uint8_t>(seed + i * 13 + (i >> 9));
  }
  return b;
}

// Writes `total` bytes in pieces of `piece`, reads them back in other
// pieces, and checks them.
void RoundTrip(SpillFile& spill, size_t total, size_t piece) {
  const std::vector<uint8_t> data = Pattern(total, 5);
  for (size_t at = 0; at < total; at += piece) {
    spill.Write(at, data.data() + at, std::min(piece, total - at));
  }
  std::vector<uint8_t> back(total);
  const size_t read_piece = piece / 2 + 1;
  for (size_t at = 0; at < total; at += read_piece) {
    spill.Read(at, back.data() + at, std::min(read_piece, total - at));
  }
  EXPECT_EQ(back, data);
}

TEST(SpillFile, KeepsWhatIsWrittenInAnUnnamedFile) {
  TempDir dir;
  SpillFile spill(dir.path(), 3 << 20);
  if (!spill.in_file()) {
    GTEST_SKIP() << "the temporary directory's file system has no O_TMPFILE";
  }
  RoundTrip(spill, 3 << 20, 100000);
  EXPECT_TRUE(spill.in_file());
  // Unnamed: nothing in the directory, now or after.
  EXPECT_TRUE(DirEntries(dir.path()).empty());
}

TEST(SpillFile, UnwrittenBytesReadAsZeroAndBoundsAreChecked) {
  TempDir dir;
  SpillFile spill(dir.path(), 1000);
  const std::vector<uint8_t> data = Pattern(100, 1);
  spill.Write(200, data.data(), data.size());
  std::vector<uint8_t> back(1000, 0xAA);
  spill.Read(0, back.data(), back.size());
  for (size_t i = 0; i < back.size(); ++i) {
    const uint8_t want = i >= 200 && i < 300 ? data[i - 200] : 0;
    ASSERT_EQ(back[i], want) << i;
  }
  EXPECT_THROW(spill.Write(950, data.data(), data.size()), std::out_of_range);
  EXPECT_THROW(spill.Read(1001, back.data(), 0), std::out_of_range);
  spill.Read(1000, back.data(), 0);  // empty, at the end: fine
}

TEST(SpillFile, AMissingDirectoryKeepsTheRecordInMemory) {
  TempDir dir;
  SpillFile spill(dir / "no" / "such", 2 << 20);
  EXPECT_FALSE(spill.in_file());
  RoundTrip(spill, 2 << 20, 65536);
  EXPECT_EQ(spill.size(), size_t{2} << 20);
}

// A write the file system refuses (here the file size limit, as a full
// disk would) moves the record to memory with what was written before.
TEST(SpillFile, AFailedWriteMovesTheRecordToMemory) {
  TempDir dir;
  constexpr size_t kTotal = 1 << 20;
  constexpr size_t kLimit = 300000;
  SpillFile spill(dir.path(), kTotal);
  if (!spill.in_file()) {
    GTEST_SKIP() << "the temporary directory's file system has no O_TMPFILE";
  }
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  struct sigaction ignore {};
  struct sigaction before {};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(sigaction(SIGXFSZ, &ignore, &before), 0);
  rlimit small = old;
  small.rlim_cur = kLimit;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  const std::vector<uint8_t> data = Pattern(kTotal, 7);
  for (size_t at = 0; at < kTotal; at += 100000) {
    spill.Write(at, data.data() + at, std::min<size_t>(100000, kTotal - at));
  }
  EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  EXPECT_EQ(sigaction(SIGXFSZ, &before, nullptr), 0);
  EXPECT_FALSE(spill.in_file());
  std::vector<uint8_t> back(kTotal);
  spill.Read(0, back.data(), back.size());
  EXPECT_EQ(back, data);
}

// Where the outputs' room and the record would not both fit, or a
// file-size limit is below the record, the record starts in memory.
TEST(SpillFile, NoRoomOrAFileSizeLimitKeepsTheRecordInMemory) {
  TempDir dir;
  {
    SpillFile spill(dir.path(), 1 << 20, uint64_t{1} << 62);
    EXPECT_FALSE(spill.in_file());
    RoundTrip(spill, 1 << 20, 70000);
  }
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  rlimit small = old;
  small.rlim_cur = 100000;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  SpillFile limited(dir.path(), 1 << 20);
  EXPECT_EQ(setrlimit(RLIMIT_FSIZE, &old), 0);
  EXPECT_FALSE(limited.in_file());
  RoundTrip(limited, 1 << 20, 70000);
}

// Release gives back the space of bytes read for the last time; the
// other bytes read back as written.
TEST(SpillFile, ReleasedBytesLeaveTheRestIntact) {
  TempDir dir;
  constexpr size_t kTotal = 3 << 20;
  SpillFile spill(dir.path(), kTotal);
  const std::vector<uint8_t> data = Pattern(kTotal, 11);
  spill.Write(0, data.data(), kTotal);
  spill.Release(0, 1 << 20);
  spill.Release(kTotal, 0);
  EXPECT_THROW(spill.Release(kTotal - 10, 11), std::out_of_range);
  std::vector<uint8_t> back(kTotal - (1 << 20));
  spill.Read(1 << 20, back.data(), back.size());
  EXPECT_TRUE(std::equal(back.begin(), back.end(), data.begin() + (1 << 20)));
}

}  // namespace
}  // namespace convcorr::io
