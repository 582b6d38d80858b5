// The metrics history: every report also appends its figures to a SQLite database, one row
// per metric per run (metric, value, sd, n, unit, labels, pipeline, stage, preset, commit,
// date, hardware), so baseline / current best / target tables can be produced over time.
// reporter/history writes it (idempotently: a rerun of the same report adds nothing);
// `asaflow metrics` prints the baseline / best / target table; `asaflow compare A B` diffs
// two runs side by side.
#pragma once

#include <memory>
#include <string>

#include "asaflow/component.hpp"

namespace asaflow::plugins {

void register_history(Registrar& registrar);

// The three components, one file each: history_reporter.cpp, history_commands.cpp (the
// table and its SQL: history_rows.cpp, over the checked wrapper of sqlite_db.cpp).
std::shared_ptr<Component> make_history_reporter();
std::shared_ptr<Component> make_metrics_command();
std::shared_ptr<Component> make_compare_command();

}  // namespace asaflow::plugins
