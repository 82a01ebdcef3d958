// compare --html: one static page over a run's results (OUTDIR/index.html),
// with thumbnails of each input's images, the kernel's symmetric and
// antisymmetric parts, the statistics in a sortable table and the failed
// inputs. Self-contained: inline CSS and script, relative links only.
#pragma once

#include <filesystem>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "io/image_io.h"
#include "kernel/kernel.h"

namespace convcorr::cli {

// The long side of a thumbnail, in pixels.
inline constexpr int kThumbnailSide = 160;

struct HtmlSettings {
  std::filesystem::path out_root;  // compare's output directory
  std::string page_name = "index.html";
  std::string spec;  // the kernel as typed
  kernel::Kernel kernel{1, 1, {1.0}};
  kernel::Analysis analysis = kernel::Analyze(kernel);
  bool panel = false;        // thumbnails of the panel instead of the images
  double threshold = 0.0;    // --threshold, for the share column's heading
  std::string note;          // a line under the title (the shard), or empty
  io::DecodeOptions decode;  // reading outputs back for their thumbnails
  int workers = 1;           // threads making thumbnails
};

// Escapes & < > " ' for HTML text and attribute values.
std::string HtmlEscape(std::string_view text);
// A relative path as a URL: every byte but unreserved ones and '/'
// percent-encoded (so '#', '?', '%' and non-ASCII names link right).
std::string UrlPath(const std::filesystem::path& relative);

// Collects the batch's records as inputs finish (from any thread), then
// writes the thumbnails and the page.
class HtmlPage {
 public:
  explicit HtmlPage(HtmlSettings settings);

  // The page's path: out_root / page_name.
  std::filesystem::path path() const;
  // Removes a page left by an earlier run, so that a page present is
  // always one of a finished run. Throws Error(kOutput).
  void RemoveOld() const;
  // One input's batch report record (status, outputs, error, diff).
  // Thread-safe.
  void Add(const nlohmann::json& record);
  // Makes the missing thumbnails (out_root/thumbs/<output>.jpg) on
  // `workers` threads and writes the page atomically, rows sorted by
  // input name. Throws Error(kOutput) when a file cannot be written.
  void Write();

 private:
  HtmlSettings settings_;
  std::mutex mutex_;
  std::vector<nlohmann::json> records_;
};

}  // namespace convcorr::cli
