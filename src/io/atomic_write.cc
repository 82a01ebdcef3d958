// Atomic writes (io/atomic_write.h): temporary file, fsync, rename, and
// the table of temporary files the signal handler removes.
#include "io/atomic_write.h"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>
#include <future>
#include <mutex>
#include <string>
#include <system_error>
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
// The slots' flags are constant-initialized globals (6 KiB); their paths
// (8 MiB of PATH_MAX buffers) live in anonymous memory mapped by the first
// writer, so that a run writing no file maps none of it, and only the
// pages written are ever faulted in (a table of paths among the globals
// was read whole at exit by LeakSanitizer, 8 MiB on every run).
inline constexpr int kPendingSlots = 2048;
struct PendingSlot {
  std::atomic<bool> active{false};    // path names a file to remove
  std::atomic<bool> taken{false};     // a writer owns the slot
  std::atomic<bool> creating{false};  // mkstemp may be creating the file
};
constinit PendingSlot g_pending[kPendingSlots];
// kPendingSlots buffers of PATH_MAX bytes; null until the first writer
// maps them (before any slot is active, so the handler never reads null).
std::atomic<char*> g_paths{nullptr};
// Set by RemovePendingTempFile: the process is about to end, so no writer
// may create another temporary file.
std::atomic<bool> g_exiting{false};

// Slot i's path buffer; g_paths must be mapped.
char* PathOf(int i) {
  return g_paths.load() + static_cast<size_t>(i) * PATH_MAX;
}

// Maps the path buffers once; throws for `name` if that fails.
void MapPaths(const std::string& name) {
  if (g_paths.load() != nullptr) return;
  static std::mutex mutex;
  const std::lock_guard<std::mutex> lock(mutex);
  if (g_paths.load() != nullptr) return;
  void* p = ::mmap(nullptr, static_cast<size_t>(kPendingSlots) * PATH_MAX,
                   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) ThrowOutput(name, ErrnoText(errno));
  g_paths.store(static_cast<char*>(p));
}

// A free slot, claimed; slots are released by the writer that took them.
int ClaimSlot() {
  for (;;) {
    for (int i = 0; i < kPendingSlots; ++i) {
      bool expected = false;
      if (g_pending[i].taken.compare_exchange_strong(expected, true)) return i;
    }
    std::this_thread::yield();
  }
}

}  // namespace

void RemovePendingTempFile() {
  g_exiting.store(true);
  for (int i = 0; i < kPendingSlots; ++i) {
    const PendingSlot& slot = g_pending[i];
    // A file being created right now is named once mkstemp returns; the
    // creating thread blocks the signals, so it is not this one.
    while (slot.creating.load()) {
    }
    if (slot.active.load()) ::unlink(PathOf(i));
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
  MapPaths(name);
  const int index = ClaimSlot();
  PendingSlot& slot = g_pending[index];
  char* path = PathOf(index);
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
  std::memcpy(path, tmpl.c_str(), tmpl.size() + 1);
  slot.active.store(true);
  const int fd = ::mkstemp(path);
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
  staged.slot_ = index;
  // mkstemp makes 0600; give the file the mode a plain open() would.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  if (::fchmod(fd, 0666 & ~mask) != 0) ThrowOutput(name, ErrnoText(errno));
  return staged;
}

void StagedFile::PutAt(uint64_t offset, const void* data, size_t size) {
  if (fd_ < 0) {
    throw Error(ErrorKind::kInternal,
                "output '" + dest_.string() + "': written after it was closed");
  }
  if (sync_.valid()) {
    // Written after StartSync: Commit must flush again.
    sync_.wait();
    sync_ = {};
  }
  const auto* bytes = static_cast<const uint8_t*>(data);
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::pwrite(fd_, bytes + done, size - done,
                               static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      ThrowOutput(dest_.string(), ErrnoText(errno));
    }
    done += static_cast<size_t>(n);
  }
  // Appends go on from the last byte written.
  appended_ = std::max<size_t>(appended_, offset + size);
}

void StagedFile::WriteAt(uint64_t offset, const void* data, size_t size) {
  PutAt(offset, data, size);
}

void StagedFile::Append(const void* data, size_t size) {
  PutAt(appended_, data, size);
  // The disk starts on what is written while the rest is made, so that
  // Commit's fsync waits for the last few megabytes only (a hint: the
  // fsync reports any failure).
  if (appended_ - writeback_ >= kWritebackBytes) {
    (void)::sync_file_range(fd_, static_cast<off64_t>(writeback_),
                            static_cast<off64_t>(appended_ - writeback_),
                            SYNC_FILE_RANGE_WRITE);
    writeback_ = appended_;
  }
}

StagedFile::StagedFile(StagedFile&& other) noexcept
    : dest_(std::move(other.dest_)),
      fd_(std::exchange(other.fd_, -1)),
      slot_(std::exchange(other.slot_, -1)),
      appended_(std::exchange(other.appended_, 0)),
      writeback_(std::exchange(other.writeback_, 0)),
      sync_(std::move(other.sync_)) {}

StagedFile& StagedFile::operator=(StagedFile&& other) noexcept {
  if (this != &other) {
    Discard();
    dest_ = std::move(other.dest_);
    fd_ = std::exchange(other.fd_, -1);
    slot_ = std::exchange(other.slot_, -1);
    appended_ = std::exchange(other.appended_, 0);
    writeback_ = std::exchange(other.writeback_, 0);
    sync_ = std::move(other.sync_);
  }
  return *this;
}

StagedFile::~StagedFile() { Discard(); }

void StagedFile::StartSync() {
  if (fd_ < 0 || sync_.valid()) return;
  const int fd = fd_;
  try {
    sync_ = std::async(std::launch::async,
                       [fd] { return ::fsync(fd) == 0 ? 0 : errno; });
  } catch (...) {
    // No thread to be had: Commit syncs.
  }
}

void StagedFile::Discard() noexcept {
  if (sync_.valid()) sync_.wait();
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  if (slot_ >= 0) {
    const int index = std::exchange(slot_, -1);
    PendingSlot& slot = g_pending[index];
    ::unlink(PathOf(index));
    slot.active.store(false);
    slot.taken.store(false);
  }
}

void StagedFile::Commit() {
  if (slot_ < 0) return;
  const std::string name = dest_.string();
  const int synced =
      sync_.valid() ? sync_.get() : (::fsync(fd_) == 0 ? 0 : errno);
  if (synced != 0) ThrowOutput(name, ErrnoText(synced));
  if (::close(std::exchange(fd_, -1)) != 0) ThrowOutput(name, ErrnoText(errno));
  PendingSlot& slot = g_pending[slot_];
  if (::rename(PathOf(slot_), dest_.c_str()) != 0) {
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
