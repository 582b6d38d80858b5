// What the built-in command files share: the parsed command line and the helpers that
// turn it into a plugin host, a pipeline and a store. The commands table is in
// commands.cpp; commands that only read (show, dag, completion) are in inspect_commands.cpp.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "asaflow/artifact_store.hpp"
#include "asaflow/executor.hpp"
#include "asaflow/pipeline.hpp"
#include "asaflow/plugin_host.hpp"

namespace asaflow::app {

struct Common {
  std::vector<std::string> positional;
  std::vector<std::string> plugin_dirs;
  std::string cache_dir;
  std::string data_dir;
  std::string pipeline;
  int threads = 0;
  int jobs = 1;
  bool jobs_given = false;  // -j on the command line (an executor's default differs)
  std::string executor;     // --executor: where cells run (default: the pipeline's, else local)
  std::string cell;         // --cell: compute this one cell (an executor's job)
  std::string rank;         // --rank R or slurm: with --cell, this rank of a data-parallel group
  int world_size = 0;       // --world-size W (with --rank R)
  std::string rendezvous;   // --rendezvous HOST:PORT, rank 0's address
  bool quiet = false;
  bool verbose = false;
  bool dry_run = false;
  bool fail_fast = false;
  bool force_downstream = false;
  bool checkpoints = false;  // gc: also remove resumable checkpoints
  std::vector<std::string> force;
  std::vector<std::string> sets;     // NAME=VALUE overrides of the pipeline's vars
  bool json = false;                 // show, runs: machine-readable output
  bool csv = false;                  // runs: one line per run
  std::string sort;                  // runs: the key to sort by (-KEY: descending)
  std::vector<std::string> filters;  // runs: KEY=VALUE (a prefix of the value)
  std::string graph_format;          // dag: dot | mermaid | text
  std::string help;                  // set when -h/--help was given: the command's own help text
};

Common parse(const std::string& command, const std::vector<std::string>& args);
// asaflow run / asaflow status (run_command.cpp).
int cmd_run(const Common& c, bool status_only);
std::string user_cache_dir();
std::string plugin_index_file();
std::unique_ptr<PluginHost> make_host(const Common& c);
// The pipeline argument at `index`, or a ConfigError naming the command's usage.
std::string need_pipeline(const std::string& command, const Common& c, std::size_t index = 0);
Pipeline load(const std::string& file, PluginHost& host, const Common& c);
std::filesystem::path cache_dir_for(const Pipeline& p, const Common& c);
std::filesystem::path cache_dir_from_args(const std::string& command, const Common& c, std::size_t index);
// The built-in command names, for completion and did-you-mean.
std::vector<std::string> command_names();

// When a run started and ended (UTC, ISO 8601) and how long it took.
struct RunRecordTimes {
  std::string started, finished;
  double seconds = 0.0;
  std::int64_t started_ns = 0;  // the system clock, to order runs started within one second
};
// Writes the run's record into the store's runs/ (runs_command.cpp); warns, never throws.
void record_run(const Pipeline& pipeline, const Common& c, const ArtifactStore& store,
                const std::vector<CellReport>& reports, const RunRecordTimes& times, int exit_code,
                const std::string& commit);

int cmd_runs(const Common& c);
int cmd_show(const Common& c);
int cmd_dag(const Common& c);
int cmd_completion(const Common& c);

}  // namespace asaflow::app
