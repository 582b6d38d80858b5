// Runs a Pipeline: cells in topological order, independent ones in parallel (-j), each
// either a verified cache hit or computed under its key's lock into a transaction that is
// committed atomically. A failed cell is a result, not an exception: its dependents are
// skipped and independent branches go on. Observers see every event; progress display and
// logging are observers, not code in here.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "asaflow/error.hpp"
#include "asaflow/export.hpp"
#include "asaflow/pipeline.hpp"
#include "asaflow/progress.hpp"
#include "asaflow/run_info.hpp"
#include "asaflow/stage_context.hpp"

namespace asaflow {

class ArtifactStore;
class PluginHost;

enum class CellState {
  kCached,   // a verified entry exists for the current key
  kStale,    // would run (dry run), reasons say why
  kBlocked,  // dry run: an upstream cell must run first, so its key is not known yet
  kRan,      // computed and committed in this run
  kFailed,   // computed and failed; nothing committed
  kSkipped,  // not run because an upstream cell failed (or --fail-fast)
};
ASAFLOW_API const char* to_string(CellState state);

struct ASAFLOW_API CellReport {
  std::string id;
  CellState state = CellState::kSkipped;
  std::vector<std::string> reasons;  // why it ran / would run / was skipped
  std::string key;
  std::string error;
  ExitCode error_code = ExitCode::kOk;
  double wall_seconds = 0.0;
  double peak_rss_mb = 0.0;
  std::filesystem::path output_dir;
};

class ExecutorComponent;

struct ASAFLOW_API RunOptions {
  int jobs = 1;
  // Where cells that must be computed run: null computes them in this process (local).
  // Otherwise each becomes one job of that executor running `job_command` + `--cell ID`
  // (plus `--force ID` when forced), except cells that run on failed inputs, which are
  // cheap report stages and run here. cell_executor.hpp says what the executor does.
  const ExecutorComponent* executor = nullptr;
  std::vector<std::string> job_command;  // asaflow run PIPELINE with the driver's options
  int default_cpus = 1;
  // `--cell ID`: compute this cell only; any other cell it needs must be a cache hit (what
  // an executor's job runs: the driver has committed its inputs before submitting it).
  std::string only_cell;
  // With only_cell: this process is that rank of a data-parallel group (stage_context.hpp).
  RankPlace rank;
  bool dry_run = false;  // decide only: the status of every cell, nothing computed
  bool fail_fast = false;
  std::vector<std::string> force;  // cell ids or stage names
  bool force_downstream = false;
};

class ASAFLOW_API RunObserver {
 public:
  virtual ~RunObserver();
  virtual void on_cell_decided(const StageCell&, const CellReport&) {}  // cached / stale / ...
  virtual void on_cell_waiting(const StageCell&) {}                     // another process holds its lock
  // `progress` is valid until on_cell_detach for the same cell, which comes before
  // on_cell_end (the stage's context, which owns it, is gone by then).
  virtual void on_cell_start(const StageCell&, const CellReport&, const Progress&) {}
  virtual void on_cell_detach(const StageCell&) {}
  virtual void on_cell_end(const StageCell&, const CellReport&) {}
};

class ASAFLOW_API Executor {
 public:
  Executor(const Pipeline& pipeline, PluginHost& host, ArtifactStore& store, RunInfo run_info);
  void add_observer(RunObserver* observer) { observers_.push_back(observer); }

  // One report per cell, in the pipeline's topological order.
  std::vector<CellReport> run(const RunOptions& options);

  // Overall exit code of a run: 0, or the most severe failure (config/input 2 over stage 1).
  static ExitCode exit_code(const std::vector<CellReport>& reports);

 private:
  struct Impl;
  const Pipeline& pipeline_;
  PluginHost& host_;
  ArtifactStore& store_;
  RunInfo run_info_;
  std::string machine_ = machine_description();  // recorded with every result it computes
  std::vector<RunObserver*> observers_;
};

}  // namespace asaflow
