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
      CorpusCounts counts(binding().fill(ctx.in.params).lowercase);
      CorpusReader reader(in->dir / Corpus::kFileName);
      for (Corpus::Document doc; reader.next(doc);) counts.add(doc);
      counts.report(in->stage_id, ctx.out.results);
      ctx.out.progress.advance();
    }
  }
};

}  // namespace

void CorpusCounts::add(const Corpus::Document& doc) {
  ++documents_;
  sentences_ += doc.sentences.size();
  for (const auto& s : doc.sentences) {
    tokens_ += s.size();
    for (const auto& tok : s) {
      if (!lowercase_) {
        types_.insert(tok.form);
        continue;
      }
      std::string lower = tok.form;
      for (auto& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
      types_.insert(std::move(lower));
    }
  }
}

void CorpusCounts::report(const std::string& dataset, ResultSet& out) const {
  const std::map<std::string, std::string> labels{{"dataset", dataset}};
  out.add("documents", double(documents_)).labels = labels;
  out.add("sentences", double(sentences_)).labels = labels;
  out.add("tokens", double(tokens_)).labels = labels;
  out.add("types", double(types_.size())).labels = labels;
  out.add("type_token_ratio", tokens_ ? double(types_.size()) / double(tokens_) : 0.0).labels = labels;
}

void add_corpus_stats(const Corpus& corpus, bool lowercase, const std::string& dataset, ResultSet& out) {
  CorpusCounts counts(lowercase);
  for (const auto& doc : corpus.documents) counts.add(doc);
  counts.report(dataset, out);
}

void register_corpus_stats(Registrar& registrar) { registrar.add(std::make_shared<CorpusStats>()); }

}  // namespace asaflow::plugins
