// stage/evaluate_tagger: a tagger stage's UPOS accuracy on gold CoNLL-U files (a UD
// treebank), with per-tag precision and recall and the most frequent confusions; given
// several tagger stages, each one's and each later one's paired difference from the first.
//
// The tagger tags UD's syntactic words, sentence by sentence. Words inside a multiword
// token (UD splits "don't" into do + n't, "Google's" into Google + 's) are scored apart:
// Brown, which the default tagger learns from, writes such tokens whole with a combined
// tag and has no "n't" or "'s" token at all, so they measure a tokenisation mismatch as
// much as the tagger. The headline accuracy is over the words outside multiword tokens;
// all words and the multiword-token words are reported beside it. Empty nodes are not
// words and are skipped.
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <tuple>

#include <spdlog/spdlog.h>

#include "annotation.hpp"
#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/nlp/tagger.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/stats/statistics.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

struct GoldWord {
  std::string form;
  int upos = -1;
  bool in_multiword = false;
};
using GoldSentence = std::vector<GoldWord>;

// The words of a CoNLL-U file with their gold UPOS and whether a multiword token covers
// them. Throws InputError naming file and line for a malformed word line.
std::vector<GoldSentence> read_gold(const fs::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError("cannot read gold CoNLL-U file '" + file.string() + "'");
  std::vector<GoldSentence> sentences;
  GoldSentence current;
  long covered_until = 0;  // the last word id of the current multiword token
  std::string line;
  std::size_t n = 0;
  auto flush = [&] {
    if (!current.empty()) sentences.push_back(std::move(current));
    current.clear();
    covered_until = 0;
  };
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) {
      flush();
      continue;
    }
    if (line[0] == '#') continue;
    std::vector<std::string> cols;
    std::stringstream ss(line);
    std::string col;
    while (std::getline(ss, col, '\t')) cols.push_back(col);
    if (cols.size() < 4)
      throw InputError(file.string() + ":" + std::to_string(n) + ": expected 10 tab-separated columns");
    const std::string& id = cols[0];
    if (id.find('.') != std::string::npos) continue;  // an empty node
    if (const auto dash = id.find('-'); dash != std::string::npos) {
      covered_until = std::strtol(id.c_str() + dash + 1, nullptr, 10);
      continue;
    }
    const long word_id = std::strtol(id.c_str(), nullptr, 10);
    const int upos = upos_id(cols[3]);
    if (upos < 0) throw InputError(file.string() + ":" + std::to_string(n) + ": unknown UPOS '" + cols[3] + "'");
    current.push_back(GoldWord{cols[1], upos, word_id <= covered_until});
  }
  flush();
  return sentences;
}

struct Score {
  std::size_t correct = 0, total = 0;
  void add(bool ok) {
    correct += ok;
    ++total;
  }
  double percent() const { return total ? 100.0 * double(correct) / double(total) : 0.0; }
};

std::string fixed(double v, int digits) {
  char b[32];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

struct EvaluateTaggerParams {
  std::vector<std::string> gold;
  std::string name = "gold";
  std::int64_t confusions = 15;
};

const ParamBinding<EvaluateTaggerParams>& binding() {
  static const auto b =
      ParamBinding<EvaluateTaggerParams>()
          .paths(&EvaluateTaggerParams::gold, "gold", "gold CoNLL-U files (a UD treebank's test split)")
          .string(&EvaluateTaggerParams::name, "name", "what the gold files are, for the labels (e.g. ud_ewt_test)")
          .integer(&EvaluateTaggerParams::confusions, "confusions", "how many of the most frequent confusions to list",
                   0, 289);
  return b;
}

// One tagger's scores on the gold words.
struct Scores {
  Score outside, inside, all, unknown;
  std::vector<std::vector<std::size_t>> confusion =
      std::vector<std::vector<std::size_t>>(kUposCount, std::vector<std::size_t>(kUposCount, 0));
  std::vector<double> right;           // per word outside multiword tokens: 1 tagged right, 0 wrong
  std::vector<double> right_sentence;  // per sentence: its words outside multiword tokens tagged right
};

Scores score(const nlp::PerceptronTagger& tagger, const std::vector<GoldSentence>& gold) {
  Scores s;
  for (const auto& sentence : gold) {
    std::vector<std::string> words;
    for (const auto& w : sentence) words.push_back(w.form);
    const auto predicted = tagger.tag(words);
    s.right_sentence.push_back(0);
    for (std::size_t i = 0; i < sentence.size(); ++i) {
      const bool ok = predicted[i] == sentence[i].upos;
      s.all.add(ok);
      if (sentence[i].in_multiword) {
        s.inside.add(ok);
        continue;
      }
      s.outside.add(ok);
      s.right.push_back(ok ? 1.0 : 0.0);
      s.right_sentence.back() += ok ? 1.0 : 0.0;
      if (!tagger.knows(words[i])) s.unknown.add(ok);
      ++s.confusion[std::size_t(sentence[i].upos)][std::size_t(predicted[i])];
    }
  }
  return s;
}

class EvaluateTagger : public StageComponent {
 public:
  EvaluateTagger()
      : StageComponent(ComponentInfo::of("stage", "evaluate_tagger", "1.1.0")
                           .describe("UPOS accuracy of tagger stages on gold CoNLL-U files (words outside multiword "
                                     "tokens as the headline), per-tag precision and recall, the most frequent "
                                     "confusions, and with several taggers each one's paired difference from the "
                                     "first")
                           .with_params(binding().specs())) {}

 protected:
  void execute(StageContext& ctx) const override {
    const EvaluateTaggerParams p = binding().fill(ctx.in.params);
    std::vector<const InputArtifact*> taggers;  // in the order of needs
    for (const auto& in : ctx.in.inputs) {
      if (fs::exists(in.dir / "tagger.bin")) taggers.push_back(&in);
    }
    if (taggers.empty()) throw StageError("evaluate_tagger needs a train_tagger stage (an input with tagger.bin)");
    std::vector<GoldSentence> gold;
    for (const auto& file : p.gold) {
      auto sentences = read_gold(file);
      gold.insert(gold.end(), std::make_move_iterator(sentences.begin()), std::make_move_iterator(sentences.end()));
    }
    if (gold.empty()) throw InputError("the gold files hold no words");  // a sentence holds at least one
    ctx.out.progress.set_total(std::int64_t(taggers.size()), "taggers");
    std::vector<Scores> scores;
    for (std::size_t k = 0; k < taggers.size(); ++k) {
      scores.push_back(score(nlp::PerceptronTagger::load(taggers[k]->dir / "tagger.bin"), gold));
      report(ctx, p, scores.back(), taggers.size() > 1 ? taggers[k]->stage_id : std::string(), k);
      ctx.out.progress.advance();
    }
    if (taggers.size() > 1) compare(ctx, p, taggers, scores);
  }

 private:
  // One tagger's records and tables; `tagger` (its stage, labelled when there are several)
  // and `k` keep them apart.
  static void report(StageContext& ctx, const EvaluateTaggerParams& p, const Scores& s, const std::string& tagger,
                     std::size_t k) {
    const std::string& name = p.name;
    const std::string suffix = tagger.empty() ? "" : "_" + std::to_string(k + 1);
    const std::string of = tagger.empty() ? "" : " (" + tagger + ")";
    auto labelled = [&](std::map<std::string, std::string> labels) {
      if (!tagger.empty()) labels["tagger"] = tagger;
      return labels;
    };
    auto add = [&](const char* metric, const Score& sc, const std::string& words) -> MetricRecord& {
      MetricRecord& r = ctx.out.results.add(metric, sc.percent(), "%");
      r.labels = labelled({{"gold", name}, {"words", words}});
      r.n = std::int64_t(sc.total);
      return r;
    };
    add("tagger_gold_accuracy", s.outside, "outside_multiword").higher_is_better(true);
    add("tagger_gold_accuracy", s.all, "all").higher_is_better();
    add("tagger_gold_accuracy", s.inside, "in_multiword").higher_is_better();
    add("tagger_gold_accuracy", s.unknown, "unknown_outside_multiword").higher_is_better();

    // Per tag, over the words outside multiword tokens: precision, recall, F1, support.
    const auto& confusion = s.confusion;
    ResultTable per_tag;
    per_tag.id = "tagger_per_tag" + suffix;
    per_tag.title = "UPOS precision and recall on " + name + of + " (words outside multiword tokens)";
    per_tag.columns = {"UPOS", "precision %", "recall %", "F1 %", "gold words", "predicted"};
    for (int t = 0; t < kUposCount; ++t) {
      std::size_t gold = 0, predicted = 0;
      for (int u = 0; u < kUposCount; ++u) {
        gold += confusion[std::size_t(t)][std::size_t(u)];
        predicted += confusion[std::size_t(u)][std::size_t(t)];
      }
      const double tp = double(confusion[std::size_t(t)][std::size_t(t)]);
      const double pr = predicted ? 100.0 * tp / double(predicted) : 0.0, r = gold ? 100.0 * tp / double(gold) : 0.0;
      const double f = pr + r > 0 ? 2 * pr * r / (pr + r) : 0.0;
      per_tag.rows.push_back({kUposNames[t], predicted ? fixed(pr, 1) : "-", gold ? fixed(r, 1) : "-",
                              gold && predicted ? fixed(f, 1) : "-", std::to_string(gold), std::to_string(predicted)});
      auto& rec = ctx.out.results.add("tagger_gold_recall", r, "%");
      rec.labels = labelled({{"gold", name}, {"upos", kUposNames[t]}});
      rec.n = std::int64_t(gold);
    }
    ctx.out.results.add(std::move(per_tag));

    std::vector<std::tuple<std::size_t, int, int>> errors;
    for (int t = 0; t < kUposCount; ++t) {
      for (int u = 0; u < kUposCount; ++u) {
        if (t != u && confusion[std::size_t(t)][std::size_t(u)])
          errors.emplace_back(confusion[std::size_t(t)][std::size_t(u)], t, u);
      }
    }
    std::sort(errors.begin(), errors.end(),
              [](const auto& a, const auto& b) { return std::get<0>(a) > std::get<0>(b); });
    ResultTable confusions;
    confusions.id = "tagger_confusions" + suffix;
    confusions.title = "Most frequent confusions on " + name + of + " (gold -> predicted)";
    confusions.columns = {"gold", "predicted", "words", "% of errors"};
    const std::size_t wrong = s.outside.total - s.outside.correct;
    for (std::size_t e = 0; e < errors.size() && e < std::size_t(p.confusions); ++e) {
      const auto& [count, t, u] = errors[e];
      confusions.rows.push_back(
          {kUposNames[t], kUposNames[u], std::to_string(count), fixed(100.0 * double(count) / double(wrong), 1)});
    }
    ctx.out.results.add(std::move(confusions));
    ctx.out.log->info(
        "{}{}: {:.2f}% of {} words outside multiword tokens, {:.2f}% of all {}, {:.2f}% of the {} in multiword tokens",
        name, of, s.outside.percent(), s.outside.total, s.all.percent(), s.all.total, s.inside.percent(),
        s.inside.total);
  }

  // Each later tagger against the first on the same words outside multiword tokens: the
  // difference in accuracy with the paired t-test over sentences (a sentence's words share
  // their errors, so words are not independent draws: the sentence is the unit), its 95%
  // interval in points (the per-sentence mean difference times sentences / words), and how
  // many words each got right that the other did not (McNemar's counts).
  static void compare(StageContext& ctx, const EvaluateTaggerParams& p,
                      const std::vector<const InputArtifact*>& taggers, const std::vector<Scores>& scores) {
    ResultTable table;
    table.id = "tagger_comparison";
    table.title =
        "Paired comparison on " + p.name + " (words outside multiword tokens; against " + taggers[0]->stage_id + ")";
    table.columns = {"tagger",
                     "accuracy %",
                     "difference (points)",
                     "95% CI",
                     "p (paired t over sentences)",
                     "words right only here",
                     "words right only in the first"};
    const double words = double(scores[0].right.size()), sentences = double(scores[0].right_sentence.size());
    const double scale = words > 0 ? 100.0 * sentences / words : 0.0;  // per-sentence mean -> points
    for (std::size_t k = 1; k < taggers.size(); ++k) {
      const auto& a = scores[k].right;
      const auto& b = scores[0].right;
      std::size_t gained = 0, lost = 0;
      for (std::size_t i = 0; i < a.size(); ++i) {
        gained += a[i] > b[i];
        lost += a[i] < b[i];
      }
      const auto t = stats::paired(scores[k].right_sentence, scores[0].right_sentence);
      MetricRecord& r = ctx.out.results.add("tagger_gold_accuracy_difference", t ? scale * t->estimate : 0.0, "points");
      r.labels = {{"gold", p.name},
                  {"words", "outside_multiword"},
                  {"tagger", taggers[k]->stage_id},
                  {"baseline", taggers[0]->stage_id}};
      r.n = std::int64_t(a.size());
      table.rows.push_back({taggers[k]->stage_id, fixed(scores[k].outside.percent(), 2),
                            t ? fixed(scale * t->estimate, 2) : "-",
                            t ? "[" + fixed(scale * t->ci_low, 2) + ", " + fixed(scale * t->ci_high, 2) + "]" : "-",
                            t ? stats::format_p(t->p) : "-", std::to_string(gained), std::to_string(lost)});
    }
    table.notes.push_back("n = " + std::to_string(scores[0].right.size()) + " words in " +
                          std::to_string(scores[0].right_sentence.size()) +
                          " sentences, the same for every tagger; the test pairs each sentence's two counts of "
                          "words tagged right.");
    ctx.out.results.add(std::move(table));
  }
};

}  // namespace

std::shared_ptr<Component> make_evaluate_tagger() { return std::make_shared<EvaluateTagger>(); }

}  // namespace asaflow::plugins
