// Benchmark: one training step of the ASA model (forward, fused loss, backward, clip,
// AdamW), per mode, on synthetic batches (ids, UPOS and feature bits drawn with a fixed
// seed; the cost of dense attention does not depend on the values). Reports the median
// step time over STEPS timed steps after WARMUP steps, tokens/s, and full/none.
//
// --impl eager:  Trainer::train_step, the step training runs;
//        static: StaticStep without a graph (device scalars, no host reads);
//        graph:  StaticStep captured in a CUDA graph and replayed (CUDA builds only).
// --check 1: instead of timing, runs eager and --impl side by side from the same weights
//   with dropout off for STEPS steps, prints the largest loss and weight differences and
//   exits 1 when they exceed 1e-3 (relative): the correctness check of a graph on a GPU.
// --tf32 1: let CUDA matrix products use TF32 (torch's "high" float32 matmul precision).
//
// usage: train_step [--size tiny] [--batch 4] [--seq 256] [--steps 10] [--warmup 3]
//                   [--threads N] [--device cpu|cuda] [--modes none,full]
//                   [--impl eager|static|graph] [--check 0|1] [--tf32 0|1] [--chunk ROWS]
//                   [--trace FILE] [--precision float32|bfloat16]
// --precision bfloat16: the output layer's products with bfloat16 operands (a CPU with
//   AVX512-BF16 or AMX; the train stage's output_precision).
// --trace FILE: LibTorch's profiler over the timed steps of the last mode, written as a
//   Chrome trace (benchmarks/trace_ops.py sums each op's own time from it); the profiler's
//   own cost is in those steps' times.
#include <ATen/Context.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/profiler_legacy.h>
#include <torch/cuda.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "asaflow/memory_usage.hpp"
#include "asaflow/model/cpu_gemm.hpp"
#include "asaflow/model/online_softmax.hpp"
#include "asaflow/model/batches.hpp"
#include "asaflow/model/device_memory.hpp"
#include "asaflow/model/static_step.hpp"
#include "asaflow/model/step_profile.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "bench_options.hpp"
#include "modes.hpp"

using namespace asaflow;

int run(int argc, char** argv) {
  const auto parsed = bench::parse_options(argc, argv,
                                           {{"--size", "tiny"},
                                            {"--batch", "4"},
                                            {"--seq", "256"},
                                            {"--steps", "10"},
                                            {"--warmup", "3"},
                                            {"--threads", std::to_string(std::thread::hardware_concurrency())},
                                            {"--device", "cpu"},
                                            {"--modes", "none,full"},
                                            {"--impl", "eager"},
                                            {"--check", "0"},
                                            {"--tf32", "0"},
                                            {"--chunk", "0"},
                                            {"--trace", ""},
                                            {"--precision", "float32"},
                                            {"--allocator", "keep"}},
                                           "train_step");
  if (!parsed) return 2;
  auto a = *parsed;
  // keep: the allocator policy the asaflow executable sets (keep_freed_memory); glibc:
  // glibc's own dynamic policy, for a side-by-side measurement of what keeping changes.
  const std::string allocator = a["--allocator"];
  if (allocator != "keep" && allocator != "glibc") {
    std::fprintf(stderr, "train_step: --allocator must be keep or glibc, not %s\n", allocator.c_str());
    return 2;
  }
  const bool kept = allocator == "keep" && keep_freed_memory();
  const std::string impl = a["--impl"];
  if (impl != "eager" && impl != "static" && impl != "graph") {
    std::fprintf(stderr, "train_step: --impl must be eager, static or graph, not %s\n", impl.c_str());
    return 2;
  }
  const int threads = std::atoi(a["--threads"].c_str());
  at::set_num_threads(threads);
  if (a["--tf32"] == "1") at::globalContext().setFloat32MatmulPrecision("high");
  const auto batch = std::atoll(a["--batch"].c_str()), seq = std::atoll(a["--seq"].c_str());
  const int steps = std::atoi(a["--steps"].c_str()), warmup = std::atoi(a["--warmup"].c_str());
  const bool check = a["--check"] == "1";
  const auto all_modes = plugins::all_modes();
  const auto p = model::pos_matrix_tensor(nlp::AsaTables::load(nlp::AsaTables::default_dir()));
  const auto data = model::synthetic_split(std::size_t(batch) * std::size_t(steps + warmup), std::size_t(seq), 1);
  const auto device = model::Trainer::resolve_device(model::parse_choice<model::DeviceChoice>(a["--device"], "device"));
  auto config = model::ModelConfig::preset(a["--size"]);
  config.max_len = std::max<std::int64_t>(config.max_len, seq);
  if (check) config.dropout = 0;  // both sides see the same computation
  model::TrainOptions o;
  o.device = model::parse_choice<model::DeviceChoice>(a["--device"], "device");
  o.loss_chunk_rows = std::atoll(a["--chunk"].c_str());
  o.output_precision = model::parse_choice<model::OutputPrecision>(a["--precision"], "precision");
  auto batch_at = [&](int s) {
    std::vector<std::size_t> idx;
    for (std::int64_t i = 0; i < batch; ++i) idx.push_back(std::size_t(s * batch + i));
    return model::make_batch(data, idx, model::BatchOptions{false, config.pad_id}, device);
  };
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };

  std::map<std::string, double> median_ms;
  int status = 0;
  for (const auto& mode : bench::split_list(a["--modes"])) {
    if (!all_modes.count(mode)) {
      std::fprintf(stderr, "train_step: unknown mode '%s' (none, pos_only, features_only, full)\n", mode.c_str());
      return 2;
    }
    const auto m = all_modes.at(mode);
    model::Trainer trainer(config, o, m, p.to(device), data, data, "/tmp/asaflow-train-step-bench");
    std::unique_ptr<model::StaticStep> fast;
    model::AsaTransformer twin_model{nullptr};
    if (impl != "eager" || check) {
      model::Trainer twin(config, o, m, p.to(device), data, data,
                          "/tmp/asaflow-train-step-bench");  // same seed: same init
      twin_model = twin.model();
      fast = std::make_unique<model::StaticStep>(twin_model, m, p.to(device), o, impl == "graph", warmup);
    }
    if (check) {
      double worst_loss = 0;
      for (int s = 0; s < warmup + steps; ++s) {
        auto b = batch_at(s);
        const double eager = trainer.train_step(b, 3e-4);
        const double other = fast->step(b, 3e-4).item<double>();
        worst_loss = std::max(worst_loss, std::abs(eager - other) / std::max(1.0, std::abs(eager)));
      }
      // Every weight but the key projections' biases: those cannot change a softmax, so their
      // gradient is rounding noise (atomic adds on a GPU differ run to run) that AdamW turns
      // into steps of about lr in random directions.
      double worst_weight = 0;
      auto reference = trainer.model()->named_parameters(), stepped = twin_model->named_parameters();
      for (const auto& item : reference) {
        if (item.key().find("attn.k.bias") != std::string::npos) continue;
        const double scale = std::max(1.0, item.value().abs().max().item<double>());
        worst_weight = std::max(worst_weight, (item.value() - stepped[item.key()]).abs().max().item<double>() / scale);
      }
      const bool pass = worst_loss <= 1e-3 && worst_weight <= 1e-3;
      std::printf(
          "train_step check: %s %s vs eager, %d steps on %s%s: max relative difference of losses %.3g, "
          "of weights %.3g -> %s\n",
          mode.c_str(), impl.c_str(), warmup + steps, device.str().c_str(), fast->graphed() ? " (graph replayed)" : "",
          worst_loss, worst_weight, pass ? "ok" : "FAILED");
      if (!pass) status = 1;
      continue;
    }
    std::vector<double> ms;
    model::reset_peak_memory(device);
    std::unique_ptr<torch::autograd::profiler::RecordProfile> trace;
    for (int s = 0; s < warmup + steps; ++s) {
      auto b = batch_at(s);
      if (s == warmup && !a["--trace"].empty())
        trace = std::make_unique<torch::autograd::profiler::RecordProfile>(a["--trace"]);
      sync();
      const auto t0 = std::chrono::steady_clock::now();
      if (fast)
        fast->step(b, 3e-4);
      else
        trainer.train_step(b, 3e-4);
      sync();
      const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (s >= warmup) ms.push_back(elapsed);
    }
    trace.reset();  // writes the file
    std::sort(ms.begin(), ms.end());
    median_ms[mode] = ms[ms.size() / 2];
    std::string chunk = a["--chunk"] == "0" ? "" : ", loss chunk " + a["--chunk"];
    if (!kept && !device.is_cuda()) chunk += ", glibc malloc policy";
    if (!device.is_cuda() && a["--chunk"] == "0")
      chunk += ", loss products: " +
               (o.output_precision == model::OutputPrecision::kBFloat16 ? model::bf16_products_backend()
                                                                        : model::cpu_gemm_backend()) +
               ", other products: " + model::cpu_gemm_backend();
    if (!device.is_cuda())
      chunk += ", " + std::to_string(model::cpu_kernel_threads()) + " thread(s) in asaflow's " +
               model::name_of(model::cpu_kernel_isa()) + " kernels";
    std::printf(
        "train_step: asaflow %s %s %s batch %lld seq %lld, %d threads, %s%s%s: median %.2f ms/step (min %.2f, max "
        "%.2f), "
        "%.0f tokens/s, peak %s %.0f MB\n",
        impl.c_str(), a["--size"].c_str(), mode.c_str(), static_cast<long long>(batch), static_cast<long long>(seq),
        threads, device.str().c_str(), a["--tf32"] == "1" ? ", tf32" : "", chunk.c_str(), median_ms[mode], ms.front(),
        ms.back(), double(batch * seq) / (median_ms[mode] / 1000.0), model::peak_memory_kind(device),
        model::peak_memory_mb(device));
  }
  if (median_ms.count("none") && median_ms.count("full")) {
    std::printf("train_step: full/none = %.3f (goal <= 1.05; the reference: 1.40)\n",
                median_ms["full"] / median_ms["none"]);
  }
  return status;
}

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "train_step: %s\n", e.what());
    return 2;
  }
}
