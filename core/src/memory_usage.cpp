#include "asaflow/memory_usage.hpp"

#include <cstdlib>
#include <fstream>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace asaflow {

// Linux resets VmHWM when "5" is written to clear_refs.
void reset_peak_rss() { std::ofstream("/proc/self/clear_refs") << "5"; }

double peak_rss_mb() {
  std::ifstream in("/proc/self/status");
  std::string key;
  while (in >> key) {
    if (key == "VmHWM:") {
      double kb = 0;
      in >> kb;
      return kb / 1024.0;
    }
    std::string rest;
    std::getline(in, rest);
  }
  return 0.0;
}

bool keep_freed_memory() {
#if defined(__GLIBC__)
  if (std::getenv("GLIBC_TUNABLES")) return false;
  // Setting either value turns off glibc's dynamic threshold, so both are set: the mmap
  // threshold alone would leave the 128 KiB trim threshold returning the heap's top. One
  // arena: a thread other than the main one (a stage's cell runs on a worker thread) gets
  // its own arena, whose heaps are at most 64 MiB, so the step's 26 MB blocks do not stay
  // in them and are faulted in again every step whatever the thresholds (measured, a train
  // stage alone, tiny model, Zen 5: 1.2M page faults and 2,262-2,328 tokens/s with per-
  // thread arenas against 119k and 3,397 with one).
  return ::mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && ::mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 &&
         ::mallopt(M_ARENA_MAX, 1) == 1;
#else
  return false;
#endif
}

}  // namespace asaflow
