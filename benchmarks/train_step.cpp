// Benchmark: one training step of the ASA model (forward, fused loss, backward, clip,
// AdamW), per mode, on synthetic batches (ids, UPOS and feature bits drawn with a fixed
// seed; the cost of dense attention does not depend on the values). Reports the median
// step time over RUNS timed steps after WARMUP steps, tokens/s, and full/none.
//
// usage: train_step [--size tiny] [--batch 4] [--seq 256] [--steps 10] [--warmup 3]
//                   [--threads N] [--device cpu|cuda] [--modes none,full]
#include <ATen/Parallel.h>
#include <torch/cuda.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "asaflow/model/batches.hpp"
#include "asaflow/model/trainer.hpp"
#include "asaflow/nlp/asa_tables.hpp"
#include "modes.hpp"

using namespace asaflow;

namespace {

class ModeCollector : public Registrar {
 public:
  void add(std::shared_ptr<Component> c) override { modes[c->info().name] = c; }
  std::map<std::string, std::shared_ptr<Component>> modes;
};

nlp::PreprocessedSplit synthetic(std::size_t examples, std::size_t length, std::int32_t vocab, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  nlp::PreprocessedSplit s;
  s.max_length = std::uint32_t(length);
  for (std::size_t e = 0; e < examples; ++e) {
    nlp::Example x;
    for (std::size_t t = 0; t < length; ++t) {
      x.ids.push_back(std::int32_t(rng() % std::uint64_t(vocab - 1)));
      x.pos.push_back(std::uint8_t(rng() % 17));
      x.features.push_back(std::uint16_t(rng() % 3 == 0 ? (1u << (rng() % 15)) : 0));
      x.requirements.push_back(std::uint16_t(rng() % 5 == 0 ? (1u << (rng() % 15)) : 0));
      x.word_index.push_back(std::int32_t(t));
    }
    s.examples.push_back(std::move(x));
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> a = {{"--size", "tiny"}, {"--batch", "4"}, {"--seq", "256"}, {"--steps", "10"},
                                          {"--warmup", "3"}, {"--threads", std::to_string(std::thread::hardware_concurrency())},
                                          {"--device", "cpu"}, {"--modes", "none,full"}};
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!a.count(argv[i])) {
      std::fprintf(stderr, "train_step: unknown option %s\n", argv[i]);
      return 2;
    }
    a[argv[i]] = argv[i + 1];
  }
  const int threads = std::atoi(a["--threads"].c_str());
  at::set_num_threads(threads);
  const auto batch = std::atoll(a["--batch"].c_str()), seq = std::atoll(a["--seq"].c_str());
  const int steps = std::atoi(a["--steps"].c_str()), warmup = std::atoi(a["--warmup"].c_str());
  ModeCollector collector;
  plugins::register_modes(collector);
  const auto tables = nlp::AsaTables::load(nlp::AsaTables::default_dir());
  auto p = torch::zeros({17, 17}, torch::kBool);
  for (int i = 0; i < 17; ++i)
    for (int j = 0; j < 17; ++j) p[i][j] = bool(tables.pos_matrix[std::size_t(i)][std::size_t(j)]);
  const auto data = synthetic(std::size_t(batch) * std::size_t(steps + warmup), std::size_t(seq), 50257, 1);
  const auto device = model::Trainer::resolve_device(a["--device"]);

  std::map<std::string, double> median_ms;
  std::stringstream modes(a["--modes"]);
  std::string mode;
  while (std::getline(modes, mode, ',')) {
    auto m = std::dynamic_pointer_cast<model::ModelMode>(collector.modes.at(mode));
    model::TrainOptions o;
    o.device = a["--device"];
    model::Trainer trainer(model::ModelConfig::preset(a["--size"]), o, m, p, data, data, "/tmp/asaflow-train-step-bench");
    std::vector<double> ms;
    for (int s = 0; s < warmup + steps; ++s) {
      std::vector<std::size_t> idx;
      for (std::int64_t i = 0; i < batch; ++i) idx.push_back(std::size_t(s * batch + i));
      auto b = model::make_batch(data, idx, model::BatchOptions{false, 50256}, device);
      if (device.is_cuda()) torch::cuda::synchronize();
      const auto t0 = std::chrono::steady_clock::now();
      trainer.train_step(b, 3e-4);
      if (device.is_cuda()) torch::cuda::synchronize();
      const double elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (s >= warmup) ms.push_back(elapsed);
    }
    std::sort(ms.begin(), ms.end());
    median_ms[mode] = ms[ms.size() / 2];
    std::printf("train_step: asaflow %s %s batch %lld seq %lld, %d threads, %s: median %.1f ms/step (min %.1f, max %.1f), "
                "%.0f tokens/s\n",
                a["--size"].c_str(), mode.c_str(), static_cast<long long>(batch), static_cast<long long>(seq), threads,
                device.str().c_str(), median_ms[mode], ms.front(), ms.back(), double(batch * seq) / (median_ms[mode] / 1000.0));
  }
  if (median_ms.count("none") && median_ms.count("full")) {
    std::printf("train_step: full/none = %.3f (goal <= 1.05; the reference: 1.40)\n", median_ms["full"] / median_ms["none"]);
  }
  return 0;
}
