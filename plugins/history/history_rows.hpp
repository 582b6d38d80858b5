// The metrics history's table and the two things done with it: appending a report's rows
// (reporter/history, `metrics --rebuild`) and reading them back (the commands).
#pragma once

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sqlite_db.hpp"

namespace asaflow::plugins {

// Opens the history, creating its table (and the `direction` column older files lack)
// when writing. `has_direction` is false for an older file opened read-only.
struct History {
  std::unique_ptr<Db> db;
  bool has_direction = false;
};
History open_history(const std::filesystem::path& file, bool create);

// Appends rows (objects with the table's columns) in one transaction; a row already there
// (same run, stage, metric and labels) is left as it is. Returns how many were new.
std::size_t insert_rows(History& history, const nlohmann::json& rows);

struct Row {
  std::string run, metric, labels, date, unit, direction;
  double value = NAN;
};
// Every row, oldest first (by date, then as inserted).
std::vector<Row> all_rows(History& history);

}  // namespace asaflow::plugins
