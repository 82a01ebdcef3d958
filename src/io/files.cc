// Files and paths (io/files.h): reading inputs whole, input lists, same-file
// checks and the images of a directory.
#include "io/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <string_view>
#include <system_error>

#include "common/error.h"
#include "io/codec.h"
#include "io/format.h"

namespace convcorr::io {

namespace fs = std::filesystem;

namespace {

bool Hidden(const fs::path& p) {
  const std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

[[noreturn]] void DirError(const fs::path& p, const std::error_code& ec) {
  std::string why = ec.message();
  if (!why.empty()) why[0] = static_cast<char>(std::tolower(why[0]));
  throw Error(ErrorKind::kInput,
              "input '" + p.string() + "': cannot list directory: " + why);
}

void Scan(const fs::path& root, const fs::path& dir, bool recursive,
          const std::vector<std::string>& extensions,
          std::vector<InputFile>& out) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) DirError(dir, ec);
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) DirError(dir, ec);
    const fs::path& p = it->path();
    if (Hidden(p)) continue;
    std::error_code st_ec;
    if (it->is_directory(st_ec)) {  // follows symlinks
      // Symlinked directories are not followed, so a link cycle cannot
      // recurse forever (as find does by default).
      if (recursive && !it->is_symlink(st_ec)) {
        Scan(root, p, recursive, extensions, out);
      }
      continue;
    }
    if (!it->is_regular_file(st_ec)) continue;
    const std::string ext = ExtensionOf(p);
    if (extensions.empty() ? !IsImageExtension(ext)
                           : std::find(extensions.begin(), extensions.end(),
                                       ext) == extensions.end()) {
      continue;
    }
    out.push_back({p, p.lexically_relative(root)});
  }
  if (ec) DirError(dir, ec);
}

}  // namespace

std::vector<InputFile> ListImages(const fs::path& dir, bool recursive,
                                  const std::vector<std::string>& extensions) {
  std::vector<InputFile> out;
  Scan(dir, dir, recursive, extensions, out);
  // Byte order of the relative paths: the same on every machine and locale.
  std::sort(out.begin(), out.end(), [](const InputFile& a, const InputFile& b) {
    return a.relative.native() < b.relative.native();
  });
  return out;
}

// An input file opened for reading; kInput errors naming it when it is
// missing, a directory or unreadable.
int OpenInput(const fs::path& path) {
  const std::string name = path.string();
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (!fs::exists(st)) ThrowInput(name, "no such file or directory");
  if (fs::is_directory(st)) ThrowInput(name, "is a directory");
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) ThrowInput(name, ErrnoText(errno));
  return fd;
}

namespace {

// All the bytes left on `fd`; Error(kInput) naming `name` on a read error.
std::vector<uint8_t> ReadAll(int fd, std::string_view name) {
  std::vector<uint8_t> bytes;
  uint8_t buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowInput(name, ErrnoText(errno));
    }
    if (n == 0) break;
    bytes.insert(bytes.end(), buf, buf + n);
  }
  return bytes;
}

}  // namespace

std::vector<uint8_t> ReadFileBytes(const fs::path& path) {
  const FdCloser closer{OpenInput(path)};
  return ReadAll(closer.fd, path.string());
}

std::vector<uint8_t> ReadStdinBytes() { return ReadAll(STDIN_FILENO, "-"); }

std::vector<std::string> SplitInputList(std::string_view text, bool nul) {
  std::vector<std::string> out;
  const char sep = nul ? '\0' : '\n';
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view entry = text.substr(start, end - start);
    if (!nul && !entry.empty() && entry.back() == '\r') entry.remove_suffix(1);
    if (!entry.empty()) out.emplace_back(entry);
    start = end + 1;
  }
  return out;
}

bool SameFile(const fs::path& a, const fs::path& b) {
  std::error_code ec;
  const bool same = fs::equivalent(a, b, ec);
  return !ec && same;
}

}  // namespace convcorr::io
