// The cost model against the clock: for kernels of every shape the model
// has to rank (1x1, 2x2, 1xN, Nx1, 3xN, sparse shifts and lines, low rank,
// dense from 3 to 255), the time of `--method auto` and of every forced
// method on one frame, and auto's time over the best forced one's
// (docs/performance.md, "The cost model: auto against every forced
// method"). Plain timers, no Google Benchmark: each cell is the best of a
// few runs, slow cells run once.
//
//   build-bench/bench/method_bench [--threads N] [--width W] [--height H]
//                                  [--only SUBSTRING]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "core/engine.h"
#include "kernel/kernel.h"
#include "kernel/spec.h"

namespace convcorr::bench {
namespace {

using Clock = std::chrono::steady_clock;

struct Shape {
  std::string name;
  kernel::Kernel k;
};

// Weights in [-1, 1] from std::mt19937 (its sequence is fixed by the
// standard), so every platform times the same kernel.
kernel::Kernel Random(int rows, int cols, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<double> w(static_cast<size_t>(rows) * cols);
  for (double& v : w) {
    v = 2.0 * (static_cast<double>(rng()) / 4294967295.0) - 1.0;
  }
  return kernel::Kernel(rows, cols, std::move(w));
}

// A difference of two Gaussians: dense and rank 2.
kernel::Kernel DifferenceOfGaussians(int n) {
  std::vector<double> w;
  const int r = n / 2;
  for (int i = -r; i <= r; ++i) {
    for (int j = -r; j <= r; ++j) {
      const double d = i * i + j * j;
      w.push_back(std::exp(-d / (n * 0.5)) - 0.5 * std::exp(-d / (n * 2.0)));
    }
  }
  return kernel::Kernel(n, n, std::move(w));
}

std::vector<Shape> Shapes() {
  std::vector<Shape> s;
  const auto spec = [&s](const std::string& text) {
    s.push_back({text, kernel::ParseSpec(text)});
  };
  const auto random = [&s](int rows, int cols) {
    s.push_back(
        {"random " + std::to_string(rows) + "x" + std::to_string(cols),
         Random(rows, cols, static_cast<uint32_t>(rows * 1000 + cols))});
  };
  spec("identity");
  spec("2");
  spec("box:1");
  random(2, 2);
  for (int n : {3, 9, 31, 127}) random(1, n);
  for (int n : {3, 9, 31, 127}) random(n, 1);
  for (int n : {9, 31, 127}) random(3, n);
  spec("shift:1,0");
  spec("shift:7,-5");
  spec("shift:40,25");
  spec("sobel-x");
  spec("laplacian");
  spec("motion:9,0");
  spec("motion:31,30");
  spec("motion:63,45");
  spec("motion:127,10");
  spec("box:3");
  spec("box:9");
  spec("box:31");
  spec("gaussian:1.5,7");
  spec("gaussian:5,31");
  spec("gaussian:20,121");
  s.push_back({"DoG 15x15 (rank 2)", DifferenceOfGaussians(15)});
  s.push_back({"DoG 63x63 (rank 2)", DifferenceOfGaussians(63)});
  for (int n : {3, 5, 7, 9, 11, 15, 21, 31, 45, 63, 95, 127, 191, 255}) {
    random(n, n);
  }
  return s;
}

// One frame of 8-bit interleaved RGB and a destination of the same kind.
struct Frame {
  int width, height;
  std::vector<uint8_t> in, out;
};

// A view of 8-bit interleaved RGB at `data` (ConstImageView and ImageView
// differ only in the constness of their pointers).
template <typename View, typename Byte>
View RgbView(const Frame& f, Byte* data) {
  View v;
  v.channels = 3;
  v.width = f.width;
  v.height = f.height;
  v.type = core::Depth::kU8;
  v.row_bytes = 3 * f.width;
  v.step = 3;
  for (int c = 0; c < 3; ++c) v.base[c] = data + c;
  return v;
}

core::ConstImageView InView(const Frame& f) {
  return RgbView<core::ConstImageView>(
      f, reinterpret_cast<const std::byte*>(f.in.data()));
}

core::ImageView OutView(Frame& f) {
  return RgbView<core::ImageView>(f,
                                  reinterpret_cast<std::byte*>(f.out.data()));
}

// Milliseconds of preparing the kernel for `method` and correlating the
// frame with it: the best of at least five runs, and of as many as fit in
// a quarter of a second (up to 200), so that a cell of a fraction of a
// millisecond is the best of many; within about a second (one run when a
// run takes longer).
double Time(Frame& f, const kernel::Kernel& k, core::Method method, int threads,
            core::Method* chosen) {
  core::EngineOptions options;
  options.threads = threads;
  double best = 1e300;
  const auto start = Clock::now();
  for (int run = 0; run < 200; ++run) {
    if (run >= 5 &&
        std::chrono::duration<double>(Clock::now() - start).count() > 0.25) {
      break;
    }
    const auto t0 = Clock::now();
    const core::Correlator correlator(k, method);
    correlator.Run(InView(f), OutView(f), options);
    const auto t1 = Clock::now();
    if (chosen != nullptr) *chosen = correlator.method();
    best = std::min(best,
                    std::chrono::duration<double, std::milli>(t1 - t0).count());
    if (std::chrono::duration<double>(t1 - start).count() > 1.0) break;
  }
  return best;
}

int Run(int argc, char** argv) {
  int threads = 2, width = 1920, height = 1080;
  std::string only;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--threads") {
      threads = std::atoi(argv[i + 1]);
    } else if (flag == "--width") {
      width = std::atoi(argv[i + 1]);
    } else if (flag == "--height") {
      height = std::atoi(argv[i + 1]);
    } else if (flag == "--only") {
      only = argv[i + 1];
    } else {
      std::fprintf(stderr, "method_bench: unknown option '%s'\n", argv[i]);
      return 2;
    }
  }
  if (argc % 2 == 0 || threads < 1 || width < 1 || height < 1) {
    std::fprintf(stderr,
                 "usage: method_bench [--threads N] [--width W] [--height H] "
                 "[--only SUBSTRING]\n");
    return 2;
  }
  Frame f{width, height, {}, {}};
  f.in.resize(static_cast<size_t>(width) * height * 3);
  f.out.resize(f.in.size());
  std::mt19937 rng(1);
  for (uint8_t& v : f.in) v = static_cast<uint8_t>(rng() >> 24);

  std::printf(
      "method_bench: %dx%d RGB 8-bit, %d thread(s), SIMD %s; ms per frame "
      "(kernel prepared and frame correlated), best of 5 to 200 runs\n",
      width, height, threads, core::SimdTargetName());
  std::printf("%-22s %-9s %9s %9s %9s %9s %9s %7s\n", "kernel", "auto is",
              "auto", "direct", "sparse", "separable", "fft", "auto/best");
  const core::Method forced[] = {core::Method::kDirect, core::Method::kSparse,
                                 core::Method::kSeparable, core::Method::kFft};
  double worst = 0;
  std::string worst_name;
  for (const Shape& s : Shapes()) {
    if (!only.empty() && s.name.find(only) == std::string::npos) continue;
    core::Method chosen = core::Method::kAuto;
    const double t_auto = Time(f, s.k, core::Method::kAuto, threads, &chosen);
    const std::vector<kernel::RankOneFactors> terms =
        kernel::FactorTerms(s.k, core::kMaxSeparableTerms);
    double best = 1e300;
    std::string cells;
    for (core::Method m : forced) {
      char cell[16];
      // A separable request the kernel cannot run falls back to direct:
      // no cell of its own.
      if (m == core::Method::kSeparable && core::SeparableTerms(terms) == 0) {
        std::snprintf(cell, sizeof cell, " %9s", "-");
      } else {
        const double t =
            m == chosen ? t_auto : Time(f, s.k, m, threads, nullptr);
        best = std::min(best, t);
        std::snprintf(cell, sizeof cell, " %9.2f", t);
      }
      cells += cell;
    }
    const double ratio = t_auto / best;
    if (ratio > worst) {
      worst = ratio;
      worst_name = s.name;
    }
    std::printf("%-22s %-9s %9.2f%s %7.2f\n", s.name.c_str(),
                core::MethodName(chosen), t_auto, cells.c_str(), ratio);
    std::fflush(stdout);
  }
  std::printf("worst auto/best: %.2f (%s); target: at most 1.25\n", worst,
              worst_name.c_str());
  return 0;
}

}  // namespace
}  // namespace convcorr::bench

int main(int argc, char** argv) { return convcorr::bench::Run(argc, argv); }
