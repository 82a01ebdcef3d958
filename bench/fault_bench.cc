// What a buffer's first touch costs (docs/performance.md, "Page faults"):
// the same number of bytes written into fresh anonymous memory in 4 KiB
// pages, into fresh memory advised for huge pages (core::LargeBuffer), and
// into a temporary file's page cache and read back (io::SpillFile), each
// in a fresh buffer every round. Plain timers; prints the median of the
// rounds in ms.
//
//   build-bench/bench/fault_bench [MiB] [rounds]     (default 33 MiB, 9)
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "core/large_buffer.h"

namespace {

using Clock = std::chrono::steady_clock;

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const size_t mib = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 33;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 9;
  const size_t bytes = mib << 20;
  const std::string dir = std::filesystem::temp_directory_path().string();
  std::vector<char> piece(size_t{1} << 20, 1);
  std::vector<double> small, huge, file_write, file_read;
  for (int r = 0; r < rounds; ++r) {
    {  // 4 KiB pages: mmap'd as malloc does for large blocks
      const auto t0 = Clock::now();
      void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) return 1;
      std::memset(p, 1, bytes);
      small.push_back(Ms(t0, Clock::now()));
      munmap(p, bytes);
    }
    {  // huge pages where the kernel has them
      const auto t0 = Clock::now();
      convcorr::core::LargeBuffer b(bytes);
      std::memset(b.data(), 1, bytes);
      huge.push_back(Ms(t0, Clock::now()));
    }
    {  // an unnamed file's page cache, 1 MiB writes and reads
      const int fd = open(dir.c_str(), O_TMPFILE | O_RDWR, 0600);
      if (fd < 0) {
        std::fprintf(stderr, "%s: no O_TMPFILE\n", dir.c_str());
        return 1;
      }
      const auto t0 = Clock::now();
      for (size_t at = 0; at < bytes; at += piece.size()) {
        if (pwrite(fd, piece.data(), piece.size(), static_cast<off_t>(at)) !=
            static_cast<ssize_t>(piece.size())) {
          return 1;
        }
      }
      const auto t1 = Clock::now();
      for (size_t at = 0; at < bytes; at += piece.size()) {
        if (pread(fd, piece.data(), piece.size(), static_cast<off_t>(at)) !=
            static_cast<ssize_t>(piece.size())) {
          return 1;
        }
      }
      file_write.push_back(Ms(t0, t1));
      file_read.push_back(Ms(t1, Clock::now()));
      close(fd);
    }
  }
  std::printf("first touch of %zu MiB, median of %d rounds (ms):\n", mib,
              rounds);
  std::printf("  anonymous memory, 4 KiB pages:       %8.1f\n", Median(small));
  std::printf("  LargeBuffer (huge pages if given):   %8.1f\n", Median(huge));
  std::printf("  unnamed file in %s, write:  %8.1f\n", dir.c_str(),
              Median(file_write));
  std::printf("  the same file, read back:            %8.1f\n",
              Median(file_read));
  return 0;
}
