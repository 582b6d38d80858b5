// Data-parallel training (train param world_size) through the asaflow executable: two
// processes at global batch 8, each computing half of every batch, train the model a
// single process trains at batch 8 (dropout off): the same loss curve within 1e-5 and the
// same final weights within float tolerance. And a rank that dies fails the stage with its
// log named, and the rerun resumes from rank 0's checkpoint.
#include <gtest/gtest.h>
#include <torch/serialize.h>

#include <nlohmann/json.hpp>

#include "asaflow/model/data_parallel.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

std::string pipeline(int world_size, int steps, const std::string& extra = "") {
  return "stages:\n"
         "  wiki: {uses: dataset/wikitext, params: {dir: '" +
         (source_dir() / "tests/nlp/data/wikitext").string() +
         "'}}\n"
         "  tagger_data: {uses: dataset/conllu, params: {paths: ['" +
         (source_dir() / "tests/nlp/data/conllu/good.conllu").string() +
         "']}}\n"
         "  tagger: {uses: train_tagger, needs: [tagger_data], params: {eval_split: train}}\n"
         "  prep: {uses: preprocess, needs: [wiki, tagger], params: {tokenizer: word, unit: document}}\n"
         "  train: {uses: train, needs: [prep], params: {size: tiny, batch_size: 8, max_steps: " +
         std::to_string(steps) +
         ", eval_every: 10, log_every: 1, device: cpu, dropout: 0, step: eager, world_size: " +
         std::to_string(world_size) + extra + "}}\n";
}

nlohmann::json shown(const fs::path& dir) {
  const auto r = run_asaflow("show p.yaml train --json", dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out);
}

std::map<std::string, torch::Tensor> weights(const fs::path& file) {
  torch::serialize::InputArchive a;
  a.load_from(file.string());
  std::map<std::string, torch::Tensor> out;
  for (const auto& key : a.keys()) {
    torch::Tensor t;
    if (a.try_read(key, t)) out[key] = t;
  }
  return out;
}

TEST(DataParallel, ShardsCoverEveryRowOfTheBatchOnce) {
  for (std::int64_t n : {1, 7, 8, 9}) {
    for (int world : {1, 2, 3}) {
      std::int64_t next = 0;
      for (int rank = 0; rank < world; ++rank) {
        const auto [from, to] = asaflow::model::shard_of(n, rank, world);
        EXPECT_EQ(from, next) << n << " " << world;
        EXPECT_LE(to - from, (n + world - 1) / world);
        next = to;
      }
      EXPECT_EQ(next, n);
    }
  }
}

TEST(DataParallel, TwoProcessesTrainWhatOneProcessTrainsAtTheSameGlobalBatch) {
  if (!asaflow::model::DataParallel::available()) GTEST_SKIP() << "this build has no c10d with Gloo (libgloo-dev)";
  TempDir one, two;
  write_file(one.path / "p.yaml", pipeline(1, 20));
  write_file(two.path / "p.yaml", pipeline(2, 20));
  const auto a = run_asaflow("run p.yaml --quiet --threads 1", one.path);
  ASSERT_EQ(a.exit_code, 0) << a.err;
  const auto b = run_asaflow("run p.yaml --threads 1", two.path);
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_NE(b.err.find("rank 0 of 2 (rendezvous 127.0.0.1:"), std::string::npos) << b.err;

  const fs::path da = shown(one.path)["output_dir"].get<std::string>();
  const fs::path db = shown(two.path)["output_dir"].get<std::string>();
  const auto ca = nlohmann::json::parse(read_file(da / "curves.json"));
  const auto cb = nlohmann::json::parse(read_file(db / "curves.json"));
  ASSERT_EQ(ca["train_loss"].size(), 20u);
  ASSERT_EQ(cb["train_loss"].size(), 20u);
  for (std::size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(ca["train_loss"][i][0], cb["train_loss"][i][0]);
    EXPECT_NEAR(ca["train_loss"][i][1].get<double>(), cb["train_loss"][i][1].get<double>(), 1e-5) << "step " << i + 1;
  }
  for (std::size_t i = 0; i < ca["val_ppl"].size(); ++i)
    EXPECT_NEAR(ca["val_ppl"][i][1].get<double>() / cb["val_ppl"][i][1].get<double>(), 1.0, 1e-5);
  const auto wa = weights(da / "model.pt"), wb = weights(db / "model.pt");
  ASSERT_EQ(wa.size(), wb.size());
  ASSERT_FALSE(wa.empty());
  for (const auto& [name, t] : wa) {
    ASSERT_TRUE(wb.count(name)) << name;
    EXPECT_LT((t - wb.at(name)).abs().max().item<double>(), 1e-4) << name;
  }
}

// Every rank must be a cell of the same run: a mismatched group is refused by name.
TEST(DataParallel, ARankStartedOutsideAGroupIsRefused) {
  TempDir dir;
  write_file(dir.path / "p.yaml", pipeline(2, 4));
  const auto r = run_asaflow("run p.yaml --rank 1", dir.path);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--rank needs --cell"), std::string::npos) << r.err;
  const auto s = run_asaflow("run p.yaml --cell train --rank 3 --world-size 2 --rendezvous 127.0.0.1:1", dir.path);
  EXPECT_EQ(s.exit_code, 2);
  EXPECT_NE(s.err.find("rank 3 of world size 2 (--world-size) is not a place in a group"), std::string::npos)
      << s.err;
}

}  // namespace
