// Memory of this process (Linux): the peak resident set (reset the high-water mark, read
// it; with several stages running at once the figure covers all of them), and the C
// allocator's policy for the large blocks a training step frees and asks for again.
#pragma once

#include "asaflow/export.hpp"

namespace asaflow {

ASAFLOW_API void reset_peak_rss();
ASAFLOW_API double peak_rss_mb();  // since the last reset (or process start)

// glibc malloc serves every block above its mmap threshold with a fresh mmap and unmaps
// it on free, and trims the heap's top above 128 KiB; LibTorch's CPU tensors are such
// blocks, so each training step faults in and zeroes the same few hundred MB again
// (measured on the tiny model: a third of the step's time in the kernel). This keeps
// blocks up to 32 MiB (glibc's largest threshold) in the heap and freed memory in the
// process (trim above 1 GiB), as a caching allocator would, in one arena for all threads
// (a worker thread's own arena cannot keep them). Skipped when the user set
// GLIBC_TUNABLES (a preloaded allocator ignores it anyway); returns whether it applied.
// Call it first thing in main.
ASAFLOW_API bool keep_freed_memory();

}  // namespace asaflow
