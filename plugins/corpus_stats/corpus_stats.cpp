#include "corpus_stats.hpp"

#include <spdlog/spdlog.h>

#include <cctype>
#include <unordered_set>

#include "asaflow/error.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"

namespace asaflow::plugins {
namespace {

struct Options {
  bool lowercase = false;
};

const ParamBinding<Options>& binding() {
  static const auto b =
      ParamBinding<Options>().boolean(&Options::lowercase, "lowercase", "count types case-insensitively (ASCII)");
  return b;
}

class CorpusStats : public StageComponent {
 public:
  CorpusStats()
      : StageComponent(ComponentInfo::of("metric", "corpus_stats", "1.0.0")
                           .describe("documents, sentences, tokens, types and type/token ratio of each input dataset")
                           .with_params(binding().specs())) {}

 protected:
  void execute(StageContext& ctx) const override {
    auto datasets = ctx.in.inputs_of_kind("dataset");
    if (datasets.empty()) {
      throw StageError("metric/corpus_stats needs at least one dataset stage in 'needs'");
    }
    ctx.out.progress.set_total(std::int64_t(datasets.size()), "datasets");
    for (const InputArtifact* in : datasets) {
      Corpus corpus = Corpus::load(in->dir / Corpus::kFileName);
      add_corpus_stats(corpus, binding().fill(ctx.in.params).lowercase, in->stage_id, ctx.out.results);
      ctx.out.progress.advance();
    }
  }
};

}  // namespace

void add_corpus_stats(const Corpus& corpus, bool lowercase, const std::string& dataset, ResultSet& out) {
  std::size_t sentences = 0, tokens = 0;
  std::unordered_set<std::string> types;
  for (const auto& doc : corpus.documents) {
    sentences += doc.sentences.size();
    for (const auto& s : doc.sentences) {
      tokens += s.size();
      for (const auto& tok : s) {
        const std::string& t = tok.form;
        if (!lowercase) {
          types.insert(t);
          continue;
        }
        std::string lower = t;
        for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
        types.insert(std::move(lower));
      }
    }
  }
  const std::map<std::string, std::string> labels{{"dataset", dataset}};
  out.add("documents", double(corpus.documents.size())).labels = labels;
  out.add("sentences", double(sentences)).labels = labels;
  out.add("tokens", double(tokens)).labels = labels;
  out.add("types", double(types.size())).labels = labels;
  out.add("type_token_ratio", tokens ? double(types.size()) / double(tokens) : 0.0).labels = labels;
}

void register_corpus_stats(Registrar& registrar) { registrar.add(std::make_shared<CorpusStats>()); }

}  // namespace asaflow::plugins
