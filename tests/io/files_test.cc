// Files and paths (src/io/files.cc and the file half of image_io.cc):
// atomic writes, same-file checks and directory scans, on real files.
#include "io/files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "common/error.h"
#include "io/atomic_write.h"
#include "io/io_test_util.h"

namespace convcorr::io {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using testing::DirEntries;
using testing::ReadFile;
using testing::TempDir;
using testing::ThrowsError;
using testing::ThrowsKind;
using testing::WriteFile;

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i)
    b[i] = static_cast<uint8_t>(seed + i * 31 + (i >> 8));
  return b;
}

bool HasHiddenEntry(const fs::path& dir) {
  for (const std::string& name : DirEntries(dir)) {
    if (!name.empty() && name[0] == '.') return true;
  }
  return false;
}

mode_t ModeOf(const fs::path& p) {
  struct stat st {};
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// --- WriteFileAtomic -------------------------------------------------------

TEST(WriteFileAtomic, CreatesFile) {
  TempDir dir;
  const Bytes data = Pattern(5000, 1);
  WriteFileAtomic(dir / "out.png", data);
  EXPECT_EQ(ReadFile(dir / "out.png"), data);
  EXPECT_EQ(DirEntries(dir.path()), std::set<std::string>{"out.png"});
}

TEST(WriteFileAtomic, EmptyAndLargeContents) {
  TempDir dir;
  WriteFileAtomic(dir / "empty.bin", Bytes{});
  EXPECT_TRUE(fs::is_regular_file(dir / "empty.bin"));
  EXPECT_EQ(fs::file_size(dir / "empty.bin"), 0u);
  const Bytes big = Pattern(1 << 20, 7);
  WriteFileAtomic(dir / "big.bin", big);
  EXPECT_EQ(ReadFile(dir / "big.bin"), big);
  EXPECT_FALSE(HasHiddenEntry(dir.path()));
}

TEST(WriteFileAtomic, ReplacesExistingFileWhole) {
  TempDir dir;
  const fs::path dest = dir / "out.png";
  WriteFile(dest, Pattern(100000, 3));
  // A hard link keeps the old inode: a rename leaves it with the old
  // contents, an in-place rewrite would change (or truncate) them.
  fs::create_hard_link(dest, dir / "old-link");
  const Bytes small = Pattern(10, 9);
  WriteFileAtomic(dest, small);
  EXPECT_EQ(ReadFile(dest), small);
  EXPECT_EQ(ReadFile(dir / "old-link"), Pattern(100000, 3));
  EXPECT_EQ(DirEntries(dir.path()),
            (std::set<std::string>{"old-link", "out.png"}));
}

TEST(WriteFileAtomic, LeavesNoTemporaryFiles) {
  TempDir dir;
  for (int i = 0; i < 20; ++i) {
    WriteFileAtomic(dir / "same.tif",
                    Pattern(1000 + i, static_cast<uint8_t>(i)));
    WriteFileAtomic(dir / ("f" + std::to_string(i) + ".png"), Pattern(10, 1));
  }
  EXPECT_FALSE(HasHiddenEntry(dir.path()));
  EXPECT_EQ(DirEntries(dir.path()).size(), 21u);
  EXPECT_EQ(ReadFile(dir / "same.tif"), Pattern(1019, 19));
}

// --- StageFile and StagedFile::Commit ----------------------------------------

TEST(StagedFile, NothingAppearsUnderTheDestinationNameBeforeCommit) {
  TempDir dir;
  const fs::path dest = dir / "out.png";
  WriteFile(dest, Pattern(300, 2));
  StagedFile staged = StageFile(dest, Pattern(5000, 4));
  EXPECT_EQ(staged.dest(), dest);
  // Written, not yet renamed: the old file is whole, the new one hidden.
  EXPECT_EQ(ReadFile(dest), Pattern(300, 2));
  EXPECT_TRUE(HasHiddenEntry(dir.path()));
  staged.Commit();
  EXPECT_EQ(ReadFile(dest), Pattern(5000, 4));
  EXPECT_EQ(DirEntries(dir.path()), std::set<std::string>{"out.png"});
  staged.Commit();  // a second call does nothing
  EXPECT_EQ(ReadFile(dest), Pattern(5000, 4));
}

TEST(StagedFile, DestroyedUncommittedLeavesTheDestinationAsItWas) {
  TempDir dir;
  const fs::path dest = dir / "out.png";
  WriteFile(dest, Pattern(300, 2));
  { const StagedFile staged = StageFile(dest, Pattern(5000, 4)); }
  { const StagedFile staged = StageFile(dir / "new.png", Pattern(10, 1)); }
  EXPECT_EQ(ReadFile(dest), Pattern(300, 2));
  EXPECT_EQ(DirEntries(dir.path()), std::set<std::string>{"out.png"});
}

TEST(StagedFile, AppendedAndSyncedInTheBackgroundCommitsWhole) {
  TempDir dir;
  const fs::path dest = dir / "big.ppm";
  // More than one writeback step, appended in uneven pieces.
  const Bytes content = Pattern(StagedFile::kWritebackBytes * 2 + 12345, 9);
  StagedFile staged = StageFile(dest);
  for (size_t at = 0; at < content.size();) {
    const size_t n = std::min<size_t>(content.size() - at, 700001);
    staged.Append(content.data() + at, n);
    at += n;
  }
  staged.StartSync();
  staged.StartSync();                    // a second call does nothing
  StagedFile moved = std::move(staged);  // the flush in flight moves along
  EXPECT_FALSE(fs::exists(dest));
  moved.Commit();
  EXPECT_EQ(ReadFile(dest), content);
  EXPECT_EQ(DirEntries(dir.path()), std::set<std::string>{"big.ppm"});
}

// WriteAt over bytes written and past the end (a gap of zeros); appends
// go on after the last byte written either way, also after a flush began.
TEST(StagedFile, WrittenAtOffsetsCommitsWhole) {
  TempDir dir;
  const Bytes a = Pattern(5000, 3);
  const Bytes b = Pattern(700, 4);
  const Bytes c = Pattern(90, 5);
  StagedFile staged = StageFile(dir / "seek.bin");
  staged.Append(a.data(), a.size());
  staged.WriteAt(8000, b.data(), b.size());  // a gap of 3000 bytes
  staged.Append(c.data(), c.size());         // at 8700
  staged.StartSync();
  staged.WriteAt(100, c.data(), c.size());  // over the first bytes
  staged.Commit();
  Bytes want = a;
  want.resize(8000, 0);
  want.insert(want.end(), b.begin(), b.end());
  want.insert(want.end(), c.begin(), c.end());
  std::copy(c.begin(), c.end(), want.begin() + 100);
  EXPECT_EQ(ReadFile(dir / "seek.bin"), want);
}

TEST(StagedFile, AppendedAfterTheSyncStartedCommitsWhole) {
  TempDir dir;
  const Bytes first = Pattern(5000, 1);
  const Bytes second = Pattern(3000, 2);
  StagedFile staged = StageFile(dir / "late.bin");
  staged.Append(first.data(), first.size());
  staged.StartSync();
  staged.Append(second.data(), second.size());
  staged.Commit();
  Bytes want = first;
  want.insert(want.end(), second.begin(), second.end());
  EXPECT_EQ(ReadFile(dir / "late.bin"), want);
}

TEST(StagedFile, SyncedButNotCommittedLeavesNothing) {
  TempDir dir;
  {
    StagedFile staged = StageFile(dir / "gone.png");
    const Bytes b = Pattern(4096, 3);
    staged.Append(b.data(), b.size());
    staged.StartSync();
  }
  EXPECT_TRUE(DirEntries(dir.path()).empty());
}

TEST(StagedFile, MovedFilesCommitOnceEach) {
  TempDir dir;
  std::vector<StagedFile> files;
  for (int i = 0; i < 40; ++i) {
    files.push_back(StageFile(dir / ("f" + std::to_string(i) + ".bin"),
                              Pattern(100 + i, static_cast<uint8_t>(i))));
  }
  StagedFile moved = std::move(files[0]);
  files[0] = StageFile(dir / "extra.bin", Pattern(7, 7));
  files[0] = std::move(files[1]);  // the extra file is discarded
  moved.Commit();
  for (size_t i = 0; i < files.size(); ++i) {
    if (i != 1) files[i].Commit();
  }
  files.clear();
  const std::set<std::string> names = DirEntries(dir.path());
  EXPECT_EQ(names.size(), 40u);
  EXPECT_FALSE(HasHiddenEntry(dir.path()));
  EXPECT_EQ(names.count("extra.bin"), 0u);
  for (int i = 0; i < 40; ++i) {
    EXPECT_EQ(ReadFile(dir / ("f" + std::to_string(i) + ".bin")),
              Pattern(100 + i, static_cast<uint8_t>(i)));
  }
}

TEST(StagedFile, FailedRenameIsAnOutputErrorAndLeavesNoTemporaryFile) {
  TempDir dir;
  const fs::path dest = dir / "out.png";
  {
    StagedFile staged = StageFile(dest, Pattern(50, 3));
    // Between staging and commit the name became a non-empty directory:
    // the rename cannot replace it.
    fs::create_directory(dest);
    WriteFile(dest / "inside.txt", "x");
    EXPECT_TRUE(ThrowsError([&] { staged.Commit(); }, ErrorKind::kOutput,
                            "output '" + dest.string() + "': is a directory"));
  }
  EXPECT_EQ(DirEntries(dir.path()), std::set<std::string>{"out.png"});
  EXPECT_EQ(DirEntries(dest), std::set<std::string>{"inside.txt"});
}

TEST(WriteFileAtomic, MissingDirectory) {
  TempDir dir;
  const fs::path dest = dir / "missing" / "out.png";
  EXPECT_TRUE(ThrowsError([&] { WriteFileAtomic(dest, Pattern(10, 1)); },
                          ErrorKind::kOutput,
                          "output '" + dest.string() + "': directory '" +
                              (dir / "missing").string() + "' does not exist"));
  EXPECT_TRUE(DirEntries(dir.path()).empty()) << "nothing may be created";
}

TEST(WriteFileAtomic, ParentIsAFile) {
  TempDir dir;
  WriteFile(dir / "file.txt", "keep");
  EXPECT_TRUE(ThrowsKind(
      [&] { WriteFileAtomic(dir / "file.txt" / "out.png", Pattern(10, 1)); },
      ErrorKind::kOutput));
  EXPECT_EQ(ReadFile(dir / "file.txt"), Bytes({'k', 'e', 'e', 'p'}));
  EXPECT_EQ(DirEntries(dir.path()), std::set<std::string>{"file.txt"});
}

TEST(WriteFileAtomic, DestinationIsADirectory) {
  TempDir dir;
  const fs::path dest = dir / "sub";
  fs::create_directory(dest);
  WriteFile(dest / "inside.png", "x");
  EXPECT_TRUE(ThrowsError([&] { WriteFileAtomic(dest, Pattern(10, 1)); },
                          ErrorKind::kOutput,
                          "output '" + dest.string() + "': is a directory"));
  EXPECT_TRUE(fs::is_directory(dest));
  EXPECT_EQ(DirEntries(dest), std::set<std::string>{"inside.png"});
  EXPECT_EQ(DirEntries(dir.path()), std::set<std::string>{"sub"});
}

TEST(WriteFileAtomic, RelativePathInWorkingDirectory) {
  TempDir dir;
  const testing::ScopedCwd cwd(dir.path());
  WriteFileAtomic("rel.png", Pattern(64, 2));
  EXPECT_EQ(ReadFile(dir / "rel.png"), Pattern(64, 2));
  EXPECT_EQ(DirEntries(dir.path()), std::set<std::string>{"rel.png"});
}

TEST(WriteFileAtomic, ModeFollowsUmask) {
  TempDir dir;
  for (const auto& [mask, mode] : std::vector<std::pair<mode_t, mode_t>>{
           {022, 0644}, {077, 0600}, {002, 0664}, {0, 0666}}) {
    SCOPED_TRACE(mask);
    const testing::ScopedUmask umask(mask);
    const fs::path fresh = dir / ("fresh" + std::to_string(mask));
    WriteFileAtomic(fresh, Pattern(10, 1));
    EXPECT_EQ(ModeOf(fresh), mode);
    // Replacing a file gives the mode a new file gets (docs/io.md).
    const fs::path old = dir / ("old" + std::to_string(mask));
    WriteFile(old, "x");
    ::chmod(old.c_str(), 0600);
    WriteFileAtomic(old, Pattern(10, 1));
    EXPECT_EQ(ModeOf(old), mode);
  }
}

TEST(WriteFileAtomic, UnwritableDirectoryKeepsExistingFile) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "running as root: chmod does not deny writes";
  }
  TempDir dir;
  const fs::path sub = dir / "ro";
  fs::create_directory(sub);
  WriteFile(sub / "out.png", "old");
  ::chmod(sub.c_str(), 0500);
  EXPECT_TRUE(ThrowsError(
      [&] { WriteFileAtomic(sub / "out.png", Pattern(10, 1)); },
      ErrorKind::kOutput,
      "output '" + (sub / "out.png").string() + "': permission denied"));
  ::chmod(sub.c_str(), 0700);
  EXPECT_EQ(ReadFile(sub / "out.png"), Bytes({'o', 'l', 'd'}));
  EXPECT_EQ(DirEntries(sub), std::set<std::string>{"out.png"});
}

TEST(RemovePendingTempFile, RemovesNothingWhenNothingIsPending) {
  TempDir dir;
  WriteFileAtomic(dir / "a.png", Pattern(10, 1));
  WriteFile(dir / ".keep", "hidden");
  // After a failed write, too.
  EXPECT_TRUE(ThrowsKind([&] { WriteFileAtomic(dir.path(), Pattern(1, 1)); },
                         ErrorKind::kOutput));
  // It ends the process's writing (a signal handler calls it right before
  // _exit), so it runs in a child.
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    RemovePendingTempFile();
    RemovePendingTempFile();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  EXPECT_EQ(DirEntries(dir.path()), (std::set<std::string>{".keep", "a.png"}));
  EXPECT_EQ(ReadFile(dir / "a.png"), Pattern(10, 1));
}

// --- SameFile --------------------------------------------------------------

TEST(SameFile, SpellingsAndLinks) {
  TempDir dir;
  WriteFile(dir / "a.png", "a");
  WriteFile(dir / "b.png", "a");  // same contents, another file
  fs::create_directory(dir / "sub");
  fs::create_symlink(dir / "a.png", dir / "sym.png");
  fs::create_symlink("sym.png", dir / "sym2.png");  // relative, chained
  fs::create_hard_link(dir / "a.png", dir / "hard.png");

  EXPECT_TRUE(SameFile(dir / "a.png", dir / "a.png"));
  EXPECT_TRUE(SameFile(dir / "a.png", dir.path() / "." / "a.png"));
  EXPECT_TRUE(SameFile(dir / "a.png", dir / "sub" / ".." / "a.png"));
  EXPECT_TRUE(SameFile(dir / "sym.png", dir / "a.png"));
  EXPECT_TRUE(SameFile(dir / "a.png", dir / "sym2.png"));
  EXPECT_TRUE(SameFile(dir / "hard.png", dir / "a.png"));
  EXPECT_TRUE(SameFile(dir / "hard.png", dir / "sym.png"));

  EXPECT_FALSE(SameFile(dir / "a.png", dir / "b.png"));
  EXPECT_FALSE(SameFile(dir / "a.png", dir / "sub"));
}

TEST(SameFile, RelativeSpellings) {
  TempDir dir;
  WriteFile(dir / "a", "a");
  const testing::ScopedCwd cwd(dir.path());
  EXPECT_TRUE(SameFile("./a", "a"));
  EXPECT_TRUE(SameFile("a", dir / "a"));
  EXPECT_TRUE(SameFile(fs::path("..") / dir.path().filename() / "a", "./a"));
}

TEST(SameFile, MissingFiles) {
  TempDir dir;
  WriteFile(dir / "a.png", "a");
  fs::create_symlink(dir / "gone.png", dir / "dangling.png");
  EXPECT_FALSE(SameFile(dir / "a.png", dir / "missing.png"));
  EXPECT_FALSE(SameFile(dir / "missing.png", dir / "a.png"));
  EXPECT_FALSE(SameFile(dir / "missing.png", dir / "missing.png"));
  EXPECT_FALSE(SameFile(dir / "dangling.png", dir / "gone.png"));
  EXPECT_FALSE(SameFile(dir / "dangling.png", dir / "dangling.png"));
}

// --- ListImages ------------------------------------------------------------

std::vector<std::string> Relatives(const std::vector<InputFile>& files) {
  std::vector<std::string> out;
  for (const InputFile& f : files) out.push_back(f.relative.string());
  return out;
}

void Touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  WriteFile(p, "x");
}

TEST(ListImages, SortedByRelativePathBytes) {
  TempDir dir;
  // Byte order: '-' 0x2D < '.' 0x2E < '/' 0x2F < '0' 0x30 < 'A' 0x41 <
  // 'B' 0x42 < 'a' 0x61 < 'b' 0x62 < 'z' 0x7A < 0xC3 (UTF-8 lead of 'é').
  for (const char* name : {"a0.png", "a.png", "B.png", "a-b.png",
                           "\xC3\xA9.png", "z.png", "a/b.png", "a/A.png"}) {
    Touch(dir / name);
  }
  EXPECT_EQ(
      Relatives(ListImages(dir.path(), true)),
      (std::vector<std::string>{"B.png", "a-b.png", "a.png", "a/A.png",
                                "a/b.png", "a0.png", "z.png", "\xC3\xA9.png"}));
  EXPECT_EQ(Relatives(ListImages(dir.path(), false)),
            (std::vector<std::string>{"B.png", "a-b.png", "a.png", "a0.png",
                                      "z.png", "\xC3\xA9.png"}));
}

TEST(ListImages, RecursiveAndPaths) {
  TempDir dir;
  Touch(dir / "top.png");
  Touch(dir / "x" / "y" / "deep.tif");
  Touch(dir / "x" / "mid.jpg");
  fs::create_directories(dir / "empty");
  fs::create_directories(dir / "dir.png");  // a directory, not an image
  Touch(dir / "dir.png" / "in.bmp");

  const std::vector<InputFile> flat = ListImages(dir.path(), false);
  EXPECT_EQ(Relatives(flat), std::vector<std::string>{"top.png"});

  const std::vector<InputFile> all = ListImages(dir.path(), true);
  EXPECT_EQ(Relatives(all),
            (std::vector<std::string>{"dir.png/in.bmp", "top.png", "x/mid.jpg",
                                      "x/y/deep.tif"}));
  for (const InputFile& f : all) {
    EXPECT_EQ(f.path, dir.path() / f.relative);
    EXPECT_TRUE(fs::is_regular_file(f.path)) << f.path;
  }
}

TEST(ListImages, RelativeToTheArgumentAsSpelled) {
  TempDir dir;
  Touch(dir / "in" / "a.png");
  Touch(dir / "in" / "s" / "b.png");
  const testing::ScopedCwd cwd(dir.path());
  for (const std::string arg : {"in", "in/", "./in", "in/.", "in/s/.."}) {
    SCOPED_TRACE(arg);
    const std::vector<InputFile> files = ListImages(arg, true);
    ASSERT_EQ(Relatives(files), (std::vector<std::string>{"a.png", "s/b.png"}));
    for (const InputFile& f : files) {
      EXPECT_TRUE(fs::is_regular_file(f.path)) << f.path;
      EXPECT_TRUE(fs::equivalent(f.path, dir / "in" / f.relative)) << f.path;
    }
  }
  const std::vector<InputFile> here = ListImages(".", true);
  EXPECT_EQ(Relatives(here),
            (std::vector<std::string>{"in/a.png", "in/s/b.png"}));
}

TEST(ListImages, HiddenEntriesSkipped) {
  TempDir dir;
  Touch(dir / "seen.png");
  Touch(dir / ".hidden.png");
  Touch(dir / ".git" / "x.png");
  Touch(dir / "sub" / ".also.jpg");
  Touch(dir / "sub" / "ok.jpg");
  Touch(dir / "sub" / ".cache" / "deep.png");
  EXPECT_EQ(Relatives(ListImages(dir.path(), true)),
            (std::vector<std::string>{"seen.png", "sub/ok.jpg"}));
  EXPECT_EQ(Relatives(ListImages(dir.path(), false)),
            std::vector<std::string>{"seen.png"});
}

TEST(ListImages, ExtensionsFilteredCaseInsensitively) {
  TempDir dir;
  for (const char* name :
       {"a.PNG", "b.JpG", "c.TIFF", "d.webp", "e.Pgm", "f.txt", "g.gif",
        "noext", "png", "h.png.bak", "i.jpeg", "j.pfm", "k.exr"}) {
    Touch(dir / name);
  }
  EXPECT_EQ(Relatives(ListImages(dir.path(), false)),
            (std::vector<std::string>{"a.PNG", "b.JpG", "c.TIFF", "d.webp",
                                      "e.Pgm", "i.jpeg", "j.pfm"}));
}

TEST(ListImages, SymlinkedDirectoriesNotFollowed) {
  TempDir dir;
  Touch(dir / "real" / "a.png");
  fs::create_directory_symlink(dir / "real", dir / "link");
  fs::create_directory_symlink(dir.path(), dir / "real" / "loop");  // a cycle
  fs::create_directory_symlink(".", dir / "self");
  EXPECT_EQ(Relatives(ListImages(dir.path(), true)),
            std::vector<std::string>{"real/a.png"});
  EXPECT_TRUE(ListImages(dir.path(), false).empty());
  // A directory argument that is itself a link is listed.
  EXPECT_EQ(Relatives(ListImages(dir / "link", true)),
            std::vector<std::string>{"a.png"});
}

TEST(ListImages, BrokenSymlinkSkipped) {
  TempDir dir;
  Touch(dir / "a.png");
  fs::create_symlink(dir / "gone.png", dir / "broken.png");
  EXPECT_EQ(Relatives(ListImages(dir.path(), true)),
            std::vector<std::string>{"a.png"});
}

TEST(ListImages, EmptyDirectory) {
  TempDir dir;
  EXPECT_TRUE(ListImages(dir.path(), true).empty());
  EXPECT_TRUE(ListImages(dir.path(), false).empty());
}

TEST(ListImages, MissingDirectoryIsInputError) {
  TempDir dir;
  const fs::path missing = dir / "nope";
  EXPECT_TRUE(ThrowsError([&] { ListImages(missing, true); }, ErrorKind::kInput,
                          "input '" + missing.string() +
                              "': cannot list directory: no such file or "
                              "directory"));
  EXPECT_TRUE(ThrowsError([&] { ListImages(missing, false); },
                          ErrorKind::kInput,
                          "input '" + missing.string() +
                              "': cannot list directory: no such file or "
                              "directory"));
  WriteFile(dir / "file.png", "x");
  EXPECT_TRUE(ThrowsError([&] { ListImages(dir / "file.png", false); },
                          ErrorKind::kInput,
                          "input '" + (dir / "file.png").string() +
                              "': cannot list directory: not a directory"));
}

TEST(ListImages, UnreadableSubdirectoryIsInputError) {
  if (::geteuid() == 0) {
    GTEST_SKIP() << "running as root: chmod does not deny reads";
  }
  TempDir dir;
  Touch(dir / "locked" / "a.png");
  ::chmod((dir / "locked").c_str(), 0);
  EXPECT_TRUE(
      ThrowsKind([&] { ListImages(dir.path(), true); }, ErrorKind::kInput));
  ::chmod((dir / "locked").c_str(), 0700);
}

}  // namespace
}  // namespace convcorr::io
