// The committed pipelines (pipelines/*.yaml) are what users and the device script run, and
// nothing else runs most of them in the suite (a study takes an hour or a GPU): each must at
// least validate (its parameters, paths and splits) against the plugins of this build, and
// the GPU study must have the design the issue asks for.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow::test;

namespace {

std::vector<fs::path> committed_pipelines() {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(source_dir() / "pipelines"))
    if (entry.path().extension() == ".yaml") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(CommittedPipelines, EveryOneValidates) {
  if (!fs::exists(brown_dir()))
    GTEST_SKIP() << "Brown corpus not fetched (scripts/fetch-data.sh): the pipelines read it";
  TempDir dir;  // replicate-wikitext2.yaml reads the WikiText-2 files a user brings
  for (const char* split : {"train", "valid", "test"})
    write_file(dir.path / "wikitext" / (std::string("wiki.") + split + ".raw"), " = Heading = \n");
  const auto files = committed_pipelines();
  ASSERT_GE(files.size(), 10u);
  for (const auto& file : files) {
    const auto r = run_asaflow("validate '" + file.string() + "'", source_dir(),
                               "WIKITEXT2_DIR='" + (dir.path / "wikitext").string() + "'");
    EXPECT_EQ(r.exit_code, 0) << file << "\n" << r.err;
    EXPECT_NE(r.out.find("ok: pipeline '"), std::string::npos) << file << "\n" << r.out;
  }
}

// Issue 17, point 3: Brown with GPT-2 BPE, the CPU study's five arms, at least 5 seeds each,
// the causal arm's annotations causal with BPE pieces, H6 of every baseline seed trained and
// at step 0, and every arm's verdict through the claims stage with the floors.
TEST(CommittedPipelines, GpuStudyHasTheStudysDesign) {
  if (!fs::exists(brown_dir()))
    GTEST_SKIP() << "Brown corpus not fetched (scripts/fetch-data.sh): the pipeline reads it";
  const auto r = run_asaflow("dag pipelines/gpu-study.yaml", source_dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = lines_of(r.out);
  const auto count = [&](const std::string& prefix) {
    return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
  };
  for (const char* arm : {"none[", "full[", "pos_only[", "pos_embed[", "causal["})
    EXPECT_GE(count(arm), 5) << arm << "\n" << r.out;
  EXPECT_EQ(count("h6[checkpoint=best,"), count("none["));
  EXPECT_EQ(count("h6[checkpoint=init,"), count("none["));
  EXPECT_EQ(count("prep_causal  (stage/preprocess)  <- brown, tagger_left"), 1) << r.out;
  EXPECT_EQ(count("causal[seed=1]  (stage/train)  <- prep_causal"), 1) << r.out;
  const auto claims = std::find_if(lines.begin(), lines.end(),
                                   [](const std::string& l) { return l.rfind("claims  (stage/claims)  <- ", 0) == 0; });
  ASSERT_NE(claims, lines.end()) << r.out;
  for (const char* need :
       {"none[seed=5]", "full[seed=5]", "pos_only[seed=5]", "pos_embed[seed=5]", "causal[seed=5]", "floors",
        "h6[checkpoint=init,seed=5]", "floors_test", "test_none[seed=5]", "test_full[seed=5]", "test_pos_only[seed=5]",
        "test_pos_embed[seed=5]", "test_causal[seed=5]"})
    EXPECT_NE(claims->find(need), std::string::npos) << need << "\n" << *claims;
  // Every model's held-out PPL, on the preprocessing it was trained on; the verdicts read it.
  for (const char* arm : {"none", "full", "pos_only", "pos_embed"})
    EXPECT_EQ(count(std::string("test_") + arm + "[seed=1]  (stage/test_ppl)  <- " + arm + "[seed=1], prep"), 1)
        << arm << "\n"
        << r.out;
  EXPECT_EQ(count("test_causal[seed=1]  (stage/test_ppl)  <- causal[seed=1], prep_causal"), 1) << r.out;
  const std::string yaml = read_file(source_dir() / "pipelines/gpu-study.yaml");
  EXPECT_NE(yaml.find("tags: tagger, pieces: prefix"), std::string::npos);
  EXPECT_NE(yaml.find("tagger_left: {uses: train_tagger, needs: [brown], params: {context: left}}"), std::string::npos);
  EXPECT_NE(yaml.find("params: {split: test}"), std::string::npos);
  EXPECT_NE(
      yaml.find("floors_test: {uses: ngram_floors, needs: [prep], params: {split: test, batch_size: \"${batch}\", "
                "eval_batches: \"${test_batches}\"}}"),
      std::string::npos);
  EXPECT_NE(yaml.find("test_batches: 0 "), std::string::npos);  // the whole test split
}

}  // namespace
