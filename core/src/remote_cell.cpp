#include "asaflow/remote_cell.hpp"

#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

#include "asaflow/error.hpp"
#include "asaflow/file_io.hpp"
#include "asaflow/text_util.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

namespace asaflow {
namespace {

// What to do about a job that ended without committing its cell, by its final state.
std::string advice(const std::string& state) {
  if (state == "TIMEOUT") return "; raise the stage's resources.time, then rerun (committed cells are reused)";
  if (state == "OUT_OF_MEMORY") return "; raise the stage's resources.memory, then rerun";
  if (state == "PREEMPTED" || state == "NODE_FAIL" || state == "BOOT_FAIL")
    return "; rerun: committed cells are reused and an interrupted training run resumes from its checkpoint";
  if (state == "CANCELLED") return "; rerun to compute it (committed cells are reused)";
  return "";
}

}  // namespace

fs::path job_dir(const ArtifactStore& store, const std::string& pipeline, const std::string& cell_id,
                 const std::string& key) {
  return store.root() / "jobs" / ArtifactStore::safe_name(pipeline) / ArtifactStore::safe_name(cell_id) /
         key.substr(0, 16);
}

std::optional<JobRecord> load_job_record(const ArtifactStore& store, const std::string& pipeline,
                                         const std::string& cell_id, const std::string& key) {
  std::ifstream in(job_dir(store, pipeline, cell_id, key) / "job.json");
  if (!in) return std::nullopt;
  try {
    const json j = json::parse(in);
    if (j.value("key", "") != key) return std::nullopt;
    return JobRecord{j.value("executor", ""), j.value("job_id", ""), j.value("state", ""), j.value("log", ""),
                     j.value("updated", "")};
  } catch (const json::exception&) {
    return std::nullopt;  // a record cut short by a crash: as if there were none
  }
}

CellJob job_of(const Pipeline& pipeline, const StageCell& cell, const std::string& key, bool forced,
               const RunOptions& options) {
  CellJob job;
  job.pipeline_name = pipeline.name;
  job.cell_id = cell.id;
  job.key = key;
  job.resources = pipeline.stages[cell.stage].resources;
  job.default_cpus = options.default_cpus;
  job.command = options.job_command;
  job.command.insert(job.command.end(), {"--cell", cell.id});
  if (forced) job.command.insert(job.command.end(), {"--force", cell.id});
  return job;
}

Manifest compute_remotely(const ExecutorComponent& executor, ArtifactStore& store, CellJob job,
                          const std::function<void(const std::string&)>& log) {
  // After Ctrl-C or SIGTERM nothing new is submitted; what runs is being cancelled.
  if (interruption_flag().load()) throw StageError("not submitted: the driver was interrupted");
  job.dir = job_dir(store, job.pipeline_name, job.cell_id, job.key);
  fs::create_directories(job.dir);
  if (auto previous = load_job_record(store, job.pipeline_name, job.cell_id, job.key);
      previous && previous->executor == executor.info().name) {
    job.previous_job_id = previous->job_id;
  }
  std::mutex record_mutex;
  std::string last_state;
  auto remember = [&](const std::string& job_id, const std::string& state, const fs::path& log_file) {
    std::lock_guard<std::mutex> guard(record_mutex);
    const json record = {{"executor", executor.info().name},
                         {"key", job.key},
                         {"job_id", job_id},
                         {"state", state},
                         {"log", log_file.string()},
                         {"updated", utc_timestamp()}};
    write_file_atomically(job.dir / "job.json", record.dump(1) + "\n");
    if (state != last_state && log) log(executor.info().name + " job " + job_id + " " + state);
    last_state = state;
  };
  const JobOutcome outcome = executor.run(
      job, interruption_flag(), [&](const std::string& id, const std::string& state) { remember(id, state, ""); });
  remember(outcome.job_id, outcome.state, outcome.log);
  if (auto m = store.lookup(job.key)) return *m;
  std::string message = executor.info().name + " job " + outcome.job_id + " ended " + outcome.state;
  if (outcome.state == "COMPLETED") {
    message +=
        " but committed nothing under key " + job.key.substr(0, 12) +
        ": the node computed another key (another asaflow build, plugin library or data there than on this machine)";
  } else if (!outcome.detail.empty()) {
    message += ": " + outcome.detail;
  }
  message += " (log: " + outcome.log.string() + ")" + advice(outcome.state);
  throw StageError(message);
}

}  // namespace asaflow
