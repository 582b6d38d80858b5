#include "asaflow/model/device_memory.hpp"

#include "asaflow/memory_usage.hpp"

#ifdef ASAFLOW_WITH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace asaflow::model {

void reset_peak_memory(const torch::Device& device) {
#ifdef ASAFLOW_WITH_CUDA
  if (device.is_cuda()) {
    c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
    return;
  }
#endif
  (void)device;
  reset_peak_rss();
}

double peak_memory_mb(const torch::Device& device) {
#ifdef ASAFLOW_WITH_CUDA
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    return double(stats.allocated_bytes[0].peak) / (1024.0 * 1024.0);  // [0]: StatType::AGGREGATE
  }
#endif
  (void)device;
  return peak_rss_mb();
}

const char* peak_memory_kind(const torch::Device& device) {
#ifdef ASAFLOW_WITH_CUDA
  if (device.is_cuda()) return "CUDA allocated";
#endif
  (void)device;
  return "RSS";
}

}  // namespace asaflow::model
