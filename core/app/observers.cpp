#include "observers.hpp"

#include <spdlog/spdlog.h>

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "asaflow/error.hpp"
#include "asaflow/logging.hpp"
#include "asaflow/publish.hpp"
#include "asaflow/text_util.hpp"

namespace asaflow::app {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string human(double v) {
  char buf[32];
  if (v >= 1e6)
    std::snprintf(buf, sizeof buf, "%.1fM", v / 1e6);
  else if (v >= 1e4)
    std::snprintf(buf, sizeof buf, "%.1fk", v / 1e3);
  else if (v >= 10 || v == 0)
    std::snprintf(buf, sizeof buf, "%.0f", v);
  else
    std::snprintf(buf, sizeof buf, "%.2g", v);  // 0.4 steps/s, not "0"
  return buf;
}

}  // namespace

void PublishObserver::on_cell_decided(const StageCell& cell, const CellReport& r) {
  if (r.state == CellState::kCached) on_cell_end(cell, r);
}

void PublishObserver::on_cell_end(const StageCell& cell, const CellReport& r) {
  if (r.state != CellState::kRan && r.state != CellState::kCached) return;
  PublishRequest request;
  request.target = publish_target(pipeline_.stages[cell.stage], cell);
  if (request.target.empty()) return;
  request.cell_id = cell.id;
  request.key = r.key;
  request.out_dir = r.output_dir;
  request.log_file = store_.entry_log(r.key);
  request.mode = pipeline_.stages[cell.stage].publish_mode;
  try {
    if (publish(request)) named_logger("asaflow")->info("published {} -> {}", cell.id, request.target.string());
  } catch (const Error& e) {
    named_logger("asaflow")->error("{}", e.what());
    std::lock_guard<std::mutex> guard(mutex_);
    errors_.push_back(e.what());
  }
}

std::vector<std::string> PublishObserver::errors() const {
  std::lock_guard<std::mutex> guard(mutex_);
  return errors_;
}

void LogObserver::on_cell_decided(const StageCell& cell, const CellReport& r) {
  auto log = named_logger("asaflow");
  switch (r.state) {
    case CellState::kCached:
      log->info("cached   {}", cell.id);
      break;
    case CellState::kStale:
      log->info("run      {}: {}", cell.id, join(r.reasons, "; "));
      break;
    case CellState::kSkipped:
      log->warn("skipped  {}: {}", cell.id, join(r.reasons, "; "));
      break;
    default:
      break;
  }
}

void LogObserver::on_cell_waiting(const StageCell& cell) {
  named_logger("asaflow")->info("waiting  {}: another asaflow process is computing it", cell.id);
}

void LogObserver::on_cell_end(const StageCell& cell, const CellReport& r) {
  auto log = named_logger("asaflow");
  if (r.state == CellState::kFailed) {
    log->error("FAILED   {}: {}", cell.id, r.error);
  } else if (r.state == CellState::kRan) {
    log->info("done     {} ({:.2f} s, peak RSS {:.0f} MB)", cell.id, r.wall_seconds, r.peak_rss_mb);
  } else if (r.state == CellState::kCached) {
    log->info("cached   {} ({})", cell.id, join(r.reasons, "; "));
  }
}

ProgressObserver::ProgressObserver() {
  if (console_is_tty() && ::isatty(1)) thread_ = std::thread([this] { loop(); });
}

ProgressObserver::~ProgressObserver() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  console_set_status("");
}

void ProgressObserver::on_cell_start(const StageCell& cell, const CellReport&, const Progress& progress) {
  std::lock_guard<std::mutex> guard(mutex_);
  running_[cell.id] = Running{&progress, now_seconds()};
}

void ProgressObserver::on_cell_detach(const StageCell& cell) {
  std::lock_guard<std::mutex> guard(mutex_);
  running_.erase(cell.id);
}

void ProgressObserver::on_cell_end(const StageCell& cell, const CellReport&) {
  std::lock_guard<std::mutex> guard(mutex_);
  running_.erase(cell.id);
}

void ProgressObserver::loop() {
  while (!stop_) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    std::string line;
    {
      std::lock_guard<std::mutex> guard(mutex_);
      for (const auto& [id, run] : running_) {
        const double elapsed = now_seconds() - run.started;
        const auto done = run.progress->done();
        const auto total = run.progress->total();
        const double rate = elapsed > 0 ? done / elapsed : 0.0;
        if (!line.empty()) line += " | ";
        line += id + " ";
        if (total > 0) {
          char pct[16];
          std::snprintf(pct, sizeof pct, "%3.0f%% ", 100.0 * double(done) / double(total));
          line += pct + human(double(done)) + "/" + human(double(total)) + " " + run.progress->unit();
          if (rate > 0) {
            line += "  " + human(rate) + " " + run.progress->unit() + "/s  ETA " +
                    human((double(total) - double(done)) / rate) + "s";
          }
        } else if (done > 0) {
          line += human(double(done)) + " " + run.progress->unit() + "  " + human(rate) + "/s";
        } else {
          line += "running " + human(elapsed) + "s";
        }
        if (const std::string note = run.progress->note(); !note.empty()) line += "  " + note;
      }
    }
    console_set_status(line);
  }
}

}  // namespace asaflow::app
