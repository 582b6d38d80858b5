// Progress of one long-running stage. Stages report units done (and, when known, the
// total); the host's observers render rate and ETA. Updating is a relaxed atomic add, so
// calling advance() in a hot loop is fine.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "asaflow/export.hpp"

namespace asaflow {

class ASAFLOW_API Progress {
 public:
  void set_total(std::int64_t total, std::string unit = "items") {
    unit_ = std::move(unit);
    total_.store(total, std::memory_order_relaxed);
  }
  void advance(std::int64_t n = 1) { done_.fetch_add(n, std::memory_order_relaxed); }
  void set_done(std::int64_t n) { done_.store(n, std::memory_order_relaxed); }

  std::int64_t total() const { return total_.load(std::memory_order_relaxed); }
  std::int64_t done() const { return done_.load(std::memory_order_relaxed); }
  const std::string& unit() const { return unit_; }

 private:
  std::atomic<std::int64_t> total_{0};
  std::atomic<std::int64_t> done_{0};
  std::string unit_ = "items";
};

}  // namespace asaflow
