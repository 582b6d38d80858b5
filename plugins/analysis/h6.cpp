#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <functional>
#include <random>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis.hpp"
#include "asaflow/error.hpp"
#include "asaflow/model/attention_bias.hpp"
#include "asaflow/nlp/bonding.hpp"
#include "asaflow/nlp/gpt2_bpe.hpp"
#include "asaflow/nlp/preprocessed.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/stats/statistics.hpp"
#include "asaflow/model/trained_model.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow::plugins {
namespace {

// Attention mass on allowed pairs: rows of `a` sum to 1 over causal keys. a [..,T,T], m [T,T] bool.
double mass_overlap(const torch::Tensor& a, const torch::Tensor& m) {
  return (a * m.to(torch::kFloat32)).sum().item<double>() / std::max(a.sum().item<double>(), 1e-12);
}

// Among causal pairs with weight above `threshold`, the fraction allowed by `m`.
double count_overlap(const torch::Tensor& a, const torch::Tensor& m, const torch::Tensor& causal, double threshold) {
  auto strong = (a > threshold) & causal;
  const double n = strong.sum().item<double>();
  return n > 0 ? (strong & m).sum().item<double>() / n : 0.0;
}

// Per head and query i, the top min(k, i+1) keys among 0..i; the fraction allowed, pooled.
double topk_overlap(const torch::Tensor& a, const torch::Tensor& m, std::int64_t k) {
  const auto T = a.size(-1);
  const auto kk = std::min<std::int64_t>(k, T);
  auto causal = torch::ones({T, T}, torch::kBool).tril();
  auto scores = a.masked_fill(causal.logical_not(), -1.0);                 // future keys rank last
  auto idx = std::get<1>(scores.topk(kk, -1));                             // [H,T,k]
  auto allowed = m.unsqueeze(0).expand({a.size(0), T, T}).gather(2, idx);  // [H,T,k]
  auto rank = torch::arange(kk).view({1, 1, kk});
  auto row = torch::arange(T).view({1, T, 1});
  auto valid = rank <= row;  // only i+1 keys exist
  return (allowed & valid).sum().item<double>() / std::max(valid.expand_as(allowed).sum().item<double>(), 1.0);
}

struct Stats {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  double mean() const {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / double(v.size());
  }
  double sd() const {
    if (v.size() < 2) return 0;
    double m = mean(), s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size() - 1));
  }
  double min() const { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
  double max() const { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
};

// What the ASA mask allows, by key UPOS and by distance |i - j|, over the off-diagonal
// causal pairs of every evaluated example: the weights of the matched controls.
struct AllowedRates {
  std::array<double, 17> by_tag{}, tag_pairs{};
  std::vector<double> by_distance, distance_pairs;
  double tag(int t) const {
    return tag_pairs[std::size_t(t)] > 0 ? by_tag[std::size_t(t)] / tag_pairs[std::size_t(t)] : 0;
  }
  double distance(std::size_t d) const {
    return d < distance_pairs.size() && distance_pairs[d] > 0 ? by_distance[d] / distance_pairs[d] : 0;
  }
};

// A control mask [T,T] (causal, diagonal on) that allows in every query row exactly as many
// earlier keys as the ASA mask `m` does, drawn without replacement with probability
// proportional to `weight(j)` (Efraimidis and Spirakis: the largest u^(1/w)). Weights are
// P(ASA allows | key UPOS) or P(ASA allows | distance): the control matches how often the
// mask allows each kind of key, but not which query it pairs it with.
torch::Tensor weighted_control(const std::vector<std::uint8_t>& m, std::int64_t T,
                               const std::function<double(std::int64_t i, std::int64_t j)>& weight,
                               std::mt19937_64& rng) {
  std::vector<std::uint8_t> out(std::size_t(T * T), 0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  std::vector<std::pair<double, std::int64_t>> keys;
  for (std::int64_t i = 0; i < T; ++i) {
    out[std::size_t(i * T + i)] = 1;
    std::int64_t allowed = 0;
    for (std::int64_t j = 0; j < i; ++j) allowed += m[std::size_t(i * T + j)];
    if (allowed == 0) continue;
    keys.clear();
    for (std::int64_t j = 0; j < i; ++j) {
      const double w = weight(i, j);
      // log(u) / w: the same order as u^(1/w); weight 0 sorts last.
      keys.emplace_back(w > 0 ? std::log(std::max(uniform(rng), 1e-300)) / w : -1e300 + uniform(rng), j);
    }
    std::partial_sort(keys.begin(), keys.begin() + allowed, keys.end(), std::greater<>());
    for (std::int64_t k = 0; k < allowed; ++k) out[std::size_t(i * T + keys[std::size_t(k)].second)] = 1;
  }
  return torch::from_blob(out.data(), {T, T}, torch::kUInt8).to(torch::kBool).clone();
}

struct H6Params {
  std::int64_t num_samples = 100;
  std::string split = "test";
  double threshold = 0.01;
  std::int64_t top_k = 10;
  std::int64_t draws = 10;
  std::int64_t seed = 1234;
  std::string checkpoint = "best";
  std::string tokenizer_dir;
  std::string tables_dir = nlp::AsaTables::default_dir().string();
};

const ParamBinding<H6Params>& binding() {
  static const auto b =
      ParamBinding<H6Params>()
          .integer(&H6Params::num_samples, "num_samples", "examples of the split, in order (the reference: 100)", 1)
          .string(&H6Params::split, "split", "split of the preprocess stage", {"train", "valid", "test"})
          .real(&H6Params::threshold, "threshold", "count overlap: weights above this", 0, 1)
          .integer(&H6Params::top_k, "top_k", "top-k overlap: keys per query", 1)
          .integer(&H6Params::draws, "draws", "random masks per example and control", 1, 1000)
          .integer(&H6Params::seed, "seed", "seed of the random controls", 0)
          .string(&H6Params::checkpoint, "checkpoint",
                  "best (as the reference), final, or init: the weights at step 0, the negative control",
                  {"best", "final", "init"})
          .path(&H6Params::tokenizer_dir, "tokenizer_dir", "GPT-2 files to label the heatmap's tokens (optional)",
                /*optional=*/true)
          .path(&H6Params::tables_dir, "tables_dir", "ASA tables");
  return b;
}

// H6 asks whether a model trained WITHOUT the mask already attends where the mask would
// allow. The answer is only meaningful against chance, and chance must be matched: a
// random mask twice as sparse (the reference's control) is "beaten" by any mask of the
// right density. So each example's ASA mask gets controls of the same density, of the same
// allowed rate per key UPOS, and per distance; and the same measurement at step 0 tells
// overlap learned from data from overlap an untrained model already has.
class H6 : public StageComponent {
 public:
  H6()
      : StageComponent(
            ComponentInfo::of("stage", "h6", "2.0.0")
                .describe("H6: attention mass of a baseline model on ASA-allowed pairs vs random controls "
                          "matched in density, key UPOS and distance (spec 5); at step 0 as a negative "
                          "control")
                .with_params(binding().specs())
                .reading_splits([](const Params& p) { return std::vector<std::string>{binding().fill(p).split}; })) {}

 protected:
  void execute(StageContext& ctx) const override {
    const H6Params p = binding().fill(ctx.in.params);
    at::set_num_threads(ctx.in.run_info.threads);
    const InputArtifact* model_in = nullptr;
    const InputArtifact* data_in = nullptr;
    for (const auto& in : ctx.in.inputs) {
      if (fs::exists(in.dir / "config.json") && fs::exists(in.dir / "model.pt")) {
        // Several trained models (a mode sweep): H6 asks about the baseline's attention.
        std::ifstream c(in.dir / "config.json");
        const bool baseline = json::parse(c).value("mode", "") == "none";
        if (!model_in || baseline) model_in = &in;
      }
      if (fs::exists(in.dir / (p.split + ".bin"))) data_in = &in;
    }
    if (!model_in || !data_in) throw StageError("h6 needs a train stage (mode none) and a preprocess stage in 'needs'");
    std::ifstream cfg(model_in->dir / "config.json");
    const json config = json::parse(cfg);
    if (config.value("mode", "") != "none") {
      ctx.out.log->warn("H6 asks about a baseline trained without ASA; this model was trained in mode '{}'",
                        config.value("mode", "?"));
    }
    const std::string checkpoint = p.checkpoint;
    auto model = model::load_trained_model(model_in->dir, checkpoint);
    const auto tables = nlp::AsaTables::load(p.tables_dir);
    const auto split = nlp::PreprocessedSplit::load(data_in->dir / (p.split + ".bin"));
    const std::size_t n = std::min<std::size_t>(split.examples.size(), std::size_t(p.num_samples));
    if (n == 0) throw InputError("the " + p.split + " split is empty");
    const double threshold = p.threshold;
    const auto k = p.top_k;
    const int draws = int(p.draws);
    // Density grid of the random-mask curve: where the ASA mask's overlap sits against
    // random masks of every density, not only its own.
    const std::vector<double> grid = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
    std::shared_ptr<nlp::Gpt2Bpe> bpe;
    if (!p.tokenizer_dir.empty()) bpe = nlp::Gpt2Bpe::load(p.tokenizer_dir);
    std::vector<std::string> words;  // a word tokenizer's vocabulary labels the heatmap instead
    if (std::ifstream v(data_in->dir / "vocab.txt"); v) {
      for (std::string w; std::getline(v, w);) words.push_back(w);
    }

    // Pass 1: the ASA masks (cheap) and how often they allow each key UPOS and distance.
    std::vector<std::vector<std::uint8_t>> masks(n);
    AllowedRates rates;
    for (std::size_t e = 0; e < n; ++e) {
      const auto& x = split.examples[e];
      const auto T = std::int64_t(x.size());
      std::vector<int> pos(x.pos.begin(), x.pos.end());
      std::vector<nlp::FeatureSet> feat(x.features.begin(), x.features.end()),
          req(x.requirements.begin(), x.requirements.end());
      masks[e] = nlp::bonding("full", pos, feat, req, tables).mask;
      if (rates.by_distance.size() < std::size_t(T)) {
        rates.by_distance.resize(std::size_t(T), 0);
        rates.distance_pairs.resize(std::size_t(T), 0);
      }
      for (std::int64_t i = 0; i < T; ++i) {
        for (std::int64_t j = 0; j < i; ++j) {
          const double a = masks[e][std::size_t(i * T + j)];
          rates.by_tag[x.pos[std::size_t(j)]] += a;
          rates.tag_pairs[x.pos[std::size_t(j)]] += 1;
          rates.by_distance[std::size_t(i - j)] += a;
          rates.distance_pairs[std::size_t(i - j)] += 1;
        }
      }
    }

    const std::vector<std::string> controls = {"random_matched", "random_key_upos", "random_distance"};
    std::map<std::string, Stats> mass, count, diff;  // by mask / control
    Stats asa_topk, density, uniform_entropy;
    std::vector<Stats> layer_mass;
    std::vector<std::vector<Stats>> head_mass, head_entropy;
    std::vector<Stats> curve(grid.size());
    json heatmap;
    torch::NoGradGuard no_grad;
    ctx.out.progress.set_total(std::int64_t(n), "examples");
    for (std::size_t e = 0; e < n; ++e) {
      const auto& x = split.examples[e];
      const auto T = std::int64_t(x.size());
      auto ids = torch::from_blob(const_cast<std::int32_t*>(x.ids.data()), {1, T}, torch::kInt32).to(torch::kInt64);
      auto pos_ids = torch::from_blob(const_cast<std::uint8_t*>(x.pos.data()), {1, T}, torch::kUInt8).to(torch::kInt64);
      std::vector<torch::Tensor> probs;
      model->hidden(ids, model::attention_bias({}, torch::ones({1, T}, torch::kBool), {}), &probs, pos_ids);
      auto a = torch::stack(probs).squeeze(1);  // [L,H,T,T]
      const auto L = a.size(0), H = a.size(1);
      auto mask = torch::from_blob(masks[e].data(), {T, T}, torch::kUInt8).to(torch::kBool);
      auto causal = torch::ones({T, T}, torch::kBool).tril();
      auto m = mask & causal;   // ASA mask AND causal, diagonal included
      auto mean_a = a.mean(0);  // [H,T,T] mean over layers
      const double asa_mass = mass_overlap(mean_a, m);
      mass["asa"].add(asa_mass);
      count["asa"].add(count_overlap(mean_a, m, causal, threshold));
      asa_topk.add(topk_overlap(mean_a, m, k));
      if (layer_mass.empty()) {
        layer_mass.resize(std::size_t(L));
        head_mass.assign(std::size_t(L), std::vector<Stats>(std::size_t(H)));
        head_entropy.assign(std::size_t(L), std::vector<Stats>(std::size_t(H)));
      }
      // Entropy (nats) of each query's attention over its causal keys, queries i >= 1, and
      // what uniform attention over the causal keys would have: log(i + 1).
      auto ent = -(a * torch::log(a.clamp_min(1e-30))).sum(-1);  // [L,H,T]
      for (std::int64_t l = 0; l < L; ++l) {
        layer_mass[std::size_t(l)].add(mass_overlap(a[l], m));
        for (std::int64_t h = 0; h < H; ++h) {
          head_mass[std::size_t(l)][std::size_t(h)].add(mass_overlap(a[l][h], m));
          if (T > 1) head_entropy[std::size_t(l)][std::size_t(h)].add(ent[l][h].slice(0, 1).mean().item<double>());
        }
      }
      if (T > 1) uniform_entropy.add(torch::log(torch::arange(2, T + 1, torch::kFloat64)).mean().item<double>());
      // Random controls, seeded per example and draw.
      auto gen = at::detail::createCPUGenerator(std::uint64_t(p.seed) * 1000003ull + e);
      std::mt19937_64 rng(std::uint64_t(p.seed) * 7919ull + e);
      auto eye = torch::eye(T, torch::kBool);
      auto lower = causal & eye.logical_not();
      const double d = m.sum().item<double>() / causal.sum().item<double>();
      density.add(d);
      {  // the reference's control: keep-probability from the density over all T^2 cells
        const double s = 1.0 - m.to(torch::kFloat32).mean().item<double>();
        auto r = ((torch::rand({T, T}, gen) > s) | eye) & causal;
        mass["random_reference"].add(mass_overlap(mean_a, r));
        count["random_reference"].add(count_overlap(mean_a, r, causal, threshold));
      }
      const double nc = causal.sum().item<double>();
      const double p_off = T > 1 ? std::clamp((d * nc - double(T)) / (nc - double(T)), 0.0, 1.0) : 1.0;
      const auto& tags = x.pos;
      std::map<std::string, std::pair<double, double>> sums;  // control -> (mass, count) summed over draws
      for (int dr = 0; dr < draws; ++dr) {
        std::map<std::string, torch::Tensor> r;
        r["random_matched"] = eye | ((torch::rand({T, T}, gen) < p_off) & lower);  // density inside the causal region
        r["random_key_upos"] = weighted_control(
            masks[e], T, [&](std::int64_t, std::int64_t j) { return rates.tag(tags[std::size_t(j)]); }, rng);
        r["random_distance"] = weighted_control(
            masks[e], T, [&](std::int64_t i, std::int64_t j) { return rates.distance(std::size_t(i - j)); }, rng);
        for (const auto& c : controls) {
          sums[c].first += mass_overlap(mean_a, r[c]);
          sums[c].second += count_overlap(mean_a, r[c], causal, threshold);
        }
      }
      for (const auto& c : controls) {
        mass[c].add(sums[c].first / draws);
        count[c].add(sums[c].second / draws);
        diff[c].add(asa_mass - sums[c].first / draws);
      }
      for (std::size_t g = 0; g < grid.size(); ++g) {  // overlap vs density
        auto r = eye | ((torch::rand({T, T}, gen) < grid[g]) & lower);
        curve[g].add(mass_overlap(mean_a, r));
      }
      if (heatmap.is_null() && T >= 12 && T <= 40) {
        std::vector<std::string> tokens;
        for (auto id : x.ids) {
          tokens.push_back(!words.empty() && std::size_t(id) < words.size() ? words[std::size_t(id)]
                           : bpe                                            ? bpe->decode({id})
                                                                            : std::to_string(id));
        }
        json values = json::array(), outline = json::array();
        auto avg = mean_a.mean(0);  // [T,T] mean over heads too
        for (std::int64_t i = 0; i < T; ++i) {
          std::vector<double> row_a;
          std::vector<int> row_m;
          for (std::int64_t j = 0; j < T; ++j) {
            row_a.push_back(avg[i][j].item<double>());
            row_m.push_back(j <= i && !m[i][j].item<bool>() ? 1 : 0);
          }
          values.push_back(row_a);
          outline.push_back(row_m);
        }
        heatmap = {{"example", e},
                   {"tokens", tokens},
                   {"values", values},
                   {"outline", outline},
                   {"value_label", "attention weight"},
                   {"outline_label", "blocked by the ASA mask"}};
      }
      ctx.out.progress.advance();
    }

    std::map<std::string, std::string> base;
    for (const auto& [key, value] : model_in->matrix) base[key] = value;
    if (!base.count("seed") && config.contains("seed")) base["seed"] = std::to_string(config.value("seed", 0));
    if (!base.count("mode")) base["mode"] = config.value("mode", "?");
    base["checkpoint"] = checkpoint;
    auto add = [&](const std::string& metric, const Stats& s, std::map<std::string, std::string> labels,
                   double scale = 100.0, const char* unit = "%") {
      for (const auto& kv : base) labels.insert(kv);
      MetricRecord r{metric, scale * s.mean(), unit, std::nullopt, std::int64_t(s.v.size()), labels, "", false};
      if (s.v.size() >= 2) r.sd = scale * s.sd();
      ctx.out.results.add(r);
    };
    for (const auto& [mask_name, s] : mass) add("h6_mass_overlap", s, {{"mask", mask_name}});
    for (const auto& [mask_name, s] : count) add("h6_count_overlap", s, {{"mask", mask_name}});
    for (const auto& [control, s] : diff) add("h6_asa_minus", s, {{"control", control}}, 100.0, "points");
    add("h6_topk_overlap", asa_topk, {{"mask", "asa"}});
    add("h6_asa_causal_density", density, {});
    Stats all_entropy;
    for (std::size_t l = 0; l < layer_mass.size(); ++l) {
      add("h6_mass_overlap_layer", layer_mass[l], {{"layer", std::to_string(l)}});
      for (std::size_t h = 0; h < head_mass[l].size(); ++h) {
        const std::map<std::string, std::string> lh = {{"layer", std::to_string(l)}, {"head", std::to_string(h)}};
        add("h6_mass_overlap_head", head_mass[l][h], lh);
        add("h6_attention_entropy", head_entropy[l][h], lh, 1.0, "nats");
        for (double v : head_entropy[l][h].v) all_entropy.add(v);
      }
    }
    add("h6_attention_entropy_mean", all_entropy, {}, 1.0, "nats");
    add("h6_uniform_causal_entropy", uniform_entropy, {}, 1.0, "nats");
    for (std::size_t g = 0; g < grid.size(); ++g) {
      char q[16];
      std::snprintf(q, sizeof q, "%.1f", grid[g]);
      add("h6_random_overlap_curve", curve[g], {{"density", q}});
    }

    // This model's table (per run: a detail of the report), and its heatmap.
    const std::string who = base["mode"] + " seed " + (base.count("seed") ? base["seed"] : "?") + ", " + checkpoint +
                            (checkpoint == "init" ? " (step 0)" : " weights");
    ResultTable t;
    t.id = "h6_run";
    t.level = "detail";
    t.title = "H6 on " + who + ": mass on allowed pairs (mean ± sd over " + std::to_string(n) + " examples)";
    t.columns = {"Mask", "Mass overlap (%)", "Count overlap, A > " + stats::format_number(threshold) + " (%)"};
    auto cell = [](const Stats& s) {
      return stats::format_summary(stats::Summary{100 * s.mean(), 100 * s.sd(), s.v.size()});
    };
    for (const auto& [mask_name, s] : mass) t.rows.push_back({mask_name, cell(s), cell(count[mask_name])});
    for (std::size_t l = 0; l < layer_mass.size(); ++l) {
      for (std::size_t h = 0; h < head_mass[l].size(); ++h) {
        char e[64];
        std::snprintf(e, sizeof e, "entropy %.3f nats", head_entropy[l][h].mean());
        t.rows.push_back({"ASA, layer " + std::to_string(l) + " head " + std::to_string(h), cell(head_mass[l][h]), e});
      }
    }
    t.notes.push_back(
        "Entropy: of each query's attention over its causal keys, mean over queries i >= 1; uniform "
        "attention over the causal keys would have " +
        stats::format_number(uniform_entropy.mean()) + " nats. ASA mask density inside the causal region " +
        stats::format_number(100 * density.mean()) + "%.");
    ctx.out.results.add(std::move(t));
    if (!heatmap.is_null()) {
      ctx.out.results.add(Figure{"h6_heatmap", "heatmap",
                                 "Attention of " + who + " (mean of layers and heads), example " +
                                     std::to_string(heatmap["example"].get<std::size_t>()),
                                 heatmap.dump()});
    }
    auto summary = [](const Stats& s) { return json{{"mean", s.mean()}, {"min", s.min()}, {"max", s.max()}}; };
    json per_layer = json::object();
    for (std::size_t l = 0; l < layer_mass.size(); ++l) per_layer[std::to_string(l)] = {{"mean", layer_mass[l].mean()}};
    json out = {{"num_samples", n},
                {"threshold", threshold},
                {"top_k", k},
                {"checkpoint", checkpoint},
                {"metrics",
                 {{"mass_overlap", summary(mass["asa"])},
                  {"count_overlap", summary(count["asa"])},
                  {"topk_overlap", {{"mean", asa_topk.mean()}}},
                  {"per_layer", per_layer},
                  {"random_mass_overlap", summary(mass["random_reference"])},
                  {"random_count_overlap", {{"mean", count["random_reference"].mean()}}},
                  {"matched_random_mass_overlap", summary(mass["random_matched"])},
                  {"key_upos_random_mass_overlap", summary(mass["random_key_upos"])},
                  {"distance_random_mass_overlap", summary(mass["random_distance"])},
                  {"asa_causal_density", summary(density)}}}};
    std::ofstream(ctx.out.dir / "h6_results.json") << out.dump(1) << "\n";
    ctx.out.log->info(
        "H6 ({}) on {} examples: ASA {:.1f}%, density-matched {:.1f}%, key-UPOS-matched {:.1f}%, "
        "distance-matched {:.1f}%, reference random {:.1f}%",
        who, n, 100 * mass["asa"].mean(), 100 * mass["random_matched"].mean(), 100 * mass["random_key_upos"].mean(),
        100 * mass["random_distance"].mean(), 100 * mass["random_reference"].mean());
  }
};

}  // namespace

std::shared_ptr<Component> make_h6() { return std::make_shared<H6>(); }

}  // namespace asaflow::plugins
