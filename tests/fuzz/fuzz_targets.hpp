// Fuzz targets: each takes arbitrary bytes and feeds them to one reader of untrusted input
// the way a user's file would reach it. They return normally for every input: a clear error
// (asaflow::Error) is a pass; anything else (another exception, a crash, a sanitizer report,
// a broken round trip) is a finding. The same functions run under libFuzzer (fuzz_main.cpp,
// clang, scripts/fuzz.sh) and in the ordinary suite over the kept corpus (regressions_test.cpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace asaflow::fuzz {

using Target = void (*)(const std::uint8_t* data, std::size_t size);

struct NamedTarget {
  std::string name;  // also the folder of its corpus: tests/fuzz/corpus/<name>/
  Target run;
};

const std::vector<NamedTarget>& targets();

}  // namespace asaflow::fuzz
