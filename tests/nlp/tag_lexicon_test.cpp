// Brill's tag lexicon (tag_lexicon.hpp) and the tagger's use of it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "asaflow/error.hpp"
#include "asaflow/corpus.hpp"
#include "asaflow/nlp/sealed_file.hpp"
#include "asaflow/nlp/tag_lexicon.hpp"
#include "asaflow/nlp/tagger.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow;
using namespace asaflow::nlp;

namespace {

// A package in the brill layout: lib/tags.js (tag names) and lib/words.js (form: index or
// [indices]), as version 3.1.0 writes them.
void write_package(const fs::path& dir, const std::string& words) {
  fs::create_directories(dir / "lib");
  test::write_file(
      dir / "lib" / "tags.js",
      "/**\n * @type {Array<string>}\n */\nexport const tags = [\n  'NN',\n  'VB',\n  'PRP$',\n  'JJ|IN'\n]\n");
  test::write_file(
      dir / "lib" / "words.js",
      "/**\n * @type {Record<string, number|Array<number>>}\n */\nexport const words = {\n" + words + "}\n");
}

}  // namespace

TEST(TagLexicon, ReadsBrillsLayout) {
  test::TempDir d;
  write_package(d.path,
                "  '%': [0, 3],\n  $: 1,\n  'AC&R\\\\/CCL': 0,\n  'don\\'t': 1,\n  Smith: [0, 1, 2],\n  run: [1, 0],\n"
                "  your: [2, 4],\n  gone: 9\n");
  const auto lexicon = TagLexicon::load_brill(d.path);
  EXPECT_EQ(lexicon.size(), 7U);
  EXPECT_EQ(lexicon.dropped(), 2U);  // indices past the 4 tags: dropped, counted
  EXPECT_EQ(*lexicon.find("your"), (std::vector<std::string>{"PRP$"}));
  EXPECT_EQ(lexicon.find("gone"), nullptr);
  ASSERT_NE(lexicon.find("%"), nullptr);
  EXPECT_EQ(*lexicon.find("%"), (std::vector<std::string>{"NN", "JJ|IN"}));
  EXPECT_EQ(*lexicon.find("$"), (std::vector<std::string>{"VB"}));
  EXPECT_EQ(*lexicon.find("AC&R\\/CCL"), (std::vector<std::string>{"NN"}));  // JavaScript escapes undone
  EXPECT_EQ(*lexicon.find("don't"), (std::vector<std::string>{"VB"}));
  EXPECT_EQ(*lexicon.find("Smith"), (std::vector<std::string>{"NN", "VB", "PRP$"}));
  EXPECT_EQ(*lexicon.find("Run"), (std::vector<std::string>{"VB", "NN"}));  // the lower-case form's
  EXPECT_EQ(lexicon.find("smith"), nullptr);                                // never the other way
  EXPECT_EQ(lexicon.find("walk"), nullptr);
}

TEST(TagLexicon, AMalformedEntryNamesItsFileAndLine) {
  for (const auto& [words, why] : std::vector<std::pair<std::string, std::string>>{
           {"  run: [1, 0]\n  walk: x,\n", "words.js:6: expected a tag index in '  walk: x,'"},
           {"  run: [1, 0\n", "words.js:5: expected ', ' or ']' in '  run: [1, 0'"},
           {"  run 1,\n", "words.js:5: no 'word: tags' entry in '  run 1,'"},
           {"  'run: 1,\n", "words.js:5: an unterminated word in '  'run: 1,'"},
           {"  run: 1, x\n", "words.js:5: unexpected text after the tags in '  run: 1, x'"}}) {
    test::TempDir d;
    write_package(d.path, words);
    try {
      TagLexicon::load_brill(d.path);
      ADD_FAILURE() << words;
    } catch (const InputError& e) {
      EXPECT_EQ(std::string(e.what()), (d.path / "lib" / why).string());
    }
  }
  test::TempDir empty;
  EXPECT_THROW(TagLexicon::load_brill(empty.path), InputError);  // no files
}

// Words in the same context with the same kind of suffix: only the lexicon tells the nouns
// from the verbs, for words training never saw too; the lexicon travels with the model.
TEST(TagLexicon, TheTaggerTagsWordsTrainingNeverSawFromTheLexicon) {
  const int det = upos_id("DET"), noun = upos_id("NOUN"), verb = upos_id("VERB"), punct = upos_id("PUNCT");
  TagLexicon lexicon;
  std::vector<TaggedSentence> train;
  for (int i = 0; i < 40; ++i) {
    const std::string n = "zn" + std::to_string(i) + "q", v = "zv" + std::to_string(i) + "q";
    lexicon.add(n, {"NN"});
    lexicon.add(v, {"VB", "NN"});
    train.push_back({{"so", n, "."}, {det, noun, punct}});
    train.push_back({{"so", v, "."}, {det, verb, punct}});
  }
  lexicon.add("zunseenaq", {"NN"});
  lexicon.add("zunseenbq", {"VB", "NN"});
  PerceptronTagger without;
  without.train(train, 5, 3);
  const auto a = without.tag({"so", "zunseenaq", "."})[1], b = without.tag({"so", "zunseenbq", "."})[1];
  EXPECT_EQ(a, b) << "without the lexicon nothing tells them apart";
  PerceptronTagger with;
  with.set_lexicon(lexicon);
  with.train(train, 5, 3);
  EXPECT_EQ(with.tag({"so", "zunseenaq", "."})[1], noun);
  EXPECT_EQ(with.tag({"so", "zunseenbq", "."})[1], verb);
  EXPECT_FALSE(with.knows("zunseenbq"));
  test::TempDir d;
  with.save(d.path / "m.bin");
  const auto back = PerceptronTagger::load(d.path / "m.bin");
  EXPECT_EQ(back.lexicon().size(), lexicon.size());
  EXPECT_EQ(back.tag({"so", "zunseenbq", "."})[1], verb);
  EXPECT_EQ(back.tag({"so", "zunseenaq", "."})[1], noun);
}

// The fetched package (scripts/fetch-data.sh): its README's count of forms.
TEST(TagLexicon, TheFetchedBrillPackage) {
  const fs::path dir = test::brown_dir().parent_path().parent_path() / "brill-3.1.0/package";
  if (!fs::exists(dir / "lib" / "words.js")) GTEST_SKIP() << "no brill package at " << dir;
  const auto lexicon = TagLexicon::load_brill(dir);
  EXPECT_EQ(lexicon.size(), 89539U);
  EXPECT_EQ(lexicon.dropped(), 1U);  // "your": [51, 119], of 119 tags
  EXPECT_EQ(*lexicon.find("your"), (std::vector<std::string>{"PRP$"}));
  ASSERT_NE(lexicon.find("theatergoers"), nullptr);
  EXPECT_EQ(lexicon.find("theatergoers")->front(), "NNS");
}

// Models written before the lexicon (version 2: context byte, weights, tag dictionary, known
// words) still load, with no lexicon; cached taggers keep working.
TEST(TagLexicon, AModelFromBeforeTheLexiconLoadsWithout) {
  test::TempDir d;
  SealedWriter w({'A', 'S', 'A', 'T', 'A', 'G', '0', '2'});
  const std::uint8_t left = 1;
  w.put(&left, 1);
  const std::uint64_t none = 0, one = 1;
  w.put(&none, 8);  // weights
  w.put(&one, 8);   // tag dictionary: "the" -> DET
  w.put_string("the");
  const std::int32_t det = upos_id("DET");
  w.put(&det, 4);
  w.put(&one, 8);  // known words
  w.put_string("the");
  w.save(d.path / "v2.bin", "tagger model");
  const auto t = PerceptronTagger::load(d.path / "v2.bin");
  EXPECT_EQ(t.context(), TaggerContext::kLeft);
  EXPECT_EQ(t.lexicon().size(), 0U);
  EXPECT_EQ(t.tag({"the"}), std::vector<int>{det});
}
