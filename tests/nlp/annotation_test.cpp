// Brown tag mapping, subword alignment, the bonding rules (the worked example of spec
// section 2.12, exactly), the tagger and the preprocessed file format.
#include <gtest/gtest.h>

#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/nlp/alignment.hpp"
#include "asaflow/nlp/annotator.hpp"
#include "asaflow/nlp/bonding.hpp"
#include "asaflow/nlp/brown_tags.hpp"
#include "asaflow/nlp/preprocessed.hpp"
#include "asaflow/nlp/tagger.hpp"
#include "test_support.hpp"

using namespace asaflow;
using namespace asaflow::nlp;

namespace {

std::vector<std::string> names(const std::vector<int>& ids) {
  std::vector<std::string> out;
  for (int id : ids) out.push_back(kUposNames[id]);
  return out;
}

TEST(BrownTags, BaseTagsAndContextRules) {
  auto map = BrownTagMap::load(AsaTables::default_dir() / "brown_upos.tsv");
  EXPECT_EQ(map.base_of("np$-tl"), "np");
  EXPECT_EQ(map.base_of("NN-TL-HL"), "nn");
  EXPECT_EQ(map.base_of("ppss+md"), "ppss");
  EXPECT_EQ(map.base_of("md*"), "md");
  EXPECT_EQ(map.base_of("pp$"), "pp$");
  EXPECT_EQ(map.base_of("fw-nn"), "nn");
  // "The jury had been charged ..." / "He had a dog" / "did you see" / "did the work"
  EXPECT_EQ(names(map.map_sentence({"at", "nn", "hvd", "ben", "vbn"})),
            (std::vector<std::string>{"DET", "NOUN", "AUX", "AUX", "VERB"}));
  EXPECT_EQ(names(map.map_sentence({"pps", "hvd", "at", "nn"})),
            (std::vector<std::string>{"PRON", "VERB", "DET", "NOUN"}));
  EXPECT_EQ(names(map.map_sentence({"dod", "ppss", "vb"})), (std::vector<std::string>{"AUX", "PRON", "VERB"}));
  EXPECT_EQ(names(map.map_sentence({"pps", "dod", "at", "nn"})),
            (std::vector<std::string>{"PRON", "VERB", "DET", "NOUN"}));
  EXPECT_EQ(names(map.map_sentence({"to", "vb", "in", "np", "cs", "uh", ".", "cd", "*"})),
            (std::vector<std::string>{"PART", "VERB", "ADP", "PROPN", "SCONJ", "INTJ", "PUNCT", "NUM", "PART"}));
  EXPECT_EQ(names(map.map_sentence({"wdt", "nn"})), (std::vector<std::string>{"DET", "NOUN"}));
  EXPECT_EQ(names(map.map_sentence({",", "wdt", "hvd"})), (std::vector<std::string>{"PUNCT", "PRON", "VERB"}));
  std::size_t unknown = 0;
  EXPECT_EQ(names(map.map_sentence({"zzz"}, &unknown)), std::vector<std::string>{"X"});
  EXPECT_EQ(unknown, 1u);
}

// The UD English table (issue 14, point 8): words in names are PROPN as the Penn Treebank's
// NNP, days of the week too, and a demonstrative without a nominal after it is PRON.
TEST(BrownTags, UdEnglishTableFollowsUdEnglishForNamesAndDemonstratives) {
  const auto ud = BrownTagMap::load(AsaTables::default_dir() / "brown_upos_ud_english.tsv");
  const auto spacy = BrownTagMap::load(AsaTables::default_dir() / "brown_upos.tsv");
  using S = std::vector<std::string>;
  const S words = {"The", "Fulton", "County", "Grand", "Jury", "said", "Friday", "that", "this", "plan", "is", "good"};
  const S tags = {"at", "np-tl", "nn-tl", "jj-tl", "nn-tl", "vbd", "nr", "cs", "dt", "nn", "bez", "jj"};
  EXPECT_EQ(names(ud.map_sentence(tags, words)),
            (S{"DET", "PROPN", "PROPN", "PROPN", "PROPN", "VERB", "PROPN", "SCONJ", "DET", "NOUN", "AUX", "ADJ"}));
  // The default table, as spaCy's tagger: the name's common words keep their class.
  EXPECT_EQ(names(spacy.map_sentence(tags, words)),
            (S{"DET", "PROPN", "NOUN", "ADJ", "NOUN", "VERB", "NOUN", "SCONJ", "DET", "NOUN", "AUX", "ADJ"}));
  // "United/vbn-tl States/nns-tl"; a possessive or headline suffix after "-tl" still counts.
  EXPECT_EQ(names(ud.map_sentence({"at", "vbn-tl", "nns-tl", "nn$-tl", "nn-tl-hl"},
                                  {"the", "United", "States", "Army's", "Band"})),
            (S{"DET", "PROPN", "PROPN", "PROPN", "PROPN"}));
  // Lower-case "today", and a capitalised first word, are not names.
  EXPECT_EQ(names(ud.map_sentence({"nr", "ppss", "vb", "nr", "."}, {"Today", "we", "go", "home", "."})),
            (S{"NOUN", "PRON", "VERB", "NOUN", "PUNCT"}));
  // Demonstratives alone are PRON; before a nominal (of any kind) DET; "each" alone stays DET.
  EXPECT_EQ(names(ud.map_sentence({"dt", "bez", "dts", "in", "dts", "jjt", "nns", "dt", "vbd"},
                                  {"That", "is", "those", "of", "these", "best", "ones", "each", "came"})),
            (S{"PRON", "AUX", "PRON", "ADP", "DET", "ADJ", "NOUN", "DET", "VERB"}));
  EXPECT_EQ(names(ud.map_sentence({"vb", "dt", "nr", "dt", "."}, {"Do", "this", "Sunday", "this", "."})),
            (S{"VERB", "DET", "PROPN", "PRON", "PUNCT"}));
  // Brown keeps "that's" whole (dt+bez): the demonstrative has a verb, not a nominal, after it.
  EXPECT_EQ(
      names(ud.map_sentence({"dt+bez", "jj", "dt+md", "nn", "dt"}, {"That's", "good", "this'll", "work", "each"})),
      (S{"PRON", "ADJ", "PRON", "NOUN", "DET"}));
  EXPECT_EQ(names(spacy.map_sentence({"dt+bez", "jj"}, {"That's", "good"})), (S{"DET", "ADJ"}));
  // Without the words the word-reading rules keep the table's tag; "-tl" needs only the tag.
  EXPECT_EQ(names(ud.map_sentence({"dt", "bez", "nn-tl"})), (S{"DET", "AUX", "PROPN"}));
  EXPECT_THROW(ud.map_sentence({"dt", "bez"}, {"that"}), InternalError);
}

TEST(BrownTags, MalformedTableNamesTheLine) {
  test::TempDir dir;
  auto error_of = [&](const std::string& name, const std::string& text) -> std::string {
    test::write_file(dir.path / name, text);
    try {
      BrownTagMap::load(dir.path / name);
    } catch (const InputError& e) {
      return e.what();
    }
    return "(loaded)";
  };
  EXPECT_EQ(error_of("t.tsv", "# header\nnn\tNOUN\t-\nvb\tVERBB\t-\n"),
            (dir.path / "t.tsv").string() + ":3: unknown UPOS tag 'VERBB'");
  EXPECT_EQ(error_of("r.tsv", "nn\tNOUN\tpropn-in-name\ndt\tDET\tpron-if-alone\n"),
            (dir.path / "r.tsv").string() + ":2: unknown rule 'pron-if-alone'");
}

TEST(Alignment, ReferenceRules) {
  const std::string text = " The cat's  naïve";
  auto map = byte_to_word(text, {"The", "cat", "'s", "NAÏVE", "missing"});
  // "The" 1-3, "cat" 5-7, "'s" 8-9, "naïve" (case-insensitive ASCII: only the ASCII letters fold) not found.
  EXPECT_EQ(map[1], 0);
  EXPECT_EQ(map[0], -1);
  EXPECT_EQ(map[8], 2);
  EXPECT_EQ(word_of_token(map, 0, 4), 0);    // " The": start is a space, midpoint is in "The"
  EXPECT_EQ(word_of_token(map, 4, 8), 1);    // " cat"
  EXPECT_EQ(word_of_token(map, 10, 11), 2);  // a space right after "'s": look back
  EXPECT_EQ(word_of_token(map, 5, 5), -1);   // empty span
  auto upper = byte_to_word("HELLO there", {"hello"});
  EXPECT_EQ(upper[0], 0);  // case-insensitive fallback
}

// Spec 2.12: "The company said it hired John and he ate bread ." with its tags.
TEST(Bonding, WorkedExampleOfSpec212) {
  static auto wn = WordNet::load(WordNet::default_dir());
  auto tables = std::make_shared<AsaTables>(AsaTables::load(AsaTables::default_dir()));
  Annotator annotator(wn, tables);
  const std::vector<std::string> words = {"The", "company", "said", "it",    "hired", "John",
                                          "and", "he",      "ate",  "bread", "."};
  const std::vector<std::string> tags = {"DET",   "NOUN", "VERB", "PRON", "VERB", "PROPN",
                                         "CCONJ", "PRON", "VERB", "NOUN", "PUNCT"};
  std::vector<int> pos;
  std::vector<FeatureSet> feat, req;
  for (std::size_t i = 0; i < words.size(); ++i) {
    pos.push_back(upos_id(tags[i]));
    const auto& a = annotator.annotate(words[i], pos.back());
    feat.push_back(a.features);
    req.push_back(a.requirements);
  }
  const std::vector<std::string> expected = {"11000100011", "11111111111", "01111111111", "01111101111",
                                             "01111111111", "11111111111", "01101110111", "00111001101",
                                             "01111111111", "11111111111", "11111111111"};
  Bonding b = bonding("full", pos, feat, req, *tables);
  std::size_t blocked = 0;
  for (std::size_t i = 0; i < words.size(); ++i) {
    std::string row;
    for (std::size_t j = 0; j < words.size(); ++j) {
      row += b.allowed(i, j) ? '1' : '0';
      if (i != j && !b.allowed(i, j)) ++blocked;
    }
    EXPECT_EQ(row, expected[i]) << "row " << words[i];
  }
  EXPECT_EQ(blocked, 19u);  // 19/110 = 17.3%
  // Non-zero compat: said->he, hired->he, ate->he (0.999999) and he->he (0.9999995).
  for (std::size_t i = 0; i < words.size(); ++i) {
    for (std::size_t j = 0; j < words.size(); ++j) {
      const bool nonzero = (j == 7 && (i == 2 || i == 4 || i == 8 || i == 7));
      if (nonzero)
        EXPECT_FLOAT_EQ(b.score(i, j), i == 7 ? 2.0f / (2.0f + 1e-6f) : 1.0f / (1.0f + 1e-6f));
      else
        EXPECT_EQ(b.score(i, j), 0.0f) << words[i] << "->" << words[j];
    }
  }
  // pos_only is the POS matrix itself (plus the diagonal); none allows everything.
  Bonding p = bonding("pos_only", pos, feat, req, *tables);
  for (std::size_t i = 0; i < words.size(); ++i) {
    for (std::size_t j = 0; j < words.size(); ++j) {
      EXPECT_EQ(p.allowed(i, j), i == j || tables->pos_matrix[pos[i]][pos[j]]);
      EXPECT_EQ(p.score(i, j), 0.0f);
    }
  }
  Bonding none = bonding("none", pos, feat, req, *tables);
  for (auto m : none.mask) EXPECT_EQ(m, 1);
  Bonding fo = bonding("features_only", pos, feat, req, *tables);
  for (auto m : fo.mask) EXPECT_EQ(m, 1);
  EXPECT_FLOAT_EQ(fo.score(2, 7), 1.0f / (1.0f + 1e-6f));
  EXPECT_THROW(bonding("fulll", pos, feat, req, *tables), ConfigError);
}

TEST(Tagger, LearnsAndRoundTrips) {
  std::vector<TaggedSentence> train;
  const int det = upos_id("DET"), noun = upos_id("NOUN"), verb = upos_id("VERB"), punct = upos_id("PUNCT");
  for (int i = 0; i < 50; ++i) {
    train.push_back({{"the", "dog", "runs", "."}, {det, noun, verb, punct}});
    train.push_back({{"a", "cat", "sleeps", "."}, {det, noun, verb, punct}});
    train.push_back({{"the", "runs", "end", "."}, {det, noun, verb, punct}});
  }
  PerceptronTagger t;
  int iterations = 0;
  t.train(train, 5, 7, [&](int) { ++iterations; });
  EXPECT_EQ(iterations, 5);
  EXPECT_EQ(t.tag({"a", "dog", "sleeps", "."}), (std::vector<int>{det, noun, verb, punct}));
  EXPECT_EQ(t.tag({"the", "runs", "end", "."})[1], noun);  // context decides
  test::TempDir dir;
  t.save(dir.path / "m.bin");
  auto back = PerceptronTagger::load(dir.path / "m.bin");
  EXPECT_EQ(back.tag({"a", "cat", "runs", "."}), t.tag({"a", "cat", "runs", "."}));
  EXPECT_TRUE(back.knows("dog"));
  std::string bytes = test::read_file(dir.path / "m.bin");
  bytes[20] ^= 1;
  test::write_file(dir.path / "bad.bin", bytes);
  try {
    PerceptronTagger::load(dir.path / "bad.bin");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "corrupt tagger model '" + (dir.path / "bad.bin").string() + "': checksum mismatch");
  }
}

TEST(Preprocessed, RoundTripAndCorruption) {
  PreprocessedSplit s;
  s.max_length = 256;
  s.examples.push_back(Example{{1, 2, 3}, {0, 1, 16}, {5, 0, 0}, {0, 2, 0}, {0, 1, -1}});
  s.examples.push_back(Example{{7}, {14}, {0}, {0}, {0}});
  test::TempDir dir;
  s.save(dir.path / "x.bin");
  auto back = PreprocessedSplit::load(dir.path / "x.bin");
  ASSERT_EQ(back.examples.size(), 2u);
  EXPECT_EQ(back.max_length, 256u);
  EXPECT_EQ(back.examples[0].ids, (std::vector<std::int32_t>{1, 2, 3}));
  EXPECT_EQ(back.examples[0].word_index[2], -1);
  EXPECT_EQ(back.examples[0].features[0], 5);
  EXPECT_EQ(back.token_count(), 4u);
  std::string bytes = test::read_file(dir.path / "x.bin");
  bytes[40] ^= 0x10;
  test::write_file(dir.path / "y.bin", bytes);
  try {
    PreprocessedSplit::load(dir.path / "y.bin");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "corrupt preprocessed file '" + (dir.path / "y.bin").string() + "': checksum mismatch");
  }
  test::write_file(dir.path / "z.bin", "ASAPREP1 short");
  EXPECT_THROW(PreprocessedSplit::load(dir.path / "z.bin"), InputError);
}

}  // namespace
