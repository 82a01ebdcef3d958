// Atomic writes (io/atomic_write.h): temporary file, fsync, rename, and
// the table of temporary files the signal handler removes.
#include "io/atomic_write.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <thread>
#include <utility>

#include "common/error.h"
#include "io/codec.h"

namespace convcorr::io {

namespace fs = std::filesystem;

namespace {

// The temporary files being written or staged, for the signal handler. A
// batch holds at most a few files per job in flight (a compare job stages
// up to five, and the batch queues a few jobs for their commit), so 2048
// slots cover kMaxWriters jobs; a writer finding none free waits for one.
// Every member has a constant initializer, so the table is constant-
// initialized in zeroed memory: a constructor writing it at start-up would
// fault in its 8 MB on every run.
inline constexpr int kPendingSlots = 2048;
struct PendingSlot {
  char path[PATH_MAX] = {};
  std::atomic<bool> active{false};    // path names a file to remove
  std::atomic<bool> taken{false};     // a writer owns the slot
  std::atomic<bool> creating{false};  // mkstemp may be creating the file
};
constinit PendingSlot g_pending[kPendingSlots];
// Set by RemovePendingTempFile: the process is about to end, so no writer
// may create another temporary file.
std::atomic<bool> g_exiting{false};

// A free slot, claimed; slots are released by the writer that took them.
PendingSlot& ClaimSlot() {
  for (;;) {
    for (PendingSlot& slot : g_pending) {
      bool expected = false;
      if (slot.taken.compare_exchange_strong(expected, true)) return slot;
    }
    std::this_thread::yield();
  }
}

}  // namespace

void RemovePendingTempFile() {
  g_exiting.store(true);
  for (PendingSlot& slot : g_pending) {
    // A file being created right now is named once mkstemp returns; the
    // creating thread blocks the signals, so it is not this one.
    while (slot.creating.load()) {
    }
    if (slot.active.load()) ::unlink(slot.path);
  }
}

StagedFile StageFile(const fs::path& dest, std::span<const uint8_t> bytes) {
  StagedFile staged = StageFile(dest);
  staged.Append(bytes.data(), bytes.size());
  return staged;
}

StagedFile StageFile(const fs::path& dest) {
  const std::string name = dest.string();
  const fs::path dir = dest.has_parent_path() ? dest.parent_path() : ".";
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    ThrowOutput(name, "directory '" + dir.string() + "' does not exist");
  }
  if (fs::is_directory(dest, ec)) ThrowOutput(name, "is a directory");

  std::string tmpl =
      (dir / ("." + dest.filename().string() + ".convcorr-XXXXXX")).string();
  if (tmpl.size() >= PATH_MAX) ThrowOutput(name, "path too long");
  // mkstemp fills in the name inside the buffer the signal handler reads,
  // so a signal at any point after this finds the temporary file (unlink of
  // a name not yet created is harmless).
  PendingSlot& slot = ClaimSlot();
  // While mkstemp runs, SIGINT and SIGTERM wait (a handler on another
  // thread waits for `creating` to clear, then removes the file); once the
  // process is exiting, no new file is made.
  sigset_t stop, old;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, &old);
  slot.creating.store(true);
  if (g_exiting.load()) {
    slot.creating.store(false);
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    for (;;) ::pause();  // the handler is ending the process
  }
  std::memcpy(slot.path, tmpl.c_str(), tmpl.size() + 1);
  slot.active.store(true);
  const int fd = ::mkstemp(slot.path);
  slot.creating.store(false);
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  if (fd < 0) {
    const int err = errno;
    slot.active.store(false);
    slot.taken.store(false);
    ThrowOutput(name, ErrnoText(err));
  }
  // From here the staged file owns the descriptor and the slot: an error
  // destroys it, which removes the temporary file.
  StagedFile staged;
  staged.dest_ = dest;
  staged.fd_ = fd;
  staged.slot_ = static_cast<int>(&slot - g_pending);
  // mkstemp makes 0600; give the file the mode a plain open() would.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) ThrowOutput(name, ErrnoText(errno));
  return staged;
}

void StagedFile::Append(const void* data, size_t size) {
  if (fd_ < 0) {
    throw Error(ErrorKind::kInternal,
                "output '" + dest_.string() + "': written after it was closed");
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd_, bytes + done, size - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowOutput(dest_.string(), ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : dest_(std::move(other.dest_)),
      fd_(std::exchange(other.fd_, -1)),
      slot_(std::exchange(other.slot_, -1)) {}

StagedFile& StagedFile::operator=(StagedFile&& other) noexcept {
  if (this != &other) {
    Discard();
    dest_ = std::move(other.dest_);
    fd_ = std::exchange(other.fd_, -1);
    slot_ = std::exchange(other.slot_, -1);
  }
  return *this;
}

StagedFile::~StagedFile() { Discard(); }

void StagedFile::Discard() noexcept {
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (slot_ >= 0) {
    PendingSlot& slot = g_pending[std::exchange(slot_, -1)];
    ::unlink(slot.path);
    slot.active.store(false);
    slot.taken.store(false);
  }
}

void StagedFile::Commit() {
  if (slot_ < 0) return;
  const std::string name = dest_.string();
  if (::fsync(fd_) != 0) ThrowOutput(name, ErrnoText(errno));
  if (::close(std::exchange(fd_, -1)) != 0) ThrowOutput(name, ErrnoText(errno));
  PendingSlot& slot = g_pending[slot_];
  if (::rename(slot.path, dest_.c_str()) != 0) {
    ThrowOutput(name, ErrnoText(errno));
  }
  // Renamed: nothing left to remove.
  slot.active.store(false);
  slot.taken.store(false);
  slot_ = -1;
}

void WriteFileAtomic(const fs::path& dest, std::span<const uint8_t> bytes) {
  StageFile(dest, bytes).Commit();
}

void WriteStdout(std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n =
        ::write(STDOUT_FILENO, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowOutput("-", ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace convcorr::io
