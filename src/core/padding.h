// Where the output window starts (shared by the reference and the fast
// engine), the reference's border-extended input, and its row threading.
#pragma once

#include <algorithm>
#include <thread>
#include <vector>

#include "core/border.h"
#include "core/filter.h"
#include "core/image.h"
#include "kernel/kernel.h"

namespace convcorr::core {

// Offset of the output origin in input coordinates: output (y, x) reads the
// input window whose top-left tap is at (y + origin.y, x + origin.x).
struct Origin {
  int x = 0;
  int y = 0;
};
Origin OutputOrigin(const kernel::Kernel& k, OutputSize size);

// Sample of `in` at (y, x), any integers, extended by the border.
float BorderSample(const Plane& in, int y, int x, const Border& border);

// The input extended by the border over every position the output reads:
// padded(py, px) = I(py + origin.y, px + origin.x), of size
// (out.width + kw - 1) x (out.height + kh - 1). Padding once lets the inner
// loops run without a single border test (as libvips does).
Plane Pad(const Plane& in, Extent out, const kernel::Kernel& k, Origin origin,
          const Border& border);

// Runs body(y0, y1) over [0, rows) split into contiguous chunks, one per
// thread. Each output row is computed the same way whatever the split.
template <typename Body>
void ParallelRows(int rows, int threads, Body body) {
  const int n = std::clamp(ResolveThreads(threads), 1, std::max(rows, 1));
  if (n == 1) {
    body(0, rows);
    return;
  }
  std::vector<std::thread> workers;
  workers.reserve(n);
  for (int t = 0; t < n; ++t) {
    const int y0 = static_cast<int>(static_cast<long long>(rows) * t / n);
    const int y1 = static_cast<int>(static_cast<long long>(rows) * (t + 1) / n);
    workers.emplace_back([=] { body(y0, y1); });
  }
  for (auto& w : workers) w.join();
}

}  // namespace convcorr::core
