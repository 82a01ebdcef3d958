// compare --html through the built binary: the page and its thumbnails,
// every link and image resolving on disk, the statistics equal to the
// report's, names escaped, failed inputs listed, resume and dry runs, and
// the usage errors. (The page in a browser: tests/cli/html_browser.sh.)
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <regex>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/run.h"

namespace convcorr::testing {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Unescape(std::string s) {
  const std::pair<const char*, const char*> entities[] = {{"&lt;", "<"},
                                                          {"&gt;", ">"},
                                                          {"&quot;", "\""},
                                                          {"&#39;", "'"},
                                                          {"&amp;", "&"}};
  for (const auto& [from, to] : entities) {
    for (size_t at = s.find(from); at != std::string::npos;
         at = s.find(from, at + 1)) {
      s.replace(at, std::string(from).size(), to);
    }
  }
  return s;
}

std::string Escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
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

std::string PercentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

// Every src and href of the page, as written (still escaped).
std::vector<std::string> Targets(const std::string& page,
                                 const std::string& attr) {
  std::vector<std::string> out;
  const std::regex re(" " + attr + "=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), re);
       it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1]);
  }
  return out;
}

// Every image and link of the page names a file that exists, relative to
// the page; returns how many images there are.
size_t CheckTargets(const fs::path& page_path) {
  const std::string page = ReadBytes(page_path);
  const std::vector<std::string> images = Targets(page, "src");
  const std::vector<std::string> links = Targets(page, "href");
  for (const auto* list : {&images, &links}) {
    for (const std::string& t : *list) {
      EXPECT_EQ(t.find("://"), std::string::npos) << t;
      EXPECT_NE(t.front(), '/') << t;
      const fs::path file =
          page_path.parent_path() / PercentDecode(Unescape(t));
      EXPECT_TRUE(fs::is_regular_file(file)) << t << " -> " << file;
    }
  }
  return images.size();
}

// The statistics of each row: input name -> the data-v values in order
// (max, mean, rms, psnr, share), as written.
std::map<std::string, std::vector<std::string>> Rows(const std::string& page) {
  std::map<std::string, std::vector<std::string>> out;
  const std::regex row(R"re(<tr data-status="[a-z]+" data-input="([^"]*)">)re");
  const std::regex value(R"re( data-v="([^"]*)")re");
  for (auto it = std::sregex_iterator(page.begin(), page.end(), row);
       it != std::sregex_iterator(); ++it) {
    const size_t start = it->position() + it->length();
    const std::string body =
        page.substr(start, page.find("</tr>", start) - start);
    std::vector<std::string> values;
    for (auto v = std::sregex_iterator(body.begin(), body.end(), value);
         v != std::sregex_iterator(); ++v) {
      values.push_back(Unescape((*v)[1]));
    }
    out[Unescape((*it)[1])] = values;
  }
  return out;
}

std::map<std::string, json> Report(const fs::path& p) {
  std::map<std::string, json> out;
  for (const std::string& line : Lines(ReadBytes(p))) {
    const json j = json::parse(line);
    if (j.contains("input")) out[j["input"].get<std::string>()] = j;
  }
  return out;
}

// The row's statistics equal the report's (the same numbers, as JSON).
void ExpectSameStats(const std::vector<std::string>& row, const json& record) {
  const char* keys[] = {"max_abs_diff", "mean_abs_diff", "rms", "psnr",
                        "share_above_threshold"};
  ASSERT_EQ(row.size(), 5u);
  for (size_t i = 0; i < 5; ++i) {
    const json& want = record["diff"][keys[i]];
    const json got = json::parse(row[i]);
    if (want.is_null()) {
      EXPECT_TRUE(got.is_null()) << keys[i];
    } else {
      EXPECT_EQ(got.get<double>(), want.get<double>()) << keys[i];
    }
  }
}

fs::path Crop(const fs::path& dst, int x = 200) {
  return WriteCrop("astronaut.png", cv::Rect(x, 180, 64, 48), dst);
}

TEST(CliHtml, OneInput) {
  TempDir t;
  const fs::path in = Crop(t / "crop.png");
  const fs::path out = t / "out";
  RUN_OK(r, {"compare", "-k", "sobel-x", "--html", in.string(), "-o",
             out.string(), "--report", (t / "r.jsonl").string(), "-q"});
  const fs::path page_path = out / "index.html";
  ASSERT_TRUE(fs::is_regular_file(page_path));
  const std::string page = ReadBytes(page_path);
  EXPECT_NE(page.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_EQ(CheckTargets(page_path), 3u);
  EXPECT_NE(page.find("data-images=\"3\""), std::string::npos);
  // Nothing from the network.
  EXPECT_EQ(page.find("http"), std::string::npos);
  // The kernel, its parts and its asymmetry (1: sobel-x is antisymmetric).
  EXPECT_NE(page.find("S = (K + rot180 K) / 2"), std::string::npos);
  EXPECT_NE(page.find("A = (K \u2212 rot180 K) / 2"), std::string::npos);
  EXPECT_NE(page.find("id=\"asymmetry\" data-v=\"1.0\""), std::string::npos)
      << page.substr(page.find("asymmetry"), 80);
  const auto rows = Rows(page);
  const auto report = Report(t / "r.jsonl");
  ASSERT_EQ(rows.size(), 1u);
  ExpectSameStats(rows.at(in.string()), report.at(in.string()));
  // Thumbnails: small JPEGs mirroring the outputs' names.
  for (const char* role : {"convolve", "correlate", "diff"}) {
    const cv::Mat thumb =
        Read(out / "thumbs" / (std::string("crop.") + role + ".png.jpg"));
    ASSERT_FALSE(thumb.empty()) << role;
    EXPECT_LE(std::max(thumb.cols, thumb.rows), 160);
    EXPECT_EQ(thumb.cols, 64);  // never enlarged
  }
  EXPECT_EQ(HiddenEntries(out), std::vector<std::string>{});
}

TEST(CliHtml, FolderWithHostileNamesAndAFailure) {
  TempDir t;
  const fs::path in = t / "in";
  fs::create_directories(in / "sub");
  const std::string hostile = "a<b>&\"c 'd'#1%.png";
  Crop(in / hostile, 100);
  Crop(in / "\u00e9t\u00e9 \u5199\u771f.png", 150);
  Crop(in / "sub" / "big.png", 200);
  WriteBytes(in / "bad.png", "not a png at all");
  const fs::path out = t / "out";
  const RunResult r =
      RunConvcorr({"compare", "-k", "emboss", "--html", "-r", in.string(), "-o",
                   out.string(), "--jobs", "2", "--report",
                   (t / "r.jsonl").string(), "-q"});
  ASSERT_EQ(r.exit_code, 1) << Describe(r);
  const fs::path page_path = out / "index.html";
  const std::string page = ReadBytes(page_path);
  ASSERT_FALSE(page.empty());
  EXPECT_EQ(CheckTargets(page_path), 9u);
  // Names escaped everywhere: the raw name is nowhere in the page.
  EXPECT_EQ(page.find("a<b>"), std::string::npos);
  EXPECT_NE(page.find("a&lt;b&gt;&amp;&quot;c &#39;d&#39;#1%.png"),
            std::string::npos);
  EXPECT_NE(page.find("\u00e9t\u00e9 \u5199\u771f.png"), std::string::npos);
  // Statistics as reported, rows sorted by name.
  const auto rows = Rows(page);
  const auto report = Report(t / "r.jsonl");
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& [name, values] : rows) {
    SCOPED_TRACE(name);
    ExpectSameStats(values, report.at(name));
  }
  EXPECT_LT(page.find("data-input=\"" + (in / "a&lt;").string()),
            page.find("data-input=\"" + (in / "sub").string()));
  // The failed input in its own section, with its one-line error.
  const std::string bad = (in / "bad.png").string();
  const std::string error = report.at(bad)["error"].get<std::string>();
  EXPECT_NE(page.find("Failed inputs (1)"), std::string::npos);
  EXPECT_NE(page.find("<li><code>" + Escape(bad) + "</code>: " + Escape(error) +
                      "</li>"),
            std::string::npos)
      << error;
  EXPECT_EQ(page.find("data-input=\"" + bad), std::string::npos);
}

TEST(CliHtml, PanelThumbnails) {
  TempDir t;
  const fs::path in = Crop(t / "crop.png");
  const fs::path out = t / "out";
  RUN_OK(r, {"compare", "-k", "sobel-x", "--html", "--panel", "--raw-diff",
             in.string(), "-o", out.string(), "-q"});
  const fs::path page_path = out / "index.html";
  EXPECT_EQ(CheckTargets(page_path), 1u);
  const std::string page = ReadBytes(page_path);
  EXPECT_NE(page.find("src=\"thumbs/crop.panel.png.jpg\""), std::string::npos);
  // The other outputs linked.
  for (const char* f : {"crop.convolve.png", "crop.correlate.png",
                        "crop.diff.png", "crop.diff.tif"}) {
    EXPECT_NE(page.find(std::string("href=\"") + f + "\""), std::string::npos)
        << f;
  }
  const cv::Mat thumb = Read(out / "thumbs" / "crop.panel.png.jpg");
  ASSERT_FALSE(thumb.empty());
  EXPECT_EQ(std::max(thumb.cols, thumb.rows), 160);
}

TEST(CliHtml, SkipExistingAndDryRun) {
  TempDir t;
  const fs::path in = t / "in";
  fs::create_directories(in);
  Crop(in / "a.png", 100);
  Crop(in / "b.png", 200);
  const fs::path out = t / "out";
  const std::vector<std::string> args = {"compare",    "-k",        "sobel-x",
                                         "--html",     in.string(), "-o",
                                         out.string(), "-q"};
  RUN_OK(first, args);
  // A dry run writes no page and leaves the last one.
  const std::string before = ReadBytes(out / "index.html");
  std::vector<std::string> dry = args;
  dry.insert(dry.end(), {"--skip-existing", "--dry-run"});
  RUN_OK(d, dry);
  EXPECT_EQ(ReadBytes(out / "index.html"), before);
  // Resumed: one input redone, one skipped; both rows, the skipped one
  // with its thumbnails and no statistics.
  fs::remove(out / "b.diff.png");
  std::vector<std::string> again = args;
  again.insert(again.end(),
               {"--skip-existing", "--report", (t / "r.jsonl").string()});
  RUN_OK(second, again);
  const std::string page = ReadBytes(out / "index.html");
  EXPECT_EQ(CheckTargets(out / "index.html"), 6u);
  EXPECT_NE(page.find("2 inputs: 1 compared, 1 skipped, 0 failed"),
            std::string::npos);
  const auto rows = Rows(page);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.at((in / "a.png").string()), std::vector<std::string>(5, ""));
  ExpectSameStats(rows.at((in / "b.png").string()),
                  Report(t / "r.jsonl").at((in / "b.png").string()));
  EXPECT_NE(page.find("data-status=\"skipped\""), std::string::npos);
}

TEST(CliHtml, ShardWritesItsOwnPage) {
  TempDir t;
  const fs::path in = t / "in";
  fs::create_directories(in);
  Crop(in / "a.png", 100);
  Crop(in / "b.png", 200);
  const fs::path out = t / "out";
  RUN_OK(r, {"compare", "-k", "sobel-x", "--html", in.string(), "-o",
             out.string(), "--shard", "1/2", "-q"});
  EXPECT_FALSE(fs::exists(out / "index.html"));
  const fs::path page = out / "index.1-of-2.html";
  EXPECT_EQ(CheckTargets(page), 3u);
  const auto rows = Rows(ReadBytes(page));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows.begin()->first, (in / "b.png").string());
}

TEST(CliHtml, UsageErrors) {
  TempDir t;
  const fs::path in = Crop(t / "crop.png");
  const RunResult conv = RunConvcorr({"convolve", "-k", "sobel-x", "--html",
                                      in.string(), "-o", (t / "o").string()});
  EXPECT_EQ(conv.exit_code, 2);
  EXPECT_EQ(conv.err,
            "--html applies to compare (a page of convolve, correlate and "
            "their difference); use 'convcorr compare --html -k SPEC "
            "INPUTS... -o DIR'\n");
  const RunResult to_stdout = RunConvcorr(
      {"compare", "-k", "sobel-x", "--html", in.string(), "-o", "-"});
  EXPECT_EQ(to_stdout.exit_code, 2);
  EXPECT_EQ(to_stdout.err,
            "compare writes several files: -o must be a directory\n");
  const RunResult to_file =
      RunConvcorr({"compare", "-k", "sobel-x", "--html", in.string(), "-o",
                   (t / "page.html").string()});
  EXPECT_EQ(to_file.exit_code, 2);
  EXPECT_NE(to_file.err.find("compare writes several files, not the file"),
            std::string::npos)
      << to_file.err;
  EXPECT_FALSE(fs::exists(t / "o"));
  // The report cannot be the page, which would replace it.
  const RunResult report = RunConvcorr(
      {"compare", "-k", "sobel-x", "--html", in.string(), "-o",
       (t / "o").string(), "--report", (t / "o" / "index.html").string()});
  EXPECT_EQ(report.exit_code, 2);
  EXPECT_EQ(report.err, "--report '" + (t / "o" / "index.html").string() +
                            "' is also the --html page; choose another "
                            "report file\n");
}

// An index.html of the user's in the output directory is kept: the run
// stops with an output error (exit 3) before writing anything; a page of
// an earlier run is replaced.
TEST(CliHtml, KeepsAnIndexThatIsNotAPage) {
  TempDir t;
  const fs::path in = Crop(t / "crop.png");
  fs::create_directories(t / "o");
  WriteBytes(t / "o" / "index.html", "<p>my notes</p>\n");
  const RunResult r = RunConvcorr({"compare", "-k", "sobel-x", "--html",
                                   in.string(), "-o", (t / "o").string()});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find("is not a page convcorr wrote"), std::string::npos)
      << r.err;
  EXPECT_EQ(ReadBytes(t / "o" / "index.html"), "<p>my notes</p>\n");
  fs::remove(t / "o" / "index.html");
  RUN_OK(first, {"compare", "-k", "sobel-x", "--html", in.string(), "-o",
                 (t / "o").string()});
  RUN_OK(again, {"compare", "-k", "emboss", "--html", in.string(), "-o",
                 (t / "o").string()});
  EXPECT_NE(ReadBytes(t / "o" / "index.html").find("emboss"),
            std::string::npos);
}

// PSNR as the text report prints it: infinite for identical results (a
// centro-symmetric kernel), nan where the differences hold a NaN (a float
// input with a NaN sample); the JSON holds null for both.
TEST(CliHtml, PsnrOfIdenticalAndOfNanResults) {
  TempDir t;
  const fs::path in = Crop(t / "crop.png");
  RUN_OK(same, {"compare", "-k", "gaussian:1", "--html", in.string(), "-o",
                (t / "same").string(), "-q"});
  const std::string same_page = ReadBytes(t / "same" / "index.html");
  EXPECT_NE(same_page.find("data-v=\"null\">\u221e</td>"), std::string::npos);
  EXPECT_EQ(same_page.find(">nan</td>"), std::string::npos);

  cv::Mat f(16, 16, CV_32FC1, cv::Scalar(10.0f));
  f.at<float>(8, 8) = std::numeric_limits<float>::quiet_NaN();
  ASSERT_TRUE(cv::imwrite((t / "nan.tif").string(), f));
  RUN_OK(nan, {"compare", "-k", "sobel-x", "--html", (t / "nan.tif").string(),
               "-o", (t / "nan").string()});
  EXPECT_NE(nan.out.find("psnr nan dB"), std::string::npos) << nan.out;
  const std::string nan_page = ReadBytes(t / "nan" / "index.html");
  EXPECT_NE(nan_page.find("data-v=\"null\">nan</td>"), std::string::npos);
  EXPECT_EQ(nan_page.find("\u221e"), std::string::npos);
}

}  // namespace
}  // namespace convcorr::testing
