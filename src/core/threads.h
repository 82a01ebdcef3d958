// Threads, shared by the engine, the reference and the streaming run:
// tasks on a process-wide cache of parked threads (Async), and row
// threading (ParallelRows).
#pragma once

#include <algorithm>
#include <functional>
#include <thread>
#include <vector>

namespace convcorr::core {

// Number of worker threads for `requested` (0 = hardware concurrency).
inline int ResolveThreads(int requested) {
  if (requested > 0) return requested;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

// `fn` run on a thread of its own: a parked thread of a process-wide
// cache, or a new one when none is parked. A thread parks again once its
// task is joined, instead of exiting, so that the short tasks a streaming
// run starts for each band (the engine's row threads, compare's encoders)
// do not each pay for a new thread: the clone, and fresh stack pages
// faulted in, which cost about 12 us each on a virtual machine.
class Async {
 public:
  explicit Async(std::function<void()> fn);
  Async(Async&& other) noexcept;
  Async& operator=(Async&& other) = delete;
  Async(const Async&) = delete;
  Async& operator=(const Async&) = delete;
  // Joins; an exception fn threw is dropped (Join rethrows it).
  ~Async();
  // Waits for fn to return and rethrows what it threw. Once.
  void Join();
  // Tasks started and not yet joined, in the whole process (for tests:
  // the threads a component started are all stopped and joined).
  static int InFlight();

  struct Worker;

 private:
  Worker* worker_ = nullptr;
};

// Runs body(y0, y1) over [0, rows) split into contiguous chunks, one per
// thread, the first on the calling thread. Each output row is computed the
// same way whatever the split. Rethrows an exception a chunk threw, once
// every chunk is done.
template <typename Body>
void ParallelRows(int rows, int threads, Body body) {
  const int n = std::clamp(ResolveThreads(threads), 1, std::max(rows, 1));
  if (n == 1) {
    body(0, rows);
    return;
  }
  const auto begin = [&](int t) {
    return static_cast<int>(static_cast<long long>(rows) * t / n);
  };
  std::vector<Async> workers;
  workers.reserve(n - 1);
  for (int t = 1; t < n; ++t) {
    workers.emplace_back(
        [=, y0 = begin(t), y1 = begin(t + 1)] { body(y0, y1); });
  }
  body(0, begin(1));
  for (Async& w : workers) w.Join();
}

}  // namespace convcorr::core
