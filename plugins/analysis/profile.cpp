#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include "analysis.hpp"
#include "asaflow/error.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/device_memory.hpp"
#include "asaflow/model/model_mode.hpp"
#include "asaflow/model/step_profile.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/stage_context.hpp"

namespace asaflow::plugins {
namespace {

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
    ctx.progress.set_total(std::int64_t(lengths.size()) * (warmup + repeats), "steps");
    for (const auto T : lengths) {
      const auto prof = model::profile_steps(model::ModelConfig::preset(p.get_string("size")), *mode, pos_matrix,
                                             model::StepProfileOptions{B, T, warmup, repeats}, device,
                                             [&] { ctx.progress.advance(); });
      const double peak = prof.peak_memory_mb;
      const std::map<std::string, std::string> labels = {{"mode", p.get_string("mode")}, {"seq_len", std::to_string(T)},
                                                         {"batch", std::to_string(B)}, {"device", device.str()},
                                                         {"threads", std::to_string(ctx.run_info.threads)}};
      auto add = [&](const char* metric, const std::vector<double>& s, const char* unit) {
        MetricRecord r{metric, model::median_of(s), unit, model::sample_sd(s), std::int64_t(s.size()), labels};
        ctx.results.add(r);
      };
      add("profile_mask_ms", prof.mask_ms, "ms");
      add("profile_forward_ms", prof.forward_ms, "ms");
      add("profile_backward_ms", prof.backward_ms, "ms");
      add("profile_optimizer_ms", prof.optimizer_ms, "ms");
      add("profile_step_ms", prof.step_ms, "ms");
      std::vector<double> tps;
      for (double ms : prof.step_ms) tps.push_back(double(B * T) / (ms / 1000.0));
      add("profile_tokens_per_s", tps, "tokens/s");
      MetricRecord mem{device.is_cuda() ? "profile_peak_cuda_allocated" : "profile_peak_rss", peak, "MB", std::nullopt, 1, labels};
      ctx.results.add(mem);
      ctx.log->info("{} seq {}: step {:.1f} ms (mask {:.2f}, forward {:.1f}, backward {:.1f}, optimizer {:.1f}), "
                    "{:.0f} tokens/s, peak {} {:.0f} MB",
                    p.get_string("mode"), T, model::median_of(prof.step_ms), model::median_of(prof.mask_ms),
                    model::median_of(prof.forward_ms), model::median_of(prof.backward_ms),
                    model::median_of(prof.optimizer_ms), model::median_of(tps), model::peak_memory_kind(device), peak);
    }
  }
};

}  // namespace

std::shared_ptr<Component> make_profile() { return std::make_shared<Profile>(); }

}  // namespace asaflow::plugins
