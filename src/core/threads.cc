// The cache of parked threads behind core::Async (core/threads.h).
#include "core/threads.h"

#include <atomic>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <utility>

namespace convcorr::core {

// One cached thread: it waits for a task, runs it, reports it done, and
// waits for the next. The joiner puts it back in the cache.
struct Async::Worker {
  std::mutex m;
  std::condition_variable cv;
  std::function<void()> task;  // the task to run; empty while parked
  bool done = false;           // the task returned (or threw)
  std::exception_ptr error;    // what it threw

  void Loop() {
    for (;;) {
      std::function<void()> run;
      {
        std::unique_lock<std::mutex> lock(m);
        cv.wait(lock, [&] { return static_cast<bool>(task); });
        run = std::move(task);
        task = nullptr;
      }
      std::exception_ptr thrown;
      try {
        run();
      } catch (...) {
        thrown = std::current_exception();
      }
      run = nullptr;  // the task's captures go before it is reported done
      {
        const std::lock_guard<std::mutex> lock(m);
        error = thrown;
        done = true;
      }
      cv.notify_all();
    }
  }
};

namespace {

// The parked workers. Never destroyed: parked threads may still wait on
// their workers while the process exits.
struct Cache {
  std::mutex m;
  std::vector<Async::Worker*> parked;
};

Cache& TheCache() {
  static Cache* cache = new Cache;
  return *cache;
}

std::atomic<int> in_flight{0};

}  // namespace

int Async::InFlight() { return in_flight.load(); }

Async::Async(std::function<void()> fn) {
  Cache& cache = TheCache();
  {
    const std::lock_guard<std::mutex> lock(cache.m);
    if (!cache.parked.empty()) {
      worker_ = cache.parked.back();
      cache.parked.pop_back();
    }
  }
  if (worker_ == nullptr) {
    // Lives as long as its thread: the process.
    auto worker = std::make_unique<Worker>();
    std::thread([w = worker.get()] { w->Loop(); }).detach();
    worker_ = worker.release();
  }
  {
    const std::lock_guard<std::mutex> lock(worker_->m);
    worker_->task = std::move(fn);
  }
  worker_->cv.notify_all();
  ++in_flight;
}

Async::Async(Async&& other) noexcept
    : worker_(std::exchange(other.worker_, nullptr)) {}

Async::~Async() {
  try {
    Join();
  } catch (...) {  // NOLINT(bugprone-empty-catch): Join reports it
  }
}

void Async::Join() {
  if (worker_ == nullptr) return;
  Worker* w = std::exchange(worker_, nullptr);
  std::exception_ptr error;
  {
    std::unique_lock<std::mutex> lock(w->m);
    w->cv.wait(lock, [&] { return w->done; });
    w->done = false;
    error = std::exchange(w->error, nullptr);
  }
  --in_flight;
  {
    Cache& cache = TheCache();
    const std::lock_guard<std::mutex> lock(cache.m);
    cache.parked.push_back(w);
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace convcorr::core
