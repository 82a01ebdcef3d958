// Buffers of megabytes (the streaming run's rings of rows; compare's record
// of the difference when it cannot go to a file) mapped straight from the
// system in 2 MiB-aligned blocks and advised for transparent huge pages. The
// first write to each 4 KiB page of fresh memory is a page fault; on virtual
// machines that shadow the guest's page tables a fault costs 10-40 us, so a 33
// MB buffer took 110-300 ms to touch, more than the filter itself
// (docs/performance.md, "Page faults"). One 2 MiB page replaces 512 of those
// faults. Where the kernel has no huge page to give (or transparent huge pages
// are off), the mapping falls back to 4 KiB pages by itself: the advice never
// fails a run.
#pragma once

#include <cstddef>

namespace convcorr::core {

class LargeBuffer {
 public:
  LargeBuffer() = default;
  // `bytes` zero bytes (0: no memory); throws std::bad_alloc when the
  // system has no room.
  explicit LargeBuffer(size_t bytes);
  ~LargeBuffer();
  LargeBuffer(LargeBuffer&& other) noexcept;
  LargeBuffer& operator=(LargeBuffer&& other) noexcept;
  LargeBuffer(const LargeBuffer&) = delete;
  LargeBuffer& operator=(const LargeBuffer&) = delete;

  std::byte* data() const { return data_; }
  size_t size() const { return size_; }
  template <typename T>
  T* as() const {
    return reinterpret_cast<T*>(data_);
  }

  // Buffers from this size up are mapped and advised; smaller ones come
  // from operator new (a huge page would be mostly empty).
  static constexpr size_t kMappedFrom = size_t{1} << 20;

 private:
  void Release() noexcept;

  std::byte* data_ = nullptr;
  size_t size_ = 0;
  size_t mapped_ = 0;  // bytes mapped from the system (0: operator new)
};

}  // namespace convcorr::core
