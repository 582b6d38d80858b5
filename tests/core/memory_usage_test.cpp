// keep_freed_memory: the allocator policy the asaflow executable and the tests set.
#include "asaflow/memory_usage.hpp"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ASAFLOW_SANITIZED_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ASAFLOW_SANITIZED_MALLOC 1
#endif
#endif

namespace {

TEST(MemoryUsage, LargeBlocksStayInTheHeapAfterKeepFreedMemory) {
#ifdef ASAFLOW_SANITIZED_MALLOC
  GTEST_SKIP() << "a sanitizer's allocator replaces glibc malloc";
#else
  ASSERT_EQ(std::getenv("GLIBC_TUNABLES"), nullptr) << "the test needs glibc's own policy to start from";
  ASSERT_TRUE(asaflow::keep_freed_memory());
  // 16 MiB is above glibc's initial 128 KiB mmap threshold: without the policy it would be
  // a separate mapping (hblks counts them) and given back to the kernel on free.
  const auto before = ::mallinfo2();
  const std::size_t size = std::size_t(16) << 20;
  auto* block = static_cast<char*>(std::malloc(size));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, size);
  char* volatile escaped = block;  // the compiler may not drop the allocation
  (void)escaped;
  const auto held = ::mallinfo2();
  EXPECT_EQ(held.hblks, before.hblks) << "the block was mapped on its own";
  std::free(block);
  const auto after = ::mallinfo2();
  EXPECT_GE(after.fordblks, before.fordblks + size / 2) << "the freed block went back to the kernel";
#endif
}

TEST(MemoryUsage, KeepFreedMemoryLeavesAUsersTunablesAlone) {
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.check=0", 1);
  const bool applied = asaflow::keep_freed_memory();
  ::unsetenv("GLIBC_TUNABLES");
  EXPECT_FALSE(applied);
}

}  // namespace
