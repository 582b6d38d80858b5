// Modern text (issue 14, point 8): the word tokeniser and the tagger on characters Brown
// never shows, and a Brown-trained tagger scored on UD English treebanks.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "asaflow/corpus.hpp"
#include "asaflow/results.hpp"
#include "asaflow/nlp/annotator.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/nlp/sentence_split.hpp"
#include "asaflow/nlp/wordnet.hpp"
#include "asaflow/nlp/tagger.hpp"
#include "asaflow/nlp/token_shape.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow;
using namespace asaflow::nlp;

namespace {

using Words = std::vector<std::string>;

TEST(ModernText, TokenisesTimesDatesUrlsEmailsEmojiAndUnicodePunctuation) {
  EXPECT_EQ(split_plain_text("Meet me at 5:30 on 12/25, about 1,000 of us."),
            (std::vector<Words>{{"Meet", "me", "at", "5:30", "on", "12/25", ",", "about", "1,000", "of", "us", "."}}));
  EXPECT_EQ(split_plain_text("See https://example.org/a?b=1. Mail me@example.com :) now"),
            (std::vector<Words>{{"See", "https://example.org/a?b=1", "."}, {"Mail", "me@example.com", ":)", "now"}}));
  // “ ” — and emoji stand alone; ’ inside a word stays, as ' does.
  EXPECT_EQ(split_plain_text("\xE2\x80\x9CGreat\xE2\x80\x9D \xE2\x80\x94 don\xE2\x80\x99t stop\xF0\x9F\x98\x80!"),
            (std::vector<Words>{{"\xE2\x80\x9C", "Great", "\xE2\x80\x9D", "\xE2\x80\x94", "don\xE2\x80\x99t", "stop",
                                 "\xF0\x9F\x98\x80", "!"}}));
  // A colon or slash not between digits is still punctuation.
  EXPECT_EQ(split_plain_text("Note: yes/no"), (std::vector<Words>{{"Note", ":", "yes", "/", "no"}}));
}

TEST(ModernText, TheFormDecidesPunctuationSymbolsNumbersUrlsAndContractionPieces) {
  auto tag = [](const std::string& form, const std::string& previous = "") {
    const auto t = shape_upos(form, previous);
    return t ? std::string(kUposNames[*t]) : std::string("-");
  };
  for (const char* p : {"\"", "-", "--", "...", "\xE2\x80\x9C", "\xE2\x80\x94", "\xE2\x80\xA6", "(", "@-@", "@,@"})
    EXPECT_EQ(tag(p), "PUNCT") << p;
  for (const char* s :
       {"$", "%", "+", "=", "<", "#", "\xE2\x82\xAC", ":)", "<3", "\xF0\x9F\x98\x80", "\xE2\x9D\xA4\xEF\xB8\x8F"})
    EXPECT_EQ(tag(s), "SYM") << s;
  for (const char* n : {"5:30", "12/25", "1,000", "3.5", "2010-2011", "-4", "42"}) EXPECT_EQ(tag(n), "NUM") << n;
  for (const char* x : {"https://example.org/a", "www.example.com", "me@example.com", "first.last@mail.co.uk"})
    EXPECT_EQ(tag(x), "X") << x;
  EXPECT_EQ(tag("n't"), "PART");
  EXPECT_EQ(tag("n\xE2\x80\x99t"), "PART");
  EXPECT_EQ(tag("'m"), "AUX");
  EXPECT_EQ(tag("'ll"), "AUX");
  EXPECT_EQ(tag("'s", "it"), "AUX");       // it's
  EXPECT_EQ(tag("'s", "There"), "AUX");    // There's
  EXPECT_EQ(tag("'s", "Google"), "PART");  // possessive
  EXPECT_EQ(tag("'s", "let"), "PRON");     // let's
  // Words, and what only context decides, are left to the tagger.
  for (const char* w : {"dog", "Apple", "&", "1990s", "5:", "a@b", "U.S."}) EXPECT_EQ(tag(w), "-") << w;
}

TEST(ModernText, ATaggerNeverGuessesNounForWhatTheFormDecides) {
  // A tagger that has only seen words: before the shape rules it tagged everything new
  // from its nearest neighbour (the issue saw '"' as NOUN, '-' as ADP).
  std::vector<TaggedSentence> train;
  const int det = upos_id("DET"), noun = upos_id("NOUN"), verb = upos_id("VERB");
  for (int i = 0; i < 30; ++i) train.push_back({{"the", "dog", "runs"}, {det, noun, verb}});
  for (auto context : {TaggerContext::kBoth, TaggerContext::kLeft}) {
    PerceptronTagger t;
    t.train(train, 3, 1, {}, context);
    const Words words = {"the", "\"", "dog", "\"", "runs", "-", "5:30", "https://x.org", "\xF0\x9F\x98\x80"};
    std::vector<std::string> names;
    for (int id : t.tag(words)) names.push_back(kUposNames[id]);
    EXPECT_EQ(names, (Words{"DET", "PUNCT", "NOUN", "PUNCT", "VERB", "PUNCT", "NUM", "X", "SYM"}));
    if (context == TaggerContext::kLeft) {
      EXPECT_EQ(kUposNames[t.tag_prefix({"the"}, {det}, "\"")], std::string("PUNCT"));
    }
  }
  // And what the form decides carries no WordNet feature or requirement (a NOUN would
  // have had CONCRETE at least).
  Annotator annotator(WordNet::load(WordNet::default_dir()),
                      std::make_shared<AsaTables>(AsaTables::load(AsaTables::default_dir())));
  for (const char* form : {"\"", "5:30", "https://x.org", "\xF0\x9F\x98\x80"}) {
    const auto& a = annotator.annotate(form, *shape_upos(form, ""));
    EXPECT_EQ(a.features, 0u) << form;
    EXPECT_EQ(a.requirements, 0u) << form;
  }
  EXPECT_NE(annotator.annotate("\"", upos_id("NOUN")).features, 0u);  // what the old tagging gave
}

// The Brown-trained tagger on UD English EWT and PUD (test sets: nothing is fitted to
// them), without and (when the brill package was fetched) with Brill's tag lexicon, Brown's
// tags mapped by the default table and by the UD English one. The
// counts checked are the treebanks' published ones (../shared/external's SOURCES.md); the
// accuracies are printed for the README, not asserted.
TEST(ModernText, BrownTaggerOnUniversalDependencies) {
  const fs::path ewt = test::external_dir() / "ud_en_ewt_test.conllu",
                 pud = test::external_dir() / "ud_en_pud_test.conllu";
  if (!fs::exists(ewt) || !fs::exists(pud))
    GTEST_SKIP() << "no UD treebanks in " << test::external_dir() << " (shared/external is not on this machine)";
  if (!fs::exists(test::brown_dir() / "cats.txt")) GTEST_SKIP() << "no Brown corpus at " << test::brown_dir();
  const fs::path brill = test::brown_dir().parent_path().parent_path() / "brill-3.1.0/package";
  // Each tagger twice: Brown's tags mapped by the default table and by the UD English one.
  const std::string root = test::brown_dir().string(),
                    ud_table = (AsaTables::default_dir() / "brown_upos_ud_english.tsv").string();
  std::string yaml = "stages:\n  brown: {uses: dataset/brown, params: {root: '" + root +
                     "'}}\n  brown_ud: {uses: dataset/brown, params: {root: '" + root + "', mapping: '" + ud_table +
                     "'}}\n  tagger: {uses: train_tagger, needs: [brown]}\n";
  std::vector<std::string> taggers = {"tagger"};
  if (fs::exists(brill)) {
    taggers.push_back("lexicon");
    yaml += "  lexicon: {uses: train_tagger, needs: [brown], params: {lexicon: '" + brill.string() + "'}}\n";
  } else {
    std::printf("[ skipped  ] the taggers with Brill's lexicon: no brill package at %s\n", brill.c_str());
  }
  taggers.push_back("tagger_ud");
  yaml += "  tagger_ud: {uses: train_tagger, needs: [brown_ud]}\n";
  if (fs::exists(brill)) {
    taggers.push_back("lexicon_ud");
    yaml += "  lexicon_ud: {uses: train_tagger, needs: [brown_ud], params: {lexicon: '" + brill.string() + "'}}\n";
  }
  std::string needs;
  for (const auto& tagger : taggers) needs += (needs.empty() ? "" : ", ") + tagger;
  const std::vector<std::tuple<std::string, fs::path, int, int>> cells = {{"ewt", ewt, 25094, 708},
                                                                          {"pud", pud, 21180, 258}};
  for (const auto& [cell, gold, total, in_multiword] : cells)
    yaml += "  " + cell + ": {uses: evaluate_tagger, needs: [" + needs + "], params: {gold: ['" + gold.string() +
            "'], name: ud_" + cell + "_test}}\n";
  test::TempDir d;
  test::write_file(d.path / "p.yaml", yaml);
  auto r = test::run_asaflow("run p.yaml --quiet", d.path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const auto& [cell, gold, total, in_multiword] : cells) {
    const auto shown = nlohmann::json::parse(test::run_asaflow("show p.yaml " + cell + " --json", d.path).out);
    const ResultSet results = ResultSet::load(fs::path(shown["output_dir"].get<std::string>()) / "results.json");
    for (const auto& tagger : taggers) {
      // One tagger's records carry no tagger label; several taggers' carry their stage.
      std::map<std::string, std::pair<double, std::int64_t>> acc;
      for (const auto& m : results.records()) {
        const auto label = m.labels.find("tagger");
        if (m.metric == "tagger_gold_accuracy" && (label == m.labels.end() || label->second == tagger))
          acc[m.labels.at("words")] = {m.value, m.n};
      }
      EXPECT_EQ(acc["all"].second, total) << cell;
      EXPECT_EQ(acc["in_multiword"].second, in_multiword) << cell;
      EXPECT_EQ(acc["outside_multiword"].second, total - in_multiword) << cell;
      // The headline is a weighted part of the whole.
      EXPECT_NEAR(acc["all"].first * total,
                  acc["outside_multiword"].first * (total - in_multiword) + acc["in_multiword"].first * in_multiword,
                  1e-6 * total);
      std::printf(
          "[ measured ] %s, %s: %.2f%% of %d words outside multiword tokens, %.2f%% of the %d inside, %.2f%% of all\n",
          cell.c_str(), tagger.c_str(), acc["outside_multiword"].first, total - in_multiword, acc["in_multiword"].first,
          in_multiword, acc["all"].first);
    }
    for (const auto& t : results.tables()) {
      if (t.id != "tagger_comparison") continue;
      for (const auto& row : t.rows)
        std::printf(
            "[ measured ] %s, %s - tagger: %s points, 95%% CI %s, %s (%s words right only with it, %s only "
            "without)\n",
            cell.c_str(), row[0].c_str(), row[2].c_str(), row[3].c_str(), row[4].c_str(), row[5].c_str(),
            row[6].c_str());
    }
  }
}

}  // namespace
