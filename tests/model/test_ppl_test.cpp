// stage/test_ppl through the asaflow executable: the held-out PPL of each train cell, checked
// against the trainer's own evaluation where the test file is a copy of the validation file,
// scored on the targets the test floors score, and read by stage/claims with split: test; a
// preprocess stage with other tokens than the model's is refused.
#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "mode_fixtures.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

std::string pipeline(const fs::path& wiki) {
  const std::string train =
      "size: tiny, batch_size: 2, max_steps: 20, eval_every: 10, log_every: 5, checkpoint_every: 0, device: cpu";
  const std::string test = "eval_batches: -1";
  return small_data_stages(wiki) +
         "  base: {uses: train, needs: [prep], matrix: {seed: [1, 2]}, params: {mode: none, " + train +
         "}}\n"
         "  asa: {uses: train, needs: [prep], matrix: {seed: [1, 2]}, params: {mode: full, " +
         train +
         "}}\n"
         "  test_base: {uses: test_ppl, needs: [base, prep], matrix: {seed: [1, 2]}, params: {" +
         test +
         "}}\n"
         "  test_asa: {uses: test_ppl, needs: [asa, prep], matrix: {seed: [1, 2]}, params: {" +
         test +
         "}}\n"
         "  floors_test: {uses: ngram_floors, needs: [prep], params: {split: test}}\n"
         "  claims: {uses: claims, needs: [base, asa, test_base, test_asa, floors_test], params: {split: test}}\n"
         "  prep_other: {uses: preprocess, needs: [wiki, tagger], params: {tokenizer: word, unit: document, "
         "max_length: 4}}\n"
         "  bad: {uses: test_ppl, needs: [base, prep_other], matrix: {seed: [1]}}\n";
}

// The value of `metric` in a cell's record (`asaflow show --json`), and its labels.
std::pair<double, nlohmann::json> metric(const fs::path& dir, const std::string& pipeline, const std::string& cell,
                                         const std::string& name) {
  const auto r = run_asaflow("show " + pipeline + " '" + cell + "' --json", dir);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const auto shown = nlohmann::json::parse(r.out);
  for (const auto& m : shown.at("metrics"))
    if (m.at("metric") == name) return {m.at("value").get<double>(), m.value("labels", nlohmann::json::object())};
  ADD_FAILURE() << cell << " has no " << name << "\n" << r.out;
  return {NAN, {}};
}

}  // namespace

TEST(TestPplStage, HeldOutTestPplOfEachTrainCellAndTheClaimsThatReadIt) {
  TempDir d;
  const fs::path fixture = source_dir() / "tests/nlp/data/wikitext";
  // Where the test file is a copy of the validation file, the held-out PPL of the train
  // cell's eval_batches (-1) must be the trainer's own final validation PPL.
  fs::create_directories(d.path / "same");
  for (const char* f : {"wiki.train.raw", "wiki.valid.raw"}) fs::copy_file(fixture / f, d.path / "same" / f);
  fs::copy_file(fixture / "wiki.valid.raw", d.path / "same" / "wiki.test.raw");
  write_file(d.path / "same.yaml", pipeline(d.path / "same"));
  write_file(d.path / "p.yaml", pipeline(fixture));
  for (const char* p : {"same.yaml", "p.yaml"}) {
    const auto r = run_asaflow(std::string("run ") + p + " claims --quiet", d.path);
    ASSERT_EQ(r.exit_code, 0) << p << "\n" << r.err;
  }
  for (const char* seed : {"1", "2"}) {
    const std::string cell = std::string("base[seed=") + seed + "]";
    const double val = metric(d.path, "same.yaml", cell, "final_val_ppl").first;
    const auto [test, labels] = metric(d.path, "same.yaml", std::string("test_base[seed=") + seed + "]", "test_ppl");
    EXPECT_NEAR(test, val, 1e-6 * val) << seed;
    EXPECT_EQ(labels.value("train_cell", ""), cell);
    EXPECT_EQ(labels.value("split", ""), "test");
  }
  // The real test split: another text, every target of it scored (-1: the train cell's
  // eval_batches, 0 here), the same targets as the test floors.
  const double val = metric(d.path, "p.yaml", "asa[seed=1]", "final_val_ppl").first;
  const double test = metric(d.path, "p.yaml", "test_asa[seed=1]", "test_ppl").first;
  EXPECT_TRUE(std::isfinite(test) && test > 1 && std::fabs(test - val) > 1e-3 * val) << test << " vs " << val;
  const double tokens = metric(d.path, "p.yaml", "test_asa[seed=1]", "test_tokens").first;
  EXPECT_GT(tokens, 0);
  EXPECT_EQ(tokens, metric(d.path, "p.yaml", "floors_test", "floor_tokens").first);

  // stage/claims decided on them: its gate compared the test floors with the test PPL on the
  // same targets (whatever it concluded from so little training).
  const auto shown = run_asaflow("show p.yaml claims --json", d.path);
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const fs::path out = nlohmann::json::parse(shown.out).at("output_dir").get<std::string>();
  const std::string text = read_file(out / "results.json");
  EXPECT_NE(text.find("ASA reaches a lower held-out test PPL than the baseline"), std::string::npos) << text;
  EXPECT_NE(text.find("on the same " + std::to_string(std::int64_t(tokens)) + " tokens"), std::string::npos) << text;
  EXPECT_NE(text.find("Test PPL (held out, final weights)"), std::string::npos) << text;

  // The floors' own table names the split it scored.
  const auto floors = run_asaflow("show p.yaml floors_test --json", d.path);
  ASSERT_EQ(floors.exit_code, 0) << floors.err;
  const std::string floors_text =
      read_file(fs::path(nlohmann::json::parse(floors.out).at("output_dir").get<std::string>()) / "results.json");
  EXPECT_NE(floors_text.find("\"Test PPL\""), std::string::npos) << floors_text;
  EXPECT_EQ(floors_text.find("\"Val PPL\""), std::string::npos) << floors_text;

  // Other tokens than the model's (examples cut at 4 tokens): refused, naming both counts.
  const auto bad = run_asaflow("run p.yaml bad --quiet", d.path);
  EXPECT_NE(bad.exit_code, 0);
  const double own = metric(d.path, "p.yaml", "base[seed=1]", "val_tokens").first;
  EXPECT_NE(bad.err.find("validation targets, the model was evaluated on " + std::to_string(std::int64_t(own)) +
                         ": test_ppl needs the text and tokenizer the model was trained on"),
            std::string::npos)
      << bad.err;
}
