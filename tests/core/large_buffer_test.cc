// core::LargeBuffer: zeroed memory, mapped on huge-page boundaries from
// kMappedFrom up, from operator new below; moves hand the memory over.
#include "core/large_buffer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>

namespace convcorr::core {
namespace {

bool AllZero(const LargeBuffer& b) {
  for (size_t i = 0; i < b.size(); ++i) {
    if (b.data()[i] != std::byte{0}) return false;
  }
  return true;
}

TEST(LargeBuffer, SmallAndLargeBuffersStartZeroedAndHoldWhatIsWritten) {
  for (const size_t bytes :
       {size_t{1}, size_t{4096}, LargeBuffer::kMappedFrom - 1,
        LargeBuffer::kMappedFrom, size_t{5} << 20, (size_t{3} << 20) + 7}) {
    LargeBuffer b(bytes);
    ASSERT_NE(b.data(), nullptr) << bytes;
    EXPECT_EQ(b.size(), bytes);
    EXPECT_TRUE(AllZero(b)) << bytes;
    std::memset(b.data(), 0x5A, bytes);
    EXPECT_EQ(b.data()[bytes - 1], std::byte{0x5A});
    if (bytes >= LargeBuffer::kMappedFrom) {
      // Mapped buffers start on a 2 MiB boundary, where huge pages can be.
      EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % (2u << 20), 0u)
          << bytes;
    }
  }
}

TEST(LargeBuffer, MovesHandTheMemoryOver) {
  LargeBuffer a(size_t{3} << 20);
  a.as<float>()[10] = 2.5f;
  std::byte* const where = a.data();
  LargeBuffer b(std::move(a));
  EXPECT_EQ(b.data(), where);
  EXPECT_EQ(b.as<float>()[10], 2.5f);
  EXPECT_EQ(a.data(), nullptr);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(a.size(), 0u);       // NOLINT(bugprone-use-after-move)
  LargeBuffer c(100);
  c = std::move(b);
  EXPECT_EQ(c.data(), where);
  c = LargeBuffer();
  EXPECT_EQ(c.data(), nullptr);
  EXPECT_EQ(LargeBuffer(0).data(), nullptr);
}

}  // namespace
}  // namespace convcorr::core
