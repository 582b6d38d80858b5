// The driver's half of running a cell on an executor other than local: where the job's
// files go, what is remembered of the job (job.json, for `asaflow status` and for a
// driver that restarts), and how its end is read: from the store, never from the job.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "asaflow/artifact_store.hpp"
#include "asaflow/cell_executor.hpp"
#include "asaflow/executor.hpp"
#include "asaflow/export.hpp"

namespace asaflow {

// <store>/jobs/<pipeline>/<cell>/<key prefix>/: the executor's files for one cell and key.
ASAFLOW_API std::filesystem::path job_dir(const ArtifactStore& store, const std::string& pipeline,
                                          const std::string& cell_id, const std::string& key);

// What the last driver recorded of a cell's job under `key` (job.json), if anything.
struct ASAFLOW_API JobRecord {
  std::string executor, job_id, state, log, updated;
};
ASAFLOW_API std::optional<JobRecord> load_job_record(const ArtifactStore& store, const std::string& pipeline,
                                                     const std::string& cell_id, const std::string& key);

// The job of `cell` under `key` for the run's executor: its command (`--cell`, `--force`
// when forced), resources and CPUs.
ASAFLOW_API CellJob job_of(const Pipeline& pipeline, const StageCell& cell, const std::string& key, bool forced,
                           const RunOptions& options);

// Runs `job` (its dir, previous job and key set here) on `executor` and returns the
// committed manifest; throws StageError naming the job, its state and its log when the
// cell was not committed. `log` receives one line per change of the job's state.
ASAFLOW_API Manifest compute_remotely(const ExecutorComponent& executor, ArtifactStore& store, CellJob job,
                                      const std::function<void(const std::string&)>& log);

}  // namespace asaflow
