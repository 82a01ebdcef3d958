// Runs a reader on the read end of a pipe that a thread fills with `bytes`,
// as a decoder meets a file piped to stdin (a source that cannot seek).
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <thread>
#include <vector>

namespace convcorr::io::pipe_feed {

// read(fd) for the read end; whatever it leaves is drained so the writer
// never blocks, then both ends are closed, also when read throws.
template <typename Read>
auto ThroughPipe(const std::vector<uint8_t>& bytes, Read read) {
  int fds[2];
  if (::pipe(fds) != 0) throw std::runtime_error("pipe");
  std::thread writer([&] {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t k =
          ::write(fds[1], bytes.data() + done, bytes.size() - done);
      if (k <= 0) break;
      done += static_cast<size_t>(k);
    }
    ::close(fds[1]);
  });
  const auto finish = [&] {
    char sink[4096];
    while (::read(fds[0], sink, sizeof sink) > 0) {
    }
    writer.join();
    ::close(fds[0]);
  };
  try {
    auto result = read(fds[0]);
    finish();
    return result;
  } catch (...) {
    finish();
    throw;
  }
}

}  // namespace convcorr::io::pipe_feed
