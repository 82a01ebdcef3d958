// One options struct per subcommand, filled by CLI11 (app.cc) and read by
// the command runners.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace convcorr::cli {

// Options shared by convolve, correlate and compare.
struct FilterOptions {
  std::string kernel_spec;
  std::vector<std::string> inputs;
  std::string output;
  bool recursive = false;
  std::string extensions;  // --ext: "jpg,png"; empty = every readable format
  std::string border = "reflect101";
  std::string size = "same";
  std::string anchor;          // "X,Y", empty = default
  std::string stride = "1";    // "N" or "SY,SX" (docs/cnn.md)
  std::string dilation = "1";  // "N" or "DY,DX"
  std::string compat;          // --compat TOOL (docs/compat.md)
  bool border_given = false;   // --border was on the command line
  bool depth_given = false;    // --depth was on the command line
  bool normalize = false;
  bool psf_raw = false;  // --psf-raw: an image kernel's samples as they are
  double scale = 1.0;
  double bias = 0.0;
  bool abs = false;
  std::string depth = "keep";
  bool gray = false;
  bool filter_alpha = false;
  bool no_alpha_weighting = false;  // colour as stored under alpha
  bool linear = false;              // --linear: filter in linear light
  int threads = 0;
  bool no_simd = false;
  std::string method = "auto";
  std::string format;  // output encoding for stdout and directories
  // Set from io::kDefaultMaxPixels in app.cc; a double so that 2.5e8 reads.
  double max_pixels = 0;
  int quality = 0;              // --quality: JPEG and WebP, 0 = default
  bool strip = false;           // --strip: no ICC, EXIF or XMP out
  bool no_auto_orient = false;  // --no-auto-orient: pixels as stored
  bool json = false;
  bool quiet = false;
  bool verbose = false;
  // batch (docs/batch.md)
  int jobs = 0;            // files in flight; 0 = one per core
  std::string files_from;  // a file listing inputs, "-" for stdin
  // The paths that list named (filled from files_from): files keep their
  // relative directories under -o DIR, as directory inputs do.
  std::vector<std::string> listed;
  bool null_separated = false;  // -0: that list is NUL-separated
  std::string report;           // JSON lines, one per input
  bool skip_existing = false;
  bool dry_run = false;
  std::string shard;    // "K/N"
  int shard_count = 0;  // N, the index from the environment
  // compare only
  double threshold = 0.0;
  std::string diff_range = "p99.5";  // --diff-range: max, pNN or a value
  bool raw_diff = false;
  bool panel = false;
  bool html = false;  // --html: OUTDIR/index.html over the run
};

struct KernelOptions {
  std::string spec;
  std::string anchor;
  bool psf_raw = false;
  std::string to;     // --to FORMAT: write the kernel for another tool
  bool list = false;  // --list: every named kernel
  bool json = false;
};

struct SignalOptions {
  std::string values;
  std::string kernel_spec;
  bool psf_raw = false;
  std::string size = "full";
  std::string border = "constant:0";
  std::string anchor;
  std::string stride = "1";
  std::string dilation = "1";
  std::string compat;
  bool border_given = false;
  // --grad [G]: the gradients of a CNN layer's valid correlation
  // (docs/cnn.md); G empty means all ones.
  bool grad = false;
  std::string grad_values;
  bool size_given = false;
  bool json = false;
};

}  // namespace convcorr::cli
