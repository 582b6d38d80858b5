// WordNet 3.0 lookups and the noun-feature test vectors of spec section 2.5.
#include "asaflow/nlp/wordnet.hpp"

#include <gtest/gtest.h>

#include <algorithm>

#include "asaflow/nlp/annotator.hpp"

using namespace asaflow::nlp;

namespace {

std::shared_ptr<const WordNet> wordnet() {
  static auto wn = WordNet::load(WordNet::default_dir());
  return wn;
}

Annotator& annotator() {
  static Annotator a(wordnet(), std::make_shared<AsaTables>(AsaTables::load(AsaTables::default_dir())));
  return a;
}

TEST(WordNet, MorphyFollowsNltk) {
  EXPECT_EQ(wordnet()->morphy("dogs", 'n'), std::vector<std::string>{"dog"});
  EXPECT_EQ(wordnet()->morphy("churches", 'n'), std::vector<std::string>{"church"});
  EXPECT_EQ(wordnet()->morphy("geese", 'n'), std::vector<std::string>{"goose"});  // noun.exc
  EXPECT_EQ(wordnet()->morphy("said", 'v'), std::vector<std::string>{"say"});     // verb.exc
  EXPECT_EQ(wordnet()->morphy("hired", 'v'), (std::vector<std::string>{"hire"}));
  EXPECT_EQ(wordnet()->lemmatize("ate", 'v'), "eat");
  EXPECT_EQ(wordnet()->lemmatize("running", 'v'), "run");
  EXPECT_EQ(wordnet()->lemmatize("Valkyria", 'n'), "valkyria");
  EXPECT_TRUE(wordnet()->morphy("valkyria", 'n').empty());
}

TEST(WordNet, CanonicalSynsetNames) {
  auto first = [](const char* w) { return wordnet()->synset_name(wordnet()->synsets(w, 'n').front(), 'n'); };
  EXPECT_EQ(first("dog"), "dog.n.01");
  EXPECT_EQ(first("john"), "toilet.n.01");
  EXPECT_EQ(first("film"), "movie.n.01");
  EXPECT_EQ(first("chronicles"), "history.n.02");
  EXPECT_EQ(first("human"), "homo.n.02");  // why T-SYN's human.n.01 never matches
  EXPECT_EQ(first("paris"), "paris.n.01");
}

// "lemma -> features" rows of the table in spec section 2.5.
struct Vector {
  const char* lemma;
  const char* features;
};

class NounFeatures : public ::testing::TestWithParam<Vector> {};

TEST_P(NounFeatures, MatchSpecTable) {
  const Vector& v = GetParam();
  FeatureSet set = annotator().noun_features(v.lemma);
  if (set == 0) set = FeatureSet(1u << feature_id("CONCRETE"));  // the CONCRETE fallback
  EXPECT_EQ(format_features(set), v.features) << v.lemma;
}

INSTANTIATE_TEST_SUITE_P(
    Spec25, NounFeatures,
    ::testing::Values(
        Vector{"cat", "ANIMATE,ANIMAL,CONCRETE"}, Vector{"dog", "ANIMATE,ANIMAL,CONCRETE"},
        Vector{"man", "ANIMATE,HUMAN,CONCRETE"}, Vector{"woman", "ANIMATE,HUMAN,CONCRETE"},
        Vector{"john", "CONCRETE,LOCATION,INSTRUMENT"}, Vector{"paris", "CONCRETE"}, Vector{"london", "CONCRETE"},
        Vector{"valkyria", "CONCRETE"}, Vector{"company", "ORGANIZATION,ABSTRACT"},
        Vector{"government", "ORGANIZATION,ABSTRACT"}, Vector{"army", "ORGANIZATION,ABSTRACT"},
        Vector{"team", "ORGANIZATION,ABSTRACT"}, Vector{"family", "ORGANIZATION,ABSTRACT"},
        Vector{"car", "CONCRETE,INSTRUMENT"}, Vector{"knife", "CONCRETE,INSTRUMENT"},
        Vector{"hammer", "CONCRETE,INSTRUMENT"}, Vector{"book", "CONCRETE,INSTRUMENT"},
        Vector{"computer", "CONCRETE,INSTRUMENT"}, Vector{"ship", "CONCRETE,INSTRUMENT"},
        Vector{"album", "CONCRETE,INSTRUMENT"}, Vector{"house", "CONCRETE,LOCATION,INSTRUMENT"},
        Vector{"city", "CONCRETE,LOCATION"}, Vector{"river", "CONCRETE"}, Vector{"apple", "CONCRETE"},
        Vector{"idea", "ABSTRACT,COGNITION"}, Vector{"theory", "ABSTRACT,COGNITION"},
        Vector{"love", "ABSTRACT,EMOTION"}, Vector{"anger", "ABSTRACT,EMOTION"}, Vector{"war", "ABSTRACT,EVENT"},
        Vector{"battle", "ABSTRACT,EVENT"}, Vector{"game", "ABSTRACT,EVENT"}, Vector{"year", "ABSTRACT,TIME"},
        Vector{"week", "ABSTRACT,TIME"}, Vector{"season", "ABSTRACT,TIME"}, Vector{"day", "ABSTRACT"},
        Vector{"bread", "CONCRETE,COMESTIBLE"}, Vector{"hand", "CONCRETE,BODY_PART"},
        Vector{"head", "CONCRETE,BODY_PART"}, Vector{"letter", "CONCRETE,ABSTRACT,COMMUNICATION,INSTRUMENT"},
        Vector{"song", "ABSTRACT,COMMUNICATION"}, Vector{"music", "ABSTRACT,COMMUNICATION"},
        Vector{"water", "CONCRETE,ABSTRACT"}, Vector{"gold", "ABSTRACT"}, Vector{"species", "ABSTRACT"},
        Vector{"film", "CONCRETE,ABSTRACT,EVENT,INSTRUMENT"}, Vector{"chronicles", "ABSTRACT,COMMUNICATION"}),
    [](const ::testing::TestParamInfo<Vector>& info) { return std::string(info.param.lemma); });

TEST(Annotator, LemmasFeaturesAndRequirementsByPos) {
  // UPOS ids: NOUN 0, VERB 1, PRON 4, PROPN 5, AUX 8, DET 6.
  const auto& said = annotator().annotate("said", 1);
  EXPECT_EQ(said.lemma, "say");
  EXPECT_EQ(format_features(said.requirements), "HUMAN");                                // communication
  EXPECT_EQ(format_features(annotator().annotate("ate", 1).requirements), "ANIMATE");    // consumption
  EXPECT_EQ(format_features(annotator().annotate("went", 1).requirements), "CONCRETE");  // motion
  EXPECT_EQ(format_features(annotator().annotate("is", 8).requirements), "-");           // AUX: none
  EXPECT_EQ(format_features(annotator().annotate("looked", 1).requirements), "-");       // stative (effective)
  const auto& he = annotator().annotate("He", 4);
  EXPECT_EQ(he.lemma, "he");
  EXPECT_EQ(format_features(he.features), "ANIMATE,HUMAN");
  EXPECT_EQ(format_features(he.requirements), "ANIMATE,HUMAN");
  EXPECT_EQ(format_features(annotator().annotate("them", 4).features), "ANIMATE");
  EXPECT_EQ(format_features(annotator().annotate("it", 4).requirements), "-");
  EXPECT_EQ(format_features(annotator().annotate("Dogs", 0).features), "ANIMATE,ANIMAL,CONCRETE");
  EXPECT_EQ(format_features(annotator().annotate("the", 6).features), "-");
}

TEST(AsaTables, FixedVerbTableDiffersInTheNineDocumentedVerbs) {
  auto effective = AsaTables::load(AsaTables::default_dir(), "effective");
  auto fixed = AsaTables::load(AsaTables::default_dir(), "fixed");
  EXPECT_EQ(effective.verb_class.size(), 468u);
  EXPECT_EQ(fixed.verb_class.size(), 468u);
  std::vector<std::string> changed;
  for (const auto& [verb, cls] : effective.verb_class) {
    if (fixed.verb_class.at(verb) != cls) changed.push_back(verb);
  }
  std::sort(changed.begin(), changed.end());
  EXPECT_EQ(changed, (std::vector<std::string>{"cook", "feel", "look", "return", "smell", "taste", "write"}));
  EXPECT_EQ(effective.synset_features.size(), 45u);
  EXPECT_EQ(effective.pronouns.size(), 49u);
  EXPECT_EQ(effective.class_requirements.size(), 25u);
  int ones = 0;
  for (const auto& row : effective.pos_matrix) {
    for (bool b : row) ones += b;
  }
  EXPECT_EQ(ones, 101);  // spec 2.4: 101 of 289 cells
}

}  // namespace
