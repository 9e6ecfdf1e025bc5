// SQLite helpers of the store level (see sqlite_db.h): statements, constant SQL, transactions.
#include "store/sqlite_db.h"

#include <sqlite3.h>

namespace lmaas::store {
namespace {

Code code_for(int rc) {
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Code::kUnavailable;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return Code::kDataLoss;
    case SQLITE_FULL:
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return Code::kResourceExhausted;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
      return Code::kPermissionDenied;
    case SQLITE_CANTOPEN:
      return Code::kNotFound;
    case SQLITE_CONSTRAINT:
      return Code::kFailedPrecondition;
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
      return Code::kInvalidArgument;
    default:
      return Code::kInternal;
  }
}

}  // namespace

Status sqlite_status(sqlite3* db, int rc, const std::string& path, std::string_view what) {
  // sqlite3_errmsg describes the most recent failure on `db`; without a handle only the code is known.
  std::string message =
      path + ": " + std::string(what) + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  if ((rc & 0xff) == SQLITE_NOTADB)
    message +=
        " (the file exists but is not an SQLite database; move it aside or choose another data directory)";
  else if ((rc & 0xff) == SQLITE_BUSY)
    message += " (another process holds the database lock; retry later)";
  return Status(code_for(rc), message);
}

Result<Statement> Statement::prepare(sqlite3* db, const std::string& path, std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return sqlite_status(db, rc, path, "preparing '" + std::string(sql.substr(0, 60)) + "'");
  }
  return Statement(db, stmt, path, sql);
}

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_),
      stmt_(other.stmt_),
      path_(other.path_),
      sql_(other.sql_),
      bind_rc_(other.bind_rc_),
      bind_index_(other.bind_index_) {
  other.stmt_ = nullptr;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::note_bind(int rc, int index) {
  if (rc != SQLITE_OK && bind_rc_ == SQLITE_OK) bind_rc_ = rc, bind_index_ = index;
}

void Statement::bind_int(int index, int64_t value) {
  note_bind(sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(value)), index);
}

void Statement::bind_null(int index) { note_bind(sqlite3_bind_null(stmt_, index), index); }

void Statement::bind_text(int index, std::string_view value) {
  note_bind(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
            index);
}

void Statement::bind_blob(int index, const void* data, size_t n_bytes) {
  note_bind(sqlite3_bind_blob64(stmt_, index, data, n_bytes, SQLITE_TRANSIENT), index);
}

Result<bool> Statement::step() {
  const std::string what = "running '" + std::string(sql_.substr(0, 60)) + "'";
  if (bind_rc_ != SQLITE_OK)
    return sqlite_status(db_, bind_rc_, path_,
                         what + " (binding parameter " + std::to_string(bind_index_) + ")");
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_status(db_, rc, path_, what);
}

Status Statement::run() {
  while (true) {
    LMAAS_ASSIGN_OR_RETURN(const bool row, step());
    if (!row) return Status::ok();
  }
}

void Statement::reset() { sqlite3_reset(stmt_); }

int64_t Statement::column_int(int index) const { return sqlite3_column_int64(stmt_, index); }

bool Statement::column_is_null(int index) const { return sqlite3_column_type(stmt_, index) == SQLITE_NULL; }

std::string Statement::column_text(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  const int n = sqlite3_column_bytes(stmt_, index);
  return text ? std::string(reinterpret_cast<const char*>(text), static_cast<size_t>(n)) : std::string();
}

std::string Statement::column_blob(int index) const {
  const void* data = sqlite3_column_blob(stmt_, index);
  const int n = sqlite3_column_bytes(stmt_, index);
  return data ? std::string(static_cast<const char*>(data), static_cast<size_t>(n)) : std::string();
}

Status exec_sql(sqlite3* db, const std::string& path, const char* sql) {
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) return Status::ok();
  std::string first_line(sql);
  first_line = first_line.substr(0, first_line.find('\n')).substr(0, 60);
  return sqlite_status(db, rc, path, "running '" + first_line + "'");
}

Status in_transaction(sqlite3* db, const std::string& path, const std::function<Status()>& body) {
  LMAAS_RETURN_IF_ERROR(exec_sql(db, path, "BEGIN IMMEDIATE"));
  Status status = body();
  if (status.is_ok()) status = exec_sql(db, path, "COMMIT");
  if (!status.is_ok() && !sqlite3_get_autocommit(db)) {
    // Best effort: a failed rollback leaves nothing more to report than the first error.
    Status rolled_back = exec_sql(db, path, "ROLLBACK");
    (void)rolled_back;
  }
  return status;
}

}  // namespace lmaas::store
