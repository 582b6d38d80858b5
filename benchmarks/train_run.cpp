// Benchmark: whole training runs (Trainer::run: batching, steps, evaluation, checkpoints)
// on synthetic examples of one length, once per step kind (eager, static, graph, auto),
// each from the same seed. Reports per run the step that ran, training tokens/s (the
// stage's figure: real tokens over training time, evaluation excluded), the first and last
// train loss and the final validation PPL; then, for each run after the first, the
// largest relative difference of its train-loss curve from the first run's. With
// --dropout 0 the kinds compute the same arithmetic, and --check 1 exits 1 when a curve
// differs by more than 1e-3 (relative): the check that the train stage's graph step trains
// like the eager one on a GPU, where the test suite cannot run.
//
// usage: train_run [--size tiny] [--batch 4] [--seq 256] [--steps 200] [--eval-every 100]
//                  [--kinds eager,graph] [--device cpu|cuda] [--threads N] [--tf32 0|1]
//                  [--dropout 0.1] [--check 0|1]
#include <ATen/Context.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "asaflow/memory_usage.hpp"
#include "asaflow/model/step_profile.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "bench_options.hpp"
#include "modes.hpp"

using namespace asaflow;

namespace {

int run(int argc, char** argv) {
  const auto parsed = bench::parse_options(argc, argv,
                                           {{"--size", "tiny"},
                                            {"--batch", "4"},
                                            {"--seq", "256"},
                                            {"--steps", "200"},
                                            {"--eval-every", "100"},
                                            {"--kinds", "eager,graph"},
                                            {"--device", "cpu"},
                                            {"--mode", "full"},
                                            {"--threads", std::to_string(std::thread::hardware_concurrency())},
                                            {"--tf32", "0"},
                                            {"--dropout", "0.1"},
                                            {"--check", "0"}},
                                           "train_run");
  if (!parsed) return 2;
  auto a = *parsed;
  const int threads = std::stoi(a["--threads"]);
  at::set_num_threads(threads);
  if (a["--tf32"] == "1") at::globalContext().setFloat32MatmulPrecision("high");
  const auto modes = plugins::all_modes();
  if (!modes.count(a["--mode"])) {
    std::fprintf(stderr, "train_run: unknown mode '%s' (none, pos_only, features_only, full)\n", a["--mode"].c_str());
    return 2;
  }
  const auto batch = std::stoll(a["--batch"]), seq = std::stoll(a["--seq"]), steps = std::stoll(a["--steps"]);
  // One epoch of training examples, eight batches of validation examples.
  const auto train = model::synthetic_split(std::size_t(batch * steps), std::size_t(seq), 1);
  const auto valid = model::synthetic_split(std::size_t(batch * 8), std::size_t(seq), 2);
  auto config = model::ModelConfig::preset(a["--size"]);
  config.max_len = std::max<std::int64_t>(config.max_len, seq);
  config.dropout = std::stod(a["--dropout"]);
  const auto p = model::pos_matrix_tensor(nlp::AsaTables::load(nlp::AsaTables::default_dir()));
  model::TrainOptions o;
  o.device = model::parse_choice<model::DeviceChoice>(a["--device"], "device");
  o.batch_size = batch;
  o.max_steps = steps;
  o.eval_every = std::stoll(a["--eval-every"]);
  o.log_every = 1;
  o.checkpoint_every = 0;
  o.seed = 1;

  std::vector<std::pair<double, double>> first;  // the first run's train-loss curve
  int status = 0;
  for (const auto& kind : bench::split_list(a["--kinds"])) {
    o.step = model::parse_choice<model::StepKind>(kind, "step");
    const auto dir = std::filesystem::temp_directory_path() / ("asaflow-train-run-" + kind);
    std::filesystem::remove_all(dir);
    model::Trainer trainer(config, o, modes.at(a["--mode"]), p, train, valid, dir);
    const auto r = trainer.run();
    std::filesystem::remove_all(dir);
    std::printf(
        "train_run: %s %s batch %lld seq %lld, %lld steps, %d threads, %s%s, dropout %s: step %s, %.0f tokens/s "
        "(%.2f s of training), train loss %.4f -> %.4f, final val PPL %.1f\n",
        a["--size"].c_str(), a["--mode"].c_str(), static_cast<long long>(batch), static_cast<long long>(seq),
        static_cast<long long>(r.steps), threads, r.device.c_str(), a["--tf32"] == "1" ? ", tf32" : "",
        a["--dropout"].c_str(), r.step.c_str(), r.tokens_per_second, r.train_seconds, r.train_loss.front().second,
        r.train_loss.back().second, r.final_val_ppl);
    std::vector<std::pair<double, double>> curve;
    for (const auto& [s, loss] : r.train_loss) curve.emplace_back(double(s), loss);
    if (first.empty()) {
      first = curve;
    } else {
      double worst = 0;
      for (std::size_t i = 0; i < std::min(first.size(), curve.size()); ++i) {
        worst = std::max(worst, std::abs(curve[i].second - first[i].second) / std::abs(first[i].second));
      }
      const bool ok = worst <= 1e-3 && curve.size() == first.size();
      std::printf("train_run: step %s vs the first run: max relative difference of the train-loss curves %.3g%s\n",
                  r.step.c_str(), worst, a["--check"] == "1" ? (ok ? " -> ok" : " -> DIFFERENT") : "");
      if (a["--check"] == "1" && !ok) status = 1;
    }
    std::fflush(stdout);
  }
  return status;
}

}  // namespace

int main(int argc, char** argv) {
  asaflow::keep_freed_memory();  // as the asaflow executable does
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_run: %s\n", e.what());
    return 2;
  }
}
