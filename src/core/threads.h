// Row threading, shared by the reference and the fast engine.
#pragma once

#include <algorithm>
#include <thread>
#include <vector>

namespace convcorr::core {

// Number of worker threads for `requested` (0 = hardware concurrency).
inline int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

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
