// Peak memory of a piece of work on a device: the CUDA caching allocator's peak of
// allocated bytes on a GPU (a CUDA build of LibTorch), the process's peak RSS on the CPU.
// Used by the profile stage and the step benchmark, so both report the same quantity.
#pragma once

#include <torch/types.h>

namespace asaflow::model {

// Starts a new high-water mark for `device`.
void reset_peak_memory(const torch::Device& device);
// MB since the last reset: CUDA allocated bytes on a GPU, resident set size on the CPU.
double peak_memory_mb(const torch::Device& device);
// What peak_memory_mb measures on `device`: "CUDA allocated" or "RSS".
const char* peak_memory_kind(const torch::Device& device);

}  // namespace asaflow::model
