#include "cli/html_page.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <fstream>
#include <memory>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "cli/format.h"
#include "common/error.h"
#include "core/view.h"
#include "diff/diff.h"
#include "io/atomic_write.h"

namespace convcorr::cli {

namespace fs = std::filesystem;

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string UrlPath(const fs::path& relative) {
  std::string out;
  for (const char c : relative.generic_string()) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') ||
        (u >= '0' && u <= '9') || c == '-' || c == '.' || c == '_' ||
        c == '~' || c == '/') {
      out += c;
    } else {
      out += fmt::format("%{:02X}", u);
    }
  }
  return out;
}

namespace {

// The statistics columns: the report's key, the heading, how a value
// reads.
struct Column {
  const char* key;
  const char* heading;
};
constexpr Column kColumns[] = {
    {"max_abs_diff", "max |diff|"},
    {"mean_abs_diff", "mean |diff|"},
    {"rms", "RMS"},
    {"psnr", "PSNR (dB)"},
    {"share_above_threshold", ""},  // heading with the threshold
};

// A statistic of an input's JSON `diff` as the page shows it; the exact
// number is in data-v.
std::string Shown(const std::string& key, const nlohmann::json& diff) {
  const nlohmann::json& v = diff[key];
  if (key == "psnr") {
    if (v.is_number()) return fmt::format("{:.2f}", v.get<double>());
    // JSON has no infinity or NaN: PSNR is +inf for identical results
    // and NaN where the differences hold a NaN (as the text report
    // prints it).
    return diff.value("identical", false) ? std::string("\u221e") : "nan";
  }
  if (!v.is_number()) return "";
  if (key == "share_above_threshold") {
    return fmt::format("{:.2f}%", 100.0 * v.get<double>());
  }
  return diff::FormatDiff(v.get<double>());
}

// The output directory as the outputs' paths start with it (no trailing
// separator), so that lexically_relative finds each one's place.
fs::path Root(const fs::path& out_root) {
  fs::path root = out_root.lexically_normal();
  if (!root.has_filename() && root.has_parent_path()) {
    root = root.parent_path();
  }
  return root;
}

// Where an output lies under the output directory.
fs::path Relative(const fs::path& output, const fs::path& root) {
  fs::path rel = output.lexically_normal().lexically_relative(root);
  if (rel.empty() || *rel.begin() == "..") rel = output.filename();
  return rel;
}

// A weight table, each cell tinted by its sign and size (red positive,
// blue negative, as the difference maps), the anchor framed.
std::string KernelTable(const kernel::Kernel& k, const std::string& caption) {
  constexpr int kMaxCells = 625;  // 25x25; larger kernels are described
  std::string t = "<figure><figcaption>" + caption + "</figcaption>";
  if (k.rows() * k.cols() > kMaxCells) {
    return t +
           fmt::format("<p>{}x{}: too large to show as a table</p>", k.cols(),
                       k.rows()) +
           "</figure>\n";
  }
  double largest = 0;
  for (const double w : k.weights()) largest = std::max(largest, std::abs(w));
  t += "<table class=\"k\">";
  for (int r = 0; r < k.rows(); ++r) {
    t += "<tr>";
    for (int c = 0; c < k.cols(); ++c) {
      const double w = k.at(r, c);
      const double a = largest > 0 ? 0.65 * std::abs(w) / largest : 0.0;
      t += fmt::format(
          "<td style=\"background:rgba({},{:.3f})\"{}>{}</td>",
          w < 0 ? "33,102,172" : "178,24,43", a,
          r == k.anchor_y() && c == k.anchor_x() ? " class=\"anchor\"" : "",
          HtmlEscape(FormatDouble(w)));
    }
    t += "</tr>";
  }
  return t + "</table></figure>\n";
}

// A thumbnail to make (or keep) for one output.
struct Thumb {
  fs::path output;
  fs::path file;      // out_root/thumbs/<output's relative path>.jpg
  bool keep = false;  // a skipped input's: kept when newer than its output
  bool made = false;  // it exists once the thumbnails are done
};

// Every row of an opened image that streams, a few at a time, to
// take(rows, stride, n); then the end of the file checked.
template <typename Take>
void ForEachRows(io::RasterReader& reader, Take take) {
  constexpr int kBand = 16;
  const auto row_bytes = static_cast<std::ptrdiff_t>(
      static_cast<size_t>(reader.width()) * reader.channels() *
      core::SampleBytes(reader.depth()));
  std::vector<std::byte> band(static_cast<size_t>(row_bytes) * kBand);
  for (int y = 0; y < reader.height(); y += kBand) {
    const int n = std::min(kBand, reader.height() - y);
    reader.ReadRows(band.data(), row_bytes, n);
    take(band.data(), row_bytes, n);
  }
  reader.Finish();
}

// The thumbnail of an output read back: from its rows as they are
// decoded, in memory of a few rows, where the file streams (a float
// output is read twice: its grey levels stretch its range); else from
// the image held whole.
core::Image ReadThumbnail(const fs::path& output,
                          const io::DecodeOptions& decode) {
  std::unique_ptr<io::RasterReader> reader =
      io::RasterReader::Open(output, decode);
  if (!reader->Streams()) {
    return diff::Thumbnail(io::ToImage(reader->ReadAll()), kThumbnailSide);
  }
  core::Range range;
  if (reader->depth() == core::Depth::kF32) {
    bool first = true;
    ForEachRows(*reader,
                [&](const std::byte* rows, std::ptrdiff_t stride, int n) {
                  diff::ColorRangeOfRows(rows, stride, n, reader->width(),
                                         reader->channels(), range, first);
                });
    reader = io::RasterReader::Open(output, decode);
  }
  diff::ThumbnailRows thumb(reader->width(), reader->height(),
                            reader->channels(), reader->depth(), kThumbnailSide,
                            range);
  ForEachRows(*reader, [&](const std::byte* rows, std::ptrdiff_t stride,
                           int n) { thumb.Add(rows, stride, n); });
  return thumb.Finish();
}

void MakeThumb(Thumb& t, const io::DecodeOptions& decode) {
  std::error_code ec;
  if (t.keep && fs::exists(t.file, ec)) {
    const auto thumb_time = fs::last_write_time(t.file, ec);
    const auto output_time = fs::last_write_time(t.output, ec);
    if (!ec && thumb_time >= output_time) {
      t.made = true;
      return;
    }
  }
  core::Image thumb;
  try {
    thumb = ReadThumbnail(t.output, decode);
  } catch (const Error& e) {
    // An output that cannot be read back (gone since, or larger than
    // --max-pixels): its row links it without a preview.
    if (e.kind() != ErrorKind::kInput) throw;
    return;
  }
  io::EncodeOptions options;
  options.quality = 85;
  const std::vector<uint8_t> bytes =
      io::EncodeImage(thumb, "jpg", t.file.string(), {}, options);
  fs::create_directories(t.file.parent_path(), ec);
  if (ec) {
    throw Error(ErrorKind::kOutput,
                fmt::format("output directory '{}': {}",
                            t.file.parent_path().string(), ec.message()));
  }
  io::WriteFileAtomic(t.file, bytes);
  t.made = true;
}

constexpr std::string_view kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
code{background:#f3f3f3;padding:0 .2em}
.kernels{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
figure{margin:0}figcaption{font-weight:600;margin-bottom:.3em}
table.k{border-collapse:collapse;font:12px monospace}
table.k td{border:1px solid #ddd;padding:2px 6px;text-align:right}
table.k td.anchor{outline:2px solid #222;outline-offset:-2px}
#results{border-collapse:collapse}
#results th,#results td{border-bottom:1px solid #e4e4e4;padding:4px 6px;
text-align:left;vertical-align:middle}
#results th{position:sticky;top:0;background:#f7f7f7}
#results th.sort{cursor:pointer;user-select:none;white-space:nowrap}
#results th.sort:hover{background:#eaeaea}
#results th[aria-sort=ascending]::after{content:" \25b2"}
#results th[aria-sort=descending]::after{content:" \25bc"}
#results td.n{text-align:right;font-variant-numeric:tabular-nums;
white-space:nowrap}
#results img{display:block;max-width:128px;max-height:128px;
border:1px solid #ccc;background:#eee}
.name{min-width:9em;max-width:16em;overflow-wrap:anywhere}
.muted{color:#777}.same{color:#1a7f37}
#failed li{overflow-wrap:anywhere}
)";

// Sorting by a column's heading (numbers by data-v, empty cells last), and
// with ?check in the URL a verdict in #check once every image has loaded
// (lazy images made eager first): what the browser test reads.
constexpr std::string_view kScript = R"(
(function(){
var table=document.getElementById('results');
if(table){
var heads=table.tHead.rows[0].cells;
Array.prototype.forEach.call(heads,function(th,col){
if(!th.classList.contains('sort'))return;
th.tabIndex=0;
function sort(){
var asc=th.getAttribute('aria-sort')!=='ascending';
Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',asc?'ascending':'descending');
var num=th.dataset.type==='num';
var body=table.tBodies[0];
var rows=Array.prototype.slice.call(body.rows);
function key(r){var c=r.cells[col];return num?c.dataset.v:c.dataset.v||c.textContent;}
rows.sort(function(a,b){
var x=key(a),y=key(b),ex=x===''||x===undefined,ey=y===''||y===undefined;
if(ex||ey)return ex===ey?0:(ex?1:-1);
var d;
if(num){x=x==='null'?Infinity:parseFloat(x);y=y==='null'?Infinity:parseFloat(y);
d=x<y?-1:x>y?1:0;}else{d=x<y?-1:x>y?1:0;}
return asc?d:-d;});
var f=document.createDocumentFragment();
rows.forEach(function(r){f.appendChild(r);});
body.appendChild(f);}
th.addEventListener('click',sort);
th.addEventListener('keydown',function(e){if(e.key==='Enter')sort();});
});}
if(/[?&]check\b/.test(location.search)){
function sorted(){
var th=document.querySelector('#results th.sort[data-type=num]');
if(!th)return '';
th.click();th.click();
var v=Array.prototype.map.call(table.tBodies[0].rows,function(r){
var x=r.cells[th.cellIndex].dataset.v;return x==='null'?Infinity:parseFloat(x);});
var n=v.filter(function(x){return !isNaN(x);});
for(var i=1;i<n.length;++i)if(n[i]>n[i-1])return ', sort wrong';
return ', sorted';}
var imgs=Array.prototype.slice.call(document.images);
var out=document.getElementById('check');
Promise.all(imgs.map(function(i){
i.loading='eager';
var src=i.getAttribute('src');
return new Promise(function(done){
if(i.complete&&i.naturalWidth>0){done();return;}
i.addEventListener('load',done);i.addEventListener('error',done);
i.src=src;});
})).then(function(){
var want=parseInt(document.body.dataset.images,10);
var bad=imgs.filter(function(i){return !(i.complete&&i.naturalWidth>0);});
if(imgs.length!==want){out.textContent='fail: '+imgs.length+' images, '+want+' expected';}
else if(bad.length){out.textContent='fail: '+bad.length+' of '+imgs.length+' images did not load: '+bad.map(function(i){return i.getAttribute('src');}).join(' ');}
else{out.textContent='ok '+imgs.length+' images'+sorted();}
});}
})();
)";

}  // namespace

HtmlPage::HtmlPage(HtmlSettings settings) : settings_(std::move(settings)) {}

fs::path HtmlPage::path() const {
  return settings_.out_root / settings_.page_name;
}

// Written in every page's head, so that a page of an earlier run can be
// told from a file of the user's.
constexpr std::string_view kGenerator =
    "<meta name=\"generator\" content=\"convcorr compare --html\">";

void HtmlPage::RemoveOld() const {
  std::error_code ec;
  if (!fs::exists(path(), ec)) return;
  // Only a page of an earlier run is removed; any other file there is the
  // user's, and is kept.
  std::string head(4096, '\0');
  {
    std::ifstream f(path(), std::ios::binary);
    f.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(f.gcount()));
  }
  if (head.find(kGenerator) == std::string::npos) {
    throw Error(ErrorKind::kOutput,
                fmt::format("output '{}' exists and is not a page convcorr "
                            "wrote; move it or choose another output "
                            "directory",
                            path().string()));
  }
  fs::remove(path(), ec);
  if (ec) {
    throw Error(ErrorKind::kOutput,
                fmt::format("output '{}': {}", path().string(), ec.message()));
  }
}

void HtmlPage::Add(const nlohmann::json& record) {
  const std::lock_guard<std::mutex> lock(mutex_);
  records_.push_back(record);
}

void HtmlPage::Write() {
  std::vector<nlohmann::json> records;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    records = std::move(records_);
    records_.clear();
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const nlohmann::json& a, const nlohmann::json& b) {
                     return a["input"].get<std::string>() <
                            b["input"].get<std::string>();
                   });
  const fs::path root = Root(settings_.out_root);

  // The thumbnails of each row: the three images, or the panel.
  struct Row {
    std::string input;
    std::string status;
    std::string error;
    std::vector<fs::path> outputs;
    std::vector<size_t> thumbs;  // indices into `thumbs` below
    std::vector<size_t> shown;   // the outputs those are of
    nlohmann::json diff;
  };
  std::vector<Row> rows;
  std::vector<Thumb> thumbs;
  for (const nlohmann::json& r : records) {
    Row row;
    row.input = r.value("input", "");
    row.status = r.value("status", "");
    if (r.contains("error") && r["error"].is_string()) {
      row.error = r["error"].get<std::string>();
    }
    if (r.contains("outputs")) {
      for (const auto& o : r["outputs"]) {
        row.outputs.emplace_back(o.get<std::string>());
      }
    }
    if (r.contains("diff")) row.diff = r["diff"];
    if (row.status != "failed" && row.outputs.size() >= 3) {
      if (settings_.panel) {
        row.shown = {row.outputs.size() - 1};
      } else {
        row.shown = {0, 1, 2};
      }
      for (const size_t i : row.shown) {
        Thumb t;
        t.output = row.outputs[i];
        t.file = settings_.out_root / "thumbs" /
                 (Relative(t.output, root).string() + ".jpg");
        t.keep = row.status == "skipped";
        row.thumbs.push_back(thumbs.size());
        thumbs.push_back(std::move(t));
      }
    }
    rows.push_back(std::move(row));
  }

  // Thumbnails on the run's workers; the first output error ends it.
  {
    std::atomic<size_t> next{0};
    std::exception_ptr error;
    std::mutex error_mutex;
    const auto work = [&] {
      for (;;) {
        const size_t i = next.fetch_add(1);
        if (i >= thumbs.size()) return;
        try {
          MakeThumb(thumbs[i], settings_.decode);
        } catch (...) {
          const std::lock_guard<std::mutex> lock(error_mutex);
          if (!error) error = std::current_exception();
          next = thumbs.size();
        }
      }
    };
    const int workers =
        std::clamp<int>(settings_.workers, 1,
                        static_cast<int>(std::max<size_t>(thumbs.size(), 1)));
    std::vector<std::thread> threads;
    for (int t = 1; t < workers; ++t) threads.emplace_back(work);
    work();
    for (std::thread& t : threads) t.join();
    if (error) std::rethrow_exception(error);
  }

  size_t compared = 0, skipped = 0, failed = 0, images = 0;
  for (const Row& row : rows) {
    if (row.status == "failed") {
      ++failed;
    } else if (row.status == "skipped") {
      ++skipped;
    } else {
      ++compared;
    }
  }
  for (const Thumb& t : thumbs) images += t.made ? 1 : 0;

  const kernel::Analysis& a = settings_.analysis;
  const std::string spec = HtmlEscape(settings_.spec);
  std::string page = fmt::format(
      "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
      "charset=\"utf-8\">\n<meta name=\"viewport\" "
      "content=\"width=device-width, initial-scale=1\">\n{}\n<title>convcorr "
      "compare: {}</title>\n<style>{}</style>\n</head>\n<body "
      "data-images=\"{}\">\n<h1>convcorr compare <code>{}</code></h1>\n",
      kGenerator, spec, kStyle, images, spec);
  if (!settings_.note.empty()) {
    page += "<p>" + HtmlEscape(settings_.note) + "</p>\n";
  }
  page += fmt::format(
      "<p id=\"summary\">{} input{}: {} compared, {} skipped, {} "
      "failed.</p>\n",
      rows.size(), rows.size() == 1 ? "" : "s", compared, skipped, failed);

  // The kernel and its parts.
  page += "<h2>Kernel</h2>\n";
  page += fmt::format(
      "<p>asymmetry <span id=\"asymmetry\" data-v=\"{}\">{:.4g}</span> "
      "(\u2016K \u2212 rot180 K\u2016 / (2 \u2016K\u2016): 0 for a "
      "centro-symmetric kernel, 1 for an antisymmetric one); convolve == "
      "correlate: {}. Correlating with K is correlating with S + A, "
      "convolving is correlating with S \u2212 A: convolve \u2212 correlate "
      "is the image correlated with \u22122A.</p>\n",
      DoubleJson(a.asymmetry).dump(), a.asymmetry,
      a.convolve_equals_correlate ? "yes" : "no");
  page += "<div class=\"kernels\">\n";
  page += KernelTable(settings_.kernel, "K");
  page += KernelTable(a.symmetric, "S = (K + rot180 K) / 2");
  page += KernelTable(a.antisymmetric, "A = (K \u2212 rot180 K) / 2");
  page += "</div>\n";

  // The results.
  page += "<h2>Results</h2>\n";
  if (rows.size() == failed) {
    page += "<p class=\"muted\">No input was compared.</p>\n";
  } else {
    page += "<table id=\"results\">\n<thead><tr>";
    page += "<th class=\"sort\" data-type=\"text\">input</th>";
    if (settings_.panel) {
      page += "<th>panel</th>";
    } else {
      page += "<th>convolve</th><th>correlate</th><th>difference</th>";
    }
    for (const Column& c : kColumns) {
      const std::string heading =
          *c.heading != '\0'
              ? std::string(c.heading)
              : fmt::format("share |diff| &gt; {}",
                            HtmlEscape(FormatDouble(settings_.threshold)));
      page += fmt::format("<th class=\"sort\" data-type=\"num\">{}</th>",
                          *c.heading != '\0' ? HtmlEscape(heading) : heading);
    }
    // A column for the outputs without a thumbnail (raw difference; with
    // --panel, the images themselves), when there are any.
    const bool others = std::any_of(rows.begin(), rows.end(), [](const Row& r) {
      return r.status != "failed" && r.outputs.size() > r.shown.size();
    });
    page += others ? "<th>files</th></tr></thead>\n<tbody>\n"
                   : "</tr></thead>\n<tbody>\n";
    for (const Row& row : rows) {
      if (row.status == "failed") continue;
      page += fmt::format(
          "<tr data-status=\"{}\" data-input=\"{}\"><td "
          "class=\"name\">{}{}</td>",
          HtmlEscape(row.status), HtmlEscape(row.input),
          HtmlEscape(OneLine(row.input)),
          row.status == "skipped" ? " <span class=\"muted\">(skipped: outputs "
                                    "exist)</span>"
                                  : "");
      for (size_t k = 0; k < row.shown.size(); ++k) {
        const Thumb& t = thumbs[row.thumbs[k]];
        const std::string href = UrlPath(Relative(t.output, root));
        if (t.made) {
          page += fmt::format(
              "<td><a href=\"{}\"><img src=\"{}\" loading=\"lazy\" "
              "alt=\"{}\"></a></td>",
              HtmlEscape(href), HtmlEscape(UrlPath(Relative(t.file, root))),
              HtmlEscape(OneLine(t.output.filename().string())));
        } else {
          page += fmt::format(
              "<td><a href=\"{}\">{}</a> <span class=\"muted\">(no "
              "preview)</span></td>",
              HtmlEscape(href),
              HtmlEscape(OneLine(t.output.filename().string())));
        }
      }
      for (const Column& c : kColumns) {
        if (row.diff.is_object() && row.diff.contains(c.key)) {
          const nlohmann::json& v = row.diff[c.key];
          page += fmt::format("<td class=\"n\" data-v=\"{}\">{}</td>",
                              HtmlEscape(v.dump()),
                              HtmlEscape(Shown(c.key, row.diff)));
        } else {
          page += "<td class=\"n\" data-v=\"\"></td>";
        }
      }
      if (!others) {
        page += "</tr>\n";
        continue;
      }
      page += "<td>";
      bool first = true;
      for (size_t i = 0; i < row.outputs.size(); ++i) {
        if (std::find(row.shown.begin(), row.shown.end(), i) !=
            row.shown.end()) {
          continue;
        }
        page += fmt::format(
            "{}<a href=\"{}\">{}</a>", first ? "" : "<br>",
            HtmlEscape(UrlPath(Relative(row.outputs[i], root))),
            HtmlEscape(OneLine(row.outputs[i].filename().string())));
        first = false;
      }
      page += "</td></tr>\n";
    }
    page += "</tbody>\n</table>\n";
  }

  // The failed inputs.
  page += fmt::format("<h2 id=\"failed-heading\">Failed inputs ({})</h2>\n",
                      failed);
  if (failed == 0) {
    page += "<p class=\"muted\">None.</p>\n";
  } else {
    page += "<ul id=\"failed\">\n";
    for (const Row& row : rows) {
      if (row.status != "failed") continue;
      page += fmt::format("<li><code>{}</code>: {}</li>\n",
                          HtmlEscape(OneLine(row.input)),
                          HtmlEscape(OneLine(row.error)));
    }
    page += "</ul>\n";
  }
  page += "<div id=\"check\" hidden></div>\n<script>";
  page += kScript;
  page += "</script>\n</body>\n</html>\n";
  io::WriteFileAtomic(
      path(), {reinterpret_cast<const uint8_t*>(page.data()), page.size()});
}

}  // namespace convcorr::cli
