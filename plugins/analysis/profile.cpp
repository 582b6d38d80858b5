#include <ATen/Parallel.h>
#include <spdlog/spdlog.h>

#include <cmath>

#include "analysis.hpp"
#include "asaflow/error.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/device_memory.hpp"
#include "asaflow/model/model_mode.hpp"
#include "asaflow/model/step_profile.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "asaflow/param_binding.hpp"
#include "asaflow/stage_context.hpp"
#include "asaflow/stats/statistics.hpp"

namespace asaflow::plugins {
namespace {

struct ProfileParams {
  std::vector<std::string> modes = {"none", "full"};
  std::string size = "tiny";
  std::int64_t batch_size = 4;
  std::vector<std::string> seq_lengths = {"128", "256", "512", "1024", "2048"};
  std::int64_t warmup = 2;
  std::int64_t repeats = 5;
  model::DeviceChoice device = model::DeviceChoice::kAuto;
  std::string tables_dir = nlp::AsaTables::default_dir().string();
};

const ParamBinding<ProfileParams>& binding() {
  static const auto b =
      ParamBinding<ProfileParams>()
          .strings(&ProfileParams::modes, "modes",
                   "model modes, timed alternately; the first is the baseline of the ratios")
          .string(&ProfileParams::size, "size", "model size", model::ModelConfig::sizes())
          .integer(&ProfileParams::batch_size, "batch_size", "examples per step", 1, 4096)
          .strings(&ProfileParams::seq_lengths, "seq_lengths", "sequence lengths")
          .integer(&ProfileParams::warmup, "warmup", "untimed steps first (per mode)", 0)
          .integer(&ProfileParams::repeats, "repeats", "timed steps per length and mode", 1, 1000)
          .enumeration(&ProfileParams::device, "device", "auto, cpu or cuda", model::names_of(model::DeviceChoice{}))
          .path(&ProfileParams::tables_dir, "tables_dir", "ASA tables");
  return b;
}

// Times every mode of `modes` in one process, alternating them step by step (ABBA), so a
// ratio of two modes' step times compares like with like: two stages timed at different
// moments differ by machine load alone (measured: 23-25% between identical steps).
class Profile : public StageComponent {
 public:
  Profile()
      : StageComponent(ComponentInfo::of("stage", "profile", "2.0.0")
                           .describe("forward, backward, optimizer and bonding-mask times, tokens/s and peak memory "
                                     "per sequence length; the modes timed alternately in one process, with the "
                                     "step-time ratio and its interval")
                           .with_params(binding().specs())
                           .measures_the_device()) {}  // timings: never reused on another machine

 protected:
  void execute(StageContext& ctx) const override {
    const ProfileParams p = binding().fill(ctx.in.params);
    at::set_num_threads(ctx.in.run_info.threads);
    const auto device = model::Trainer::resolve_device(p.device);
    const auto& names = p.modes;
    if (names.empty()) throw InputError("profile: modes is empty");
    std::vector<std::shared_ptr<model::ModelMode>> modes;
    std::vector<const model::ModelMode*> raw;
    for (const auto& name : names) {
      auto m = ctx.in.resolve_as<model::ModelMode>("model_mode", name);
      modes.push_back(m);
      raw.push_back(m.get());
    }
    const auto pos_matrix = model::pos_matrix_tensor(nlp::AsaTables::load(p.tables_dir)).to(device);
    const auto B = p.batch_size;
    const int warmup = int(p.warmup), repeats = int(p.repeats);
    std::vector<std::int64_t> lengths;
    for (const auto& s : p.seq_lengths) {
      try {
        lengths.push_back(std::stoll(s));
      } catch (const std::exception&) {
        throw InputError("profile: seq_lengths entry '" + s + "' is not a number");
      }
    }
    ResultTable t;
    t.id = "profile";
    t.title = "Profiling: one training step, modes timed alternately in one process (median ± sd over repeats)";
    t.columns = {"Sequence length", "Phase"};
    for (const auto& n : names) t.columns.push_back(n);
    for (std::size_t i = 1; i < names.size(); ++i) t.columns.push_back(names[i] + " / " + names[0] + " (95% CI)");
    ctx.out.progress.set_total(std::int64_t(lengths.size()) * (warmup + repeats) * std::int64_t(names.size()), "steps");
    for (const auto T : lengths) {
      const auto profs = model::profile_interleaved(model::ModelConfig::preset(p.size), raw, pos_matrix,
                                                    model::StepProfileOptions{B, T, warmup, repeats}, device,
                                                    [&] { ctx.out.progress.advance(); });
      const std::map<std::string, std::string> common = {{"seq_len", std::to_string(T)},
                                                         {"batch", std::to_string(B)},
                                                         {"device", device.str()},
                                                         {"threads", std::to_string(ctx.in.run_info.threads)},
                                                         {"interleaved", names.size() > 1 ? "true" : "false"}};
      for (std::size_t i = 0; i < names.size(); ++i) {
        const auto& prof = profs[i];
        auto labels = common;
        labels["mode"] = names[i];
        auto add = [&](const char* metric, const std::vector<double>& s, const char* unit) {
          ctx.out.results.add(MetricRecord{metric, model::median_of(s), unit, model::sample_sd(s),
                                           std::int64_t(s.size()), labels, "", false});
        };
        add("profile_mask_ms", prof.mask_ms, "ms");
        add("profile_forward_ms", prof.forward_ms, "ms");
        add("profile_backward_ms", prof.backward_ms, "ms");
        add("profile_optimizer_ms", prof.optimizer_ms, "ms");
        add("profile_step_ms", prof.step_ms, "ms");
        std::vector<double> tps;
        for (double ms : prof.step_ms) tps.push_back(double(B * T) / (ms / 1000.0));
        add("profile_tokens_per_s", tps, "tokens/s");
        ctx.out.results.add(MetricRecord{device.is_cuda() ? "profile_peak_cuda_allocated" : "profile_peak_rss",
                                         prof.peak_memory_mb, "MB", std::nullopt, 1, labels, "lower", false});
        ctx.out.log->info(
            "{} seq {}: step {:.1f} ms (mask {:.2f}, forward {:.1f}, backward {:.1f}, optimizer {:.1f}), "
            "{:.0f} tokens/s, peak {} {:.0f} MB",
            names[i], T, model::median_of(prof.step_ms), model::median_of(prof.mask_ms),
            model::median_of(prof.forward_ms), model::median_of(prof.backward_ms), model::median_of(prof.optimizer_ms),
            model::median_of(tps), model::peak_memory_kind(device), prof.peak_memory_mb);
      }
      // Ratios to the first mode, repeat by repeat (the two steps of a repeat ran back to
      // back): the mean log ratio and its sd; exp of its interval is the ratio's interval.
      std::vector<std::string> ratio_cells;
      for (std::size_t i = 1; i < names.size(); ++i) {
        std::vector<double> logs;
        for (std::size_t r = 0; r < profs[i].step_ms.size(); ++r)
          logs.push_back(std::log(profs[i].step_ms[r] / profs[0].step_ms[r]));
        const auto s = stats::Summary::of(logs);
        auto labels = common;
        labels["numerator"] = names[i];
        labels["denominator"] = names[0];
        ctx.out.results.add(
            MetricRecord{"profile_step_log_ratio", s.mean, "", s.sd, std::int64_t(s.n), labels, "", false});
        std::string cell = stats::format_number(std::exp(s.mean)) + "x";
        if (auto ci = stats::mean_ci95(s))
          cell += " [" + stats::format_number(std::exp(ci->first)) + ", " + stats::format_number(std::exp(ci->second)) +
                  "]";
        ratio_cells.push_back(cell);
      }
      const std::vector<std::pair<const char*, std::vector<double> model::StepProfile::*>> phases = {
          {"step (ms)", &model::StepProfile::step_ms},
          {"bonding mask + bias (ms)", &model::StepProfile::mask_ms},
          {"forward + fused loss (ms)", &model::StepProfile::forward_ms},
          {"backward (ms)", &model::StepProfile::backward_ms},
          {"clip + AdamW (ms)", &model::StepProfile::optimizer_ms}};
      for (const auto& [phase, field] : phases) {
        std::vector<std::string> row = {std::to_string(T), phase};
        for (const auto& prof : profs) {
          const auto& v = prof.*field;
          row.push_back(stats::format_number(model::median_of(v)) + " ± " + stats::format_number(model::sample_sd(v)));
        }
        for (std::size_t i = 1; i < names.size(); ++i)
          row.push_back(field == &model::StepProfile::step_ms ? ratio_cells[i - 1] : "");
        t.rows.push_back(row);
      }
      std::vector<std::string> mem = {std::to_string(T),
                                      std::string("peak ") + model::peak_memory_kind(device) + " (MB)"};
      for (const auto& prof : profs) mem.push_back(stats::format_number(prof.peak_memory_mb));
      for (std::size_t i = 1; i < names.size(); ++i) mem.push_back("");
      t.rows.push_back(mem);
    }
    t.notes.push_back(
        "Batch " + std::to_string(B) +
        ", synthetic token ids and annotations (dense attention costs the same "
        "for any values), " +
        std::to_string(warmup) + " warm-up and " + std::to_string(repeats) + " timed steps per mode, on " +
        device.str() + " with " + std::to_string(ctx.in.run_info.threads) +
        " threads. The ratio is the geometric mean of the per-repeat ratios of steps that ran back to back, "
        "with a 95% t interval on the log scale. Forward includes the output layer's gradient (the fused "
        "loss computes it in the same pass). " +
        (device.is_cuda() ? std::string("Peak memory is per mode.")
                          : std::string("Peak RSS is the process's, with every mode's model resident.")));
    ctx.out.results.add(std::move(t));
  }
};

}  // namespace

std::shared_ptr<Component> make_profile() { return std::make_shared<Profile>(); }

}  // namespace asaflow::plugins
