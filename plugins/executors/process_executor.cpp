// executor/process: each cell that must be computed runs in a child asaflow process on
// this machine (`asaflow run PIPELINE --cell ID`, as a Slurm job would run it), so that
//  - a cell that crashes, aborts or is killed (the kernel's out-of-memory killer, kill -9)
//    ends that cell only: the driver reports it with the signal and the cell's log, the
//    other cells go on, and a rerun computes only what did not commit;
//  - cells that each capture a CUDA graph can share one GPU: LibTorch captures in CUDA's
//    global mode, where another thread's allocation during a capture is an error, so
//    in-process -j cannot run two graph steps at once; separate processes can.
// Cells run in their own process group: the driver's Ctrl-C or SIGTERM reaches them as the
// driver's cancellation (SIGTERM, then SIGKILL after a grace period), and a driver killed
// with kill -9 leaves them running, as it leaves Slurm jobs; the rerun waits for such a
// cell instead of starting it again (the job id names the host, pid and start time).
// At most -j cells at once, and never more than this machine's cores divided by each
// cell's threads (the cell's resources.cpus, else --threads, as for Slurm).
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "asaflow/error.hpp"
#include "executors.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace asaflow::plugins {
namespace {

std::string this_host() {
  char name[256] = {};
  ::gethostname(name, sizeof name - 1);
  return name;
}

// What /proc/PID/stat says of a process: its state letter (R, S, Z...) and its start time
// (field 22, clock ticks since boot); empty when there is no such process. With the pid,
// the start time names one process for as long as the machine runs: a pid reused later
// has another.
struct ProcStat {
  char state = 0;
  std::string start;
};

ProcStat proc_stat(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  ProcStat out;
  if (!in || !std::getline(in, stat)) return out;
  const auto close = stat.rfind(')');  // the command name may hold spaces and parentheses
  if (close == std::string::npos || close + 2 >= stat.size()) return out;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 3) out.state = field[0];
    if (i == 22) out.start = field;
  }
  return out;
}

// A job id is HOST:PID:START; the process it names, when it runs on this machine.
struct JobId {
  std::string host;
  pid_t pid = 0;
  std::string start;
};

std::string format_id(const JobId& id) { return id.host + ":" + std::to_string(id.pid) + ":" + id.start; }

JobId parse_id(const std::string& s) {
  JobId id;
  const auto a = s.find(':'), b = s.rfind(':');
  if (a == std::string::npos || a == b) return id;
  id.host = s.substr(0, a);
  const std::string pid = s.substr(a + 1, b - a - 1);
  if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) return id;
  id.pid = pid_t(std::stol(pid));
  id.start = s.substr(b + 1);
  return id;
}

// Whether the process a job id names still runs here (a zombie child counts as ended).
bool alive(const JobId& id) {
  if (id.pid <= 0 || id.host != this_host()) return false;
  const ProcStat stat = proc_stat(id.pid);
  return stat.start == id.start && stat.state != 'Z';
}

// The cores this process may run on (its affinity mask: taskset and cgroups narrow it).
int usable_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, int(std::thread::hardware_concurrency()));
}

// How a child ended, in the words a scheduler would use.
void describe_status(int status, JobOutcome& out) {
  if (WIFEXITED(status)) {
    out.state = WEXITSTATUS(status) == 0 ? "COMPLETED" : "FAILED";
    if (WEXITSTATUS(status) != 0 && out.detail.empty())
      out.detail = "exit status " + std::to_string(WEXITSTATUS(status));
    return;
  }
  const int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  const char* name = sig ? sigabbrev_np(sig) : nullptr;
  out.state = sig == SIGKILL ? "KILLED" : "CRASHED";
  std::string why = "killed by signal " + std::to_string(sig) + (name ? std::string(" (SIG") + name + ")" : "");
  if (sig == SIGKILL) why += ": the kernel's out-of-memory killer or kill -9; rerun to compute it";
  out.detail = why + (out.detail.empty() ? "" : "; its last error: " + out.detail);
}

// Cells running at once, across the driver's threads.
class Slots {
 public:
  // Waits until fewer than `limit` cells run, then takes a slot; false when `cancel`
  // became true first.
  bool take(int limit, const std::atomic<bool>& cancel) {
    std::unique_lock<std::mutex> lock(mutex_);
    while (running_ >= limit) {
      if (cancel.load()) return false;
      freed_.wait_for(lock, std::chrono::milliseconds(100));
    }
    ++running_;
    return true;
  }
  void give() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --running_;
    }
    freed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable freed_;
  int running_ = 0;
};

class ProcessExecutor : public ExecutorComponent {
 public:
  ProcessExecutor()
      : ExecutorComponent(ComponentInfo::of("executor", "process", "1.0.0")
                              .describe("each cell in a child asaflow process on this machine (at most -j, and at most "
                                        "cores / threads per cell, at once): a crash or kill ends that cell only, and "
                                        "CUDA-graph cells can share one GPU")) {}

  std::string job_state(const std::string& job_id) const override { return alive(parse_id(job_id)) ? "RUNNING" : ""; }

 protected:
  JobOutcome execute(const CellJob& job, const std::atomic<bool>& cancel, const JobListener& listener) const override {
    JobOutcome out;
    if (const JobId previous = parse_id(job.previous_job_id); alive(previous)) {
      // Started by a driver that is gone: wait for it rather than compute the cell twice.
      out.job_id = job.previous_job_id;
      out.log = job.dir / ("process-" + std::to_string(previous.pid) + ".out");
      listener(out.job_id, "RUNNING");
      while (alive(previous)) {
        if (cancel.load()) {
          stop(previous.pid, [&] { return !alive(previous); });
          out.state = "CANCELLED";
          out.detail = "cancelled because the driver was interrupted";
          return out;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      out.state = "UNKNOWN";  // not this driver's child: its exit status is not ours to read
      out.detail = last_error(out.log);
      return out;
    }

    const int cpus = job.resources.cpus > 0 ? job.resources.cpus : std::max(1, job.default_cpus);
    static Slots slots;
    if (!slots.take(std::max(1, usable_cores() / cpus), cancel)) {
      out.state = "CANCELLED";
      out.detail = "not started: the driver was interrupted";
      return out;
    }
    struct Give {
      ~Give() { slots.give(); }
    } give;

    std::vector<std::string> command = job.command;
    command.insert(command.end(), {"--threads", std::to_string(cpus)});
    const pid_t pid = spawn(command, job.dir / "process.out");
    out.job_id = format_id({this_host(), pid, proc_stat(pid).start});
    out.log = job.dir / ("process-" + std::to_string(pid) + ".out");
    std::error_code ec;
    fs::rename(job.dir / "process.out", out.log, ec);  // the same open file, under its pid's name
    listener(out.job_id, "RUNNING");
    int status = 0;
    for (;;) {
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) break;
      if (r < 0 && errno != EINTR) throw StageError("lost the process of cell " + job.cell_id + ": " + strerror(errno));
      if (cancel.load()) {
        stop(pid, [&] { return ::waitpid(pid, &status, WNOHANG) == pid; });
        out.state = "CANCELLED";
        out.detail = "cancelled because the driver was interrupted";
        return out;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    out.detail = last_error(out.log);
    describe_status(status, out);
    return out;
  }

 private:
  // Starts argv in a process group of its own, its stdout and stderr appended to `log`.
  static pid_t spawn(const std::vector<std::string>& argv, const fs::path& log) {
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawnattr_setpgroup(&attr, 0);
    // Whatever this driver thread blocks or ignores, the cell starts with no signal blocked
    // and SIGINT, SIGTERM and SIGPIPE at their defaults, so that a stop reaches it.
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int sig : {SIGINT, SIGTERM, SIGPIPE}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t pid = 0;
    const int rc = posix_spawn(&pid, args[0], &actions, &attr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw StageError("cannot start " + argv[0] + ": " + strerror(rc));
    return pid;
  }

  // SIGTERM to the cell's process group (what it had not committed never becomes an entry),
  // then SIGKILL after 20 s; returns once `ended` says so.
  template <typename Ended>
  static void stop(pid_t pid, Ended ended) {
    ::kill(-pid, SIGTERM);
    for (int i = 0; i < 400; ++i) {
      if (ended()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(-pid, SIGKILL);
    while (!ended()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
};

}  // namespace

std::shared_ptr<ExecutorComponent> make_process_executor() { return std::make_shared<ProcessExecutor>(); }

}  // namespace asaflow::plugins
