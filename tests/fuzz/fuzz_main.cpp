// libFuzzer entry for one target, chosen at build time (ASAFLOW_FUZZ_TARGET).
#include <cstdlib>
#include <string>

#include "fuzz_targets.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const asaflow::fuzz::Target run = [] {
    for (const auto& t : asaflow::fuzz::targets())
      if (t.name == ASAFLOW_FUZZ_TARGET) return t.run;
    std::abort();
  }();
  run(data, size);
  return 0;
}
