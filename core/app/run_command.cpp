// asaflow run and asaflow status: a pipeline (or its targets and their ancestors) through
// the Executor, locally or with each cell that must be computed as a job of an executor
// plugin (--executor, or the pipeline's `executor:`). Also `--cell ID`, what such a job
// runs: exactly one cell, against the store its driver shares with it.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <iostream>

#include "asaflow/artifact_store.hpp"
#include "asaflow/cell_executor.hpp"
#include "asaflow/error.hpp"
#include "asaflow/executor.hpp"
#include "asaflow/pipeline.hpp"
#include "asaflow/plugin_host.hpp"
#include "asaflow/publish.hpp"
#include "asaflow/remote_cell.hpp"
#include "asaflow/text_util.hpp"
#include "command_support.hpp"
#include "observers.hpp"

namespace fs = std::filesystem;

namespace asaflow::app {
namespace {

// The command an executor's job runs for a cell (the executor appends --cell, --force and
// --threads): this asaflow, by absolute path, on the same pipeline file and store with the
// driver's variables, plugin and data directories, so that the node computes the same key.
std::vector<std::string> job_command(const Pipeline& pipeline, const ArtifactStore& store, const Common& c) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw StageError("cannot find this asaflow's executable (/proc/self/exe): " + ec.message());
  std::vector<std::string> argv = {self.string(),
                                   "run",
                                   pipeline.file.string(),
                                   "--cache-dir",
                                   fs::absolute(store.root()).string(),
                                   "--data-dir",
                                   fs::absolute(c.data_dir).string(),
                                   "--executor",
                                   "local"};
  for (const auto& d : c.plugin_dirs) argv.insert(argv.end(), {"--plugin-dir", fs::absolute(d).string()});
  for (const auto& s : c.sets) argv.insert(argv.end(), {"--set", s});
  if (c.verbose) argv.push_back("--verbose");
  return argv;
}

// ", slurm job 123 RUNNING" for a cell whose job a driver submitted under `key` and the
// scheduler still knows, else "".
std::string job_note(PluginHost& host, const ArtifactStore& store, const Pipeline& pipeline, const CellReport& r) {
  if (r.key.empty()) return "";
  const auto record = load_job_record(store, pipeline.name, r.id, r.key);
  if (!record || record->executor.empty()) return "";
  const ComponentEntry* entry = host.find("executor", record->executor);
  if (!entry) return "";
  auto executor = std::dynamic_pointer_cast<ExecutorComponent>(host.instantiate(*entry));
  const std::string state = executor ? executor->job_state(record->job_id) : "";
  if (state.empty()) return "";
  return " (" + record->executor + " job " + record->job_id + " " + state + ", its files in " +
         job_dir(store, pipeline.name, r.id, r.key).string() + ")";
}

// The data-parallel place --rank, --world-size and --rendezvous give (or, with --rank
// slurm, srun's SLURM_PROCID and SLURM_NTASKS and the job script's ASAFLOW_RENDEZVOUS).
RankPlace rank_place(const Common& c) {
  RankPlace place;
  if (c.rank.empty()) return place;
  if (c.cell.empty()) throw ConfigError("asaflow run: --rank needs --cell (the cell this process is a rank of)");
  auto env_int = [](const char* name) {
    const char* v = std::getenv(name);
    if (!v || !*v || std::string(v).find_first_not_of("0123456789") != std::string::npos)
      throw ConfigError(std::string("asaflow run --rank slurm: ") + name + " is not set: run it under srun");
    return std::stoi(v);
  };
  std::string rendezvous = c.rendezvous;
  if (c.rank == "slurm") {
    place.rank = env_int("SLURM_PROCID");
    place.world_size = env_int("SLURM_NTASKS");
    if (rendezvous.empty() && std::getenv("ASAFLOW_RENDEZVOUS")) rendezvous = std::getenv("ASAFLOW_RENDEZVOUS");
  } else {
    if (c.rank.find_first_not_of("0123456789") != std::string::npos || c.rank.size() > 6)
      throw ConfigError("asaflow run: --rank must be a number or slurm, got '" + c.rank + "'");
    place.rank = std::stoi(c.rank);
    place.world_size = c.world_size;
  }
  if (place.world_size < 1 || place.rank >= place.world_size) {
    throw ConfigError("asaflow run: rank " + std::to_string(place.rank) + " of world size " +
                      std::to_string(place.world_size) + " (--world-size) is not a place in a group");
  }
  const auto colon = rendezvous.rfind(':');
  const std::string port = colon == std::string::npos ? "" : rendezvous.substr(colon + 1);
  if (colon == 0 || port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    throw ConfigError("asaflow run: --rendezvous must be HOST:PORT, got '" + rendezvous + "'");
  place.host = rendezvous.substr(0, colon);
  place.port = std::stoi(port);
  return place;
}

}  // namespace

// run and status share one path: status is a dry run that prints each cell's state and
// why. A run records itself in the runs index (record_run) whatever its outcome, so a
// failed run can be found and compared later.
int cmd_run(const Common& c, bool status_only) {
  const std::string command = status_only ? "status" : "run";
  auto start = std::chrono::steady_clock::now();
  auto host = make_host(c);
  if (c.positional.empty()) {
    throw ConfigError("asaflow " + command + ": missing the pipeline file (asaflow " + command +
                      " PIPELINE.yaml [TARGET...])");
  }
  Pipeline pipeline = load(c.positional[0], *host, c);
  // Targets (stage names or cell ids) narrow the run to them and their ancestors.
  std::vector<std::string> targets(c.positional.begin() + 1, c.positional.end());
  if (!c.cell.empty()) {
    if (!pipeline.find_cell(c.cell)) {
      select_targets(pipeline, {c.cell});  // throws the did-you-mean
      throw ConfigError("asaflow run: --cell '" + c.cell + "' names a stage, not one of its cells");
    }
    targets = {c.cell};
  }
  if (!targets.empty()) pipeline = select_targets(pipeline, targets);
  ArtifactStore store(cache_dir_for(pipeline, c));
  // Where cells run: --executor, else the pipeline's `executor:`, else here. A --cell run
  // is an executor's job: always here.
  std::shared_ptr<ExecutorComponent> remote;
  const std::string executor_name = !c.cell.empty()             ? "local"
                                    : !c.executor.empty()       ? c.executor
                                    : pipeline.executor.empty() ? "local"
                                                                : pipeline.executor;
  if (executor_name != "local") {
    remote = std::dynamic_pointer_cast<ExecutorComponent>(host->instantiate(host->require("executor", executor_name)));
    if (!remote) throw PluginError("executor/" + executor_name + " is not an executor: rebuild its plugin");
  }
  Executor executor(pipeline, *host, store, RunInfo::collect(c.threads, c.data_dir, pipeline.dir.string()));
  LogObserver log_observer;
  std::unique_ptr<ProgressObserver> progress;
  RunOptions options;
  options.jobs = c.jobs;
  options.dry_run = c.dry_run || status_only;
  options.fail_fast = c.fail_fast;
  options.force = c.force;
  options.force_downstream = c.force_downstream;
  options.only_cell = c.cell;
  options.rank = rank_place(c);
  options.job_command = job_command(pipeline, store, c);  // also how a stage starts more ranks
  if (remote) {
    options.executor = remote.get();
    options.jobs = c.jobs_given ? c.jobs : 100;
    options.default_cpus = c.threads;
    if (!options.dry_run) catch_interruptions();  // cancel the jobs, not just this process
  }
  PublishObserver publisher(pipeline, store);
  if (!options.dry_run) {
    executor.add_observer(&log_observer);
    if (c.cell.empty()) executor.add_observer(&publisher);  // the driver publishes, not its jobs
    if (!c.quiet) {
      progress = std::make_unique<ProgressObserver>();
      executor.add_observer(progress.get());
    }
  }
  const std::string started = utc_timestamp();
  const std::int64_t started_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  std::vector<CellReport> reports = executor.run(options);
  progress.reset();

  if (options.dry_run) {
    for (const auto& r : reports) {
      std::string state = to_string(r.state);
      if (r.state == CellState::kStale && r.reasons.size() == 1 && r.reasons[0] == "never run") state = "never run";
      std::string line = state;
      line.resize(std::max<std::size_t>(line.size(), 10), ' ');
      line += r.id;
      if (r.state == CellState::kFailed)
        line += ": " + r.error;
      else if (r.state != CellState::kCached && !(state == "never run"))
        line += ": " + join(r.reasons, "; ");
      if (r.state == CellState::kStale) line += job_note(*host, store, pipeline, r);
      std::cout << line << "\n";
    }
    return int(Executor::exit_code(reports));
  }

  std::map<std::string, int> counts;
  for (const auto& r : reports) counts[to_string(r.state)]++;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char summary[256];
  std::snprintf(summary, sizeof summary, "pipeline '%s': %zu stages: %d ran, %d cached, %d failed, %d skipped (%.2f s)",
                pipeline.name.c_str(), reports.size(), counts["ran"], counts["cached"], counts["FAILED"],
                counts["skipped"], seconds);
  std::cout << summary << "\n";
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& cell = pipeline.cells[i];
    if (cell.component->info.kind != "reporter" || reports[i].output_dir.empty()) continue;
    for (const auto& e : fs::directory_iterator(reports[i].output_dir)) {
      if (e.path().filename() == "results.json") continue;
      const fs::path published = publish_target(pipeline.stages[cell.stage], cell);
      std::cout << "report: " << file_url(published.empty() ? e.path() : published / e.path().filename()) << "\n";
    }
  }
  for (const auto& r : reports) {
    if (r.state == CellState::kFailed) std::cerr << "error: stage " << r.id << " failed: " << r.error << "\n";
  }
  const auto publish_errors = publisher.errors();
  for (const auto& e : publish_errors) std::cerr << "error: " << e << "\n";
  int code = int(Executor::exit_code(reports));
  if (code == 0 && !publish_errors.empty()) code = int(ExitCode::kStageFailed);
  if (remote && interruption_flag().load()) {
    std::cerr << "interrupted: the running " << executor_name
              << " jobs were cancelled; committed cells are kept, rerun to go on\n";
    code = 130;  // as a shell reports SIGINT
  }
  if (!c.cell.empty()) return code;  // a job's run: its driver records the run
  // The user's repository (where the pipeline lives), not asaflow's: "" outside git.
  record_run(pipeline, c, store, reports, RunRecordTimes{started, utc_timestamp(), seconds, started_ns}, code,
             git_commit(pipeline.dir.string()));
  return code;
}

}  // namespace asaflow::app
