// The training checkpoint as one type: what a run resumes from besides the weights and the
// optimizer's state. Its fields are listed once (RunState::fields), and save and load both
// walk that list, so a field added to the state is saved and restored, never one of them.
#pragma once

#include <torch/serialize.h>

#include <ATen/core/Generator.h>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "asaflow/model/trainer.hpp"
#include "asaflow/model/transformer.hpp"

namespace asaflow::model {

// Where a run is and what it has measured so far. The TrainResult carries the fields that
// end up in the result (best PPL and its step, the target step, tokens, the curves).
struct RunState {
  std::int64_t step = 0;
  std::int64_t epoch = 0;
  std::int64_t next_batch = 0;  // the next batch of this epoch's order
  // The loss of the steps since the last logged point, as a sum and a count: each point
  // of the curve is their mean (before, the epoch's running mean, which lagged the model
  // by up to an epoch and stepped down at each epoch's start).
  double window_loss_sum = 0;
  std::int64_t window_batches = 0;
  TrainResult result;

  // Training time across restarts: the checkpoint carries the seconds before it, so the
  // throughput of a resumed run counts the whole run (before, only the part after the
  // resume: 1,288 tokens/s reported against 331 uninterrupted). Evaluation is excluded.
  double prior_seconds = 0;
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  double eval_seconds = 0;
  double seconds_so_far() const {
    return prior_seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() -
           eval_seconds;
  }

  // Each saved number as f(name, member); Self is RunState or const RunState.
  template <typename Self, typename F>
  static void fields(Self& s, F&& f) {
    f("step", s.step);
    f("epoch", s.epoch);
    f("next_batch", s.next_batch);
    f("window_loss_sum", s.window_loss_sum);
    f("window_batches", s.window_batches);
    f("best_val_ppl", s.result.best_val_ppl);
    f("best_step", s.result.best_step);
    f("target_step", s.result.target_step);
    f("train_tokens", s.result.train_tokens);
  }
};

// The optimizer's half of a checkpoint: its archive key (each step kind has its own, so a
// checkpoint is never loaded into the other kind of optimizer) and how to write and read it.
struct OptimizerState {
  const char* key;
  const char* other_steps;  // the steps that write the other key, for the message
  std::function<void(torch::serialize::OutputArchive&)> save;
  std::function<void(torch::serialize::InputArchive&)> load;
};

// Removes a checkpoint and its digest.
void remove_with_digest(const std::filesystem::path& file);

// Writes the model, the optimizer, the state and the random generators (`rng`, and where
// `device` is a GPU its default generator) to `file`, with its digest.
void save_checkpoint(const std::filesystem::path& file, const torch::Device& device, AsaTransformer& model,
                     const OptimizerState& optimizer, const RunState& state, at::Generator& rng);
// Restores the model, the optimizer, the state and the random generator from `file`,
// which must be intact(). `device` is where the tensors go; `step_name` names this run's
// step in the message when the checkpoint was written by the other kind of step.
void load_checkpoint(const std::filesystem::path& file, const torch::Device& device, AsaTransformer& model,
                     const OptimizerState& optimizer, const std::string& step_name, RunState& state,
                     at::Generator& rng);

}  // namespace asaflow::model
