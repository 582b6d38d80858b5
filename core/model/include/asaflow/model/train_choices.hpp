// The training run's named choices (preset, step, device, schedule) as enum classes, with the one
// table of names each: the train stage's parameter binding, the benchmarks' command lines
// and the result labels all read their names from here, so a name is parsed in one place.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "asaflow/error.hpp"

namespace asaflow::model {

// faithful reproduces the reference's loss/PPL/optimizer quirks; corrected fixes them
// (trainer.hpp says which).
enum class Preset { kCorrected, kFaithful };
// How each optimizer step runs (TrainOptions::step).
enum class StepKind { kAuto, kEager, kStatic, kGraph };
// Where: kAuto is CUDA when a device is available, else the CPU.
enum class DeviceChoice { kAuto, kCpu, kCuda };

// The precision of the output layer's three products in the fused loss (lm_loss.hpp):
// float32; on a CPU bfloat16 operands with float32 accumulation (AMX or AVX512-BF16); on a
// CUDA device TF32 (tensor cores: operands rounded to 10 mantissa bits, float32 sums).
enum class OutputPrecision { kFloat32, kBFloat16, kTF32 };

// The learning rate after warmup (TrainOptions::schedule): a cosine decay to 0 at the last
// step, or constant. Under a shared cosine decay every arm's curve is bent by the same
// schedule towards the same last step; a constant rate is what a comparison of convergence
// speed (steps to a PPL) needs.
enum class LrSchedule { kCosine, kConstant };

template <typename Enum>
using NamedValues = std::vector<std::pair<std::string, Enum>>;

// The tables, found by the enum's type (the argument only selects the overload).
inline const NamedValues<Preset>& names_of(Preset) {
  static const NamedValues<Preset> n = {{"faithful", Preset::kFaithful}, {"corrected", Preset::kCorrected}};
  return n;
}
inline const NamedValues<StepKind>& names_of(StepKind) {
  static const NamedValues<StepKind> n = {{"auto", StepKind::kAuto},
                                          {"eager", StepKind::kEager},
                                          {"static", StepKind::kStatic},
                                          {"graph", StepKind::kGraph}};
  return n;
}
inline const NamedValues<DeviceChoice>& names_of(DeviceChoice) {
  static const NamedValues<DeviceChoice> n = {
      {"auto", DeviceChoice::kAuto}, {"cpu", DeviceChoice::kCpu}, {"cuda", DeviceChoice::kCuda}};
  return n;
}

inline const NamedValues<OutputPrecision>& names_of(OutputPrecision) {
  static const NamedValues<OutputPrecision> n = {{"float32", OutputPrecision::kFloat32},
                                                 {"bfloat16", OutputPrecision::kBFloat16},
                                                 {"tf32", OutputPrecision::kTF32}};
  return n;
}

inline const NamedValues<LrSchedule>& names_of(LrSchedule) {
  static const NamedValues<LrSchedule> n = {{"cosine", LrSchedule::kCosine}, {"constant", LrSchedule::kConstant}};
  return n;
}

template <typename Enum>
std::string name_of(Enum value) {
  for (const auto& [text, v] : names_of(Enum{}))
    if (v == value) return text;
  throw InternalError("an enumerator without a name");
}

// `what` names the choice in the error: "unknown step 'fast'; steps: auto, eager, static, graph".
template <typename Enum>
Enum parse_choice(const std::string& text, const std::string& what) {
  std::string known;
  for (const auto& [t, v] : names_of(Enum{})) {
    if (t == text) return v;
    known += (known.empty() ? "" : ", ") + t;
  }
  throw ConfigError("unknown " + what + " '" + text + "'; " + what + "s: " + known);
}

}  // namespace asaflow::model
