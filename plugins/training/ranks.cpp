#include "ranks.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "asaflow/error.hpp"

namespace asaflow::plugins {

LocalRanks::LocalRanks(const std::vector<std::string>& cell_command, int world_size, int port, int threads,
                       const std::filesystem::path& log_dir) {
  for (int rank = 1; rank < world_size; ++rank) {
    std::vector<std::string> argv = cell_command;
    argv.insert(argv.end(), {"--rank", std::to_string(rank), "--world-size", std::to_string(world_size), "--rendezvous",
                             "127.0.0.1:" + std::to_string(port), "--threads", std::to_string(threads), "--quiet"});
    const std::filesystem::path log = log_dir / ("rank-" + std::to_string(rank) + ".log");
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw StageError("cannot start rank " + std::to_string(rank) + ": fork failed");
    if (pid == 0) {
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
      execv(args[0], args.data());
      _exit(127);
    }
    pids_.push_back(pid);
    logs_.push_back(log);
  }
}

LocalRanks::~LocalRanks() {
  for (pid_t pid : pids_) {
    if (pid <= 0) continue;
    kill(pid, SIGTERM);
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
  }
}

std::string LocalRanks::describe(std::size_t i, int status) const {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return "";
  return "rank " + std::to_string(i + 1) + " " +
         (WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                            : "was killed by signal " + std::to_string(WTERMSIG(status))) +
         " (log: " + logs_[i].string() + ")";
}

void LocalRanks::wait() {
  std::string failure;
  for (std::size_t i = 0; i < pids_.size(); ++i) {
    if (pids_[i] <= 0) continue;
    int status = 0;
    while (waitpid(pids_[i], &status, 0) < 0 && errno == EINTR) {
    }
    pids_[i] = -1;
    if (failure.empty()) failure = describe(i, status);
  }
  if (!failure.empty()) throw StageError(failure);
}

std::string LocalRanks::failed_now() {
  // A peer's death reaches rank 0 as a closed socket, a moment before the kernel reports
  // the process as ended: look for a second.
  for (int attempt = 0; attempt < 10; ++attempt) {
    for (std::size_t i = 0; i < pids_.size(); ++i) {
      int status = 0;
      if (pids_[i] <= 0 || waitpid(pids_[i], &status, WNOHANG) != pids_[i]) continue;
      pids_[i] = -1;
      if (std::string why = describe(i, status); !why.empty()) return why;
    }
    usleep(100000);
  }
  return "";
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw StageError("cannot open a socket to find a free port");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) throw StageError("cannot find a free port on 127.0.0.1");
  return ntohs(addr.sin_port);
}

}  // namespace asaflow::plugins
