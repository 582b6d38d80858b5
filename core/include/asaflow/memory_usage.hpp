// Peak resident memory of this process (Linux /proc): reset the high-water mark, read it.
// With several stages running at once the figure covers all of them.
#pragma once

#include "asaflow/export.hpp"

namespace asaflow {

ASAFLOW_API void reset_peak_rss();
ASAFLOW_API double peak_rss_mb();  // since the last reset (or process start)

}  // namespace asaflow
