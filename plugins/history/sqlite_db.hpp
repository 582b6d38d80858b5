// A small SQLite wrapper for the metrics history: every call's result is checked, and a
// failure is an asaflow::Error naming the database and SQLite's reason (the history once
// ignored sqlite3_prepare_v2's result).
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <optional>
#include <string>

namespace asaflow::plugins {

class Statement {
 public:
  Statement(sqlite3* db, const std::string& sql);  // throws StageError
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  void bind(int index, const std::string& text);
  void bind(int index, std::optional<double> value);  // nullopt: NULL
  void bind_int(int index, std::int64_t value);
  // true: a row is ready; false: done. Throws StageError on any other result.
  bool step();
  void reset();
  std::string text(int column) const;
  std::optional<double> real(int column) const;  // nullopt for NULL
  int columns() const;

 private:
  void check(int rc, const char* what) const;
  sqlite3* db_;
  sqlite3_stmt* st_ = nullptr;
};

class Db {
 public:
  // create: open read-write, creating the file (and its directory) when missing; else
  // read-only, and a missing file is a ConfigError saying which stage writes it.
  Db(const std::filesystem::path& file, bool create);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  void exec(const std::string& sql);
  Statement prepare(const std::string& sql) { return Statement(db_, sql); }
  bool has_column(const std::string& table, const std::string& column);
  sqlite3* get() { return db_; }

 private:
  sqlite3* db_ = nullptr;
};

}  // namespace asaflow::plugins
