// Thin helpers over the SQLite C API for the store level: a prepared statement that owns its handle,
// statement-free execution of fixed SQL, and a transaction wrapper. Internal to src/store.
// - Values reach SQL only through bound parameters; the SQL text is always a constant of the caller.
// - Every error is a Status naming the database file, what was being done and SQLite's own message.
// - None of these are thread-safe on their own: the caller holds the connection's mutex.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace lmaas::store {

// The Status for SQLite result code `rc` (primary or extended) while doing `what` on the file `path`.
// The code maps busy/locked → kUnavailable, not-a-database/corrupt → kDataLoss, full → kResourceExhausted,
// read-only/permission → kPermissionDenied, cannot-open → kNotFound, constraint → kFailedPrecondition.
Status sqlite_status(sqlite3* db, int rc, const std::string& path, std::string_view what);

// A prepared statement. Bind errors are remembered and reported by the next step().
class Statement {
 public:
  static Result<Statement> prepare(sqlite3* db, const std::string& path, std::string_view sql);
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&&) = delete;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameter indexes start at 1, as in SQLite.
  void bind_int(int index, int64_t value);
  void bind_null(int index);
  void bind_text(int index, std::string_view value);
  void bind_blob(int index, const void* data, size_t n_bytes);

  // True when a row is ready to read, false when the statement has finished.
  Result<bool> step();
  // Steps to completion, ignoring rows.
  Status run();
  // Resets for another execution with new bindings (the bindings themselves are kept until rebound).
  void reset();

  int64_t column_int(int index) const;
  bool column_is_null(int index) const;
  std::string column_text(int index) const;
  std::string column_blob(int index) const;  // the bytes, empty for NULL

 private:
  Statement(sqlite3* db, sqlite3_stmt* stmt, const std::string& path, std::string_view sql)
      : db_(db), stmt_(stmt), path_(path), sql_(sql) {}
  void note_bind(int rc, int index);

  sqlite3* db_;
  sqlite3_stmt* stmt_;
  const std::string& path_;  // owned by the MetadataStore, which outlives its statements
  std::string_view sql_;     // a string literal of the caller
  int bind_rc_ = 0;
  int bind_index_ = 0;
};

// Runs constant SQL (one or more statements without parameters).
Status exec_sql(sqlite3* db, const std::string& path, const char* sql);

// Runs `body` inside BEGIN IMMEDIATE … COMMIT; rolls back when `body` or the commit fails.
Status in_transaction(sqlite3* db, const std::string& path, const std::function<Status()>& body);

}  // namespace lmaas::store
