// executor/slurm: each cell that must be computed becomes one batch job (sbatch), which
// runs asaflow itself on that cell against the shared store; the job is followed with
// squeue while it is queued or running, and its final state is read from sacct when the
// cluster keeps accounting, else from scontrol (which remembers a job for MinJobAge).
// The driver, not this file, decides whether the cell was computed: by its entry in the
// store (cell_executor.hpp).
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "asaflow/error.hpp"
#include "asaflow/file_io.hpp"
#include "executors.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

// States in which a job may still run: the driver keeps waiting.
bool active(const std::string& state) {
  static const std::vector<std::string> kActive = {"PENDING",     "RUNNING",   "CONFIGURING", "COMPLETING",
                                                   "REQUEUED",    "RESIZING",  "SUSPENDED",   "REQUEUE_HOLD",
                                                   "REQUEUE_FED", "SIGNALING", "STAGE_OUT"};
  return std::find(kActive.begin(), kActive.end(), state) != kActive.end();
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

// How often squeue is asked. Slurm's own advice is not to poll faster than every few
// seconds on a busy cluster; ASAFLOW_SLURM_POLL_SECONDS changes it (the tests use 1).
double poll_seconds() {
  if (const char* v = std::getenv("ASAFLOW_SLURM_POLL_SECONDS"); v && *v) {
    char* end = nullptr;
    const double s = std::strtod(v, &end);
    if (end && *end == '\0' && s > 0) return s;
  }
  return 5.0;
}

// A job name Slurm shows in squeue: asaflow:<pipeline>:<cell>, without spaces or commas.
std::string job_name(const CellJob& job) {
  std::string name = "asaflow:" + job.pipeline_name + ":" + job.cell_id;
  for (char& c : name)
    if (c == ' ' || c == ',' || c == '\'' || c == '"') c = '_';
  return name;
}

class SlurmExecutor : public ExecutorComponent {
 public:
  SlurmExecutor()
      : ExecutorComponent(ComponentInfo::of("executor", "slurm", "1.0.0")
                              .describe("one Slurm batch job per cell (sbatch), followed with squeue and sacct or "
                                        "scontrol; the store must be on a filesystem every node shares")) {}

  std::string job_state(const std::string& job_id) const override {
    if (job_id.empty()) return "";
    const ProcessResult r = run_process({"squeue", "-h", "-j", job_id, "-o", "%T"});
    return r.status == 0 ? trim(r.output) : "";
  }

 protected:
  JobOutcome execute(const CellJob& job, const std::atomic<bool>& cancel, const JobListener& listener) const override {
    JobOutcome out;
    if (!job.previous_job_id.empty() && active(job_state(job.previous_job_id))) {
      out.job_id = job.previous_job_id;  // submitted by a driver that is gone: wait for it
    } else {
      out.job_id = submit(job);
    }
    out.log = job.dir / ("slurm-" + out.job_id + ".out");
    std::string state = "PENDING";
    listener(out.job_id, state);
    const auto slice = std::chrono::milliseconds(100);
    const double poll = poll_seconds();
    for (;;) {
      for (double waited = 0; waited < poll && !cancel.load(); waited += 0.1) std::this_thread::sleep_for(slice);
      if (cancel.load()) {
        run_process({"scancel", out.job_id});
        out.state = "CANCELLED";
        out.detail = "cancelled because the driver was interrupted";
        // Let the job leave the queue, so that status and a rerun see it gone.
        for (int i = 0; i < 100 && active(job_state(out.job_id)); ++i) std::this_thread::sleep_for(slice);
        return out;
      }
      const std::string now = job_state(out.job_id);
      if (now.empty() || !active(now)) break;
      if (now != state) listener(out.job_id, state = now);
    }
    out.state = final_state(out.job_id);
    out.detail = last_error(out.log);
    return out;
  }

 private:
  std::string submit(const CellJob& job) const {
    const int cpus = job.resources.cpus > 0 ? job.resources.cpus : std::max(1, job.default_cpus);
    std::vector<std::string> command = job.command;
    command.insert(command.end(), {"--threads", std::to_string(cpus)});
    const int tasks = std::max(1, job.resources.tasks);
    std::ostringstream script;
    script << "#!/bin/sh\n# asaflow: cell " << job.cell_id << " of pipeline " << job.pipeline_name << ", key "
           << job.key << "\n";
    if (tasks > 1) {
      // One rank per task, started by srun; they meet at the first node of the job, on a
      // port derived from the job id (two jobs on one node do not share it).
      command.insert(command.end(), {"--rank", "slurm"});
      script << "ASAFLOW_RENDEZVOUS=\"$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n 1):"
             << "$((20000 + SLURM_JOB_ID % 20000))\"\nexport ASAFLOW_RENDEZVOUS\nexec srun --kill-on-bad-exit=1";
    } else {
      script << "exec";
    }
    for (const auto& word : command) script << " " << shell_quote(word);
    script << "\n";
    const fs::path file = job.dir / "job.sh";
    write_file_atomically(file, script.str());
    fs::permissions(file, fs::perms::owner_all, fs::perm_options::add);

    std::vector<std::string> argv = {"sbatch",
                                     "--parsable",
                                     "--job-name=" + job_name(job),
                                     "--output=" + (job.dir / "slurm-%j.out").string(),
                                     "--chdir=" + job.dir.string(),
                                     "--cpus-per-task=" + std::to_string(cpus),
                                     "--ntasks=" + std::to_string(tasks)};
    const Resources& r = job.resources;
    if (!r.memory.empty()) argv.push_back("--mem=" + r.memory);
    if (r.gpus > 0) argv.push_back("--gres=gpu:" + std::to_string(r.gpus));
    if (!r.time.empty()) argv.push_back("--time=" + r.time);
    if (!r.partition.empty()) argv.push_back("--partition=" + r.partition);
    if (!r.account.empty()) argv.push_back("--account=" + r.account);
    argv.push_back(file.string());
    const ProcessResult res = run_process(argv);
    // --parsable prints "ID" or "ID;CLUSTER".
    const std::string id = trim(res.output).substr(0, trim(res.output).find(';'));
    if (res.status != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos) {
      std::string why = trim(res.output);
      if (res.status == 127 || res.status == -1) why = "sbatch is not on PATH (is this a Slurm login node?)";
      throw StageError("sbatch refused cell " + job.cell_id + ": " + (why.empty() ? "no output" : why));
    }
    return id;
  }

  // The state of a job that left the queue: sacct when accounting is on; scontrol while
  // the controller remembers the job; else UNKNOWN.
  static std::string final_state(const std::string& id) {
    const ProcessResult acct = run_process({"sacct", "-n", "-X", "-P", "-j", id, "-o", "State"});
    if (acct.status == 0) {
      std::string state = trim(acct.output);
      state = state.substr(0, state.find_first_of(" \n"));  // "CANCELLED by 0" -> CANCELLED
      if (!state.empty()) return state;
    }
    const ProcessResult ctl = run_process({"scontrol", "show", "job", "-o", id});
    std::smatch m;
    static const std::regex kState(R"(JobState=([A-Z_]+))");
    if (ctl.status == 0 && std::regex_search(ctl.output, m, kState)) return m[1];
    return "UNKNOWN";
  }
};

}  // namespace

void register_executors(Registrar& registrar) {
  registrar.add(std::make_shared<SlurmExecutor>());
  registrar.add(make_process_executor());
}

}  // namespace asaflow::plugins
