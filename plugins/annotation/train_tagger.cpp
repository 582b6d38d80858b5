#include <spdlog/spdlog.h>

#include <map>

#include "annotation.hpp"
#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/nlp/tagger.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"

namespace asaflow::plugins {
namespace {

std::vector<nlp::TaggedSentence> sentences_of(const Corpus& corpus, const std::string& split) {
  std::vector<nlp::TaggedSentence> out;
  for (const auto& d : corpus.documents) {
    if (d.split != split) continue;
    for (const auto& s : d.sentences) {
      nlp::TaggedSentence t;
      for (const auto& tok : s) {
        if (tok.upos < 0)
          throw InputError("document " + d.id + " has untagged tokens: the tagger needs gold UPOS tags");
        t.words.push_back(tok.form);
        t.tags.push_back(tok.upos);
      }
      out.push_back(std::move(t));
    }
  }
  return out;
}

// The tagger contexts by name: the parameter's choices and the records' label.
const std::vector<std::pair<std::string, nlp::TaggerContext>>& contexts() {
  static const std::vector<std::pair<std::string, nlp::TaggerContext>> c = {{"both", nlp::TaggerContext::kBoth},
                                                                            {"left", nlp::TaggerContext::kLeft}};
  return c;
}

struct TrainTaggerParams {
  std::int64_t iterations = 5;
  std::int64_t seed = 1;
  std::string train_split = "train";
  std::string eval_split = "test";
  nlp::TaggerContext context = nlp::TaggerContext::kBoth;
  std::string lexicon;  // the brill package's directory, or empty
};

const ParamBinding<TrainTaggerParams>& binding() {
  static const auto b =
      ParamBinding<TrainTaggerParams>()
          .integer(&TrainTaggerParams::iterations, "iterations", "passes over the training sentences", 1, 50)
          .integer(&TrainTaggerParams::seed, "seed", "shuffling seed", 0)
          .string(&TrainTaggerParams::train_split, "train_split", "split to train on", {"train", "valid", "test"})
          .string(&TrainTaggerParams::eval_split, "eval_split", "split to report accuracy on",
                  {"train", "valid", "test"})
          .enumeration(&TrainTaggerParams::context, "context",
                       "both: features of the next two words too (as the reference's tagger); left: only the word "
                       "and what precedes it (causal tags)",
                       contexts())
          .path(&TrainTaggerParams::lexicon, "lexicon",
                "Brill's tag lexicon (the npm package brill's directory): each word's listed tags become features "
                "(optional)",
                /*optional=*/true);
  return b;
}

class TrainTagger : public StageComponent {
 public:
  TrainTagger()
      : StageComponent(ComponentInfo::of("stage", "train_tagger", "1.2.0")
                           .describe("averaged-perceptron UPOS tagger trained on a tagged dataset's train split; "
                                     "accuracy on its test split")
                           .with_params(binding().specs())
                           .reading_splits([](const Params& params) {
                             const TrainTaggerParams p = binding().fill(params);
                             return std::vector<std::string>{p.train_split, p.eval_split};
                           })) {}

 protected:
  void execute(StageContext& ctx) const override {
    const TrainTaggerParams p = binding().fill(ctx.in.params);
    auto datasets = ctx.in.inputs_of_kind("dataset");
    if (datasets.size() != 1) throw StageError("train_tagger needs exactly one dataset stage with gold UPOS tags");
    const Corpus corpus = Corpus::load(datasets[0]->dir / Corpus::kFileName);
    const auto train = sentences_of(corpus, p.train_split);
    const auto eval = sentences_of(corpus, p.eval_split);
    if (train.empty()) throw InputError("the dataset has no '" + p.train_split + "' split");
    const int iterations = int(p.iterations);
    ctx.out.progress.set_total(iterations, "passes");
    nlp::PerceptronTagger tagger;
    if (!p.lexicon.empty()) {
      tagger.set_lexicon(nlp::TagLexicon::load_brill(p.lexicon));
      ctx.out.log->info("lexicon: {} forms from {} ({} tag indices past its tag list dropped)", tagger.lexicon().size(),
                        p.lexicon, tagger.lexicon().dropped());
    }
    std::string context;
    for (const auto& [name, value] : contexts())
      if (value == p.context) context = name;
    tagger.train(
        train, iterations, std::uint64_t(p.seed), [&](int) { ctx.out.progress.advance(); }, p.context);
    tagger.save(ctx.out.dir / "tagger.bin");

    std::size_t correct = 0, total = 0, unknown = 0, unknown_correct = 0;
    for (const auto& s : eval) {
      auto predicted = tagger.tag(s.words);
      for (std::size_t i = 0; i < s.words.size(); ++i) {
        const bool ok = predicted[i] == s.tags[i];
        ++total;
        correct += ok;
        if (!tagger.knows(s.words[i])) {
          ++unknown;
          unknown_correct += ok;
        }
      }
    }
    const std::string split = p.eval_split;
    // Values, not references into the record list: each add() may move the records (a
    // reference kept across two adds read freed memory: found by AddressSanitizer).
    const double accuracy = total ? 100.0 * double(correct) / double(total) : 0.0;
    const double unknown_accuracy = unknown ? 100.0 * double(unknown_correct) / double(unknown) : 0.0;
    std::map<std::string, std::string> labels = {{"split", split}, {"context", context}};
    if (!p.lexicon.empty()) labels["lexicon"] = "brill";
    MetricRecord& acc = ctx.out.results.add("tagger_accuracy", accuracy, "%").higher_is_better(true);
    acc.labels = labels;
    acc.n = std::int64_t(total);
    MetricRecord& unk = ctx.out.results.add("tagger_accuracy_unknown_words", unknown_accuracy, "%");
    unk.labels = labels;
    unk.n = std::int64_t(unknown);
    ctx.out.results.add("training_sentences", double(train.size()));
    ctx.out.log->info("tagger (context {}) accuracy on {}: {:.2f}% of {} tokens; unknown words {:.2f}% of {}", context,
                      split, accuracy, total, unknown_accuracy, unknown);
  }
};

}  // namespace

std::shared_ptr<Component> make_train_tagger() { return std::make_shared<TrainTagger>(); }

}  // namespace asaflow::plugins
