#include <gtest/gtest.h>

#include <cmath>

#include "asaflow/error.hpp"
#include "corpus_stats.hpp"
#include "sentence_lengths.hpp"

using namespace asaflow;

namespace {

Sentence words(std::initializer_list<const char*> forms) {
  Sentence s;
  for (const char* f : forms) s.push_back(Token{f, "", "", -1});
  return s;
}

Corpus small_corpus() {
  Corpus c;
  c.documents.push_back({"d1", "", "", {words({"The", "cat", "sat", "."}), words({"the", "cat"})}});
  c.documents.push_back({"d2", "", "", {words({"A", "dog", "."})}});
  return c;
}

}  // namespace

TEST(CorpusStats, CountsDocumentsSentencesTokensTypes) {
  ResultSet r;
  plugins::add_corpus_stats(small_corpus(), false, "words", r);
  EXPECT_EQ(r.find("documents")->value, 2);
  EXPECT_EQ(r.find("sentences")->value, 3);
  EXPECT_EQ(r.find("tokens")->value, 9);
  EXPECT_EQ(r.find("types")->value, 7);  // The the cat sat . A dog
  EXPECT_DOUBLE_EQ(r.find("type_token_ratio")->value, 7.0 / 9.0);
  EXPECT_EQ(r.find("tokens")->labels.at("dataset"), "words");
  ResultSet lower;
  plugins::add_corpus_stats(small_corpus(), true, "words", lower);
  EXPECT_EQ(lower.find("types")->value, 6);
}

TEST(SentenceLengths, MeanSdMedianMax) {
  ResultSet r;
  plugins::add_sentence_lengths(small_corpus(), 1, "words", r);
  const MetricRecord* mean = r.find("sentence_length_mean");
  EXPECT_DOUBLE_EQ(mean->value, 3.0);
  EXPECT_EQ(mean->n, 3);
  EXPECT_DOUBLE_EQ(*mean->sd, 1.0);  // lengths 4, 2, 3
  EXPECT_EQ(r.find("sentence_length_median")->value, 3.0);
  EXPECT_EQ(r.find("sentence_length_max")->value, 4.0);
  EXPECT_THROW(plugins::add_sentence_lengths(small_corpus(), 10, "words", r), InputError);
}

TEST(ResultSet, SaveLoadRoundTrip) {
  ResultSet r;
  auto& rec = r.add("val_ppl", 26.33, "");
  rec.sd = 0.15;
  rec.n = 3;
  rec.labels = {{"mode", "full"}};
  const std::string file = ::testing::TempDir() + "/results_roundtrip.json";
  r.save(file);
  ResultSet back = ResultSet::load(file);
  ASSERT_EQ(back.records().size(), 1u);
  EXPECT_DOUBLE_EQ(back.records()[0].value, 26.33);
  EXPECT_DOUBLE_EQ(*back.records()[0].sd, 0.15);
  EXPECT_EQ(back.records()[0].n, 3);
  EXPECT_EQ(back.find("val_ppl", {{"mode", "full"}})->value, 26.33);
  EXPECT_EQ(back.find("val_ppl", {{"mode", "none"}}), nullptr);
}
