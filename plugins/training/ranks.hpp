// The other ranks of a data-parallel training run, when the train stage starts them
// itself on this machine (it was not launched as a group by srun): W - 1 processes of
// `asaflow run PIPELINE --cell ID --rank R --world-size W --rendezvous 127.0.0.1:PORT`,
// each computing the same cell as rank R beside this process (rank 0), which alone
// commits. Their output goes to live_dir/rank-R.log.
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

namespace asaflow::plugins {

class LocalRanks {
 public:
  // Each rank computes with `threads` threads (the run's share per rank).
  LocalRanks(const std::vector<std::string>& cell_command, int world_size, int port, int threads,
             const std::filesystem::path& log_dir);
  // Ends any rank still running (rank 0 failed or was interrupted) and reaps it.
  ~LocalRanks();
  LocalRanks(const LocalRanks&) = delete;
  LocalRanks& operator=(const LocalRanks&) = delete;
  // Waits for every rank; throws StageError naming the first that failed and its log.
  void wait();
  // Without waiting: the first rank that has already ended badly, described with its log,
  // or "" (to say why rank 0's collective failed).
  std::string failed_now();

 private:
  std::vector<pid_t> pids_;
  std::vector<std::filesystem::path> logs_;
  std::string describe(std::size_t i, int status) const;
};

// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice for port 0).
int free_port();

}  // namespace asaflow::plugins
