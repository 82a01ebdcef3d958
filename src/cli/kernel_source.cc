// Reading -k SPEC (kernel_source.h): image files through io, the rest
// through the spec parser.
#include "cli/kernel_source.h"

#include <filesystem>
#include <memory>
#include <numeric>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "common/error.h"
#include "io/format.h"
#include "kernel/image_kernel.h"
#include "kernel/spec.h"

namespace convcorr::cli {

namespace fs = std::filesystem;

namespace {

// io's errors read "input '<name>': <reason>"; the reason alone, for the
// kernel spec error that quotes the file its own way.
std::string_view Reason(std::string_view message, const std::string& name) {
  const std::string prefix = "input '" + name + "': ";
  if (message.substr(0, prefix.size()) == prefix) {
    message.remove_prefix(prefix.size());
  }
  return message;
}

KernelSource ReadImageKernel(const std::string& spec, std::string_view name,
                             const KernelSourceOptions& options) {
  const fs::path path{std::string(name)};
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    const std::uintmax_t bytes = fs::file_size(path, ec);
    if (!ec) kernel::CheckKernelFileSize(spec, name, bytes);
  }
  io::DecodeOptions decode;
  decode.max_pixels = options.max_pixels;
  // As drawn: the image is turned upright as a viewer shows it.
  decode.auto_orient = true;
  io::Raster raster;
  try {
    const std::unique_ptr<io::RasterReader> reader =
        io::RasterReader::Open(path, decode);
    // The kernel's own limit, on the header: nothing decoded yet.
    kernel::CheckImageKernelSize(spec, name, reader->width(), reader->height());
    raster = reader->ReadAll();
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::kInput) throw;
    kernel::ThrowUnreadableImageKernel(spec, name,
                                       Reason(e.what(), path.string()));
  }
  std::vector<double> weights = io::WeightPlane(raster);
  ImageKernelInfo info;
  info.path = path.string();
  info.channels = raster.channels();
  info.depth = raster.depth();
  info.sample_sum = std::accumulate(weights.begin(), weights.end(), 0.0);
  info.normalized = !options.psf_raw;
  KernelSource out;
  out.kernel =
      kernel::KernelFromImage(spec, name, raster.height(), raster.width(),
                              std::move(weights), options.psf_raw);
  out.image = std::move(info);
  return out;
}

}  // namespace

bool IsImageKernelSpec(const std::string& spec) {
  const std::optional<std::string_view> name = kernel::SpecFileName(spec);
  return name && io::IsImageExtension(io::ExtensionOf(std::string(*name)));
}

KernelSource ReadKernelSource(const std::string& spec,
                              const KernelSourceOptions& options) {
  if (IsImageKernelSpec(spec)) {
    return ReadImageKernel(spec, *kernel::SpecFileName(spec), options);
  }
  if (options.psf_raw) {
    throw Error(ErrorKind::kUsage,
                "--psf-raw keeps the samples of an image kernel (-k "
                "@FILE.png); '" +
                    spec + "' is not one: drop --psf-raw");
  }
  KernelSource out;
  out.kernel = kernel::ParseSpec(spec);
  return out;
}

kernel::Kernel ReadKernel(const std::string& spec,
                          const KernelSourceOptions& options) {
  return ReadKernelSource(spec, options).kernel;
}

}  // namespace convcorr::cli
