// Everything a running stage sees, split into what it reads (its validated parameters, the
// artifacts of the stages it needs, each a directory plus that stage's typed results, the
// run's facts) and what it writes (a private output directory that the host commits
// atomically when the stage succeeds, its results, its named logger, a progress counter).
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "asaflow/component.hpp"
#include "asaflow/error.hpp"
#include "asaflow/export.hpp"
#include "asaflow/params.hpp"
#include "asaflow/progress.hpp"
#include "asaflow/results.hpp"
#include "asaflow/run_info.hpp"

namespace spdlog {
class logger;
}

namespace asaflow {

// One upstream stage's committed output.
struct ASAFLOW_API InputArtifact {
  std::string stage_id;    // cell id, e.g. "train[mode=full,seed=1]"
  std::string stage_name;  // "train"
  std::string component;   // "metric/corpus_stats"
  std::string component_version;
  std::map<std::string, std::string> matrix;  // this cell's matrix values
  std::string params_json;                    // canonical params, for reports
  std::string cache_key;
  std::filesystem::path dir;  // read-only output directory
  ResultSet results;
  double wall_seconds = 0.0;
  double peak_rss_mb = 0.0;
};

// The machine that computed `in` as its record says (machine_description() there), or ""
// when the record predates machines or `in` is not a committed store entry. Two machines can
// give different bits for one cache key, so a comparison reads where its inputs came from.
ASAFLOW_API std::string input_machine(const InputArtifact& in);

// A needed stage that failed or was skipped (only for components that accept them).
struct ASAFLOW_API FailedInput {
  std::string stage_id;
  std::string component;
  std::string reason;
};

// Where a process stands when it computes a cell as one rank of a data-parallel group
// (asaflow run --cell C --rank R --world-size W --rendezvous HOST:PORT, or under srun):
// world_size 0 when it was not started as one.
struct ASAFLOW_API RankPlace {
  int rank = 0;
  int world_size = 0;
  std::string host;  // rank 0's address
  int port = 0;
};

// What a stage reads: set by the host before the stage runs, read-only to it (a stage
// cannot, say, reassign its own cache key).
struct ASAFLOW_API StageInputs {
  std::string pipeline_name;
  std::string stage_id;
  std::string stage_name;
  std::filesystem::path pipeline_dir;  // relative paths in params resolve against it
  Params params;
  std::vector<InputArtifact> inputs;
  std::vector<FailedInput> failed_inputs;
  RunInfo run_info;
  std::string cache_key;
  RankPlace rank;
  // The argv that computes this cell in another process (asaflow run PIPELINE --cell ID
  // with this run's options), for a stage that starts its own ranks: it appends --rank R
  // --world-size W --rendezvous HOST:PORT. Empty when the run does not know it.
  std::vector<std::string> cell_command;
  // The live component of another kind by name, e.g. ("model_mode", "full"). Throws
  // ConfigError (unknown, with did-you-mean) or PluginError.
  std::function<std::shared_ptr<class Component>(const std::string& kind, const std::string& name)> resolve;
  // resolve(), checked: the component as T (e.g. model::ModelMode), or PluginError naming
  // both types when the library provides something else under that name.
  template <typename T>
  std::shared_ptr<T> resolve_as(const std::string& kind, const std::string& name) const {
    std::shared_ptr<Component> c = resolve(kind, name);
    if (auto typed = std::dynamic_pointer_cast<T>(c)) return typed;
    const Component* raw = c.get();  // typeid(*c) would call shared_ptr's operator* inside typeid
    throw PluginError(kind + "/" + name + " is a " + (raw ? type_name(typeid(*raw)) : std::string("null component")) +
                      ", not the " + type_name(typeid(T)) +
                      " this stage needs: rebuild its plugin against this asaflow");
  }

  // Inputs produced by stages of this component kind ("dataset", "metric"...).
  std::vector<const InputArtifact*> inputs_of_kind(const std::string& kind) const;
};

// What a stage writes: files into the directories the host chose (the paths themselves
// are fixed), its figures into results, its log and its progress.
struct ASAFLOW_API StageOutputs {
  // Private to this run of the stage; the host commits it atomically when the stage succeeds.
  std::filesystem::path dir;
  // A directory that survives a crash of this stage (same key): checkpoints to resume
  // from. The host deletes it once the stage's output is committed.
  std::filesystem::path resume_dir;
  // A directory for what people watch while the stage runs (live training curves), kept
  // after it, never an output: <store>/logs/<pipeline>/<cell>/<key prefix>/. Created.
  std::filesystem::path live_dir;
  std::shared_ptr<spdlog::logger> log;
  Progress progress;
  ResultSet results;
};

// Everything a running stage sees: `in`, read-only, and `out`, what it writes (the host
// fills out's directories and logger before the stage runs).
struct ASAFLOW_API StageContext {
  explicit StageContext(StageInputs inputs) : in(std::move(inputs)) {}
  const StageInputs in;
  StageOutputs out;
};

}  // namespace asaflow
