// keep_freed_memory: the allocator policy the asaflow executable and the tests set.
#include "asaflow/memory_usage.hpp"

#include <gtest/gtest.h>
#include <malloc.h>
#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <thread>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define ASAFLOW_SANITIZED_MALLOC 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define ASAFLOW_SANITIZED_MALLOC 1
#endif
#endif

namespace {

// Tests of the policy itself: glibc's own malloc, the policy applied.
class KeptMemory : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef ASAFLOW_SANITIZED_MALLOC
    GTEST_SKIP() << "a sanitizer's allocator replaces glibc malloc";
#else
    ASSERT_EQ(std::getenv("GLIBC_TUNABLES"), nullptr) << "the test needs glibc's own policy to start from";
    ASSERT_TRUE(asaflow::keep_freed_memory());
#endif
  }
};

TEST_F(KeptMemory, LargeBlocksStayInTheHeap) {
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
}

// A stage's cell runs on a worker thread. With glibc's per-thread arenas (heaps of at most
// 64 MiB) a 26 MB block (the tiny model's [50257, 128] weight gradient) freed by such a
// thread went back to the kernel and was faulted in again on the next step.
TEST_F(KeptMemory, AWorkerThreadReusesItsFreedBlocksWithoutFaults) {
  const std::size_t size = std::size_t(26) << 20;
  long faults_after_first = -1;
  std::thread worker([&] {
    const auto minor_faults = [] {
      rusage usage{};
      ::getrusage(RUSAGE_THREAD, &usage);
      return usage.ru_minflt;
    };
    long start = 0;
    for (int round = 0; round < 4; ++round) {  // a step: three such blocks live at once
      if (round == 1) start = minor_faults();
      char* blocks[3];
      for (auto*& block : blocks) {
        block = static_cast<char*>(std::malloc(size));
        if (!block) return;
        std::memset(block, round + 1, size);
      }
      char* volatile escaped = blocks[2];
      (void)escaped;
      for (auto* block : blocks) std::free(block);
    }
    faults_after_first = minor_faults() - start;
  });
  worker.join();
  ASSERT_GE(faults_after_first, 0) << "malloc failed";
  // 26 MB is 6,656 pages: three rounds that faulted the blocks in again would count ~60,000.
  EXPECT_LT(faults_after_first, 1000) << "the worker's freed blocks went back to the kernel";
}

TEST(MemoryUsage, KeepFreedMemoryLeavesAUsersTunablesAlone) {
  ::setenv("GLIBC_TUNABLES", "glibc.malloc.check=0", 1);
  const bool applied = asaflow::keep_freed_memory();
  ::unsetenv("GLIBC_TUNABLES");
  EXPECT_FALSE(applied);
}

}  // namespace
