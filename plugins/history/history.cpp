#include "history.hpp"

namespace asaflow::plugins {

void register_history(Registrar& registrar) {
  registrar.add(make_history_reporter());
  registrar.add(make_metrics_command());
  registrar.add(make_compare_command());
}

}  // namespace asaflow::plugins
