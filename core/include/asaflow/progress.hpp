// Progress of one long-running stage. Stages report units done (and, when known, the
// total); the host's observers render rate and ETA from another thread. Updating is a
// relaxed atomic add, so calling advance() in a hot loop is fine; the unit, a string, is
// guarded by a mutex and only written when it changes (set_total runs on every training
// step while the display thread reads it).
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "asaflow/export.hpp"

namespace asaflow {

class ASAFLOW_API Progress {
 public:
  void set_total(std::int64_t total, std::string unit = "items") {
    {
      std::lock_guard<std::mutex> guard(unit_mutex_);
      if (unit != unit_) unit_ = std::move(unit);
    }
    total_.store(total, std::memory_order_relaxed);
  }
  void advance(std::int64_t n = 1) { done_.fetch_add(n, std::memory_order_relaxed); }
  void set_done(std::int64_t n) { done_.store(n, std::memory_order_relaxed); }

  std::int64_t total() const { return total_.load(std::memory_order_relaxed); }
  std::int64_t done() const { return done_.load(std::memory_order_relaxed); }
  std::string unit() const {
    std::lock_guard<std::mutex> guard(unit_mutex_);
    return unit_;
  }
  // A short line of the stage's own figures shown beside the progress (training: loss, lr,
  // tokens/s at the last log step). Set rarely; read by the display thread.
  void set_note(std::string note) {
    std::lock_guard<std::mutex> guard(unit_mutex_);
    note_ = std::move(note);
  }
  std::string note() const {
    std::lock_guard<std::mutex> guard(unit_mutex_);
    return note_;
  }

 private:
  std::atomic<std::int64_t> total_{0};
  std::atomic<std::int64_t> done_{0};
  mutable std::mutex unit_mutex_;
  std::string unit_ = "items";
  std::string note_;
};

}  // namespace asaflow
