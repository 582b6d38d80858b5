// What the built-in command files share: the parsed command line and the helpers that
// turn it into a plugin host, a pipeline and a store. The commands table is in
// commands.cpp; commands that only read (show, dag, completion) are in inspect_commands.cpp.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

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
  bool quiet = false;
  bool verbose = false;
  bool dry_run = false;
  bool fail_fast = false;
  bool force_downstream = false;
  bool checkpoints = false;  // gc: also remove resumable checkpoints
  std::vector<std::string> force;
  std::vector<std::string> sets;  // NAME=VALUE overrides of the pipeline's vars
  bool json = false;               // show, runs: machine-readable output
  std::string graph_format;        // dag: dot | mermaid | text
  std::string help;               // set when -h/--help was given: the command's own help text
};

Common parse(const std::string& command, const std::vector<std::string>& args);
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

int cmd_show(const Common& c);
int cmd_dag(const Common& c);
int cmd_completion(const Common& c);

}  // namespace asaflow::app
