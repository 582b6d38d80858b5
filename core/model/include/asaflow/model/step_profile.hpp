// The profile stage's measurement as a library function: one training step split into its
// phases (bonding-mask construction, forward with the fused loss, backward, clip + AdamW),
// each bracketed by device synchronisation, over `repeats` steps after `warmup` untimed
// ones, on synthetic batches. The stage (plugins/analysis/profile.cpp) and the stand-alone
// benchmarks/profile_steps tool, which runs where the asaflow executable cannot be built
// (README "Building on a CUDA machine"), both call it, so they measure the same thing.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <vector>

#include "asaflow/model/model_config.hpp"
#include "asaflow/model/model_mode.hpp"
#include "asaflow/nlp/preprocessed.hpp"

namespace asaflow::model {

// `examples` examples of `length` tokens drawn with `seed`: ids below the GPT-2 vocabulary,
// UPOS ids, and sparse feature and requirement bits. The cost of dense attention does not
// depend on the values; the bonding mask's blocked share is close to real text's.
nlp::PreprocessedSplit synthetic_split(std::size_t examples, std::size_t length, std::uint64_t seed);

struct StepProfile {
  std::vector<double> mask_ms, forward_ms, backward_ms, optimizer_ms, step_ms;  // one per timed step
  double peak_memory_mb = 0;  // model::peak_memory_mb over all the steps, warm-up included
};

struct StepProfileOptions {
  std::int64_t batch = 4;
  std::int64_t seq_len = 128;
  int warmup = 2;
  int repeats = 5;
};

// A fresh model of `config` (seed 1, max_len raised to seq_len) on `device`, trained with
// AdamW (lr 3e-4, weight decay 0.1) and clip 1.0 on synthetic batches of seq_len tokens.
// `pos_matrix` must be on `device`. `on_step` is called after every step (progress).
StepProfile profile_steps(ModelConfig config, const ModelMode& mode, const torch::Tensor& pos_matrix,
                          const StepProfileOptions& options, const torch::Device& device,
                          const std::function<void()>& on_step = {});

// Several modes timed alternately in one process: step r runs every mode once, in the
// given order on even r and reversed on odd r (ABBA), so that load on the machine, clock
// changes and warm caches fall on every mode alike. Each mode has its own model and
// optimizer (built as profile_steps builds them) and the same synthetic batches. One
// StepProfile per mode, in the order of `modes`; peak memory is per mode on a GPU and the
// process's peak (all models resident) on the CPU.
std::vector<StepProfile> profile_interleaved(const ModelConfig& config, const std::vector<const ModelMode*>& modes,
                                             const torch::Tensor& pos_matrix, const StepProfileOptions& options,
                                             const torch::Device& device, const std::function<void()>& on_step = {});

// The median of a series (0 for an empty one), and its sample standard deviation (0 below
// two values).
double median_of(std::vector<double> values);
double sample_sd(const std::vector<double>& values);

}  // namespace asaflow::model
