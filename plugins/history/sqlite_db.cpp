#include "sqlite_db.hpp"

#include "asaflow/error.hpp"

namespace fs = std::filesystem;

namespace asaflow::plugins {

Statement::Statement(sqlite3* db, const std::string& sql) : db_(db) {
  check(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st_, nullptr), "prepare");
}

Statement::~Statement() { sqlite3_finalize(st_); }

void Statement::check(int rc, const char* what) const {
  if (rc == SQLITE_OK || rc == SQLITE_ROW || rc == SQLITE_DONE) return;
  throw StageError(std::string("metrics history: ") + what + ": " + sqlite3_errmsg(db_));
}

void Statement::bind(int index, const std::string& text) {
  check(sqlite3_bind_text(st_, index, text.c_str(), -1, SQLITE_TRANSIENT), "bind");
}

void Statement::bind(int index, std::optional<double> value) {
  check(value ? sqlite3_bind_double(st_, index, *value) : sqlite3_bind_null(st_, index), "bind");
}

void Statement::bind_int(int index, std::int64_t value) { check(sqlite3_bind_int64(st_, index, value), "bind"); }

bool Statement::step() {
  const int rc = sqlite3_step(st_);
  check(rc, "step");
  return rc == SQLITE_ROW;
}

void Statement::reset() { sqlite3_reset(st_); }

std::string Statement::text(int column) const {
  const unsigned char* t = sqlite3_column_text(st_, column);
  return t ? std::string(reinterpret_cast<const char*>(t)) : std::string();
}

std::optional<double> Statement::real(int column) const {
  if (sqlite3_column_type(st_, column) == SQLITE_NULL) return std::nullopt;
  return sqlite3_column_double(st_, column);
}

int Statement::columns() const { return sqlite3_column_count(st_); }

Db::Db(const fs::path& file, bool create) {
  if (create)
    fs::create_directories(fs::absolute(file).parent_path());
  else if (!fs::exists(file))
    throw ConfigError("no metrics history at '" + file.string() + "' (a pipeline with reporter/history writes it)");
  if (sqlite3_open_v2(file.c_str(), &db_, create ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY,
                      nullptr) != SQLITE_OK) {
    std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw InputError("cannot open metrics history '" + file.string() + "': " + why);
  }
  sqlite3_busy_timeout(db_, 10000);
}

Db::~Db() { sqlite3_close(db_); }

void Db::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string why = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw StageError("metrics history: " + why);
  }
}

bool Db::has_column(const std::string& table, const std::string& column) {
  Statement st = prepare("PRAGMA table_info(" + table + ")");
  while (st.step()) {
    if (st.text(1) == column) return true;
  }
  return false;
}

}  // namespace asaflow::plugins
