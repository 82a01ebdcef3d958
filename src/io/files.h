// Files and paths: reading inputs whole, input lists, same-file checks
// and the images of a directory.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace convcorr::io {

// Closes a descriptor when it goes out of scope.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

// An input file opened for reading (O_CLOEXEC); Error(kInput) naming it
// when it is missing, a directory or unreadable.
int OpenInput(const std::filesystem::path& path);

// Reads a whole file (kInput error naming it on failure).
std::vector<uint8_t> ReadFileBytes(const std::filesystem::path& path);
// Reads all of standard input.
std::vector<uint8_t> ReadStdinBytes();

// The lines of an input list (--files-from): separated by newlines (a
// trailing carriage return dropped) or, with `nul`, by NUL bytes; empty
// entries skipped.
std::vector<std::string> SplitInputList(std::string_view text, bool nul);

// True if a and b name the same file (through symlinks or hard links);
// false if either does not exist.
bool SameFile(const std::filesystem::path& a, const std::filesystem::path& b);

// An input found by ExpandInputs: its path and its path relative to the
// directory argument it came from (just the file name for file arguments).
struct InputFile {
  std::filesystem::path path;
  std::filesystem::path relative;
};

// The image files of a directory (recursively if asked), sorted by path,
// with their paths relative to `dir`: files whose extension (lowercase,
// without the dot) is in `extensions`, or, when it is empty, any extension
// IsImageExtension accepts.
std::vector<InputFile> ListImages(
    const std::filesystem::path& dir, bool recursive,
    const std::vector<std::string>& extensions = {});

}  // namespace convcorr::io
