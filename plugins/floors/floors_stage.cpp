// stage/ngram_floors: unigram, bigram and trigram floors on exactly the tokens the trainer
// evaluates (the first eval_batches x batch_size examples of the split, in order, every
// token after the first of each example), fitted on the training split's tokens.
#include "floors.hpp"

#include <spdlog/spdlog.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/nlp/preprocessed.hpp"
#include "asaflow/stage_context.hpp"
#include "ngram.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

std::vector<std::vector<std::int32_t>> ids_of(const nlp::PreprocessedSplit& split, std::size_t limit) {
  std::vector<std::vector<std::int32_t>> out;
  for (std::size_t i = 0; i < std::min(limit, split.examples.size()); ++i) out.push_back(split.examples[i].ids);
  return out;
}

struct Options {
  std::int64_t batch_size = 4;
  std::int64_t eval_batches = 0;
  std::string split = "valid";
};

const ParamBinding<Options>& binding() {
  static const auto b =
      ParamBinding<Options>()
          .integer(&Options::batch_size, "batch_size", "the train stage's batch_size", 1, 4096)
          .integer(&Options::eval_batches, "eval_batches", "the train stage's eval_batches (0: the whole split)", 0)
          .string(&Options::split, "split", "split to score", {"valid", "test"});
  return b;
}

class NgramFloors : public StageComponent {
 public:
  NgramFloors()
      : StageComponent(
            ComponentInfo::of("stage", "ngram_floors", "1.0.1")
                .describe("unigram and interpolated Kneser-Ney bigram/trigram PPL on the tokens the trainer evaluates")
                .with_params(binding().specs())
                .reading_splits([](const Params& p) {
                  return std::vector<std::string>{"train", binding().fill(p).split};
                })) {}

 protected:
  void execute(StageContext& ctx) const override {
    const Options o = binding().fill(ctx.in.params);
    const InputArtifact* data = nullptr;
    for (const auto& in : ctx.in.inputs)
      if (fs::exists(in.dir / "train.bin")) data = &in;
    if (!data) throw StageError("ngram_floors needs a preprocess stage (with train.bin) in 'needs'");
    std::ifstream tok(data->dir / "tokenizer.json");
    const auto vocab = nlohmann::json::parse(tok).at("vocab_size").get<std::int64_t>();
    const auto train = nlp::PreprocessedSplit::load(data->dir / "train.bin");
    const auto eval = nlp::PreprocessedSplit::load(data->dir / (o.split + ".bin"));
    const std::int64_t batches = o.eval_batches;
    const std::size_t limit = batches > 0 ? std::size_t(batches * o.batch_size) : eval.examples.size();
    const auto train_ids = ids_of(train, train.examples.size());
    const auto eval_ids = ids_of(eval, limit);

    ResultTable t;
    t.id = "ngram_floors";
    t.title = "N-gram floors on the evaluated tokens";
    t.level = "detail";
    t.columns = {"Model", o.split == "test" ? "Test PPL" : "Val PPL", "Discounts"};
    const char* names[] = {"", "unigram (absolute discounting)", "bigram interpolated Kneser-Ney",
                           "trigram interpolated Kneser-Ney"};
    std::int64_t targets = 0;
    ctx.out.progress.set_total(3, "models");
    for (int order = 1; order <= 3; ++order) {
      NgramModel m(order, vocab);
      m.fit(train_ids);
      const double ppl = m.perplexity(eval_ids, &targets);
      auto& r = ctx.out.results.add("floor_ppl", ppl, "").lower_is_better(order == 3);
      r.labels = {{"order", std::to_string(order)}, {"model", names[order]}, {"split", o.split}};
      std::string d;
      for (int level = 1; level <= order; ++level) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%sD%d %.3f", d.empty() ? "" : ", ", level, m.discount(level));
        d += buf;
      }
      t.rows.push_back({names[order], std::to_string(ppl), d});
      ctx.out.log->info("{}: PPL {:.1f} on {} tokens", names[order], ppl, targets);
      ctx.out.progress.advance();
    }
    ctx.out.results.add("floor_tokens", double(targets), "tokens").labels = {{"split", o.split}};
    t.notes.push_back("Fitted on the " + std::to_string(train.token_count()) +
                      " tokens of the training split; scored on " + std::to_string(targets) + " targets of the first " +
                      std::to_string(eval_ids.size()) + " " + o.split +
                      " examples, in order (every token but each example's first).");
    ctx.out.results.add(std::move(t));
  }
};

}  // namespace

void register_floors(Registrar& registrar) { registrar.add(std::make_shared<NgramFloors>()); }

}  // namespace asaflow::plugins
