// The words and exit codes of cell states, shared by the executor, the commands and the
// progress display.
#include "asaflow/executor.hpp"

namespace asaflow {

const char* to_string(CellState state) {
  switch (state) {
    case CellState::kCached:
      return "cached";
    case CellState::kStale:
      return "stale";
    case CellState::kBlocked:
      return "stale";
    case CellState::kRan:
      return "ran";
    case CellState::kFailed:
      return "FAILED";
    case CellState::kSkipped:
      return "skipped";
  }
  return "?";
}

ExitCode Executor::exit_code(const std::vector<CellReport>& reports) {
  ExitCode code = ExitCode::kOk;
  for (const auto& r : reports) {
    if (r.state != CellState::kFailed) continue;
    if (r.error_code == ExitCode::kConfig || r.error_code == ExitCode::kPluginLoad) return r.error_code;
    code = ExitCode::kStageFailed;
  }
  return code;
}

}  // namespace asaflow
