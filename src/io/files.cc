// Finding the images of a directory.
#include <algorithm>
#include <cctype>
#include <system_error>

#include "common/error.h"
#include "io/image_io.h"

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
    if (extensions.empty()
            ? !IsImageExtension(ext)
            : std::find(extensions.begin(), extensions.end(), ext) ==
                  extensions.end()) {
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

}  // namespace convcorr::io
