// core::Async and ParallelRows (src/core/threads.{h,cc}): tasks run on
// threads of their own, exceptions reach Join, the threads are reused, and
// the cache grows when more tasks run at once than it holds.
#include "core/threads.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace convcorr::core {
namespace {

TEST(Async, RunsOnAnotherThreadAndJoinWaitsForIt) {
  const std::thread::id caller = std::this_thread::get_id();
  std::thread::id ran;
  int value = 0;
  const int before = Async::InFlight();
  Async task([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ran = std::this_thread::get_id();
    value = 42;
  });
  EXPECT_EQ(Async::InFlight(), before + 1);
  task.Join();
  EXPECT_EQ(Async::InFlight(), before);
  EXPECT_EQ(value, 42);
  EXPECT_NE(ran, caller);
  task.Join();  // a second call does nothing
}

TEST(Async, JoinRethrowsTheTasksException) {
  Async task([] { throw std::runtime_error("task failed"); });
  EXPECT_THROW(task.Join(), std::runtime_error);
  // The destructor drops it; the next task on the thread runs normally.
  {
    Async dropped([] { throw std::runtime_error("dropped"); });
  }
  bool ran = false;
  Async next([&] { ran = true; });
  next.Join();
  EXPECT_TRUE(ran);
}

// Tasks one after another reuse a parked thread instead of making one each.
TEST(Async, ThreadsAreReused) {
  {
    Async warm([] {});
  }
  std::set<std::thread::id> ids;
  for (int i = 0; i < 50; ++i) {
    std::thread::id id;
    Async task([&] { id = std::this_thread::get_id(); });
    task.Join();
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1u);
}

// Eight tasks that can only finish together: the cache makes threads as
// needed rather than queueing tasks behind busy ones.
TEST(Async, AsManyThreadsAsTasksAtOnce) {
  constexpr int kTasks = 8;
  std::mutex m;
  std::condition_variable cv;
  int arrived = 0;
  std::vector<Async> tasks;
  for (int i = 0; i < kTasks; ++i) {
    tasks.emplace_back([&] {
      std::unique_lock<std::mutex> lock(m);
      ++arrived;
      cv.notify_all();
      cv.wait(lock, [&] { return arrived == kTasks; });
    });
  }
  for (Async& t : tasks) t.Join();
  EXPECT_EQ(arrived, kTasks);
}

TEST(ParallelRows, EveryRowOnceTheFirstChunkOnTheCaller) {
  for (const int threads : {1, 2, 3, 7}) {
    for (const int rows : {0, 1, 5, 100}) {
      std::vector<std::atomic<int>> seen(static_cast<size_t>(rows));
      std::atomic<bool> caller_ran_first{false};
      const std::thread::id caller = std::this_thread::get_id();
      ParallelRows(rows, threads, [&](int y0, int y1) {
        if (y0 == 0 && std::this_thread::get_id() == caller) {
          caller_ran_first = true;
        }
        for (int y = y0; y < y1; ++y) ++seen[static_cast<size_t>(y)];
      });
      for (int y = 0; y < rows; ++y) {
        EXPECT_EQ(seen[static_cast<size_t>(y)], 1)
            << rows << " rows on " << threads << " threads, row " << y;
      }
      EXPECT_TRUE(caller_ran_first) << rows << " rows, " << threads;
    }
  }
}

TEST(ParallelRows, AChunksExceptionReachesTheCaller) {
  EXPECT_THROW(ParallelRows(10, 3,
                            [](int y0, int) {
                              if (y0 > 0) throw std::runtime_error("chunk");
                            }),
               std::runtime_error);
}

}  // namespace
}  // namespace convcorr::core
