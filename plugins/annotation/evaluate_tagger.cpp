// stage/evaluate_tagger: a tagger stage's UPOS accuracy on gold CoNLL-U files (a UD
// treebank), with per-tag precision and recall and the most frequent confusions.
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

class EvaluateTagger : public StageComponent {
 public:
  EvaluateTagger()
      : StageComponent(ComponentInfo::of("stage", "evaluate_tagger", "1.0.0")
                           .describe("UPOS accuracy of a tagger stage on gold CoNLL-U files (words outside multiword "
                                     "tokens as the headline), per-tag precision and recall, and the most frequent "
                                     "confusions")
                           .with_params(binding().specs())) {}

 protected:
  void execute(StageContext& ctx) const override {
    const EvaluateTaggerParams p = binding().fill(ctx.in.params);
    const InputArtifact* tagger_in = nullptr;
    for (const auto& in : ctx.in.inputs) {
      if (fs::exists(in.dir / "tagger.bin")) tagger_in = &in;
    }
    if (!tagger_in) throw StageError("evaluate_tagger needs a train_tagger stage (an input with tagger.bin)");
    const auto tagger = nlp::PerceptronTagger::load(tagger_in->dir / "tagger.bin");
    const std::string& name = p.name;

    Score outside, inside, all, unknown;
    std::vector<std::vector<std::size_t>> confusion(kUposCount, std::vector<std::size_t>(kUposCount, 0));
    const auto& files = p.gold;
    ctx.out.progress.set_total(std::int64_t(files.size()), "files");
    for (const auto& file : files) {
      for (const auto& sentence : read_gold(file)) {
        std::vector<std::string> words;
        for (const auto& w : sentence) words.push_back(w.form);
        const auto predicted = tagger.tag(words);
        for (std::size_t i = 0; i < sentence.size(); ++i) {
          const bool ok = predicted[i] == sentence[i].upos;
          all.add(ok);
          (sentence[i].in_multiword ? inside : outside).add(ok);
          if (!sentence[i].in_multiword && !tagger.knows(words[i])) unknown.add(ok);
          if (!sentence[i].in_multiword) ++confusion[std::size_t(sentence[i].upos)][std::size_t(predicted[i])];
        }
      }
      ctx.out.progress.advance();
    }
    if (all.total == 0) throw InputError("the gold files hold no words");

    auto add = [&](const char* metric, const Score& s, const std::string& words) -> MetricRecord& {
      MetricRecord& r = ctx.out.results.add(metric, s.percent(), "%");
      r.labels = {{"gold", name}, {"words", words}};
      r.n = std::int64_t(s.total);
      return r;
    };
    add("tagger_gold_accuracy", outside, "outside_multiword").higher_is_better(true);
    add("tagger_gold_accuracy", all, "all").higher_is_better();
    add("tagger_gold_accuracy", inside, "in_multiword").higher_is_better();
    add("tagger_gold_accuracy", unknown, "unknown_outside_multiword").higher_is_better();

    // Per tag, over the words outside multiword tokens: precision, recall, F1, support.
    ResultTable per_tag;
    per_tag.id = "tagger_per_tag";
    per_tag.title = "UPOS precision and recall on " + name + " (words outside multiword tokens)";
    per_tag.columns = {"UPOS", "precision %", "recall %", "F1 %", "gold words", "predicted"};
    for (int t = 0; t < kUposCount; ++t) {
      std::size_t gold = 0, predicted = 0;
      for (int u = 0; u < kUposCount; ++u) {
        gold += confusion[std::size_t(t)][std::size_t(u)];
        predicted += confusion[std::size_t(u)][std::size_t(t)];
      }
      const double tp = double(confusion[std::size_t(t)][std::size_t(t)]);
      const double p = predicted ? 100.0 * tp / double(predicted) : 0.0, r = gold ? 100.0 * tp / double(gold) : 0.0;
      const double f = p + r > 0 ? 2 * p * r / (p + r) : 0.0;
      per_tag.rows.push_back({kUposNames[t], predicted ? fixed(p, 1) : "-", gold ? fixed(r, 1) : "-",
                              gold && predicted ? fixed(f, 1) : "-", std::to_string(gold), std::to_string(predicted)});
      auto& rec = ctx.out.results.add("tagger_gold_recall", r, "%");
      rec.labels = {{"gold", name}, {"upos", kUposNames[t]}};
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
    confusions.id = "tagger_confusions";
    confusions.title = "Most frequent confusions on " + name + " (gold -> predicted)";
    confusions.columns = {"gold", "predicted", "words", "% of errors"};
    const std::size_t wrong = outside.total - outside.correct;
    for (std::size_t k = 0; k < errors.size() && k < std::size_t(p.confusions); ++k) {
      const auto& [count, t, u] = errors[k];
      confusions.rows.push_back(
          {kUposNames[t], kUposNames[u], std::to_string(count), fixed(100.0 * double(count) / double(wrong), 1)});
    }
    ctx.out.results.add(std::move(confusions));
    ctx.out.log->info(
        "{}: {:.2f}% of {} words outside multiword tokens, {:.2f}% of all {}, {:.2f}% of the {} in multiword tokens",
        name, outside.percent(), outside.total, all.percent(), all.total, inside.percent(), inside.total);
  }
};

}  // namespace

std::shared_ptr<Component> make_evaluate_tagger() { return std::make_shared<EvaluateTagger>(); }

}  // namespace asaflow::plugins
