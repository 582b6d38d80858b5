// stage/evaluate_tagger with two tagger stages: each is scored, and the second is compared
// with the first, paired over sentences. The stage's figures are checked against the same
// quantities computed here from the two saved taggers and the gold file.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "asaflow/corpus.hpp"
#include "asaflow/nlp/tagger.hpp"
#include "asaflow/results.hpp"
#include "asaflow/stats/statistics.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace asaflow;

namespace {

// A CoNLL-U file of the given (form, UPOS) sentences, without multiword tokens.
std::string conllu(const std::vector<std::vector<std::pair<std::string, std::string>>>& sentences) {
  std::string out;
  for (const auto& s : sentences) {
    int id = 0;
    for (const auto& [form, upos] : s) {
      ++id;
      out += std::to_string(id) + "\t" + form + "\t_\t" + upos + "\t_\t_\t0\tdep\t_\t_\n";
    }
    out += "\n";
  }
  return out;
}

struct Word {
  std::string form;
  int upos;
  bool in_multiword;
};

}  // namespace

TEST(EvaluateTagger, ComparesTwoTaggersPairedOverSentences) {
  test::TempDir d;
  using S = std::vector<std::pair<std::string, std::string>>;
  std::vector<S> small = {{{"the", "DET"}, {"dog", "NOUN"}, {"runs", "VERB"}, {".", "PUNCT"}},
                          {{"a", "DET"}, {"cat", "NOUN"}, {"sleeps", "VERB"}, {".", "PUNCT"}}};
  std::vector<S> large = small;
  large.push_back({{"she", "PRON"}, {"can", "AUX"}, {"swim", "VERB"}, {"quickly", "ADV"}, {".", "PUNCT"}});
  large.push_back({{"we", "PRON"}, {"walk", "VERB"}, {"to", "ADP"}, {"the", "DET"}, {"park", "NOUN"}, {".", "PUNCT"}});
  test::write_file(d.path / "small.conllu", conllu(small));
  test::write_file(d.path / "large.conllu", conllu(large));
  // Gold: three sentences, one with a multiword token (words 2-3), scored apart.
  test::write_file(d.path / "gold.conllu",
                   "# text = she can swim .\n1\tshe\t_\tPRON\t_\t_\t0\tdep\t_\t_\n2\tcan\t_\tAUX\t_\t_\t0\tdep\t_\t_\n"
                   "3\tswim\t_\tVERB\t_\t_\t0\tdep\t_\t_\n4\t.\t_\tPUNCT\t_\t_\t0\tdep\t_\t_\n\n"
                   "1\tthe\t_\tDET\t_\t_\t0\tdep\t_\t_\n2-3\tdog's\t_\t_\t_\t_\t_\t_\t_\t_\n"
                   "2\tdog\t_\tNOUN\t_\t_\t0\tdep\t_\t_\n3\t's\t_\tPART\t_\t_\t0\tdep\t_\t_\n"
                   "4\tpark\t_\tNOUN\t_\t_\t0\tdep\t_\t_\n5\t.\t_\tPUNCT\t_\t_\t0\tdep\t_\t_\n\n"
                   "1\twe\t_\tPRON\t_\t_\t0\tdep\t_\t_\n2\twalk\t_\tVERB\t_\t_\t0\tdep\t_\t_\n"
                   "3\tquickly\t_\tADV\t_\t_\t0\tdep\t_\t_\n4\t.\t_\tPUNCT\t_\t_\t0\tdep\t_\t_\n\n");
  const std::string t = "{iterations: 3, eval_split: train}";
  test::write_file(
      d.path / "p.yaml",
      "stages:\n"
      "  small: {uses: dataset/conllu, params: {paths: [small.conllu]}}\n"
      "  large: {uses: dataset/conllu, params: {paths: [large.conllu]}}\n"
      "  first: {uses: train_tagger, needs: [small], params: " +
          t +
          "}\n"
          "  second: {uses: train_tagger, needs: [large], params: " +
          t +
          "}\n"
          "  eval: {uses: evaluate_tagger, needs: [first, second], params: {gold: [gold.conllu], name: g}}\n");
  auto r = test::run_asaflow("run p.yaml --quiet", d.path);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto dir_of = [&](const std::string& cell) {
    return fs::path(
        nlohmann::json::parse(test::run_asaflow("show p.yaml " + cell + " --json", d.path).out)["output_dir"]
            .get<std::string>());
  };

  // The same quantities from the saved taggers.
  const std::vector<std::vector<Word>> gold = {{{"she", upos_id("PRON"), false},
                                                {"can", upos_id("AUX"), false},
                                                {"swim", upos_id("VERB"), false},
                                                {".", upos_id("PUNCT"), false}},
                                               {{"the", upos_id("DET"), false},
                                                {"dog", upos_id("NOUN"), true},
                                                {"'s", upos_id("PART"), true},
                                                {"park", upos_id("NOUN"), false},
                                                {".", upos_id("PUNCT"), false}},
                                               {{"we", upos_id("PRON"), false},
                                                {"walk", upos_id("VERB"), false},
                                                {"quickly", upos_id("ADV"), false},
                                                {".", upos_id("PUNCT"), false}}};
  std::vector<double> per_sentence[2];
  double right[2] = {0, 0}, words = 0;
  int gained = 0, lost = 0;
  std::vector<std::vector<int>> tags[2];
  for (int k = 0; k < 2; ++k) {
    const auto tagger = nlp::PerceptronTagger::load(dir_of(k ? "second" : "first") / "tagger.bin");
    for (const auto& s : gold) {
      std::vector<std::string> forms;
      for (const auto& w : s) forms.push_back(w.form);
      tags[k].push_back(tagger.tag(forms));
    }
  }
  for (std::size_t si = 0; si < gold.size(); ++si) {
    double n[2] = {0, 0};
    for (std::size_t i = 0; i < gold[si].size(); ++i) {
      if (gold[si][i].in_multiword) continue;
      const bool a = tags[0][si][i] == gold[si][i].upos, b = tags[1][si][i] == gold[si][i].upos;
      n[0] += a;
      n[1] += b;
      gained += b && !a;
      lost += a && !b;
      words += 1;
    }
    for (int k = 0; k < 2; ++k) {
      per_sentence[k].push_back(n[k]);
      right[k] += n[k];
    }
  }
  ASSERT_EQ(words, 11);
  ASSERT_GT(gained, 0) << "the second tagger saw words the first did not";
  const auto paired = stats::paired(per_sentence[1], per_sentence[0]);
  ASSERT_TRUE(paired.has_value());
  const double scale = 100.0 * 3 / words;

  const ResultSet results = ResultSet::load(dir_of("eval") / "results.json");
  std::map<std::string, double> accuracy;
  double difference = -1;
  for (const auto& m : results.records()) {
    if (m.metric == "tagger_gold_accuracy" && m.labels.at("words") == "outside_multiword") {
      accuracy[m.labels.at("tagger")] = m.value;
      EXPECT_EQ(m.n, 11);
    }
    if (m.metric == "tagger_gold_accuracy_difference") {
      difference = m.value;
      EXPECT_EQ(m.labels.at("baseline"), "first");
      EXPECT_EQ(m.labels.at("tagger"), "second");
      EXPECT_EQ(m.n, 11);
    }
  }
  EXPECT_NEAR(accuracy["first"], 100.0 * right[0] / words, 1e-9);
  EXPECT_NEAR(accuracy["second"], 100.0 * right[1] / words, 1e-9);
  EXPECT_NEAR(difference, 100.0 * (right[1] - right[0]) / words, 1e-9);
  EXPECT_NEAR(difference, scale * paired->estimate, 1e-9);
  const ResultTable* table = nullptr;
  for (const auto& tb : results.tables())
    if (tb.id == "tagger_comparison") table = &tb;
  ASSERT_NE(table, nullptr);
  ASSERT_EQ(table->rows.size(), 1U);
  const auto& row = table->rows[0];
  char ci[64];
  std::snprintf(ci, sizeof ci, "[%.2f, %.2f]", scale * paired->ci_low, scale * paired->ci_high);
  EXPECT_EQ(row[0], "second");
  EXPECT_EQ(row[3], ci);
  EXPECT_EQ(row[4], stats::format_p(paired->p));
  EXPECT_EQ(row[5], std::to_string(gained));
  EXPECT_EQ(row[6], std::to_string(lost));
  // Each tagger keeps its own per-tag and confusion tables.
  int per_tag = 0;
  for (const auto& tb : results.tables()) per_tag += tb.id.rfind("tagger_per_tag_", 0) == 0;
  EXPECT_EQ(per_tag, 2);
}
