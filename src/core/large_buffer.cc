#include "core/large_buffer.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <new>
#include <utility>

namespace convcorr::core {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;

}  // namespace

LargeBuffer::LargeBuffer(size_t bytes) : size_(bytes) {
  if (bytes == 0) return;
  if (bytes < kMappedFrom) {
    data_ = static_cast<std::byte*>(::operator new(bytes));
    std::memset(data_, 0, bytes);
    return;
  }
  if (bytes > SIZE_MAX - 2 * kHugePage) throw std::bad_alloc();
  // Mapped a huge page larger, so that the buffer can start on a huge
  // page's boundary; the unused head and tail are given back.
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  const size_t span = rounded + kHugePage;
  void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  auto* base = static_cast<std::byte*>(p);
  const auto addr = reinterpret_cast<uintptr_t>(base);
  const size_t head = (kHugePage - addr % kHugePage) % kHugePage;
  if (head > 0) munmap(base, head);
  const size_t tail = span - head - rounded;
  if (tail > 0) munmap(base + head + rounded, tail);
  data_ = base + head;
  mapped_ = rounded;
  // Advice only: without huge pages the mapping works with small ones.
  (void)madvise(data_, mapped_, MADV_HUGEPAGE);
}

LargeBuffer::~LargeBuffer() { Release(); }

LargeBuffer::LargeBuffer(LargeBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      mapped_(std::exchange(other.mapped_, 0)) {}

LargeBuffer& LargeBuffer::operator=(LargeBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    mapped_ = std::exchange(other.mapped_, 0);
  }
  return *this;
}

void LargeBuffer::Release() noexcept {
  if (data_ == nullptr) return;
  if (mapped_ > 0) {
    munmap(data_, mapped_);
  } else {
    ::operator delete(data_);
  }
  data_ = nullptr;
  size_ = 0;
  mapped_ = 0;
}

}  // namespace convcorr::core
