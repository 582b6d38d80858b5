// Executors that run cells on schedulers researchers already have (cell_executor.hpp):
// executor/slurm, one batch job per cell; executor/process, one child process per cell on
// this machine.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "asaflow/cell_executor.hpp"

namespace asaflow::plugins {

void register_executors(Registrar& registrar);
std::shared_ptr<ExecutorComponent> make_process_executor();

// A finished command: its exit status and what it wrote to stdout and stderr, together.
struct ProcessResult {
  int status = -1;  // the exit status; -1 when it could not be started or was killed
  std::string output;
};
// Runs argv[0] (looked up on PATH) with the rest as its arguments, no shell involved, and
// waits for it.
ProcessResult run_process(const std::vector<std::string>& argv);
// The last "error: ..." line of a cell's log (what asaflow said when the cell failed), or "".
std::string last_error(const std::filesystem::path& log);
// `word` quoted for a POSIX shell (single quotes), for the job script people read.
std::string shell_quote(const std::string& word);

}  // namespace asaflow::plugins
