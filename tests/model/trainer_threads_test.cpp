// Runs training side by side in one process, as `asaflow run -j N` trains cells (each on its
// own thread): each run must be its seed's run, the same as alone, not turns of one shared
// random stream (the initial weights are drawn under the default generator's lock, dropout
// from each trainer's own generator).
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "asaflow/model/dropout.hpp"
#include "asaflow/model/trainer.hpp"
#include "mode_fixtures.hpp"
#include "test_support.hpp"

using namespace asaflow;
using namespace asaflow::model;

namespace {

struct Arm {
  std::string mode;
  std::int64_t seed;
};

struct Outcome {
  TrainResult result;
  std::vector<torch::Tensor> weights;
};

// body(0) ... body(n - 1), each on its own thread, the threads released at once.
void side_by_side(std::size_t n, const std::function<void(std::size_t)>& body) {
  std::atomic<std::size_t> waiting{n};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < n; ++i) {
    threads.emplace_back([&, i] {
      for (--waiting; waiting > 0;) std::this_thread::yield();
      body(i);
    });
  }
  for (auto& t : threads) t.join();
}

TrainOptions options_of(const Arm& arm) {
  TrainOptions o = test::small_options();
  o.seed = arm.seed;
  o.max_steps = 30;  // enough dropout draws (several per layer per step) to interleave
  o.eval_every = 10;
  o.checkpoint_every = 0;
  return o;
}

TEST(Trainer, RunsSideBySideInOneProcessAreEachTheirSeedsRun) {
  const auto train = test::synthetic(20, 1), valid = test::synthetic(6, 2);
  test::Modes modes;
  const ModelConfig config = ModelConfig::preset("tiny", 200);
  ASSERT_GT(config.dropout, 0.0);
  const std::vector<Arm> arms = {{"none", 11}, {"full", 11}, {"none", 12}};
  auto train_one = [&](const Arm& arm) {
    test::TempDir dir;
    Trainer trainer(config, options_of(arm), modes.all.at(arm.mode), test::pos_matrix(), train, valid, dir.path);
    Outcome run{trainer.run(), {}};
    for (const auto& p : trainer.model()->parameters()) run.weights.push_back(p.detach().clone());
    return run;
  };
  std::vector<Outcome> alone;
  for (const auto& arm : arms) alone.push_back(train_one(arm));
  EXPECT_NE(alone[0].result.final_val_ppl, alone[2].result.final_val_ppl);  // seeds differ

  // Together, released at once; twice, as the threads' turns differ from one try to the next.
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::vector<Outcome> together(arms.size());
    side_by_side(arms.size(), [&](std::size_t i) { together[i] = train_one(arms[i]); });
    for (std::size_t i = 0; i < arms.size(); ++i) {
      SCOPED_TRACE("attempt " + std::to_string(attempt) + ", " + arms[i].mode + " seed " +
                   std::to_string(arms[i].seed));
      EXPECT_EQ(together[i].result.train_loss, alone[i].result.train_loss);
      EXPECT_EQ(together[i].result.val_ppl, alone[i].result.val_ppl);
      ASSERT_EQ(together[i].weights.size(), alone[i].weights.size());
      for (std::size_t p = 0; p < alone[i].weights.size(); ++p)
        EXPECT_TRUE(torch::equal(together[i].weights[p], alone[i].weights[p])) << "parameter " << p;
    }
  }
}

TEST(Trainer, ModelsBuiltSideBySideInOneProcessGetTheirSeedsInitialWeights) {
  // Building alone takes a few milliseconds, so the threads' turns rarely cross in one try:
  // many builds of four seeds at once, beside two models built unseeded (as a trained model
  // is loaded: make_model, then its weights replaced) that must take none of their draws.
  const auto train = test::synthetic(6, 1), valid = test::synthetic(3, 2);
  test::Modes modes;
  const ModelConfig config = ModelConfig::preset("tiny", 200);
  test::TempDir dir;
  auto initial_weights = [&](std::int64_t seed) {
    TrainOptions o = test::small_options();
    o.seed = seed;
    Trainer trainer(config, o, modes.all.at("none"), test::pos_matrix(), train, valid, dir.path);
    std::vector<torch::Tensor> weights;
    for (const auto& p : trainer.model()->parameters()) weights.push_back(p.detach().clone());
    return weights;
  };
  const std::vector<std::int64_t> seeds = {11, 12, 13, 14};
  std::vector<std::vector<torch::Tensor>> alone;
  for (auto seed : seeds) alone.push_back(initial_weights(seed));
  int differing = 0;
  for (int round = 0; round < 25; ++round) {
    std::vector<std::vector<torch::Tensor>> together(seeds.size());
    side_by_side(seeds.size() + 2, [&](std::size_t i) {
      if (i < seeds.size()) {
        together[i] = initial_weights(seeds[i]);
      } else {
        make_model(config);
      }
    });
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      for (std::size_t p = 0; p < alone[i].size(); ++p) differing += !torch::equal(together[i][p], alone[i][p]);
    }
  }
  EXPECT_EQ(differing, 0) << "parameters whose initial values were not their seed's";
}

// The digest the train stage records of its step-0 model (and stage/claims compares across a
// seed's arms): equal for the arms of one seed, the UPOS embedding pos_embed adds left out;
// different for another seed, and for one changed weight.
TEST(Model, SharedWeightsDigestIsTheSameForEveryArmOfASeedAndOnlyThen) {
  ModelConfig config = ModelConfig::preset("tiny", 200);
  std::int64_t count = 0;
  const std::string seed_3 = make_model(config, 3)->shared_weights_digest(&count);
  std::int64_t expected = 0;
  for (const auto& p : make_model(config, 3)->parameters()) expected += p.numel();
  EXPECT_EQ(count, expected);
  EXPECT_EQ(seed_3.size(), 64u);

  ModelConfig embedded = config;
  embedded.pos_embedding = true;
  AsaTransformer with_tags = make_model(embedded, 3);
  std::int64_t with_tags_count = 0;
  EXPECT_EQ(with_tags->shared_weights_digest(&with_tags_count), seed_3);
  EXPECT_EQ(with_tags_count, count);  // the [17, C] embedding is not in it
  EXPECT_GT(with_tags->parameters().size(), make_model(config, 3)->parameters().size());

  EXPECT_NE(make_model(config, 4)->shared_weights_digest(), seed_3);
  AsaTransformer changed = make_model(config, 3);
  {
    torch::NoGradGuard no_grad;
    auto last = changed->parameters().back();  // the final LayerNorm's bias
    last.view({-1})[0] += 1e-6f;
  }
  EXPECT_NE(changed->shared_weights_digest(), seed_3);
}

TEST(Dropout, ScopedGeneratorGivesItsStreamAndLeavesTheDefaultAlone) {
  const auto x = torch::ones({64, 33});
  torch::manual_seed(5);
  const auto reference = torch::dropout(x, 0.3, true);  // from the default generator seeded 5

  torch::manual_seed(9);
  const auto untouched = at::detail::getDefaultCPUGenerator().get_state();
  at::Generator own = at::make_generator<at::CPUGeneratorImpl>(5);
  torch::Tensor scoped, after;
  {
    const DropoutGenerator scope(own);
    scoped = apply_dropout(x, 0.3, true);
    {
      at::Generator inner = at::make_generator<at::CPUGeneratorImpl>(5);
      const DropoutGenerator nested(inner);
      EXPECT_TRUE(torch::equal(apply_dropout(x, 0.3, true), reference));
    }
    after = apply_dropout(x, 0.3, true);  // the outer generator again, one mask further on
  }
  EXPECT_TRUE(torch::equal(scoped, reference));
  EXPECT_FALSE(torch::equal(after, reference));
  EXPECT_TRUE(torch::equal(at::detail::getDefaultCPUGenerator().get_state(), untouched));
  EXPECT_FALSE(torch::equal(apply_dropout(x, 0.3, true), reference));  // outside: the default one
}

}  // namespace
