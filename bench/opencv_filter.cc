// The OpenCV side of bench/process_bench.sh: one whole process that reads a
// PPM, filters it with OpenCV and writes PPM, as convcorr's CLI does.
//
//   opencv_filter correlate [--method direct|dft] [--threads N] K IN OUT
//   opencv_filter compare   [--method direct|dft] [--threads N] K IN OUTDIR
//   opencv_filter resize IN WIDTH HEIGHT OUT   (INTER_CUBIC, for the frames)
//   opencv_filter maxdiff A B                   (prints max |A - B|)
//
// K is a text file of kernel rows (numbers separated by commas or
// whitespace, '#' comments), anchored at (cols/2, rows/2) like convcorr's
// default. The border is BORDER_REFLECT_101, convcorr's default
// (reflect101). compare writes OUTDIR/convolve.ppm, correlate.ppm and
// diff.ppm (|convolve - correlate|, cv::absdiff); OUTDIR is created.
//
// --method direct: cv::filter2D on max(2, N) row strips on N std::threads; each
// strip is a ROI of the source, so filter2D reads its neighbours' rows as
// the border and always runs its direct loops (it switches to its own DFT
// only for whole, non-ROI matrices). --method dft: overlap-save with
// cv::dft / mulSpectrums / idft on tiles of getOptimalDFTSize sides, from a
// copyMakeBorder'ed frame, tiles shared by N threads; a compare transforms
// each input tile once for both kernels. OpenCV's own threading is off
// (cv::setNumThreads(1)): the N threads are the program's.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace {

constexpr int kBorder = cv::BORDER_REFLECT_101;

[[noreturn]] void Fail(const std::string& msg) {
  std::fprintf(stderr, "opencv_filter: %s\n", msg.c_str());
  std::exit(2);
}

cv::Mat ReadKernel(const std::string& path) {
  std::ifstream in(path);
  if (!in) Fail("cannot read kernel " + path);
  std::vector<std::vector<float>> rows;
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    std::replace(line.begin(), line.end(), ',', ' ');
    std::replace(line.begin(), line.end(), ';', ' ');
    std::istringstream s(line);
    std::vector<float> row;
    for (double v; s >> v;) row.push_back(static_cast<float>(v));
    if (!s.eof()) Fail("kernel " + path + ": not a number in '" + line + "'");
    if (row.empty()) continue;
    if (!rows.empty() && row.size() != rows[0].size())
      Fail("kernel " + path + ": rows of different lengths");
    rows.push_back(std::move(row));
  }
  if (rows.empty()) Fail("kernel " + path + " is empty");
  cv::Mat k(static_cast<int>(rows.size()), static_cast<int>(rows[0].size()),
            CV_32F);
  for (int y = 0; y < k.rows; ++y)
    for (int x = 0; x < k.cols; ++x) k.at<float>(y, x) = rows[y][x];
  return k;
}

cv::Mat Read(const std::string& path) {
  cv::Mat m = cv::imread(path, cv::IMREAD_UNCHANGED);
  if (m.empty()) Fail("cannot read " + path);
  if (m.depth() != CV_8U) Fail(path + ": expected 8-bit samples");
  return m;
}

void Write(const std::string& path, const cv::Mat& m) {
  if (!cv::imwrite(path, m)) Fail("cannot write " + path);
}

// Runs job(i) for i in [0, count) on `threads` threads.
void Parallel(int count, int threads, const std::function<void(int)>& job) {
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < std::min(threads, count); ++t)
    pool.emplace_back([&] {
      for (int i; (i = next.fetch_add(1)) < count;) job(i);
    });
  for (auto& th : pool) th.join();
}

// A kernel and its anchor: (cols/2, rows/2) for K; the flipped kernel
// (convolve) anchors at the mirrored tap.
struct Tap {
  cv::Mat k;
  cv::Point anchor;
};
Tap Correlation(const cv::Mat& k) { return {k, {k.cols / 2, k.rows / 2}}; }
Tap Convolution(const cv::Mat& k) {
  cv::Mat f;
  cv::flip(k, f, -1);
  return {f, {k.cols - 1 - k.cols / 2, k.rows - 1 - k.rows / 2}};
}

// Direct: filter2D per row strip (a ROI, so always the direct loops).
std::vector<cv::Mat> Direct(const cv::Mat& src, const std::vector<Tap>& taps,
                            int threads) {
  std::vector<cv::Mat> out;
  for (size_t i = 0; i < taps.size(); ++i)
    out.emplace_back(src.size(), src.type());
  // At least two strips: a strip of the whole frame is not a ROI, and
  // filter2D would take its DFT path for it.
  const int strips = std::max(2, threads);
  Parallel(strips, threads, [&](int s) {
    const int y0 = src.rows * s / strips, y1 = src.rows * (s + 1) / strips;
    for (size_t i = 0; i < taps.size(); ++i) {
      cv::Mat dst = out[i].rowRange(y0, y1);
      cv::filter2D(src.rowRange(y0, y1), dst, -1, taps[i].k, taps[i].anchor, 0,
                   kBorder);
    }
  });
  return out;
}

// The DFT side whose cost per output sample, n log2 n / (n - k + 1), is the
// least, among the optimal sizes from max(2k, 256) (smaller tiles lose more
// to per-call overhead than they save; OpenCV's own crossCorr uses 256 too)
// up to the image's side plus k - 1, at most 4096.
int TileSide(int k, int image) {
  int best =
      cv::getOptimalDFTSize(std::min(std::max(2 * k, 256), image + k - 1));
  double best_cost = 1e300;
  for (int n = best;; n = cv::getOptimalDFTSize(n + 1)) {
    const double cost = n * std::log2(n) / (n - k + 1);
    if (cost < best_cost) best = n, best_cost = cost;
    if (n >= image + k - 1 || n >= 4096) break;
  }
  return best;
}

// DFT: overlap-save over tiles. Every kernel is embedded at its anchor in a
// common support (margins the largest over the kernels), so one bordered
// frame and one forward transform per tile and channel serve all of them.
std::vector<cv::Mat> Dft(const cv::Mat& src, const std::vector<Tap>& taps,
                         int threads) {
  int top = 0, bottom = 0, left = 0, right = 0;
  for (const Tap& t : taps) {
    top = std::max(top, t.anchor.y);
    bottom = std::max(bottom, t.k.rows - 1 - t.anchor.y);
    left = std::max(left, t.anchor.x);
    right = std::max(right, t.k.cols - 1 - t.anchor.x);
  }
  const int kh = top + bottom + 1, kw = left + right + 1;
  const int th = TileSide(kh, src.rows), tw = TileSide(kw, src.cols);
  const int oh = th - kh + 1, ow = tw - kw + 1;  // valid outputs per tile

  cv::Mat bordered;
  cv::copyMakeBorder(src, bordered, top, bottom, left, right, kBorder);
  std::vector<cv::Mat> planes;
  cv::split(bordered, planes);
  const int channels = src.channels();

  std::vector<cv::Mat> spectra;  // of each kernel in the common support
  for (const Tap& t : taps) {
    cv::Mat pad = cv::Mat::zeros(th, tw, CV_32F);
    t.k.copyTo(
        pad(cv::Rect(left - t.anchor.x, top - t.anchor.y, t.k.cols, t.k.rows)));
    cv::Mat spec;
    cv::dft(pad, spec, 0, kh);
    spectra.push_back(spec);
  }
  std::vector<std::vector<cv::Mat>> out(taps.size());
  for (auto& o : out)
    for (int c = 0; c < channels; ++c) o.emplace_back(src.size(), CV_8U);

  const int tiles_x = (src.cols + ow - 1) / ow,
            tiles_y = (src.rows + oh - 1) / oh;
  Parallel(tiles_x * tiles_y, threads, [&](int i) {
    const int x0 = (i % tiles_x) * ow, y0 = (i / tiles_x) * oh;
    const int w = std::min(ow, src.cols - x0), h = std::min(oh, src.rows - y0);
    const cv::Rect in_rect(x0, y0, w + kw - 1, h + kh - 1);
    thread_local cv::Mat tile, spec, prod, result;
    for (int c = 0; c < channels; ++c) {
      tile.create(th, tw, CV_32F);
      if (in_rect.width < tw || in_rect.height < th) tile.setTo(0);
      planes[c](in_rect).convertTo(tile(cv::Rect({0, 0}, in_rect.size())),
                                   CV_32F);
      cv::dft(tile, spec, 0, in_rect.height);
      for (size_t k = 0; k < taps.size(); ++k) {
        cv::mulSpectrums(spec, spectra[k], prod, 0, /*conjB=*/true);
        cv::idft(prod, result, cv::DFT_SCALE | cv::DFT_REAL_OUTPUT, h);
        cv::Mat dst = out[k][c](cv::Rect(x0, y0, w, h));
        result(cv::Rect(0, 0, w, h)).convertTo(dst, CV_8U);
      }
    }
  });
  std::vector<cv::Mat> merged;
  for (auto& o : out) {
    cv::Mat m;
    cv::merge(o, m);
    merged.push_back(m);
  }
  return merged;
}

int Usage() {
  std::fprintf(stderr,
               "usage: opencv_filter correlate|compare [--method direct|dft] "
               "[--threads N] KERNEL IN OUT\n"
               "       opencv_filter resize IN WIDTH HEIGHT OUT\n"
               "       opencv_filter maxdiff A B\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  cv::setNumThreads(1);
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return Usage();
  const std::string cmd = args[0];
  if (cmd == "resize" && args.size() == 5) {
    cv::Mat out;
    cv::resize(Read(args[1]), out, {std::stoi(args[2]), std::stoi(args[3])}, 0,
               0, cv::INTER_CUBIC);
    Write(args[4], out);
    return 0;
  }
  if (cmd == "maxdiff" && args.size() == 3) {
    const cv::Mat a = Read(args[1]), b = Read(args[2]);
    if (a.size() != b.size() || a.type() != b.type()) Fail("shapes differ");
    std::printf("%g\n", cv::norm(a, b, cv::NORM_INF));
    return 0;
  }
  if (cmd != "correlate" && cmd != "compare") return Usage();
  std::string method = "direct";
  int threads = 2;
  std::vector<std::string> pos;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--method" && i + 1 < args.size()) {
      method = args[++i];
    } else if (args[i] == "--threads" && i + 1 < args.size()) {
      threads = std::max(1, std::stoi(args[++i]));
    } else {
      pos.push_back(args[i]);
    }
  }
  if (pos.size() != 3 || (method != "direct" && method != "dft"))
    return Usage();
  const cv::Mat kernel = ReadKernel(pos[0]);
  const cv::Mat src = Read(pos[1]);
  std::vector<Tap> taps{Correlation(kernel)};
  if (cmd == "compare") taps.push_back(Convolution(kernel));
  const std::vector<cv::Mat> out =
      method == "dft" ? Dft(src, taps, threads) : Direct(src, taps, threads);
  if (cmd == "correlate") {
    Write(pos[2], out[0]);
    return 0;
  }
  std::error_code ec;
  std::filesystem::create_directories(pos[2], ec);
  cv::Mat diff;
  cv::absdiff(out[1], out[0], diff);
  Write(pos[2] + "/convolve.ppm", out[1]);
  Write(pos[2] + "/correlate.ppm", out[0]);
  Write(pos[2] + "/diff.ppm", diff);
  return 0;
}
