#include "history_rows.hpp"

#include "asaflow/error.hpp"

namespace asaflow::plugins {
namespace {

const char* kSchema =
    "CREATE TABLE IF NOT EXISTS metrics ("
    " run TEXT NOT NULL, metric TEXT NOT NULL, value REAL, sd REAL, n INTEGER, unit TEXT, labels TEXT NOT NULL,"
    " pipeline TEXT, stage TEXT NOT NULL, preset TEXT, commit_id TEXT, date TEXT, hardware TEXT, direction TEXT,"
    " UNIQUE(run, stage, metric, labels));"
    "CREATE INDEX IF NOT EXISTS metrics_by_metric ON metrics(metric, labels);";

}  // namespace

History open_history(const std::filesystem::path& file, bool create) {
  History h;
  h.db = std::make_unique<Db>(file, create);
  if (create) h.db->exec(kSchema);
  // Files written before metrics declared their direction lack the column: added when
  // writing, read as "" when only reading.
  h.has_direction = h.db->has_column("metrics", "direction");
  if (create && !h.has_direction) {
    h.db->exec("ALTER TABLE metrics ADD COLUMN direction TEXT");
    h.has_direction = true;
  }
  return h;
}

std::size_t insert_rows(History& history, const nlohmann::json& rows) {
  Db& db = *history.db;
  Statement st = db.prepare(
      "INSERT OR IGNORE INTO metrics(run, metric, value, sd, n, unit, labels, pipeline, stage, preset,"
      " commit_id, date, hardware, direction) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  static const char* kText[] = {"run",      "metric", nullptr,  nullptr,     nullptr, "unit",     "labels",
                                "pipeline", "stage",  "preset", "commit_id", "date",  "hardware", "direction"};
  db.exec("BEGIN");
  std::size_t added = 0;
  try {
    for (const auto& row : rows) {
      st.reset();
      for (int c = 0; c < 14; ++c) {
        if (kText[c]) st.bind(c + 1, row.value(kText[c], std::string()));
      }
      const auto number = [&](const char* key) {
        const auto& v = row.at(key);
        return v.is_number() ? std::optional<double>(v.get<double>()) : std::nullopt;
      };
      st.bind(3, number("value"));
      st.bind(4, number("sd"));
      st.bind_int(5, row.value("n", std::int64_t(0)));
      st.step();
      added += std::size_t(sqlite3_changes(db.get()));
    }
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
  db.exec("COMMIT");
  return added;
}

std::vector<Row> all_rows(History& history) {
  Statement st =
      history.db->prepare(std::string("SELECT run, metric, labels, value, date, unit, ") +
                          (history.has_direction ? "direction" : "''") + " FROM metrics ORDER BY date, rowid");
  std::vector<Row> out;
  while (st.step()) {
    Row r;
    r.run = st.text(0);
    r.metric = st.text(1);
    r.labels = st.text(2);
    r.value = st.real(3).value_or(NAN);
    r.date = st.text(4);
    r.unit = st.text(5);
    r.direction = st.text(6);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace asaflow::plugins
