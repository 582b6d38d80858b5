#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
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
#include "asaflow/stats/statistics.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow::plugins {
namespace {

const std::vector<std::string> kModes = {"full", "pos_only", "features_only"};

// The fixed English POS frequencies the reference labels "Brown corpus statistics" (spec 6.1).
const double kFrequencies[17] = {.20, .14, .07, .05, .08,  .04, .10,  .12, .04,
                                 .03, .02, .02, .01, .005, .07, .001, .004};

// Length buckets for the BPE table: sparsity depends on length (a longer text has more
// far pairs, which the mask blocks more often), so one pooled figure hides where it comes from.
std::string bucket_of(std::size_t n) {
  if (n <= 32) return "001-032";
  if (n <= 64) return "033-064";
  if (n <= 128) return "065-128";
  if (n <= 256) return "129-256";
  return "257+";
}

// Blocked pairs over all pairs, pooled: long texts weigh by their pair count, as in the
// reference (a mean of per-text fractions would weigh a 3-word text as much as a 300-word one).
struct Count {
  double blocked = 0, pairs = 0;
  double fraction() const { return pairs > 0 ? blocked / pairs : 0.0; }
};

struct SparsityParams {
  std::string split = "valid";
  std::int64_t max_examples = 0;
  std::int64_t max_texts = 500;
  std::int64_t layers = 2;
  nlp::AnnotationOptions annotation;
};

const ParamBinding<SparsityParams>& binding() {
  static const auto b = nlp::with_annotation(
      ParamBinding<SparsityParams>()
          .string(&SparsityParams::split, "split", "split to measure", {"train", "valid", "test"})
          .integer(&SparsityParams::max_examples, "max_examples", "BPE level: examples (0: all)", 0)
          .integer(&SparsityParams::max_texts, "max_texts", "word level: sentences (the reference: 500; 0: all)", 0)
          .integer(&SparsityParams::layers, "layers", "layers of the model the masks serve (identical in every layer)",
                   1),
      &SparsityParams::annotation);
  return b;
}

// The fraction of attention pairs the masks block, measured on real text three ways: per
// BPE piece under the causal mask (what the model sees), per word over the full square
// (the reference's definition, which the 35% claim uses), and spec 6.1's closed formula
// with fixed and with measured UPOS frequencies (where the reference's number came from).
class Sparsity : public StageComponent {
 public:
  Sparsity()
      : StageComponent(
            ComponentInfo::of("stage", "sparsity", "1.1.0")
                .describe("blocked fraction of the ASA masks: BPE-level under the causal mask, word-level "
                          "over the full square (spec 6)")
                .with_params(binding().specs())
                .reading_splits([](const Params& p) { return std::vector<std::string>{binding().fill(p).split}; })) {}

 protected:
  void execute(StageContext& ctx) const override {
    const SparsityParams p = binding().fill(ctx.in.params);
    const InputArtifact* prep = nullptr;
    const InputArtifact* corpus_in = nullptr;
    for (const auto& in : ctx.in.inputs) {
      if (fs::exists(in.dir / (p.split + ".bin"))) prep = &in;
      if (fs::exists(in.dir / Corpus::kFileName)) corpus_in = &in;
    }
    if (!prep) throw StageError("sparsity needs a preprocess stage in 'needs'");
    auto tables =
        std::make_shared<nlp::AsaTables>(nlp::AsaTables::load(p.annotation.tables_dir, p.annotation.verb_table));

    // BPE level, under the causal mask: off-diagonal pairs j < i.
    const auto split = nlp::PreprocessedSplit::load(prep->dir / (p.split + ".bin"));
    std::size_t limit = split.examples.size();
    if (p.max_examples > 0) limit = std::min(limit, std::size_t(p.max_examples));
    std::map<std::string, Count> bpe;
    std::map<std::string, std::map<std::string, Count>> by_bucket;
    std::map<std::pair<int, int>, double> blocked_pairs;
    double causal_total = 0;
    ctx.out.progress.set_total(std::int64_t(limit), "examples");
    for (std::size_t e = 0; e < limit; ++e) {
      const auto& x = split.examples[e];
      std::vector<int> pos(x.pos.begin(), x.pos.end());
      std::vector<nlp::FeatureSet> feat(x.features.begin(), x.features.end()),
          req(x.requirements.begin(), x.requirements.end());
      const std::string bucket = bucket_of(x.size());
      for (const auto& mode : kModes) {
        // features_only scores pairs without blocking any: counted, it must come out 0.
        const nlp::Bonding b = nlp::bonding(mode, pos, feat, req, *tables);
        Count c;
        for (std::size_t i = 0; i < b.n; ++i) {
          for (std::size_t j = 0; j < i; ++j) {
            c.pairs += 1;
            if (!b.allowed(i, j)) {
              c.blocked += 1;
              if (mode == "full") blocked_pairs[{pos[i], pos[j]}] += 1;  // which UPOS pairs it blocks
            }
          }
        }
        bpe[mode].blocked += c.blocked;
        bpe[mode].pairs += c.pairs;
        by_bucket[mode][bucket].blocked += c.blocked;
        by_bucket[mode][bucket].pairs += c.pairs;
        if (mode == "full") causal_total += c.pairs;
      }
      ctx.out.progress.advance();
    }

    // Word level, the reference's definition: full square, diagonal excluded, pooled.
    std::map<std::string, Count> words;
    std::size_t texts = 0;
    if (corpus_in) {
      nlp::Annotator annotator(nlp::WordNet::load(p.annotation.wordnet_dir), tables);
      CorpusReader reader(corpus_in->dir / Corpus::kFileName);  // a document at a time
      const std::size_t max_texts = std::size_t(p.max_texts);
      for (Corpus::Document d; reader.next(d);) {
        if (d.split != p.split) continue;
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

    // The corpus's own UPOS frequencies (every tagged word of every split): the formula of
    // spec 6.1 evaluated with them instead of the reference's fixed table.
    std::array<double, 17> tag_counts{};
    double tagged_words = 0;
    if (corpus_in) {
      CorpusReader reader(corpus_in->dir / Corpus::kFileName);
      for (Corpus::Document d; reader.next(d);)
        for (const auto& s : d.sentences)
          for (const auto& t : s)
            if (t.upos >= 0 && t.upos < 17) {
              tag_counts[std::size_t(t.upos)] += 1;
              tagged_words += 1;
            }
    }

    // Theoretical numbers of spec 6.1.
    int ones = 0;
    double weighted = 0, weighted_measured = 0;
    for (int a = 0; a < 17; ++a)
      for (int b = 0; b < 17; ++b) {
        ones += tables->pos_matrix[std::size_t(a)][std::size_t(b)];
        if (!tables->pos_matrix[std::size_t(a)][std::size_t(b)]) continue;
        weighted += kFrequencies[a] * kFrequencies[b];
        if (tagged_words > 0)
          weighted_measured += tag_counts[std::size_t(a)] * tag_counts[std::size_t(b)] / (tagged_words * tagged_words);
      }

    auto add = [&](const std::string& metric, double value, std::map<std::string, std::string> labels,
                   const char* unit = "%") -> MetricRecord& {
      auto& r = ctx.out.results.add(metric, value, unit);
      r.labels = std::move(labels);
      return r;
    };
    json out = {{"split", p.split}, {"bpe_examples", limit}, {"word_texts", texts}, {"modes", json::object()}};
    for (const auto& mode : kModes) {
      add("sparsity_bpe_causal", 100 * bpe[mode].fraction(), {{"mode", mode}}).n =
          std::int64_t(limit);  // examples pooled
      if (texts) add("sparsity_word_square", 100 * words[mode].fraction(), {{"mode", mode}}).n = std::int64_t(texts);
      for (const auto& [bucket, c] : by_bucket[mode])
        add("sparsity_bpe_causal_by_length", 100 * c.fraction(), {{"mode", mode}, {"length", bucket}});
      for (std::int64_t l = 0; l < p.layers; ++l)
        add("sparsity_bpe_causal_layer", 100 * bpe[mode].fraction(), {{"mode", mode}, {"layer", std::to_string(l)}});
      out["modes"][mode] = {
          {"bpe_causal",
           {{"blocked", bpe[mode].blocked}, {"pairs", bpe[mode].pairs}, {"sparsity", bpe[mode].fraction()}}},
          {"word_square",
           {{"blocked", words[mode].blocked}, {"pairs", words[mode].pairs}, {"sparsity", words[mode].fraction()}}}};
    }
    add("sparsity_pos_matrix_raw", 100.0 * (1.0 - ones / 289.0), {});
    add("sparsity_pos_matrix_weighted", 100.0 * (1.0 - weighted), {});
    if (tagged_words > 0) {
      add("sparsity_pos_matrix_weighted_measured", 100.0 * (1.0 - weighted_measured), {});
      for (int t = 0; t < 17; ++t)
        add("upos_frequency", 100.0 * tag_counts[std::size_t(t)] / tagged_words, {{"upos", kUposNames[t]}});
    }
    std::vector<std::pair<double, std::pair<int, int>>> top;
    for (const auto& [pair, count] : blocked_pairs) top.push_back({count, pair});
    std::sort(top.rbegin(), top.rend());
    json top_json = json::array();
    for (std::size_t i = 0; i < std::min<std::size_t>(10, top.size()); ++i) {
      const auto& [count, pair] = top[i];
      const double share = causal_total > 0 ? 100.0 * count / causal_total : 0.0;
      top_json.push_back({{"query", kUposNames[pair.first]},
                          {"key", kUposNames[pair.second]},
                          {"blocked", count},
                          {"share_of_pairs", share}});
      add("sparsity_top_blocked_pair", share,
          {{"query", kUposNames[pair.first]}, {"key", kUposNames[pair.second]}, {"rank", std::to_string(i + 1)}});
    }
    out["top_blocked_pairs_full"] = top_json;

    // The table. features_only has no mask (scores only): it blocks nothing by construction,
    // and the mask is the same in every layer: both are said once, in the notes.
    auto pct = [](double v) { return stats::format_number(v) + "%"; };
    ResultTable t;
    t.id = "sparsity";
    t.title = "Sparsity: share of pairs the mask blocks";
    t.columns = {"Measure", "full", "pos_only"};
    t.rows.push_back({"BPE tokens, causal pairs j < i (what the model sees), " + std::to_string(limit) + " examples",
                      pct(100 * bpe["full"].fraction()), pct(100 * bpe["pos_only"].fraction())});
    if (texts) {
      t.rows.push_back({"Words, full square without the diagonal (the reference's definition), " +
                            std::to_string(texts) + " sentences",
                        pct(100 * words["full"].fraction()), pct(100 * words["pos_only"].fraction())});
    }
    t.rows.push_back(
        {"POS matrix cells that are 0: 1 - " + std::to_string(ones) + "/289", pct(100.0 * (1.0 - ones / 289.0)), "="});
    t.rows.push_back({"1 - sum_ab f_a f_b P[a,b], the reference's fixed frequencies (the \"35%\")",
                      pct(100.0 * (1.0 - weighted)), "="});
    if (tagged_words > 0) {
      std::string freqs;
      for (int k = 0; k < 17; ++k) {
        freqs += (freqs.empty() ? "" : ", ") + std::string(kUposNames[k]) + " " +
                 stats::format_number(100.0 * tag_counts[std::size_t(k)] / tagged_words);
      }
      t.rows.push_back({"The same formula with this corpus's UPOS frequencies (" +
                            std::to_string(std::int64_t(tagged_words)) + " words)",
                        pct(100.0 * (1.0 - weighted_measured)), "="});
      t.notes.push_back("Measured UPOS frequencies (%): " + freqs + ".");
    }
    t.notes.push_back(
        "features_only adds scores but no mask: it blocks 0% of pairs by construction. The mask is built once "
        "per batch and shared by every layer and head, so every layer has the same sparsity. \"=\": the "
        "POS formula rows do not depend on the mode (pos_only and full share the POS matrix).");
    std::string top_text;
    for (const auto& pair : top_json) {
      top_text += (top_text.empty() ? "" : ", ") + pair["query"].get<std::string>() + "->" +
                  pair["key"].get<std::string>() + " " + stats::format_number(pair["share_of_pairs"].get<double>()) +
                  "%";
    }
    t.notes.push_back("Most blocked (query UPOS -> key UPOS) pairs, full mode, share of all causal pairs: " + top_text +
                      ".");
    ctx.out.results.add(std::move(t));
    json categories = json::array(), full_v = json::array(), pos_v = json::array();
    for (const auto& [bucket, c] : by_bucket["full"]) {
      categories.push_back(bucket);
      full_v.push_back(100 * c.fraction());
      pos_v.push_back(100 * by_bucket["pos_only"][bucket].fraction());
    }
    ctx.out.results.add(
        Figure{"sparsity_by_length", "bars", "Sparsity (BPE, causal) by example length (%)",
               json{{"y_label", "% of causal pairs blocked"},
                    {"x_label", "tokens per example"},
                    {"categories", categories},
                    {"series", {{{"name", "full"}, {"values", full_v}}, {{"name", "pos_only"}, {"values", pos_v}}}}}
                   .dump()});
    out["pos_matrix"] = {{"ones", ones}, {"raw_sparsity", 1.0 - ones / 289.0}, {"weighted_sparsity", 1.0 - weighted}};
    out["note"] =
        "The mask is built once per batch and shared by every layer and head, so per-layer sparsity is identical by "
        "construction.";
    std::ofstream(ctx.out.dir / "sparsity_results.json") << out.dump(1) << "\n";
    ctx.out.log->info(
        "sparsity (BPE, causal): full {:.1f}%, pos_only {:.1f}%, features_only {:.1f}%; word level full {:.1f}% over "
        "{} sentences",
        100 * bpe["full"].fraction(), 100 * bpe["pos_only"].fraction(), 100 * bpe["features_only"].fraction(),
        100 * words["full"].fraction(), texts);
  }
};

}  // namespace

std::shared_ptr<Component> make_sparsity() { return std::make_shared<Sparsity>(); }

}  // namespace asaflow::plugins
