// The engine against OpenCV on a 4K RGB frame: correlate and compare for six
// kernels, two depths and one or two threads, then a table of the
// OpenCV/convcorr time ratios against the project's targets. What is timed,
// and why each side is set up the way it is: docs/performance.md.
#include <benchmark/benchmark.h>
#include <hwy/targets.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <opencv2/core.hpp>
#include <opencv2/core/utility.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <ostream>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/engine.h"
#include "core/filter.h"
#include "core/image.h"
#include "core/large_buffer.h"
#include "diff/diff.h"
#include "diff/rows.h"
#include "kernel/kernel.h"
#include "kernel/spec.h"
#include "peak_fma.h"

namespace convcorr::bench {
namespace {

constexpr int kFrameWidth = 3840;
constexpr int kFrameHeight = 2160;

// OpenCV 4.6's filter2D correlates by DFT from this kernel area on (8U->8U
// and 32F->32F on an SSE3 CPU), but only when the source is not a
// sub-matrix: dftFilter2D in modules/imgproc/src/filter.dispatch.cpp.
constexpr int kOpenCvDftArea = 130;

// Targets from the project's performance issue (docs/performance.md).
constexpr double kCorrelateRowTarget = 1.5;
constexpr double kCorrelateGeomeanTarget = 3.0;
constexpr double kCompareRowTarget = 2.5;

// What a row must do at least, for its distance from the machine's limits:
// how many frame copies' worth of memory traffic (read the frame, write a
// frame of the same depth: 1 for correlate; compare writes two results and
// absdiff reads them and writes a third: 3) and how many multiply-adds (the
// cost model's count for the strategy convcorr picks, per output sample).
struct Work {
  std::string depth;  // "u8" or "f32": which copy row is its memory floor
  int threads = 1;
  double copies = 1;
  double madds = 0;
};
std::map<std::string, Work>& RowWork() {
  static std::map<std::string, Work> work;
  return work;
}
size_t g_fma_lanes = 0;
constexpr size_t kFmaIterations = 20'000'000;

// Every cv::Mat of the program (the frames, both sides' outputs, OpenCV's
// own temporaries) in the memory the command line gives the engine: its
// rows and results are core::LargeBuffer, mapped in 2 MiB blocks and
// advised for transparent huge pages. A float frame is 24,000 pages of 4
// KiB, and on a virtual machine that shadows the guest's page tables the
// walks that read and write several rows at once paid for their TLB misses
// (docs/performance.md, "Frames in 2 MiB pages").
// CONVCORR_BENCH_SMALL_PAGES=1 keeps OpenCV's allocator instead.
class LargeBufferAllocator final : public cv::MatAllocator {
 public:
  cv::UMatData* allocate(int dims, const int* sizes, int type, void* data0,
                         size_t* step, cv::AccessFlag /*flags*/,
                         cv::UMatUsageFlags /*usage*/) const override {
    // As OpenCV's StdMatAllocator lays a matrix out.
    size_t total = CV_ELEM_SIZE(type);
    for (int i = dims - 1; i >= 0; --i) {
      if (step != nullptr) {
        if (data0 != nullptr && step[i] != cv::Mat::AUTO_STEP) {
          CV_Assert(total <= step[i]);
          total = step[i];
        } else {
          step[i] = total;
        }
      }
      total *= static_cast<size_t>(sizes[i]);
    }
    auto* u = new cv::UMatData(this);
    if (data0 != nullptr) {
      u->data = u->origdata = static_cast<uchar*>(data0);
      u->flags |= cv::UMatData::USER_ALLOCATED;
    } else {
      auto* buffer = new core::LargeBuffer(total);
      u->userdata = buffer;
      u->data = u->origdata = buffer->as<uchar>();
    }
    u->size = total;
    return u;
  }
  bool allocate(cv::UMatData* u, cv::AccessFlag /*flags*/,
                cv::UMatUsageFlags /*usage*/) const override {
    return u != nullptr;
  }
  void deallocate(cv::UMatData* u) const override {
    if (u == nullptr) return;
    CV_Assert(u->urefcount == 0 && u->refcount == 0);
    if ((u->flags & cv::UMatData::USER_ALLOCATED) == 0) {
      delete static_cast<core::LargeBuffer*>(u->userdata);
    }
    delete u;
  }
};

// One test frame at one depth, in both layouts.
struct Frame {
  std::string name;   // "u8" or "f32"
  cv::Mat mat;        // interleaved BGR, CV_8UC3 or CV_32FC3
  core::Image image;  // the same samples, planar float
  int cv_depth = CV_8U;
};

// cv::Mat (8UC3 or 32FC3) to core::Image: split into planes and widen each
// to float straight into the plane's storage.
core::Image ToImage(const cv::Mat& m, core::Depth depth) {
  core::Image img;
  img.width = m.cols;
  img.height = m.rows;
  img.depth = depth;
  std::vector<cv::Mat> planes;
  cv::split(m, planes);
  for (const cv::Mat& p : planes) {
    core::Plane plane(m.cols, m.rows);
    cv::Mat view(m.rows, m.cols, CV_32F, plane.data.data());
    p.convertTo(view, CV_32F);  // same size and type: writes into `view`
    img.color.push_back(std::move(plane));
  }
  return img;
}

// core::Image (already quantized for integer depths) to an interleaved
// cv::Mat of depth `cv_depth`.
cv::Mat FromImage(const core::Image& img, int cv_depth) {
  std::vector<cv::Mat> planes;
  for (const core::Plane& p : img.color) {
    cv::Mat f(p.height, p.width, CV_32F, const_cast<float*>(p.data.data()));
    if (cv_depth == CV_32F) {
      planes.push_back(f);
    } else {
      cv::Mat m;
      f.convertTo(m, cv_depth);
      planes.push_back(m);
    }
  }
  cv::Mat merged;
  cv::merge(planes, merged);
  return merged;
}

// A kernel as both sides use it.
struct KernelCase {
  std::string name;         // row label: "K3", "G7", ...
  std::string description;  // for the context block
  kernel::Kernel k;
  // The 1-D factor for sepFilter2D (both directions), empty for filter2D.
  std::vector<float> separable;
  // A Gaussian's sigma: OpenCV's side then runs the faster of sepFilter2D
  // and cv::GaussianBlur (fixed point on 8-bit), timed on the frame.
  double gaussian_sigma = 0.0;
};

// n x n weights in [-1, 1] from std::mt19937 (whose output sequence the
// standard fixes, unlike the distributions), so every platform gets the
// same kernel.
kernel::Kernel RandomKernel(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<double> w(static_cast<size_t>(n) * n);
  for (double& v : w)
    v = 2.0 * (static_cast<double>(rng()) / 4294967295.0) - 1.0;
  return kernel::Kernel(n, n, std::move(w));
}

// The normalised sampled Gaussian g(i) ~ exp(-(i-c)^2 / (2 sigma^2)).
std::vector<double> Gaussian1D(double sigma, int size) {
  std::vector<double> g(size);
  double sum = 0;
  const double c = (size - 1) / 2.0;
  for (int i = 0; i < size; ++i) {
    g[i] = std::exp(-0.5 * (i - c) * (i - c) / (sigma * sigma));
    sum += g[i];
  }
  for (double& v : g) v /= sum;
  return g;
}

std::vector<KernelCase> MakeKernels() {
  std::vector<KernelCase> kernels;
  kernels.push_back({"K3", "sobel-x", kernel::ParseSpec("sobel-x"), {}});
  kernels.push_back(
      {"K5", "random 5x5 in [-1,1], mt19937 seed 5", RandomKernel(5, 5), {}});
  {
    const kernel::Kernel k = kernel::ParseSpec("gaussian:1.5,7");
    const std::vector<double> g = Gaussian1D(1.5, 7);
    // OpenCV gets the 1-D factors; they must give convcorr's kernel.
    for (int i = 0; i < 7; ++i) {
      for (int j = 0; j < 7; ++j) {
        if (std::fabs(g[i] * g[j] - k.at(i, j)) > 1e-12) {
          std::fprintf(stderr,
                       "engine_bench: the 1-D Gaussian factors do not give "
                       "gaussian:1.5,7 at (%d, %d)\n",
                       i, j);
          std::exit(1);
        }
      }
    }
    kernels.push_back(
        {"G7",
         "gaussian:1.5,7 (OpenCV: the faster of sepFilter2D and GaussianBlur)",
         k, std::vector<float>(g.begin(), g.end()), 1.5});
  }
  kernels.push_back({"K15",
                     "random 15x15 in [-1,1], mt19937 seed 15",
                     RandomKernel(15, 15),
                     {}});
  kernels.push_back(
      {"M31", "motion:31,30", kernel::ParseSpec("motion:31,30"), {}});
  kernels.push_back({"K63",
                     "random 63x63 in [-1,1], mt19937 seed 63",
                     RandomKernel(63, 63),
                     {}});
  return kernels;
}

double AbsSum(const kernel::Kernel& k) {
  double s = 0;
  for (double w : k.weights()) s += std::fabs(w);
  return s;
}

// ---------------------------------------------------------------------------
// OpenCV's side.

// Which of sepFilter2D and GaussianBlur OpenCV's Gaussian rows run, per
// depth ("u8", "f32"), for the context block.
std::map<std::string, std::string>& GaussianChoice() {
  static std::map<std::string, std::string> choice;
  return choice;
}

// Output rows [y0, y1) of one thread's strip, and the rows [s0, s1) its
// windows read (the strip grown by the halo, clipped to the frame).
struct Strip {
  int y0, y1, s0, s1;
};

// The same contiguous split as core's row threading.
std::vector<Strip> MakeStrips(int height, int threads, int halo) {
  std::vector<Strip> strips;
  for (int t = 0; t < threads; ++t) {
    const int y0 =
        static_cast<int>(static_cast<long long>(height) * t / threads);
    const int y1 =
        static_cast<int>(static_cast<long long>(height) * (t + 1) / threads);
    strips.push_back(
        {y0, y1, std::max(0, y0 - halo), std::min(height, y1 + halo)});
  }
  return strips;
}

// Runs body(i) for every strip, strip 0 on the calling thread.
template <typename Body>
void RunStrips(size_t count, const Body& body) {
  if (count == 1) {
    body(0);
    return;
  }
  std::vector<std::thread> workers;
  for (size_t i = 1; i < count; ++i) workers.emplace_back(body, i);
  body(0);
  for (std::thread& w : workers) w.join();
}

// cv::filter2D (or sepFilter2D) of one frame, on one thread or on row strips
// in parallel, each strip running the algorithm filter2D picks for the whole
// frame:
// - direct kernels: the strip is a ROI of source and destination, and
//   filter2D reads the rows outside the ROI as its border, so no halo copy;
// - DFT kernels: filter2D refuses DFT on a ROI and would fall back to direct
//   loops (measured 6x slower for K63), so the strip and its halo go in
//   with BORDER_ISOLATED into a scratch matrix, whose inner rows are kept.
class OpenCvFilter {
 public:
  OpenCvFilter(const cv::Mat& src, const KernelCase& kc, int cv_depth,
               int threads)
      : src_(src), cv_depth_(cv_depth) {
    const kernel::Kernel& k = kc.k;
    kernel_ = cv::Mat(k.rows(), k.cols(), CV_32F);
    for (int i = 0; i < k.rows(); ++i) {
      for (int j = 0; j < k.cols(); ++j) {
        kernel_.at<float>(i, j) = static_cast<float>(k.at(i, j));
      }
    }
    cv::flip(kernel_, flipped_, -1);
    anchor_ = cv::Point(k.anchor_x(), k.anchor_y());
    flipped_anchor_ =
        cv::Point(k.cols() - 1 - k.anchor_x(), k.rows() - 1 - k.anchor_y());
    separable_ = kc.separable;
    separable_flipped_.assign(separable_.rbegin(), separable_.rend());
    gaussian_sigma_ = kc.gaussian_sigma;
    ksize_ = cv::Size(k.cols(), k.rows());
    dft_ = separable_.empty() && k.rows() * k.cols() >= kOpenCvDftArea;
    const int halo = std::max(k.anchor_y(), k.rows() - 1 - k.anchor_y());
    strips_ = MakeStrips(src.rows, threads, halo);
  }

  // Allocates and touches the per-strip scratch, so the timed loop does not:
  // views of two full-frame buffers for direct kernels (compare writes both
  // filtered frames there), strip+halo matrices for DFT kernels.
  void Prepare() {
    if (prepared_) return;
    prepared_ = true;
    const auto make = [&](std::vector<cv::Mat>& scratch, cv::Mat& full) {
      if (!dft_) full = cv::Mat::zeros(src_.size(), src_.type());
      for (const Strip& s : strips_) {
        scratch.push_back(
            dft_ ? cv::Mat::zeros(s.s1 - s.s0, src_.cols, src_.type())
                 : full.rowRange(s.y0, s.y1));
      }
    };
    make(scratch_a_, full_a_);
    make(scratch_b_, full_b_);
    if (gaussian_sigma_ > 0.0) ChooseGaussian();
  }

  // dst = correlate(src, K); dst has src's size and type.
  void Correlate(cv::Mat& dst) {
    Prepare();
    if (!dft_ || strips_.size() == 1) {
      RunStrips(strips_.size(), [&](size_t i) {
        const Strip& s = strips_[i];
        cv::Mat out = dst.rowRange(s.y0, s.y1);
        Apply(src_.rowRange(s.y0, s.y1), out, false, cv::BORDER_REFLECT_101);
      });
      return;
    }
    RunStrips(strips_.size(), [&](size_t i) {
      const Strip& s = strips_[i];
      Apply(src_.rowRange(s.s0, s.s1), scratch_a_[i], false,
            cv::BORDER_REFLECT_101 | cv::BORDER_ISOLATED);
      scratch_a_[i]
          .rowRange(s.y0 - s.s0, s.y1 - s.s0)
          .copyTo(dst.rowRange(s.y0, s.y1));
    });
  }

  // dst = |correlate(src, K) - correlate(src, flipped K)| per sample, as an
  // OpenCV user computes compare: filter2D twice and absdiff.
  void Compare(cv::Mat& dst) {
    Prepare();
    RunStrips(strips_.size(), [&](size_t i) {
      const Strip& s = strips_[i];
      const cv::Mat in =
          dft_ ? src_.rowRange(s.s0, s.s1) : src_.rowRange(s.y0, s.y1);
      const int border = dft_ ? cv::BORDER_REFLECT_101 | cv::BORDER_ISOLATED
                              : cv::BORDER_REFLECT_101;
      Apply(in, scratch_a_[i], false, border);
      Apply(in, scratch_b_[i], true, border);
      const int first = dft_ ? s.y0 - s.s0 : 0;
      const int count = s.y1 - s.y0;
      cv::Mat out = dst.rowRange(s.y0, s.y1);
      cv::absdiff(scratch_a_[i].rowRange(first, first + count),
                  scratch_b_[i].rowRange(first, first + count), out);
    });
  }

 private:
  // Times sepFilter2D and GaussianBlur on the whole frame (best of three
  // each, one thread) and keeps the faster for the rows.
  void ChooseGaussian() {
    cv::Mat out(src_.size(), src_.type());
    const auto best = [&](bool gaussian) {
      gaussian_ = gaussian;
      double t = 1e30;
      for (int i = 0; i < 3; ++i) {
        const auto start = std::chrono::steady_clock::now();
        Apply(src_, out, false, cv::BORDER_REFLECT_101);
        t = std::min(t, std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - start)
                            .count());
      }
      return t;
    };
    const double sep = best(false);
    const double blur = best(true);
    gaussian_ = blur < sep;
    GaussianChoice()[src_.depth() == CV_8U ? "u8" : "f32"] =
        gaussian_ ? "GaussianBlur" : "sepFilter2D";
  }

  void Apply(const cv::Mat& in, cv::Mat& out, bool flipped, int border) const {
    if (gaussian_) {
      // Symmetric: the flipped kernel is the kernel.
      cv::GaussianBlur(in, out, ksize_, gaussian_sigma_, gaussian_sigma_,
                       border);
    } else if (!separable_.empty()) {
      const std::vector<float>& f = flipped ? separable_flipped_ : separable_;
      cv::sepFilter2D(in, out, cv_depth_, f, f,
                      flipped ? flipped_anchor_ : anchor_, 0, border);
    } else {
      cv::filter2D(in, out, cv_depth_, flipped ? flipped_ : kernel_,
                   flipped ? flipped_anchor_ : anchor_, 0, border);
    }
  }

  const cv::Mat& src_;
  int cv_depth_;
  cv::Mat kernel_, flipped_;
  cv::Point anchor_, flipped_anchor_;
  std::vector<float> separable_, separable_flipped_;
  double gaussian_sigma_ = 0.0;
  cv::Size ksize_;
  bool gaussian_ = false;
  bool dft_ = false;
  bool prepared_ = false;
  std::vector<Strip> strips_;
  cv::Mat full_a_, full_b_;
  std::vector<cv::Mat> scratch_a_, scratch_b_;
};

// ---------------------------------------------------------------------------
// convcorr's side.

// convcorr works on the cv::Mat's own interleaved samples through views:
// 8-bit in, 8-bit out (rounded and saturated in the engine's store), or
// float in, float out, as OpenCV does.
// A view of a cv::Mat's interleaved samples (View and ConstImageView
// differ only in the constness of their pointers).
template <typename ViewT, typename Byte>
ViewT ViewOfMat(const cv::Mat& m, Byte* data) {
  ViewT v;
  v.channels = m.channels();
  v.width = m.cols;
  v.height = m.rows;
  v.type = m.depth() == CV_8U ? core::Depth::kU8 : core::Depth::kF32;
  v.row_bytes = static_cast<std::ptrdiff_t>(m.step[0]);
  v.step = m.channels();
  for (int c = 0; c < m.channels(); ++c) v.base[c] = data + c * m.elemSize1();
  return v;
}

core::ConstImageView ConstView(const cv::Mat& m) {
  return ViewOfMat<core::ConstImageView>(
      m, reinterpret_cast<const std::byte*>(m.data));
}

core::ImageView View(cv::Mat& m) {
  return ViewOfMat<core::ImageView>(m, reinterpret_cast<std::byte*>(m.data));
}

core::EngineOptions Options(int threads) {
  core::EngineOptions o;  // border: reflect-101, size: same (the defaults)
  o.threads = threads;
  return o;
}

// What the correlate row times: the kernel prepared (strategy chosen, SVD
// or spectrum computed) and the frame correlated into `dst`.
void ConvcorrCorrelate(const cv::Mat& src, const kernel::Kernel& k, int threads,
                       cv::Mat& dst) {
  const core::Correlator correlator(k, core::Method::kAuto);
  correlator.Run(ConstView(src), View(dst), Options(threads));
}

// What the compare row times: correlate, convolve and |conv - corr| at the
// input's depth, all three from one core::PairCorrelator pass (the
// difference row by row from the two stored rows), where OpenCV's side
// runs two filter2D calls and cv::absdiff.
void ConvcorrCompare(const cv::Mat& src, const kernel::Kernel& k, int threads,
                     cv::Mat& corr, cv::Mat& conv, cv::Mat& diff) {
  const core::PairCorrelator pair(k, core::Method::kAuto,
                                  core::OutputSize::kSame);
  const core::ImageView diff_view = View(diff);
  pair.Run(ConstView(src), View(corr), View(conv), Options(threads),
           &diff_view);
}

// ---------------------------------------------------------------------------
// Setup check: both sides compute the same thing (on a crop, so it is quick),
// or the figures would compare different work.

double MaxAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat fa, fb;
  a.convertTo(fa, CV_32F);
  b.convertTo(fb, CV_32F);
  return cv::norm(fa, fb, cv::NORM_INF);
}

bool CheckAgreement(const std::vector<Frame>& frames,
                    const std::vector<KernelCase>& kernels) {
  bool ok = true;
  for (const Frame& frame : frames) {
    const cv::Mat crop = frame.mat(cv::Rect(1600, 900, 256, 160)).clone();
    for (const KernelCase& kc : kernels) {
      // 8-bit: both round once, so they may differ by one step per output
      // and by two in a difference of outputs. Float: OpenCV's DFT path
      // rounds more than the direct sums; 1e-5 of the largest possible
      // |sum| is far below any wrong-anchor or wrong-border error.
      const double tol =
          frame.cv_depth == CV_8U ? 1.0 : 1e-5 * AbsSum(kc.k) * 255.0;
      for (int threads : {1, 2}) {
        cv::Mat corr(crop.size(), crop.type()), conv(crop.size(), crop.type()),
            cmp(crop.size(), crop.type());
        ConvcorrCompare(crop, kc.k, threads, corr, conv, cmp);
        OpenCvFilter cv_filter(crop, kc, frame.cv_depth, threads);
        cv::Mat cv_corr(crop.size(), crop.type());
        cv::Mat cv_cmp(crop.size(), crop.type());
        cv_filter.Correlate(cv_corr);
        cv_filter.Compare(cv_cmp);
        const double e1 = MaxAbsDiff(corr, cv_corr);
        const double e2 = MaxAbsDiff(cmp, cv_cmp);
        if (!(e1 <= tol) || !(e2 <= 2 * tol)) {
          std::fprintf(
              stderr,
              "engine_bench: convcorr and OpenCV disagree on %s/%s/t%d:"
              " correlate max |d| = %g, compare max |d| = %g "
              "(tolerance %g)\n",
              kc.name.c_str(), frame.name.c_str(), threads, e1, e2, tol);
          ok = false;
        }
      }
    }
  }
  return ok;
}

// ---------------------------------------------------------------------------
// Rows.

// Slow rows run once: a direct 63x63 correlation of a 4K RGB frame takes
// seconds, and the default run has to stay within minutes on 2 cores.
void Configure(benchmark::internal::Benchmark* b, const kernel::Kernel& k) {
  b->UseRealTime()->Unit(benchmark::kMillisecond);
  if (k.rows() * k.cols() >= 15 * 15) {
    b->Iterations(1);
  } else {
    b->MinTime(0.5);
  }
}

void RegisterRows(const std::vector<Frame>& frames,
                  const std::vector<KernelCase>& kernels) {
  for (const Frame& f : frames) {
    const std::string stem = "convert/" + f.name + "/convcorr";
    benchmark::RegisterBenchmark(stem.c_str(),
                                 [&f](benchmark::State& state) {
                                   const core::Depth depth =
                                       f.cv_depth == CV_8U ? core::Depth::kU8
                                                           : core::Depth::kF32;
                                   for (auto _ : state) {
                                     core::Image img = ToImage(f.mat, depth);
                                     core::Quantize(img, depth);
                                     cv::Mat back = FromImage(img, f.cv_depth);
                                     benchmark::DoNotOptimize(back.data);
                                   }
                                 })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
  }
  {
    const Frame& f = frames[0];
    benchmark::RegisterBenchmark(
        "quantize/u8/convcorr",
        [&f](benchmark::State& state) {
          core::Image img = f.image;
          for (auto _ : state) {
            benchmark::DoNotOptimize(core::Quantize(img, core::Depth::kU8));
          }
        })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
  }

  // The machine's limits: the peak multiply-add rate, and copying a frame
  // (the least memory traffic any filter of it needs), on 1 and 2 threads.
  for (int threads : {1, 2}) {
    benchmark::RegisterBenchmark(
        ("limit/fma/t" + std::to_string(threads) + "/machine").c_str(),
        [threads](benchmark::State& state) {
          for (auto _ : state) {
            std::vector<std::thread> workers;
            std::vector<float> sink(threads);
            for (int t = 0; t < threads; ++t) {
              workers.emplace_back([&sink, t] {
                size_t lanes = 0;
                sink[t] = PeakFmaLoop(kFmaIterations, &lanes);
              });
            }
            for (auto& w : workers) w.join();
            benchmark::DoNotOptimize(sink.data());
          }
        })
        ->UseRealTime()
        ->Unit(benchmark::kMillisecond)
        ->MinTime(0.5);
    for (const Frame& f : frames) {
      benchmark::RegisterBenchmark(
          ("limit/copy/" + f.name + "/t" + std::to_string(threads) + "/machine")
              .c_str(),
          [&f, threads](benchmark::State& state) {
            cv::Mat dst = cv::Mat::zeros(f.mat.size(), f.mat.type());
            const size_t bytes = f.mat.total() * f.mat.elemSize();
            for (auto _ : state) {
              std::vector<std::thread> workers;
              for (int t = 0; t < threads; ++t) {
                const size_t b0 = bytes * t / threads;
                const size_t b1 = bytes * (t + 1) / threads;
                workers.emplace_back([&f, &dst, b0, b1] {
                  std::memcpy(dst.data + b0, f.mat.data + b0, b1 - b0);
                });
              }
              for (auto& w : workers) w.join();
              benchmark::DoNotOptimize(dst.data);
              benchmark::ClobberMemory();
            }
          })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.5);
    }
  }

  // The engine's own walks with no arithmetic: a 1x1 kernel through the
  // sparse strategy (rows read where they lie, sums stored straight to the
  // output) and through the separable one (a row pass into the ring and a
  // column pass out of it), on the float frame. What a row of that
  // strategy costs beyond the copy floor before any multiply-add.
  for (const core::Method method :
       {core::Method::kSparse, core::Method::kSeparable}) {
    for (int threads : {1, 2}) {
      const Frame& f = frames[1];
      benchmark::RegisterBenchmark(
          ("limit/walk/" + std::string(core::MethodName(method)) + "/" +
           f.name + "/t" + std::to_string(threads) + "/machine")
              .c_str(),
          [&f, method, threads](benchmark::State& state) {
            const core::Correlator one(kernel::Kernel(1, 1, {0.5}), method);
            cv::Mat dst = cv::Mat::zeros(f.mat.size(), f.mat.type());
            for (auto _ : state) {
              one.Run(ConstView(f.mat), View(dst), Options(threads));
              benchmark::DoNotOptimize(dst.data);
              benchmark::ClobberMemory();
            }
          })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.5);
    }
  }

  for (const char* op : {"correlate", "compare"}) {
    const bool compare = std::string(op) == "compare";
    for (const KernelCase& kc : kernels) {
      // Multiply-adds per output sample of the strategy convcorr runs: the
      // taps it multiplies (the FFT's in the cost model's equivalents).
      const std::vector<kernel::RankOneFactors> factors =
          kernel::FactorTerms(kc.k, core::kMaxSeparableTerms);
      const core::Method method =
          core::ChooseMethod(kc.k, factors, core::Method::kAuto);
      const core::Costs costs = core::EstimateCosts(kc.k, factors);
      int nonzero = 0;
      for (double w : kc.k.weights()) nonzero += w != 0.0;
      double per_sample =
          method == core::Method::kDirect   ? kc.k.rows() * kc.k.cols()
          : method == core::Method::kSparse ? nonzero
          : method == core::Method::kSeparable
              ? costs.separable_terms * (kc.k.rows() + kc.k.cols())
              : costs.fft;
      // One term with symmetric factors multiplies each mirror pair once
      // (the pairs' additions run on other ports).
      if (method == core::Method::kSeparable && costs.separable_terms == 1 &&
          core::SymmetricFactor(factors[0].row) &&
          core::SymmetricFactor(factors[0].column)) {
        per_sample = kc.k.rows() / 2 + 1 + kc.k.cols() / 2 + 1;
      }
      if (compare) {
        const auto plan = core::PairCorrelator(kc.k, core::Method::kAuto,
                                               core::OutputSize::kSame)
                              .plan();
        if (plan == core::PairCorrelator::Plan::kTwoPasses) per_sample *= 2;
      }
      for (const Frame& f : frames) {
        for (int threads : {1, 2}) {
          const std::string stem = std::string(op) + "/" + kc.name + "/" +
                                   f.name + "/t" + std::to_string(threads);
          RowWork()[stem] = {f.name, threads, compare ? 3.0 : 1.0,
                             per_sample * static_cast<double>(f.mat.total()) *
                                 f.mat.channels()};
          Configure(
              benchmark::RegisterBenchmark(
                  (stem + "/convcorr").c_str(),
                  [&f, &kc, threads, compare](benchmark::State& state) {
                    // Destinations allocated and touched before timing, as
                    // on OpenCV's side.
                    cv::Mat corr = cv::Mat::zeros(f.mat.size(), f.mat.type());
                    cv::Mat conv = cv::Mat::zeros(f.mat.size(), f.mat.type());
                    cv::Mat diff = cv::Mat::zeros(f.mat.size(), f.mat.type());
                    for (auto _ : state) {
                      if (compare) {
                        ConvcorrCompare(f.mat, kc.k, threads, corr, conv, diff);
                      } else {
                        ConvcorrCorrelate(f.mat, kc.k, threads, corr);
                      }
                      benchmark::DoNotOptimize(corr.data);
                      benchmark::ClobberMemory();
                    }
                  }),
              kc.k);
          Configure(
              benchmark::RegisterBenchmark(
                  (stem + "/opencv").c_str(),
                  [&f, &kc, threads, compare](benchmark::State& state) {
                    OpenCvFilter cv_filter(f.mat, kc, f.cv_depth, threads);
                    cv_filter.Prepare();
                    cv::Mat dst = cv::Mat::zeros(f.mat.size(), f.mat.type());
                    for (auto _ : state) {
                      if (compare) {
                        cv_filter.Compare(dst);
                      } else {
                        cv_filter.Correlate(dst);
                      }
                      benchmark::DoNotOptimize(dst.data);
                      benchmark::ClobberMemory();
                    }
                  }),
              kc.k);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// The difference layer (src/diff): what compare computes from its two
// results, on the u8 frame's compare with K5 (d nonzero almost everywhere,
// as for any kernel that is not symmetric). Each step by the dispatched
// SIMD row functions (side "convcorr") and by their scalar twins (side
// "scalar"), row by row into buffers allocated once; "diff/all" is the four
// steps compare runs (ComputeStats, SignedDiff, ChooseRange at the default
// p99.5, HeatMap) and "diff/image" the whole-image functions themselves,
// which allocate their planar results.

struct DiffInput {
  core::Image conv, corr;
  core::Plane signed_diff;
  double range = 0;
};

const DiffInput& DiffFrame(const Frame& f, const KernelCase& kc) {
  static const DiffInput in = [&] {
    DiffInput d;
    core::FilterParams params;
    core::FilterPairResult pair = core::FilterPair(f.image, kc.k, params);
    d.conv = std::move(pair.convolve);
    d.corr = std::move(pair.correlate);
    d.signed_diff = diff::SignedDiff(d.conv, d.corr);
    d.range = diff::ChooseRange(d.signed_diff, diff::DiffRange{});
    return d;
  }();
  return in;
}

// Row y of every colour plane.
struct PlaneRows {
  const float* p[4] = {};
  PlaneRows(const core::Image& img, int y) {
    for (size_t c = 0; c < img.color.size() && c < 4; ++c) {
      p[c] = img.color[c].data.data() + static_cast<size_t>(y) * img.width;
    }
  }
};

void DiffStatsRows(const DiffInput& in, diff::RowCode code) {
  diff::DiffAccumulator acc(in.conv.width,
                            static_cast<int>(in.conv.color.size()), 0.0, code);
  for (int y = 0; y < in.conv.height; ++y) {
    acc.AddRow(PlaneRows(in.conv, y).p, PlaneRows(in.corr, y).p);
  }
  benchmark::DoNotOptimize(acc.Finish(255.0));
}

void DiffSignedRows(const DiffInput& in, core::Plane& out, diff::RowCode code) {
  for (int y = 0; y < in.conv.height; ++y) {
    diff::SignedDiffRow(PlaneRows(in.conv, y).p, PlaneRows(in.corr, y).p,
                        static_cast<int>(in.conv.color.size()), in.conv.width,
                        out.data.data() + static_cast<size_t>(y) * out.width,
                        code);
  }
}

double DiffRangeRows(const core::Plane& d, diff::RowCode code) {
  diff::RangeChooser chooser(diff::DiffRange{}, code);
  const auto row = [&d](int y) {
    return d.data.data() + static_cast<size_t>(y) * d.width;
  };
  for (int y = 0; y < d.height; ++y) chooser.AddRow(row(y), d.width);
  if (chooser.NeedsSecondPass()) {
    for (int y = 0; y < d.height; ++y) chooser.AddRowSecond(row(y), d.width);
  }
  return chooser.Result();
}

void DiffHeatRows(const core::Plane& d, double range, std::vector<uint8_t>& bgr,
                  diff::RowCode code) {
  for (int y = 0; y < d.height; ++y) {
    const size_t row = static_cast<size_t>(y) * d.width;
    diff::HeatMapRow(d.data.data() + row, d.width, range, bgr.data() + 3 * row,
                     code);
  }
}

void RegisterDiffRows(const Frame& f, const KernelCase& kc) {
  const std::string frame = "/" + kc.name + "/" + f.name;
  using Code = diff::RowCode;
  for (const Code code : {Code::kSimd, Code::kScalar}) {
    const std::string side = code == Code::kSimd ? "/convcorr" : "/scalar";
    const auto add = [&](const std::string& step, auto body) {
      benchmark::RegisterBenchmark(
          ("diff/" + step + frame + side).c_str(),
          [&f, &kc, code, body](benchmark::State& state) {
            const DiffInput& in = DiffFrame(f, kc);
            core::Plane d(in.conv.width, in.conv.height);
            std::vector<uint8_t> bgr(3 * d.data.size());
            for (auto _ : state) {
              body(in, d, bgr, code);
              benchmark::ClobberMemory();
            }
          })
          ->UseRealTime()
          ->Unit(benchmark::kMillisecond)
          ->MinTime(0.5);
    };
    add("stats", [](const DiffInput& in, core::Plane&, std::vector<uint8_t>&,
                    Code c) { DiffStatsRows(in, c); });
    add("signed", [](const DiffInput& in, core::Plane& d, std::vector<uint8_t>&,
                     Code c) { DiffSignedRows(in, d, c); });
    add("range",
        [](const DiffInput& in, core::Plane&, std::vector<uint8_t>&, Code c) {
          benchmark::DoNotOptimize(DiffRangeRows(in.signed_diff, c));
        });
    add("heatmap",
        [](const DiffInput& in, core::Plane&, std::vector<uint8_t>& bgr,
           Code c) { DiffHeatRows(in.signed_diff, in.range, bgr, c); });
    add("all", [](const DiffInput& in, core::Plane& d,
                  std::vector<uint8_t>& bgr, Code c) {
      DiffStatsRows(in, c);
      DiffSignedRows(in, d, c);
      DiffHeatRows(d, DiffRangeRows(d, c), bgr, c);
    });
  }
  benchmark::RegisterBenchmark(
      ("diff/image" + frame + "/convcorr").c_str(),
      [&f, &kc](benchmark::State& state) {
        const DiffInput& in = DiffFrame(f, kc);
        for (auto _ : state) {
          diff::DiffStats stats =
              diff::ComputeStats(in.conv, in.corr, 0.0, 255.0);
          const core::Plane d = diff::SignedDiff(in.conv, in.corr);
          stats.map_range = diff::ChooseRange(d, diff::DiffRange{});
          const core::Image heat = diff::HeatMap(d, stats.map_range);
          benchmark::DoNotOptimize(heat.color[0].data.data());
          benchmark::ClobberMemory();
        }
      })
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond)
      ->MinTime(0.5);
}

// ---------------------------------------------------------------------------
// The summary table.

// The console output, then one line per row pair: convcorr and OpenCV
// milliseconds and the ratio OpenCV/convcorr (above 1: convcorr is faster),
// and the figures the targets are stated in.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  using ConsoleReporter::ConsoleReporter;

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      if (r.error_occurred || r.iterations == 0) continue;
      const std::string& name = r.run_name.function_name;
      const bool median =
          r.run_type == Run::RT_Aggregate && r.aggregate_name == "median";
      if (r.run_type == Run::RT_Aggregate && !median) continue;
      if (!median && has_median_.count(name)) continue;
      if (median) has_median_[name] = true;
      const double ms =
          r.real_accumulated_time / static_cast<double>(r.iterations) * 1e3;
      const size_t slash = name.rfind('/');
      const std::string row = name.substr(0, slash);
      const std::string side = name.substr(slash + 1);
      if (side == "machine") {
        limits_[row] = ms;
        continue;
      }
      if (row.rfind("diff/", 0) == 0) {
        if (!diff_rows_.count(row)) diff_order_.push_back(row);
        (side == "scalar" ? diff_rows_[row].opencv : diff_rows_[row].convcorr) =
            ms;
        continue;
      }
      if (!rows_.count(row)) order_.push_back(row);
      (side == "opencv" ? rows_[row].opencv : rows_[row].convcorr) = ms;
    }
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    std::ostream& out = GetOutputStream();
    DiffTable(out);
    if (order_.empty()) return;
    char line[256];
    out << "\nSummary (real time per iteration; ratio = OpenCV / convcorr, "
           "above 1 means convcorr is faster)\n";
    std::snprintf(line, sizeof line, "%-26s %12s %12s %9s  %s\n", "row",
                  "convcorr ms", "OpenCV ms", "ratio", "target");
    out << line;
    double log_sum = 0;
    int correlate_pairs = 0, correlate_met = 0;
    int compare_pairs = 0, compare_met = 0;
    double compare_min = 0;
    std::string compare_min_row;
    for (const std::string& row : order_) {
      const Pair& p = rows_[row];
      if (p.convcorr <= 0 || p.opencv <= 0) {
        std::snprintf(line, sizeof line, "%-26s %12s %12s %9s\n", row.c_str(),
                      Ms(p.convcorr).c_str(), Ms(p.opencv).c_str(), "-");
        out << line;
        continue;
      }
      const double ratio = p.opencv / p.convcorr;
      std::string verdict;
      if (row.rfind("correlate/", 0) == 0) {
        ++correlate_pairs;
        log_sum += std::log(ratio);
        const bool met = ratio >= kCorrelateRowTarget;
        correlate_met += met;
        verdict = met ? ">= 1.5x: met" : ">= 1.5x: MISSED";
      } else if (row.rfind("compare/", 0) == 0) {
        if (compare_pairs == 0 || ratio < compare_min) {
          compare_min = ratio;
          compare_min_row = row;
        }
        ++compare_pairs;
        const bool met = ratio >= kCompareRowTarget;
        compare_met += met;
        verdict = met ? ">= 2.5x: met" : ">= 2.5x: MISSED";
      }
      std::snprintf(line, sizeof line, "%-26s %12s %12s %8.2fx  %s\n",
                    row.c_str(), Ms(p.convcorr).c_str(), Ms(p.opencv).c_str(),
                    ratio, verdict.c_str());
      out << line;
    }
    if (correlate_pairs > 0) {
      const double geomean = std::exp(log_sum / correlate_pairs);
      std::snprintf(line, sizeof line,
                    "correlate: geometric mean of %d ratios %.2fx (target "
                    "%.1fx: %s); %d of %d rows at >= %.1fx\n",
                    correlate_pairs, geomean, kCorrelateGeomeanTarget,
                    geomean >= kCorrelateGeomeanTarget ? "met" : "MISSED",
                    correlate_met, correlate_pairs, kCorrelateRowTarget);
      out << line;
    }
    if (compare_pairs > 0) {
      std::snprintf(line, sizeof line,
                    "compare: minimum ratio %.2fx at %s (target %.1fx on every "
                    "row: %s); %d of %d rows at >= %.1fx\n",
                    compare_min, compare_min_row.c_str(), kCompareRowTarget,
                    compare_met == compare_pairs ? "met" : "MISSED",
                    compare_met, compare_pairs, kCompareRowTarget);
      out << line;
    }
    Limits(out);
    out.flush();
  }

 private:
  // The difference layer's rows: SIMD and scalar twin, and their ratio.
  void DiffTable(std::ostream& out) {
    if (diff_order_.empty()) return;
    char line[256];
    out << "\nDifference layer (real time per iteration; ratio = scalar / "
           "SIMD)\n";
    std::snprintf(line, sizeof line, "%-26s %12s %12s %9s\n", "row", "SIMD ms",
                  "scalar ms", "ratio");
    out << line;
    for (const std::string& row : diff_order_) {
      const Pair& p = diff_rows_[row];
      if (p.convcorr > 0 && p.opencv > 0) {
        std::snprintf(line, sizeof line, "%-26s %12s %12s %8.2fx\n",
                      row.c_str(), Ms(p.convcorr).c_str(), Ms(p.opencv).c_str(),
                      p.opencv / p.convcorr);
      } else {
        std::snprintf(line, sizeof line, "%-26s %12s %12s %9s\n", row.c_str(),
                      Ms(p.convcorr).c_str(), Ms(p.opencv).c_str(), "-");
      }
      out << line;
    }
  }

  // Each row against the floors set by the machine: the frame copies it
  // must make at the measured copy speed, and its multiply-adds at the
  // measured peak FMA rate. "of limit" is the larger floor over the row's
  // time: 100% would be running at the machine's limit.
  void Limits(std::ostream& out) {
    for (const auto& [depth, name] : GaussianChoice()) {
      out << "\nG7 " << depth << ": OpenCV's side ran " << name
          << ", the faster of sepFilter2D and GaussianBlur on this frame\n";
    }
    char line[256];
    const auto fma = [&](int threads) {
      const auto it = limits_.find("limit/fma/t" + std::to_string(threads));
      if (it == limits_.end() || g_fma_lanes == 0) return 0.0;
      // multiply-adds per ms
      return static_cast<double>(kFmaIterations) * 12 * g_fma_lanes * threads /
             it->second;
    };
    bool header = false;
    for (const auto& [row, ms] : limits_) {
      if (!header) {
        out << "\nMachine limits\n";
        header = true;
      }
      if (row.rfind("limit/fma/", 0) == 0) {
        const int threads = row.back() - '0';
        std::snprintf(line, sizeof line,
                      "%-26s %9.1f ms  %.1f G multiply-adds/s (%zu lanes)\n",
                      row.c_str(), ms, fma(threads) / 1e6, g_fma_lanes);
      } else {
        std::snprintf(line, sizeof line, "%-26s %9.2f ms\n", row.c_str(), ms);
      }
      out << line;
    }
    if (!header) return;
    out << "\nDistance from the limits (floors in ms; of limit = larger "
           "floor / convcorr time)\n";
    std::snprintf(line, sizeof line, "%-26s %12s %12s %12s %9s\n", "row",
                  "convcorr ms", "memory ms", "compute ms", "of limit");
    out << line;
    for (const std::string& row : order_) {
      const auto w = RowWork().find(row);
      if (w == RowWork().end() || rows_[row].convcorr <= 0) continue;
      const auto copy = limits_.find("limit/copy/" + w->second.depth + "/t" +
                                     std::to_string(w->second.threads));
      const double rate = fma(w->second.threads);
      if (copy == limits_.end() || rate <= 0) continue;
      const double memory = copy->second * w->second.copies;
      const double compute = w->second.madds / rate;
      std::snprintf(line, sizeof line, "%-26s %12.1f %12.1f %12.1f %8.0f%%\n",
                    row.c_str(), rows_[row].convcorr, memory, compute,
                    100.0 * std::max(memory, compute) / rows_[row].convcorr);
      out << line;
    }
  }

  struct Pair {
    double convcorr = 0;
    double opencv = 0;
  };

  static std::string Ms(double ms) {
    if (ms <= 0) return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", ms);
    return buf;
  }

  std::vector<std::string> order_;
  std::map<std::string, Pair> rows_;
  // diff/ rows: SIMD in .convcorr, the scalar twin in .opencv.
  std::vector<std::string> diff_order_;
  std::map<std::string, Pair> diff_rows_;
  std::map<std::string, bool> has_median_;
  std::map<std::string, double> limits_;
};

}  // namespace
}  // namespace convcorr::bench

int main(int argc, char** argv) {
  using namespace convcorr;
  using namespace convcorr::bench;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  // OpenCV's own thread pool stays out of it: its side gets exactly the
  // threads a row names, as row strips (filter2D is single-threaded anyway).
  cv::setNumThreads(1);
  // CONVCORR_DISABLE_AVX512=1 keeps convcorr to AVX2 on an AVX-512 machine,
  // to compare the two vector widths in one binary.
  if (const char* v = std::getenv("CONVCORR_DISABLE_AVX512");
      v != nullptr && std::string(v) == "1") {
    hwy::DisableTargets(HWY_AVX3 | HWY_AVX3_DL);
  }

  static LargeBufferAllocator large_buffers;
  const char* small = std::getenv("CONVCORR_BENCH_SMALL_PAGES");
  const bool huge = small == nullptr || std::string(small) != "1";
  if (huge) cv::Mat::setDefaultAllocator(&large_buffers);

  const std::string path =
      std::string(CONVCORR_SAMPLES_DIR) + "/photos/coffee.png";
  const cv::Mat photo = cv::imread(path, cv::IMREAD_COLOR);
  if (photo.empty()) {
    std::fprintf(stderr, "engine_bench: cannot read '%s'\n", path.c_str());
    return 1;
  }
  std::vector<Frame> frames(2);
  frames[0].name = "u8";
  frames[0].cv_depth = CV_8U;
  cv::resize(photo, frames[0].mat, cv::Size(kFrameWidth, kFrameHeight), 0, 0,
             cv::INTER_CUBIC);
  frames[1].name = "f32";
  frames[1].cv_depth = CV_32F;
  frames[0].mat.convertTo(frames[1].mat, CV_32F);  // values 0..255
  // Converted once, outside every timed loop (the convert/ rows time it).
  frames[0].image = ToImage(frames[0].mat, core::Depth::kU8);
  frames[1].image = ToImage(frames[1].mat, core::Depth::kF32);

  const std::vector<KernelCase> kernels = MakeKernels();
  if (!CheckAgreement(frames, kernels)) return 1;

  benchmark::AddCustomContext("frame", "coffee.png resized (INTER_CUBIC) to " +
                                           std::to_string(kFrameWidth) + "x" +
                                           std::to_string(kFrameHeight) +
                                           " BGR");
  benchmark::AddCustomContext("convcorr SIMD target", core::SimdTargetName());
  benchmark::AddCustomContext(
      "memory", huge ? "core::LargeBuffer (2 MiB pages where granted)"
                     : "OpenCV's allocator (CONVCORR_BENCH_SMALL_PAGES=1)");
  benchmark::AddCustomContext("OpenCV", cv::getVersionString());
  for (const KernelCase& kc : kernels) {
    benchmark::AddCustomContext("kernel " + kc.name,
                                kc.description + ", " +
                                    std::to_string(kc.k.cols()) + "x" +
                                    std::to_string(kc.k.rows()));
  }

  PeakFmaLoop(1, &g_fma_lanes);
  RegisterRows(frames, kernels);
  RegisterDiffRows(frames[0], kernels[1]);  // u8, K5
  const auto options = isatty(STDOUT_FILENO)
                           ? benchmark::ConsoleReporter::OO_ColorTabular
                           : benchmark::ConsoleReporter::OO_Tabular;
  SummaryReporter reporter(options);
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}
