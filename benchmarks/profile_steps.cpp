// Benchmark: the profile stage's measurement (model::profile_steps) without the asaflow
// executable, for a machine where the engine cannot be built (README "Building on a CUDA
// machine"). Per mode and sequence length: median bonding-mask, forward, backward and
// optimizer times, step time, tokens/s and peak memory (the CUDA caching allocator's
// allocated bytes on a GPU, RSS on the CPU), one line each, as the stage logs them.
//
// usage: profile_steps [--size tiny] [--batch 4] [--seqs 128,256,512,1024,2048]
//                      [--warmup 2] [--repeats 5] [--threads N] [--device cpu|cuda]
//                      [--modes none,full]
#include <ATen/Parallel.h>

#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "asaflow/memory_usage.hpp"
#include "asaflow/model/attention_bias.hpp"
#include "asaflow/model/device_memory.hpp"
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
                                            {"--seqs", "128,256,512,1024,2048"},
                                            {"--warmup", "2"},
                                            {"--repeats", "5"},
                                            {"--threads", std::to_string(std::thread::hardware_concurrency())},
                                            {"--device", "cpu"},
                                            {"--modes", "none,full"}},
                                           "profile_steps");
  if (!parsed) return 2;
  auto a = *parsed;
  const int threads = std::stoi(a["--threads"]);
  at::set_num_threads(threads);
  const auto device = model::Trainer::resolve_device(model::parse_choice<model::DeviceChoice>(a["--device"], "device"));
  const auto pos_matrix = model::pos_matrix_tensor(nlp::AsaTables::load(nlp::AsaTables::default_dir())).to(device);
  const auto modes = plugins::all_modes();
  for (const auto& mode_name : bench::split_list(a["--modes"])) {
    const auto found = modes.find(mode_name);
    if (found == modes.end()) {
      std::fprintf(stderr, "profile_steps: unknown mode '%s' (none, pos_only, features_only, full)\n",
                   mode_name.c_str());
      return 2;
    }
    for (const auto& seq : bench::split_list(a["--seqs"])) {
      const model::StepProfileOptions o{std::stoll(a["--batch"]), std::stoll(seq), std::stoi(a["--warmup"]),
                                        std::stoi(a["--repeats"])};
      const auto p =
          model::profile_steps(model::ModelConfig::preset(a["--size"]), *found->second, pos_matrix, o, device);
      const double step = model::median_of(p.step_ms);
      std::printf(
          "profile_steps: %s %s batch %lld seq %lld, %d threads, %s: step %.2f ms (mask %.3f, forward %.2f, "
          "backward %.2f, optimizer %.2f; sd of step %.2f, n %zu), %.0f tokens/s, peak %s %.0f MB\n",
          a["--size"].c_str(), mode_name.c_str(), static_cast<long long>(o.batch), static_cast<long long>(o.seq_len),
          threads, device.str().c_str(), step, model::median_of(p.mask_ms), model::median_of(p.forward_ms),
          model::median_of(p.backward_ms), model::median_of(p.optimizer_ms), model::sample_sd(p.step_ms),
          p.step_ms.size(), double(o.batch * o.seq_len) / (step / 1000.0), model::peak_memory_kind(device),
          p.peak_memory_mb);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  asaflow::keep_freed_memory();  // as the asaflow executable does
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "profile_steps: %s\n", e.what());
    return 2;
  }
}
