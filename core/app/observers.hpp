// The host's run observers: a log line per decision and per finished stage, and the
// terminal progress line (rate and ETA) for stages that report progress.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "asaflow/artifact_store.hpp"
#include "asaflow/executor.hpp"

namespace asaflow::app {

class LogObserver : public RunObserver {
 public:
  void on_cell_decided(const StageCell& cell, const CellReport& report) override;
  void on_cell_waiting(const StageCell& cell) override;
  void on_cell_end(const StageCell& cell, const CellReport& report) override;
};

// Publishes each finished cell of a stage with `publish` (publish.hpp) as soon as it is
// computed or found cached. A failure is logged and counted, never lost in a worker.
class PublishObserver : public RunObserver {
 public:
  PublishObserver(const Pipeline& pipeline, const ArtifactStore& store) : pipeline_(pipeline), store_(store) {}
  void on_cell_decided(const StageCell& cell, const CellReport& report) override;  // a cache hit
  void on_cell_end(const StageCell& cell, const CellReport& report) override;      // computed
  std::vector<std::string> errors() const;

 private:
  const Pipeline& pipeline_;
  const ArtifactStore& store_;
  mutable std::mutex mutex_;
  std::vector<std::string> errors_;
};

// Draws "stage  45% 12,000/26,000 words  3.1k words/s  ETA 4s" on a terminal; silent when
// stdout or stderr is not a terminal, or with --quiet.
class ProgressObserver : public RunObserver {
 public:
  ProgressObserver();
  ~ProgressObserver() override;
  void on_cell_start(const StageCell& cell, const CellReport& report, const Progress& progress) override;
  void on_cell_detach(const StageCell& cell) override;
  void on_cell_end(const StageCell& cell, const CellReport& report) override;

 private:
  struct Running {
    const Progress* progress;
    double started;
  };
  void loop();
  std::mutex mutex_;
  std::map<std::string, Running> running_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace asaflow::app
