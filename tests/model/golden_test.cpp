// Golden numerics: the first three training losses of the tiny model (modes none and full)
// equal those of an independent eager-PyTorch implementation built and seeded the same way
// (tests/model/golden_reference.py; its output is checked in as golden_losses.json and
// re-derived here whenever Debian's python3-torch is installed).
#include <ATen/Parallel.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "asaflow/model/batches.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "mode_fixtures.hpp"
#include "test_support.hpp"

using namespace asaflow;
using nlohmann::json;

namespace {

// The batch of golden_reference.py: 2 x 16 tokens from formulas, no RNG.
nlp::PreprocessedSplit golden_batch() {
  nlp::PreprocessedSplit s;
  for (int b = 0; b < 2; ++b) {
    nlp::Example e;
    for (int t = 0; t < 16; ++t) {
      e.ids.push_back((37 * (b * 16 + t) + 11) % 50000);
      e.pos.push_back(std::uint8_t((3 * t + b) % 17));
      e.features.push_back(t % 2 == 0 ? std::uint16_t(1u << ((t + b) % 15)) : 0);
      e.requirements.push_back(t % 3 == 0 ? std::uint16_t(1u << ((t * 7) % 15)) : 0);
      e.word_index.push_back(t);
    }
    s.examples.push_back(e);
  }
  return s;
}

std::vector<double> asaflow_losses(const std::string& mode) {
  at::set_num_threads(1);
  const auto p = test::pos_matrix();
  test::Modes modes;
  const auto data = golden_batch();
  model::TrainOptions o;
  o.preset = model::Preset::kFaithful;  // one AdamW group, weight decay on everything, as the script
  o.seed = 11;
  o.device = model::DeviceChoice::kCpu;
  test::TempDir dir;
  model::Trainer trainer(model::ModelConfig::preset("tiny"), o, modes.all.at(mode), p, data, data, dir.path);
  const auto batch = model::make_batch(data, {0, 1}, model::BatchOptions{true, 50256}, torch::kCPU);
  std::vector<double> losses;
  for (int s = 0; s < 3; ++s) losses.push_back(trainer.train_step(batch, 3e-4));
  return losses;
}

void expect_close(const std::vector<double>& actual, const json& expected, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_NEAR(actual[i], expected[i].get<double>(), 2e-4) << what << " step " << i + 1;
  }
}

TEST(Golden, FirstLossesMatchTheEagerPytorchReference) {
  const json golden = json::parse(test::read_file(test::source_dir() / "tests/model/golden_losses.json"));
  const auto none = asaflow_losses("none"), full = asaflow_losses("full");
  expect_close(none, golden.at("none"), "none (checked-in)");
  expect_close(full, golden.at("full"), "full (checked-in)");
  EXPECT_NE(none[0], full[0]);  // the ASA bias changes the very first forward pass
  if (std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "python3-torch not installed";
  test::TempDir dir;
  const std::string cmd = "OPENBLAS_NUM_THREADS=1 /usr/bin/python3 '" +
                          (test::source_dir() / "tests/model/golden_reference.py").string() + "' > '" +
                          (dir.path / "out.json").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  const json fresh = json::parse(test::read_file(dir.path / "out.json"));
  expect_close(none, fresh.at("none"), "none (python now)");
  expect_close(full, fresh.at("full"), "full (python now)");
}

}  // namespace
