// Executors: where a cell that must be computed runs (plugin kind "executor"). The driver,
// asaflow's Executor, keeps everything that decides results: the DAG, the cache keys and
// the store. An executor only receives a ready cell, whose inputs are all committed, as a
// command line that computes exactly that cell against the same store (`asaflow run
// PIPELINE --cell ID ...`), runs it somewhere (a Slurm batch job, say) and returns once
// it has ended. The driver then reads the outcome from the store itself: a cell counts as
// computed only when its entry is committed there, under the key the driver computed. So
// nothing about the executor enters a cache key, and a cell computed by one executor is a
// cache hit for every other.
//
// `local` (built in) means "in this process", today's behaviour: the driver computes the
// cell itself and never calls an executor.
#pragma once

#include <atomic>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "asaflow/component.hpp"
#include "asaflow/export.hpp"
#include "asaflow/pipeline.hpp"

namespace asaflow {

// One cell handed to an executor.
struct ASAFLOW_API CellJob {
  std::string pipeline_name;
  std::string cell_id;
  std::string key;  // the cache key the cell must be committed under
  Resources resources;
  int default_cpus = 1;  // when resources.cpus is 0: the driver's --threads
  // The argv of an asaflow process that computes exactly this cell against the store
  // (the first word is the asaflow executable, by absolute path).
  std::vector<std::string> command;
  // The executor's own files for this cell (scripts, scheduler logs), created; on the
  // shared filesystem, inside the store: <store>/jobs/<pipeline>/<cell>/<key prefix>/.
  std::filesystem::path dir;
  // A job an earlier driver submitted for this same key (from dir/job.json), or "": an
  // executor that can still find it queued or running waits for it instead of submitting
  // the cell twice (the driver was killed; its jobs were not).
  std::string previous_job_id;
};

// How a job ended, in the scheduler's words.
struct ASAFLOW_API JobOutcome {
  std::string job_id;
  // The scheduler's final state: COMPLETED, FAILED, TIMEOUT, PREEMPTED, CANCELLED,
  // NODE_FAIL, OUT_OF_MEMORY... ("UNKNOWN" when it no longer says).
  std::string state;
  std::filesystem::path log;  // the job's output (stdout and stderr)
  std::string detail;         // the job's last error line, when its log has one
};

// Told while a job waits and runs, for the log and `asaflow status`.
using JobListener = std::function<void(const std::string& job_id, const std::string& state)>;

class ASAFLOW_API ExecutorComponent : public Component {
 public:
  using Component::Component;
  // Runs `job` to its end and says how it ended; called on one driver thread per cell,
  // possibly on several at once. When `cancel` becomes true (the driver was interrupted)
  // the executor cancels the job and returns soon. Throws StageError when the job cannot
  // be submitted (the scheduler's message in it); anything that is not an asaflow::Error
  // becomes one naming the executor.
  JobOutcome run(const CellJob& job, const std::atomic<bool>& cancel, const JobListener& listener) const;
  // The scheduler's current state of a job (PENDING, RUNNING...), or "" when it no longer
  // knows it: `asaflow status` shows the jobs of cells that have not committed yet.
  virtual std::string job_state(const std::string& /*job_id*/) const { return ""; }

 protected:
  virtual JobOutcome execute(const CellJob& job, const std::atomic<bool>& cancel,
                             const JobListener& listener) const = 0;
};

// The driver's interruption flag: set by its SIGINT/SIGTERM handler while cells run on an
// executor (async-signal-safe: a lock-free atomic), read by the executors' wait loops.
ASAFLOW_API std::atomic<bool>& interruption_flag();
// Installs the handler that sets interruption_flag() for SIGINT and SIGTERM.
ASAFLOW_API void catch_interruptions();

}  // namespace asaflow
