#include "asaflow/cell_executor.hpp"

#include <csignal>

#include "asaflow/error.hpp"

namespace asaflow {

JobOutcome ExecutorComponent::run(const CellJob& job, const std::atomic<bool>& cancel,
                                  const JobListener& listener) const {
  try {
    return execute(job, cancel, listener);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    std::string message = e.what();
    throw StageError(info().qualified_name() + ": " + message.substr(0, message.find('\n')));
  }
}

std::atomic<bool>& interruption_flag() {
  static std::atomic<bool> flag{false};
  static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");
  return flag;
}

namespace {
extern "C" void on_interrupt(int) { interruption_flag().store(true); }
}  // namespace

void catch_interruptions() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace asaflow
