// Every input kept for a fuzz target (seeds and the crashers it found, tests/fuzz/corpus/
// <target>/) runs through the target in the ordinary suite: a finding stays fixed.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "fuzz_targets.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;

namespace asaflow::fuzz {
void PrintTo(const NamedTarget& target, std::ostream* os) { *os << target.name; }
}  // namespace asaflow::fuzz

class FuzzCorpus : public ::testing::TestWithParam<asaflow::fuzz::NamedTarget> {};

TEST_P(FuzzCorpus, EveryKeptInputPasses) {
  const auto& target = GetParam();
  const fs::path dir = asaflow::test::source_dir() / "tests/fuzz/corpus" / target.name;
  ASSERT_TRUE(fs::is_directory(dir)) << "no corpus for fuzz target '" << target.name << "' at " << dir;
  std::size_t inputs = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    SCOPED_TRACE(e.path().string());
    target.run(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());  // aborts on a finding
    ++inputs;
  }
  EXPECT_GE(inputs, 2u) << "seed the corpus of '" << target.name << "' with at least a valid and an invalid input";
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzCorpus, ::testing::ValuesIn(asaflow::fuzz::targets()),
                         [](const auto& info) { return info.param.name; });
