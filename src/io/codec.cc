// Sources, sinks and the errors every codec shares.
#include "io/codec.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace convcorr::io {

size_t PixelFormat::SampleBytes() const {
  return depth == core::Depth::kU8 ? 1 : depth == core::Depth::kU16 ? 2 : 4;
}

size_t PixelFormat::RowBytes() const {
  return static_cast<size_t>(width) * static_cast<size_t>(channels) *
         SampleBytes();
}

void ThrowInput(std::string_view name, const std::string& why) {
  throw Error(ErrorKind::kInput, "input '" + std::string(name) + "': " + why);
}

void ThrowOutput(std::string_view name, const std::string& why) {
  throw Error(ErrorKind::kOutput, "output '" + std::string(name) + "': " + why);
}

void Sink::WriteAt(uint64_t, const void*, size_t) {
  throw Error(ErrorKind::kInternal, "WriteAt on a sink that only appends");
}

void VectorSink::Write(const void* data, size_t n) {
  const auto* p = static_cast<const uint8_t*>(data);
  bytes_.insert(bytes_.end(), p, p + n);
}

void VectorSink::WriteAt(uint64_t offset, const void* data, size_t n) {
  if (offset + n > bytes_.size()) bytes_.resize(offset + n);
  if (n > 0) std::memcpy(bytes_.data() + offset, data, n);
}

std::string ErrnoText(int err) {
  std::string s = std::strerror(err);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(s[0]));
  return s;
}

namespace {

class MemorySource : public Source {
 public:
  explicit MemorySource(std::span<const uint8_t> bytes) : bytes_(bytes) {}
  size_t Read(void* dst, size_t n) override {
    const size_t k = std::min(n, bytes_.size() - pos_);
    if (k > 0) std::memcpy(dst, bytes_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  std::span<const uint8_t> Peek(size_t n) override {
    return bytes_.first(std::min(n, bytes_.size()));
  }
  size_t ReadAt(uint64_t offset, void* dst, size_t n) override {
    if (offset >= bytes_.size()) return 0;
    const size_t k = std::min<uint64_t>(n, bytes_.size() - offset);
    std::memcpy(dst, bytes_.data() + offset, k);
    return k;
  }
  bool Seekable() const override { return true; }
  std::optional<uint64_t> Size() const override { return bytes_.size(); }
  std::span<const uint8_t> All() override { return bytes_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t pos_ = 0;
};

// Reads a descriptor through a buffer; the first bytes read are kept for
// Peek until the decoder starts reading.
class FdSource : public Source {
 public:
  FdSource(int fd, std::string name) : fd_(fd), name_(std::move(name)) {
    struct stat st {};
    if (::fstat(fd_, &st) == 0 && S_ISREG(st.st_mode)) {
      const off_t at = ::lseek(fd_, 0, SEEK_CUR);
      if (at >= 0) {
        seekable_ = true;
        start_ = static_cast<uint64_t>(at);
        size_ = st.st_size > at ? static_cast<uint64_t>(st.st_size - at) : 0;
      }
    }
  }

  size_t Read(void* dst, size_t n) override {
    auto* out = static_cast<uint8_t*>(dst);
    size_t done = 0;
    if (buf_pos_ < buf_.size()) {
      const size_t k = std::min(n, buf_.size() - buf_pos_);
      std::memcpy(out, buf_.data() + buf_pos_, k);
      buf_pos_ += k;
      done += k;
      if (buf_pos_ == buf_.size()) {
        buf_.clear();
        buf_.shrink_to_fit();
        buf_pos_ = 0;
      }
    }
    while (done < n && !eof_) {
      const size_t k = RawRead(out + done, n - done);
      if (k == 0) eof_ = true;
      done += k;
    }
    return done;
  }

  std::span<const uint8_t> Peek(size_t n) override {
    while (buf_.size() < n && !eof_) {
      const size_t old = buf_.size();
      buf_.resize(n);
      const size_t k = RawRead(buf_.data() + old, n - old);
      buf_.resize(old + k);
      if (k == 0) eof_ = true;
    }
    return std::span<const uint8_t>(buf_).first(std::min(n, buf_.size()));
  }

  size_t ReadAt(uint64_t offset, void* dst, size_t n) override {
    if (!seekable_) return 0;
    auto* out = static_cast<uint8_t*>(dst);
    size_t done = 0;
    while (done < n) {
      const ssize_t k = ::pread(fd_, out + done, n - done,
                                static_cast<off_t>(start_ + offset + done));
      if (k < 0) {
        if (errno == EINTR) continue;
        ThrowInput(name_, ErrnoText(errno));
      }
      if (k == 0) break;
      done += static_cast<size_t>(k);
    }
    return done;
  }

  bool Seekable() const override { return seekable_; }
  std::optional<uint64_t> Size() const override {
    if (!seekable_) return std::nullopt;
    return size_;
  }

  std::span<const uint8_t> All() override {
    if (!all_read_) {
      // What Peek holds, then the rest of the descriptor.
      all_ = std::move(buf_);
      buf_.clear();
      buf_pos_ = 0;
      if (seekable_ && size_ > all_.size()) all_.reserve(size_);
      uint8_t chunk[1 << 16];
      while (!eof_) {
        const size_t k = RawRead(chunk, sizeof chunk);
        if (k == 0) eof_ = true;
        all_.insert(all_.end(), chunk, chunk + k);
      }
      all_read_ = true;
    }
    return all_;
  }

 private:
  size_t RawRead(uint8_t* dst, size_t n) {
    for (;;) {
      const ssize_t k = ::read(fd_, dst, n);
      if (k >= 0) return static_cast<size_t>(k);
      if (errno == EINTR) continue;
      ThrowInput(name_, ErrnoText(errno));
    }
  }

  int fd_;
  std::string name_;
  bool seekable_ = false;
  uint64_t start_ = 0;
  uint64_t size_ = 0;
  std::vector<uint8_t> buf_;
  size_t buf_pos_ = 0;
  bool eof_ = false;
  std::vector<uint8_t> all_;
  bool all_read_ = false;
};

}  // namespace

std::unique_ptr<Source> Source::FromMemory(std::span<const uint8_t> bytes) {
  return std::make_unique<MemorySource>(bytes);
}

std::unique_ptr<Source> Source::FromFd(int fd, std::string name) {
  return std::make_unique<FdSource>(fd, std::move(name));
}

}  // namespace convcorr::io
