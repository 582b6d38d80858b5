#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>
#include <torch/types.h>
#include <torch/cuda.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adamw.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <random>

#include "analysis.hpp"
#include "asaflow/error.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/lm_loss.hpp"
#include "asaflow/model/model_mode.hpp"
#include "asaflow/model/device_memory.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/stage_context.hpp"
#include "model_io.hpp"


namespace asaflow::plugins {
namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Series {
  std::vector<double> v;
  double median() const {
    auto s = v;
    std::sort(s.begin(), s.end());
    return s.empty() ? 0 : (s.size() % 2 ? s[s.size() / 2] : 0.5 * (s[s.size() / 2 - 1] + s[s.size() / 2]));
  }
  double sd() const {
    if (v.size() < 2) return 0;
    double m = 0, s = 0;
    for (double x : v) m += x;
    m /= double(v.size());
    for (double x : v) s += (x - m) * (x - m);
    return std::sqrt(s / double(v.size() - 1));
  }
};

nlp::PreprocessedSplit synthetic(std::size_t examples, std::size_t length, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  nlp::PreprocessedSplit s;
  for (std::size_t e = 0; e < examples; ++e) {
    nlp::Example x;
    for (std::size_t t = 0; t < length; ++t) {
      x.ids.push_back(std::int32_t(rng() % 50256));
      x.pos.push_back(std::uint8_t(rng() % 17));
      x.features.push_back(std::uint16_t(rng() % 3 == 0 ? 1u << (rng() % 15) : 0));
      x.requirements.push_back(std::uint16_t(rng() % 5 == 0 ? 1u << (rng() % 15) : 0));
      x.word_index.push_back(std::int32_t(t));
    }
    s.examples.push_back(std::move(x));
  }
  return s;
}

class Profile : public StageComponent {
 public:
  Profile()
      : StageComponent(ComponentInfo{
            "stage", "profile", "1.0.0",
            "forward, backward, optimizer and bonding-mask times, tokens/s and peak memory per sequence length",
            {ParamSpec::component("mode", "model_mode", "full", "ASA mode to profile"),
             ParamSpec::string("size", "tiny", "model size").one_of({"tiny", "small", "medium", "large"}),
             ParamSpec::integer("batch_size", 4, "examples per step").range(1, 4096),
             ParamSpec::strings("seq_lengths", {"128", "256", "512", "1024", "2048"}, "sequence lengths"),
             ParamSpec::integer("warmup", 2, "untimed steps first").at_least(0),
             ParamSpec::integer("repeats", 5, "timed steps per length").range(1, 1000),
             ParamSpec::string("device", "auto", "auto, cpu or cuda").one_of({"auto", "cpu", "cuda"}),
             ParamSpec::path("tables_dir", "ASA tables").optional_with(nlp::AsaTables::default_dir().string())},
            true}) {}  // timings: never reused on another machine

 protected:
  void execute(StageContext& ctx) const override {
    const auto& p = ctx.params;
    at::set_num_threads(ctx.run_info.threads);
    const auto device = model::Trainer::resolve_device(p.get_string("device"));
    auto mode = std::dynamic_pointer_cast<model::ModelMode>(ctx.resolve("model_mode", p.get_string("mode")));
    if (!mode) throw PluginError("model_mode/" + p.get_string("mode") + " does not implement a model mode");
    const auto pos_matrix = model::pos_matrix_tensor(nlp::AsaTables::load(p.get_string("tables_dir"))).to(device);
    const auto B = p.get_int("batch_size");
    const int warmup = int(p.get_int("warmup")), repeats = int(p.get_int("repeats"));
    std::vector<std::int64_t> lengths;
    for (const auto& s : p.get_strings("seq_lengths")) {
      try {
        lengths.push_back(std::stoll(s));
      } catch (const std::exception&) {
        throw InputError("profile: seq_lengths entry '" + s + "' is not a number");
      }
    }
    auto sync = [&] {
      if (device.is_cuda()) torch::cuda::synchronize();
    };
    ctx.progress.set_total(std::int64_t(lengths.size()) * (warmup + repeats), "steps");
    for (const auto T : lengths) {
      model::ModelConfig c = model::ModelConfig::preset(p.get_string("size"));
      c.max_len = std::max<std::int64_t>(c.max_len, T);
      torch::manual_seed(1);
      model::AsaTransformer net(c);
      net->to(device);
      torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(3e-4).weight_decay(0.1));
      const auto data = synthetic(std::size_t(B) * std::size_t(warmup + repeats), std::size_t(T), std::uint64_t(T));
      Series mask_ms, fwd_ms, bwd_ms, opt_ms, step_ms;
      model::reset_peak_memory(device);
      for (int s = 0; s < warmup + repeats; ++s) {
        std::vector<std::size_t> idx;
        for (std::int64_t i = 0; i < B; ++i) idx.push_back(std::size_t(s * B + i));
        auto batch = model::make_batch(data, idx, model::BatchOptions{false, c.pad_id}, device);
        sync();
        const double t0 = now_ms();
        auto bias = model::attention_bias(mode->bonding(batch.tokens, pos_matrix), batch.key_valid, model::BiasOptions{});
        sync();
        const double t1 = now_ms();
        opt.zero_grad();
        auto hidden = net->hidden(batch.ids, bias);
        auto h = hidden.slice(1, 0, T - 1).reshape({-1, c.d_model});
        auto loss = model::lm_loss_sum(h, net->output_weight(), batch.targets, batch.include,
                                         model::default_loss_chunk_rows(device)) /
                    double(batch.loss_targets);
        sync();
        const double t2 = now_ms();
        loss.backward();
        sync();
        const double t3 = now_ms();
        torch::nn::utils::clip_grad_norm_(net->parameters(), 1.0);
        opt.step();
        sync();
        const double t4 = now_ms();
        if (s >= warmup) {
          mask_ms.v.push_back(t1 - t0);
          fwd_ms.v.push_back(t2 - t1);
          bwd_ms.v.push_back(t3 - t2);
          opt_ms.v.push_back(t4 - t3);
          step_ms.v.push_back(t4 - t0);
        }
        ctx.progress.advance();
      }
      const double peak = model::peak_memory_mb(device);
      const std::map<std::string, std::string> labels = {{"mode", p.get_string("mode")}, {"seq_len", std::to_string(T)},
                                                         {"batch", std::to_string(B)}, {"device", device.str()},
                                                         {"threads", std::to_string(ctx.run_info.threads)}};
      auto add = [&](const char* metric, const Series& s, const char* unit) {
        MetricRecord r{metric, s.median(), unit, s.sd(), std::int64_t(s.v.size()), labels};
        ctx.results.add(r);
      };
      add("profile_mask_ms", mask_ms, "ms");
      add("profile_forward_ms", fwd_ms, "ms");
      add("profile_backward_ms", bwd_ms, "ms");
      add("profile_optimizer_ms", opt_ms, "ms");
      add("profile_step_ms", step_ms, "ms");
      Series tps;
      for (double ms : step_ms.v) tps.v.push_back(double(B * T) / (ms / 1000.0));
      add("profile_tokens_per_s", tps, "tokens/s");
      MetricRecord mem{device.is_cuda() ? "profile_peak_cuda_allocated" : "profile_peak_rss", peak, "MB", std::nullopt, 1, labels};
      ctx.results.add(mem);
      ctx.log->info("{} seq {}: step {:.1f} ms (mask {:.2f}, forward {:.1f}, backward {:.1f}, optimizer {:.1f}), "
                    "{:.0f} tokens/s, peak {} {:.0f} MB",
                    p.get_string("mode"), T, step_ms.median(), mask_ms.median(), fwd_ms.median(), bwd_ms.median(),
                    opt_ms.median(), tps.median(), model::peak_memory_kind(device), peak);
    }
  }
};

}  // namespace

std::shared_ptr<Component> make_profile() { return std::make_shared<Profile>(); }

}  // namespace asaflow::plugins
