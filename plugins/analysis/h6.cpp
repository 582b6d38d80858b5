#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "analysis.hpp"
#include "asaflow/error.hpp"
#include "asaflow/model/attention_bias.hpp"
#include "asaflow/nlp/bonding.hpp"
#include "asaflow/nlp/gpt2_bpe.hpp"
#include "asaflow/nlp/preprocessed.hpp"
#include "asaflow/stage_context.hpp"
#include "model_io.hpp"

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
  auto scores = a.masked_fill(causal.logical_not(), -1.0);                    // future keys rank last
  auto idx = std::get<1>(scores.topk(kk, -1));                                 // [H,T,k]
  auto allowed = m.unsqueeze(0).expand({a.size(0), T, T}).gather(2, idx);      // [H,T,k]
  auto rank = torch::arange(kk).view({1, 1, kk});
  auto row = torch::arange(T).view({1, T, 1});
  auto valid = rank <= row;                                                    // only i+1 keys exist
  return (allowed & valid).sum().item<double>() / std::max(valid.expand_as(allowed).sum().item<double>(), 1.0);
}

struct Stats {
  std::vector<double> v;
  void add(double x) { v.push_back(x); }
  double mean() const { double s = 0; for (double x : v) s += x; return v.empty() ? 0 : s / double(v.size()); }
  double sd() const {
    if (v.size() < 2) return 0;
    double m = mean(), s = 0;
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size() - 1));
  }
  double min() const { return v.empty() ? 0 : *std::min_element(v.begin(), v.end()); }
  double max() const { return v.empty() ? 0 : *std::max_element(v.begin(), v.end()); }
};

class H6 : public StageComponent {
 public:
  H6()
      : StageComponent(ComponentInfo{
            "stage", "h6", "1.0.0",
            "H6: attention mass of a baseline model on ASA-allowed pairs vs random controls (spec 5)",
            {ParamSpec::integer("num_samples", 100, "examples of the split, in order (the reference: 100)").at_least(1),
             ParamSpec::string("split", "test", "split of the preprocess stage").one_of({"train", "valid", "test"}),
             ParamSpec::real("threshold", 0.01, "count overlap: weights above this").range(0, 1),
             ParamSpec::integer("top_k", 10, "top-k overlap: keys per query").at_least(1),
             ParamSpec::integer("draws", 10, "density-matched random masks per example").range(1, 1000),
             ParamSpec::integer("seed", 1234, "seed of the random controls").at_least(0),
             ParamSpec::string("checkpoint", "best", "best (as the reference) or final weights").one_of({"best", "final"}),
             ParamSpec::path("tokenizer_dir", "GPT-2 files to label the heatmap's tokens (optional)").optional_with(std::string("")),
             ParamSpec::path("tables_dir", "ASA tables").optional_with(nlp::AsaTables::default_dir().string())},
            false}) {}

 protected:
  void execute(StageContext& ctx) const override {
    const auto& p = ctx.params;
    at::set_num_threads(ctx.run_info.threads);
    const InputArtifact* model_in = nullptr;
    const InputArtifact* data_in = nullptr;
    for (const auto& in : ctx.inputs) {
      if (fs::exists(in.dir / "config.json") && fs::exists(in.dir / "model.pt")) {
        // Several trained models (a mode sweep): H6 asks about the baseline's attention.
        std::ifstream c(in.dir / "config.json");
        const bool baseline = json::parse(c).value("mode", "") == "none";
        if (!model_in || baseline) model_in = &in;
      }
      if (fs::exists(in.dir / (p.get_string("split") + ".bin"))) data_in = &in;
    }
    if (!model_in || !data_in) throw StageError("h6 needs a train stage (mode none) and a preprocess stage in 'needs'");
    std::ifstream cfg(model_in->dir / "config.json");
    const json config = json::parse(cfg);
    if (config.value("mode", "") != "none") {
      ctx.log->warn("H6 asks about a baseline trained without ASA; this model was trained in mode '{}'",
                    config.value("mode", "?"));
    }
    auto model = load_trained_model(model_in->dir, p.get_string("checkpoint"));
    const auto tables = nlp::AsaTables::load(p.get_string("tables_dir"));
    const auto split = nlp::PreprocessedSplit::load(data_in->dir / (p.get_string("split") + ".bin"));
    const std::size_t n = std::min<std::size_t>(split.examples.size(), std::size_t(p.get_int("num_samples")));
    if (n == 0) throw InputError("the " + p.get_string("split") + " split is empty");
    const double threshold = p.get_double("threshold");
    const auto k = p.get_int("top_k");
    const int draws = int(p.get_int("draws"));
    const std::vector<double> grid = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
    std::shared_ptr<nlp::Gpt2Bpe> bpe;
    if (!p.get_string("tokenizer_dir").empty()) bpe = nlp::Gpt2Bpe::load(p.get_string("tokenizer_dir"));

    Stats asa_mass, asa_count, asa_topk, ref_mass, ref_count, matched_mass, matched_count, density, diff;
    std::vector<Stats> layer_mass;
    std::vector<std::vector<Stats>> head_mass;
    std::vector<Stats> curve(grid.size());
    json heatmap;
    torch::NoGradGuard no_grad;
    ctx.progress.set_total(std::int64_t(n), "examples");
    for (std::size_t e = 0; e < n; ++e) {
      const auto& x = split.examples[e];
      const auto T = std::int64_t(x.size());
      auto ids = torch::from_blob(const_cast<std::int32_t*>(x.ids.data()), {1, T}, torch::kInt32).to(torch::kInt64);
      std::vector<torch::Tensor> probs;
      model->hidden(ids, model::attention_bias({}, torch::ones({1, T}, torch::kBool), {}), &probs);
      auto a = torch::stack(probs).squeeze(1);  // [L,H,T,T]
      const auto L = a.size(0), H = a.size(1);
      std::vector<int> pos(x.pos.begin(), x.pos.end());
      std::vector<nlp::FeatureSet> feat(x.features.begin(), x.features.end()), req(x.requirements.begin(), x.requirements.end());
      const nlp::Bonding b = nlp::bonding("full", pos, feat, req, tables);
      auto mask = torch::from_blob(const_cast<std::uint8_t*>(b.mask.data()), {T, T}, torch::kUInt8).to(torch::kBool);
      auto causal = torch::ones({T, T}, torch::kBool).tril();
      auto m = mask & causal;                                     // ASA mask AND causal, diagonal included
      auto mean_a = a.mean(0);                                    // [H,T,T] mean over layers
      asa_mass.add(mass_overlap(mean_a, m));
      asa_count.add(count_overlap(mean_a, m, causal, threshold));
      asa_topk.add(topk_overlap(mean_a, m, k));
      if (layer_mass.empty()) {
        layer_mass.resize(std::size_t(L));
        head_mass.assign(std::size_t(L), std::vector<Stats>(std::size_t(H)));
      }
      for (std::int64_t l = 0; l < L; ++l) {
        layer_mass[std::size_t(l)].add(mass_overlap(a[l], m));
        for (std::int64_t h = 0; h < H; ++h) head_mass[std::size_t(l)][std::size_t(h)].add(mass_overlap(a[l][h], m));
      }
      // Random controls, seeded per example and draw.
      auto gen = at::detail::createCPUGenerator(std::uint64_t(p.get_int("seed")) * 1000003ull + e);
      auto eye = torch::eye(T, torch::kBool);
      auto lower = causal & eye.logical_not();
      const double d = m.sum().item<double>() / causal.sum().item<double>();
      density.add(d);
      {  // (a) the reference's control: keep-probability from the density over all T^2 cells
        const double s = 1.0 - m.to(torch::kFloat32).mean().item<double>();
        auto r = ((torch::rand({T, T}, gen) > s) | eye) & causal;
        ref_mass.add(mass_overlap(mean_a, r));
        ref_count.add(count_overlap(mean_a, r, causal, threshold));
      }
      const double nc = causal.sum().item<double>();
      const double p_off = T > 1 ? std::clamp((d * nc - double(T)) / (nc - double(T)), 0.0, 1.0) : 1.0;
      double mm = 0, mc = 0;
      for (int dr = 0; dr < draws; ++dr) {  // (b) density-matched inside the causal region
        auto r = eye | ((torch::rand({T, T}, gen) < p_off) & lower);
        mm += mass_overlap(mean_a, r);
        mc += count_overlap(mean_a, r, causal, threshold);
      }
      matched_mass.add(mm / draws);
      matched_count.add(mc / draws);
      diff.add(asa_mass.v.back() - mm / draws);
      for (std::size_t g = 0; g < grid.size(); ++g) {  // (c) overlap vs density
        auto r = eye | ((torch::rand({T, T}, gen) < grid[g]) & lower);
        curve[g].add(mass_overlap(mean_a, r));
      }
      if (heatmap.is_null() && T >= 12 && T <= 40) {
        std::vector<std::string> tokens;
        for (auto id : x.ids) tokens.push_back(bpe ? bpe->decode({id}) : std::to_string(id));
        heatmap = {{"example", e}, {"ids", x.ids}, {"tokens", tokens}, {"attention", json::array()}, {"mask", json::array()}};
        auto avg = mean_a.mean(0);  // [T,T] mean over heads too
        for (std::int64_t i = 0; i < T; ++i) {
          std::vector<double> row_a, row_m;
          for (std::int64_t j = 0; j < T; ++j) {
            row_a.push_back(avg[i][j].item<double>());
            row_m.push_back(m[i][j].item<bool>() ? 1 : 0);
          }
          heatmap["attention"].push_back(row_a);
          heatmap["mask"].push_back(row_m);
        }
      }
      ctx.progress.advance();
    }

    std::map<std::string, std::string> base;
    for (const auto& [key, value] : model_in->matrix) base[key] = value;
    auto add = [&](const std::string& metric, const Stats& s, std::map<std::string, std::string> labels, double scale = 100.0,
                   const char* unit = "%") {
      for (const auto& kv : base) labels.insert(kv);
      MetricRecord r{metric, scale * s.mean(), unit, std::nullopt, std::int64_t(s.v.size()), labels};
      if (s.v.size() >= 2) r.sd = scale * s.sd();
      ctx.results.add(r);
    };
    add("h6_mass_overlap", asa_mass, {{"mask", "asa"}});
    add("h6_mass_overlap", ref_mass, {{"mask", "random_reference"}});
    add("h6_mass_overlap", matched_mass, {{"mask", "random_matched"}});
    add("h6_count_overlap", asa_count, {{"mask", "asa"}});
    add("h6_count_overlap", ref_count, {{"mask", "random_reference"}});
    add("h6_count_overlap", matched_count, {{"mask", "random_matched"}});
    add("h6_topk_overlap", asa_topk, {{"mask", "asa"}});
    add("h6_asa_causal_density", density, {});
    add("h6_asa_minus_matched", diff, {});
    for (std::size_t l = 0; l < layer_mass.size(); ++l) {
      add("h6_mass_overlap_layer", layer_mass[l], {{"layer", std::to_string(l)}});
      for (std::size_t h = 0; h < head_mass[l].size(); ++h)
        add("h6_mass_overlap_head", head_mass[l][h], {{"layer", std::to_string(l)}, {"head", std::to_string(h)}});
    }
    for (std::size_t g = 0; g < grid.size(); ++g) {
      char q[16];
      std::snprintf(q, sizeof q, "%.1f", grid[g]);
      add("h6_random_overlap_curve", curve[g], {{"density", q}});
    }

    auto summary = [](const Stats& s) { return json{{"mean", s.mean()}, {"min", s.min()}, {"max", s.max()}}; };
    json per_layer = json::object();
    for (std::size_t l = 0; l < layer_mass.size(); ++l) per_layer[std::to_string(l)] = {{"mean", layer_mass[l].mean()}};
    json out = {{"num_samples", n}, {"threshold", threshold}, {"top_k", k}, {"checkpoint", p.get_string("checkpoint")},
                {"metrics", {{"mass_overlap", summary(asa_mass)}, {"count_overlap", summary(asa_count)},
                             {"topk_overlap", {{"mean", asa_topk.mean()}}}, {"per_layer", per_layer},
                             {"random_mass_overlap", summary(ref_mass)}, {"random_count_overlap", {{"mean", ref_count.mean()}}},
                             {"matched_random_mass_overlap", summary(matched_mass)},
                             {"matched_random_count_overlap", {{"mean", matched_count.mean()}}},
                             {"asa_causal_density", summary(density)}}},
                {"notes", "random_* is the reference's control (seeded here; unseeded there); matched_random_* keeps each "
                          "causal off-diagonal pair with the probability that matches the ASA mask's causal density, per "
                          "example, averaged over draws"}};
    std::ofstream(ctx.output_dir / "h6_results.json") << out.dump(1) << "\n";
    if (!heatmap.is_null()) std::ofstream(ctx.output_dir / "heatmap.json") << heatmap.dump() << "\n";
    ctx.log->info("H6 on {} examples: ASA mass overlap {:.1f}%, reference random {:.1f}%, density-matched random {:.1f}%",
                  n, 100 * asa_mass.mean(), 100 * ref_mass.mean(), 100 * matched_mass.mean());
  }
};

}  // namespace

std::shared_ptr<Component> make_h6() { return std::make_shared<H6>(); }

}  // namespace asaflow::plugins
