#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "analysis.hpp"
#include "asaflow/corpus.hpp"
#include "asaflow/error.hpp"
#include "asaflow/nlp/annotation_params.hpp"
#include "asaflow/nlp/annotator.hpp"
#include "asaflow/nlp/bonding.hpp"
#include "asaflow/nlp/preprocessed.hpp"
#include "asaflow/stage_context.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow::plugins {
namespace {

const std::vector<std::string> kModes = {"full", "pos_only", "features_only"};

// The fixed English POS frequencies the reference labels "Brown corpus statistics" (spec 6.1).
const double kFrequencies[17] = {.20, .14, .07, .05, .08, .04, .10, .12, .04, .03, .02, .02, .01, .005, .07, .001, .004};

std::string bucket_of(std::size_t n) {
  if (n <= 32) return "001-032";
  if (n <= 64) return "033-064";
  if (n <= 128) return "065-128";
  if (n <= 256) return "129-256";
  return "257+";
}

struct Count {
  double blocked = 0, pairs = 0;
  double fraction() const { return pairs > 0 ? blocked / pairs : 0.0; }
};

class Sparsity : public StageComponent {
 public:
  Sparsity()
      : StageComponent(ComponentInfo{
            "stage", "sparsity", "1.0.0",
            "blocked fraction of the ASA masks: BPE-level under the causal mask, word-level over the full square (spec 6)",
            nlp::with_annotation_params({ParamSpec::string("split", "valid", "split to measure").one_of({"train", "valid", "test"}),
             ParamSpec::integer("max_examples", 0, "BPE level: examples (0: all)").at_least(0),
             ParamSpec::integer("max_texts", 500, "word level: sentences (the reference: 500; 0: all)").at_least(0),
             ParamSpec::integer("layers", 2, "layers of the model the masks serve (identical in every layer)").at_least(1)}),
            false}) {}

 protected:
  void execute(StageContext& ctx) const override {
    const auto& p = ctx.params;
    const InputArtifact* prep = nullptr;
    const InputArtifact* corpus_in = nullptr;
    for (const auto& in : ctx.inputs) {
      if (fs::exists(in.dir / (p.get_string("split") + ".bin"))) prep = &in;
      if (fs::exists(in.dir / Corpus::kFileName)) corpus_in = &in;
    }
    if (!prep) throw StageError("sparsity needs a preprocess stage in 'needs'");
    auto tables = std::make_shared<nlp::AsaTables>(nlp::AsaTables::load(p.get_string("tables_dir"), p.get_string("verb_table")));

    // BPE level, under the causal mask: off-diagonal pairs j < i.
    const auto split = nlp::PreprocessedSplit::load(prep->dir / (p.get_string("split") + ".bin"));
    std::size_t limit = split.examples.size();
    if (p.get_int("max_examples") > 0) limit = std::min(limit, std::size_t(p.get_int("max_examples")));
    std::map<std::string, Count> bpe;
    std::map<std::string, std::map<std::string, Count>> by_bucket;
    std::map<std::pair<int, int>, double> blocked_pairs;
    double causal_total = 0;
    ctx.progress.set_total(std::int64_t(limit), "examples");
    for (std::size_t e = 0; e < limit; ++e) {
      const auto& x = split.examples[e];
      std::vector<int> pos(x.pos.begin(), x.pos.end());
      std::vector<nlp::FeatureSet> feat(x.features.begin(), x.features.end()), req(x.requirements.begin(), x.requirements.end());
      const std::string bucket = bucket_of(x.size());
      for (const auto& mode : kModes) {
        const nlp::Bonding b = nlp::bonding(mode, pos, feat, req, *tables);
        Count c;
        for (std::size_t i = 0; i < b.n; ++i) {
          for (std::size_t j = 0; j < i; ++j) {
            c.pairs += 1;
            if (!b.allowed(i, j)) {
              c.blocked += 1;
              if (mode == "full") blocked_pairs[{pos[i], pos[j]}] += 1;
            }
          }
        }
        bpe[mode].blocked += c.blocked;
        bpe[mode].pairs += c.pairs;
        by_bucket[mode][bucket].blocked += c.blocked;
        by_bucket[mode][bucket].pairs += c.pairs;
        if (mode == "full") causal_total += c.pairs;
      }
      ctx.progress.advance();
    }

    // Word level, the reference's definition: full square, diagonal excluded, pooled.
    std::map<std::string, Count> words;
    std::size_t texts = 0;
    if (corpus_in) {
      nlp::Annotator annotator(nlp::WordNet::load(p.get_string("wordnet_dir")), tables);
      const Corpus corpus = Corpus::load(corpus_in->dir / Corpus::kFileName);
      const std::size_t max_texts = std::size_t(p.get_int("max_texts"));
      for (const auto& d : corpus.documents) {
        if (d.split != p.get_string("split")) continue;
        for (const auto& s : d.sentences) {
          if (s.size() < 2) continue;
          if (max_texts > 0 && texts >= max_texts) break;
          bool tagged = std::all_of(s.begin(), s.end(), [](const Token& t) { return t.upos >= 0; });
          if (!tagged) continue;  // untagged corpora: the BPE level (tagged by preprocess) still counts
          ++texts;
          std::vector<int> pos;
          std::vector<nlp::FeatureSet> feat, req;
          for (const auto& t : s) {
            pos.push_back(t.upos);
            const auto& a = annotator.annotate(t.form, t.upos);
            feat.push_back(a.features);
            req.push_back(a.requirements);
          }
          for (const auto& mode : kModes) {
            const nlp::Bonding b = nlp::bonding(mode, pos, feat, req, *tables);
            for (std::size_t i = 0; i < b.n; ++i)
              for (std::size_t j = 0; j < b.n; ++j) {
                if (i == j) continue;
                words[mode].pairs += 1;
                if (!b.allowed(i, j)) words[mode].blocked += 1;
              }
          }
        }
      }
    }

    // Theoretical numbers of spec 6.1.
    int ones = 0;
    double weighted = 0;
    for (int a = 0; a < 17; ++a)
      for (int b = 0; b < 17; ++b) {
        ones += tables->pos_matrix[std::size_t(a)][std::size_t(b)];
        if (tables->pos_matrix[std::size_t(a)][std::size_t(b)]) weighted += kFrequencies[a] * kFrequencies[b];
      }

    auto add = [&](const std::string& metric, double value, std::map<std::string, std::string> labels, const char* unit = "%") {
      ctx.results.add(metric, value, unit).labels = std::move(labels);
    };
    json out = {{"split", p.get_string("split")}, {"bpe_examples", limit}, {"word_texts", texts}, {"modes", json::object()}};
    for (const auto& mode : kModes) {
      add("sparsity_bpe_causal", 100 * bpe[mode].fraction(), {{"mode", mode}});
      if (texts) add("sparsity_word_square", 100 * words[mode].fraction(), {{"mode", mode}});
      for (const auto& [bucket, c] : by_bucket[mode]) add("sparsity_bpe_causal_by_length", 100 * c.fraction(), {{"mode", mode}, {"length", bucket}});
      for (std::int64_t l = 0; l < p.get_int("layers"); ++l)
        add("sparsity_bpe_causal_layer", 100 * bpe[mode].fraction(), {{"mode", mode}, {"layer", std::to_string(l)}});
      out["modes"][mode] = {{"bpe_causal", {{"blocked", bpe[mode].blocked}, {"pairs", bpe[mode].pairs}, {"sparsity", bpe[mode].fraction()}}},
                            {"word_square", {{"blocked", words[mode].blocked}, {"pairs", words[mode].pairs}, {"sparsity", words[mode].fraction()}}}};
    }
    add("sparsity_pos_matrix_raw", 100.0 * (1.0 - ones / 289.0), {});
    add("sparsity_pos_matrix_weighted", 100.0 * (1.0 - weighted), {});
    std::vector<std::pair<double, std::pair<int, int>>> top;
    for (const auto& [pair, count] : blocked_pairs) top.push_back({count, pair});
    std::sort(top.rbegin(), top.rend());
    json top_json = json::array();
    for (std::size_t i = 0; i < std::min<std::size_t>(10, top.size()); ++i) {
      const auto& [count, pair] = top[i];
      const double share = causal_total > 0 ? 100.0 * count / causal_total : 0.0;
      top_json.push_back({{"query", kUposNames[pair.first]}, {"key", kUposNames[pair.second]}, {"blocked", count}, {"share_of_pairs", share}});
      add("sparsity_top_blocked_pair", share, {{"query", kUposNames[pair.first]}, {"key", kUposNames[pair.second]}, {"rank", std::to_string(i + 1)}});
    }
    out["top_blocked_pairs_full"] = top_json;
    out["pos_matrix"] = {{"ones", ones}, {"raw_sparsity", 1.0 - ones / 289.0}, {"weighted_sparsity", 1.0 - weighted}};
    out["note"] = "The mask is built once per batch and shared by every layer and head, so per-layer sparsity is identical by construction.";
    std::ofstream(ctx.output_dir / "sparsity_results.json") << out.dump(1) << "\n";
    ctx.log->info("sparsity (BPE, causal): full {:.1f}%, pos_only {:.1f}%, features_only {:.1f}%; word level full {:.1f}% over {} sentences",
                  100 * bpe["full"].fraction(), 100 * bpe["pos_only"].fraction(), 100 * bpe["features_only"].fraction(),
                  100 * words["full"].fraction(), texts);
  }
};

}  // namespace

std::shared_ptr<Component> make_sparsity() { return std::make_shared<Sparsity>(); }

}  // namespace asaflow::plugins
