#include "sentence_lengths.hpp"

#include <algorithm>
#include <cmath>

#include "asaflow/error.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"

namespace asaflow::plugins {
namespace {

// The stage's options: each member's default is the parameter's default.
struct Options {
  std::int64_t min_tokens = 1;
};

// Each parameter declared once, bound to its member: a new parameter is a member above and
// one line here.
const ParamBinding<Options>& binding() {
  static const auto b = ParamBinding<Options>()  //
                            .integer(&Options::min_tokens, "min_tokens", "ignore sentences shorter than this", 1, 1000);
  return b;
}

class SentenceLengths : public StageComponent {
 public:
  SentenceLengths()
      : StageComponent(ComponentInfo::of("metric",            // kind
                                         "sentence_lengths",  // name: pipelines say `uses: metric/sentence_lengths`
                                         "1.0.0")             // bump when results change: it is part of every cache key
                           .describe("mean, sd, median and maximum sentence length of each input dataset")
                           .with_params(binding().specs())) {}  // add .measures_the_device() for timings

 protected:
  // Read inputs, compute, add typed records; the host hashes, commits and reports.
  void execute(StageContext& ctx) const override {
    const Options o = binding().fill(ctx.in.params);
    auto datasets = ctx.in.inputs_of_kind("dataset");
    if (datasets.empty()) {
      throw StageError("metric/sentence_lengths needs at least one dataset stage in 'needs'");
    }
    for (const InputArtifact* in : datasets) {
      // The whole corpus in memory: fine for Brown; for a corpus of WikiText-103's size
      // (about 100 bytes a word as Token objects) read it a document at a time with
      // CorpusReader (asaflow/corpus.hpp), as metric/corpus_stats does.
      Corpus corpus = Corpus::load(in->dir / Corpus::kFileName);
      add_sentence_lengths(corpus, o.min_tokens, in->stage_id, ctx.out.results);
    }
  }
};

}  // namespace

void add_sentence_lengths(const Corpus& corpus, std::int64_t min_tokens, const std::string& dataset, ResultSet& out) {
  std::vector<double> lengths;
  for (const auto& doc : corpus.documents) {
    for (const auto& s : doc.sentences) {
      if (std::int64_t(s.size()) >= min_tokens) lengths.push_back(double(s.size()));
    }
  }
  if (lengths.empty())
    throw InputError("metric/sentence_lengths: no sentence of at least " + std::to_string(min_tokens) + " tokens in " +
                     dataset);
  double sum = 0;
  for (double l : lengths) sum += l;
  const double mean = sum / double(lengths.size());
  double ss = 0;
  for (double l : lengths) ss += (l - mean) * (l - mean);
  std::sort(lengths.begin(), lengths.end());
  const std::size_t n = lengths.size();
  const double median = n % 2 ? lengths[n / 2] : (lengths[n / 2 - 1] + lengths[n / 2]) / 2;
  const std::map<std::string, std::string> labels{{"dataset", dataset}};
  MetricRecord m{"sentence_length_mean", mean, "tokens", std::nullopt, std::int64_t(n), labels, "", false};
  if (n >= 2) m.sd = std::sqrt(ss / double(n - 1));
  out.add(m);
  out.add("sentence_length_median", median, "tokens").labels = labels;
  out.add("sentence_length_max", lengths.back(), "tokens").labels = labels;
}

void register_sentence_lengths(Registrar& registrar) { registrar.add(std::make_shared<SentenceLengths>()); }

}  // namespace asaflow::plugins
