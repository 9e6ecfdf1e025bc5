// MetadataStore over SQLite (see metadata_store.h). Schema version kSchemaVersion lives in PRAGMA
// user_version; a file with a larger version is refused, a file with 0 gets the schema in one transaction.
// Invariants: every public method takes mu_ before touching db_; values reach SQL only as bound parameters;
// key secrets never reach the database, only their SHA-256.
#include "store/metadata_store.h"

#include <sqlite3.h>
#include <sys/random.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <optional>

#include "base/sha256.h"
#include "store/sqlite_db.h"

namespace lmaas::store {
namespace {

constexpr int64_t kSchemaVersion = 1;
constexpr int kBusyTimeoutMs = 5000;
constexpr size_t kMaxNameChars = 64;
constexpr size_t kSecretRandomBytes = 24;  // 48 hex characters
constexpr size_t kPrefixChars = 12;
constexpr const char* kHex = "0123456789abcdef";

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  hash BLOB NOT NULL CHECK (length(hash) = 32),
  scope TEXT NOT NULL CHECK (scope IN ('infer', 'admin')),
  created INTEGER NOT NULL,
  revoked INTEGER,
  requests_per_minute INTEGER NOT NULL DEFAULT 0 CHECK (requests_per_minute >= 0),
  chars_per_minute INTEGER NOT NULL DEFAULT 0 CHECK (chars_per_minute >= 0)
);
CREATE INDEX IF NOT EXISTS keys_by_hash ON keys (hash);
CREATE TABLE IF NOT EXISTS usage (
  key_id INTEGER NOT NULL,
  model TEXT NOT NULL,
  day TEXT NOT NULL,
  requests INTEGER NOT NULL DEFAULT 0,
  characters INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (key_id, model, day)
) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";  // the last line sets kSchemaVersion; both change together

constexpr const char* kKeyColumns =
    "SELECT id, name, prefix, scope, created, revoked, requests_per_minute, chars_per_minute, hash "
    "FROM keys ORDER BY id";

int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `text` with non-printable bytes as \xNN, for messages.
std::string printable(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      out += "\\x";
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xf]);
    }
  }
  return out;
}

Status check_key_name(const std::string& name) {
  const char* expected = "expected 1 to 64 characters from A-Z a-z 0-9 . _ -";
  if (name.empty()) return Status(Code::kInvalidArgument, std::string("key name is empty; ") + expected);
  if (name.size() > kMaxNameChars)
    return Status(Code::kInvalidArgument, "key name '" + printable(name.substr(0, kMaxNameChars)) +
                                              "…' has " + std::to_string(name.size()) + " characters; " +
                                              expected);
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && c != '.' && c != '_' && c != '-')
      return Status(Code::kInvalidArgument, "key name '" + printable(name) + "' has '" +
                                                printable(name.substr(i, 1)) + "' at position " +
                                                std::to_string(i) + "; " + expected);
  }
  return Status::ok();
}

bool is_day(std::string_view day) {
  if (day.size() != 10 || day[4] != '-' || day[7] != '-') return false;
  for (int i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (day[i] < '0' || day[i] > '9') return false;
  const int month = (day[5] - '0') * 10 + (day[6] - '0'), dom = (day[8] - '0') * 10 + (day[9] - '0');
  return month >= 1 && month <= 12 && dom >= 1 && dom <= 31;
}

// A decimal id in [1, 2^63): digits only, no sign, no overflow.
std::optional<int64_t> parse_id(std::string_view text) {
  if (text.empty() || text.size() > 18) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  return value > 0 ? std::optional<int64_t>(value) : std::nullopt;
}

Result<std::string> random_secret() {
  uint8_t bytes[kSecretRandomBytes];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status(Code::kUnavailable,
                    std::string("reading the OS random source (getrandom): ") + std::strerror(errno));
    }
    got += static_cast<size_t>(n);
  }
  std::string secret = "lmaas-";
  for (uint8_t b : bytes) secret.push_back(kHex[b >> 4]), secret.push_back(kHex[b & 0xf]);
  std::memset(bytes, 0, sizeof bytes);
  return secret;
}

Result<int64_t> read_int_pragma(sqlite3* db, const std::string& path, const char* sql) {
  LMAAS_ASSIGN_OR_RETURN(Statement stmt, Statement::prepare(db, path, sql));
  LMAAS_ASSIGN_OR_RETURN(const bool row, stmt.step());
  if (!row) return Status(Code::kInternal, path + ": '" + sql + "' returned no row");
  return stmt.column_int(0);
}

Status check_version(int64_t version, const std::string& path) {
  if (version <= kSchemaVersion) return Status::ok();
  return Status(Code::kFailedPrecondition, path + ": schema version " + std::to_string(version) +
                                               " was written by a newer lmaas; this build reads " +
                                               "versions up to " + std::to_string(kSchemaVersion) +
                                               " (upgrade lmaas, or use another data directory)");
}

// WAL, busy timeout, then the schema when the file has none.
Status prepare_connection(sqlite3* db, const std::string& path) {
  sqlite3_extended_result_codes(db, 1);
  const int rc = sqlite3_busy_timeout(db, kBusyTimeoutMs);
  if (rc != SQLITE_OK) return sqlite_status(db, rc, path, "setting the busy timeout");
  {
    LMAAS_ASSIGN_OR_RETURN(Statement wal, Statement::prepare(db, path, "PRAGMA journal_mode = WAL"));
    LMAAS_ASSIGN_OR_RETURN(const bool row, wal.step());
    const std::string mode = row ? wal.column_text(0) : "";
    if (mode != "wal" && mode != "memory")
      return Status(Code::kFailedPrecondition, path + ": cannot switch to WAL journal mode (mode is '" +
                                                   mode +
                                                   "'; is the file on a filesystem without shared memory?)");
  }
  LMAAS_RETURN_IF_ERROR(exec_sql(db, path, "PRAGMA synchronous = NORMAL"));
  LMAAS_ASSIGN_OR_RETURN(const int64_t version, read_int_pragma(db, path, "PRAGMA user_version"));
  LMAAS_RETURN_IF_ERROR(check_version(version, path));
  if (version == kSchemaVersion) return Status::ok();
  return in_transaction(db, path, [&]() -> Status {
    // Another process may have created the schema between the read above and this write lock.
    LMAAS_ASSIGN_OR_RETURN(const int64_t locked_version, read_int_pragma(db, path, "PRAGMA user_version"));
    LMAAS_RETURN_IF_ERROR(check_version(locked_version, path));
    if (locked_version == kSchemaVersion) return Status::ok();
    return exec_sql(db, path, kSchemaSql);
  });
}

Result<Scope> scope_from_column(const std::string& text, const std::string& path) {
  auto scope = parse_scope(text);
  if (!scope.is_ok()) return Status(Code::kDataLoss, path + ": table keys: " + scope.status().message());
  return scope;
}

Result<StoredKey> read_key_row(const Statement& stmt, const std::string& path) {
  StoredKey stored;
  ApiKey& key = stored.key;
  key.id = stmt.column_int(0);
  key.name = stmt.column_text(1);
  key.prefix = stmt.column_text(2);
  LMAAS_ASSIGN_OR_RETURN(key.scope, scope_from_column(stmt.column_text(3), path));
  key.created_unix = stmt.column_int(4);
  if (!stmt.column_is_null(5)) key.revoked_unix = stmt.column_int(5);
  key.requests_per_minute = stmt.column_int(6);
  key.chars_per_minute = stmt.column_int(7);
  const std::string hash = stmt.column_blob(8);
  if (hash.size() != stored.hash.size())
    return Status(Code::kDataLoss, path + ": key '" + key.name + "' has a hash of " +
                                       std::to_string(hash.size()) + " bytes, expected 32");
  std::memcpy(stored.hash.data(), hash.data(), hash.size());
  return stored;
}

Result<std::vector<StoredKey>> read_all_keys(sqlite3* db, const std::string& path) {
  LMAAS_ASSIGN_OR_RETURN(Statement stmt, Statement::prepare(db, path, kKeyColumns));
  std::vector<StoredKey> keys;
  while (true) {
    LMAAS_ASSIGN_OR_RETURN(const bool row, stmt.step());
    if (!row) return keys;
    LMAAS_ASSIGN_OR_RETURN(StoredKey key, read_key_row(stmt, path));
    keys.push_back(std::move(key));
  }
}

Status check_usage_row(const UsageRow& row, const std::string& path) {
  const std::string where = path + ": usage for key " + std::to_string(row.key_id) + ", model '" +
                            printable(row.model) + "', day '" + printable(row.day) + "': ";
  if (row.key_id < 0) return Status(Code::kInvalidArgument, where + "key id is negative");
  if (row.model.empty()) return Status(Code::kInvalidArgument, where + "model name is empty");
  if (!is_day(row.day)) return Status(Code::kInvalidArgument, where + "day is not YYYY-MM-DD");
  if (row.requests < 0 || row.characters < 0)
    return Status(Code::kInvalidArgument, where + "requests (" + std::to_string(row.requests) +
                                              ") and characters (" + std::to_string(row.characters) +
                                              ") must be >= 0");
  return Status::ok();
}

}  // namespace

std::string metadata_db_path(const std::string& data_dir) {
  if (data_dir.empty()) return "lmaas.db";
  return data_dir.back() == '/' ? data_dir + "lmaas.db" : data_dir + "/lmaas.db";
}

const char* scope_name(Scope scope) { return scope == Scope::kAdmin ? "admin" : "infer"; }

Result<Scope> parse_scope(std::string_view name) {
  if (name == "admin") return Scope::kAdmin;
  if (name == "infer") return Scope::kInfer;
  return Status(Code::kInvalidArgument, "scope '" + printable(name) + "' is not one of: admin, infer");
}

KeyHash hash_key_secret(std::string_view secret) {
  Sha256 sha;
  sha.update(secret);
  const std::string hex = sha.hex_digest();
  auto nibble = [](char c) { return static_cast<uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  KeyHash hash{};
  for (size_t i = 0; i < hash.size(); ++i)
    hash[i] = static_cast<uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return hash;
}

bool hashes_equal(const KeyHash& a, const KeyHash& b) {
  // Every byte is read whatever the others hold: the time does not depend on where they differ.
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = static_cast<uint8_t>(diff | (a[i] ^ b[i]));
  return diff == 0;
}

Result<std::unique_ptr<MetadataStore>> MetadataStore::open(const std::string& path) {
  sqlite3* db = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status status = sqlite_status(db, rc, path, "opening the metadata database");
    sqlite3_close_v2(db);
    if ((rc & 0xff) == SQLITE_CANTOPEN)
      return Status(status.code(), status.message() + " (does its directory exist and is it writable?)");
    return status;
  }
  Status prepared = prepare_connection(db, path);
  if (!prepared.is_ok()) {
    sqlite3_close_v2(db);
    return prepared;
  }
  return std::unique_ptr<MetadataStore>(new MetadataStore(db, path));
}

MetadataStore::~MetadataStore() { sqlite3_close_v2(db_); }

Result<CreatedKey> MetadataStore::create_key(const std::string& name, Scope scope,
                                             int64_t requests_per_minute, int64_t chars_per_minute) {
  LMAAS_RETURN_IF_ERROR(check_key_name(name));
  if (requests_per_minute < 0 || chars_per_minute < 0)
    return Status(Code::kInvalidArgument, "key '" + name + "': requests_per_minute (" +
                                              std::to_string(requests_per_minute) +
                                              ") and chars_per_minute (" + std::to_string(chars_per_minute) +
                                              ") must be >= 0 (0: server default)");
  CreatedKey created;
  LMAAS_ASSIGN_OR_RETURN(created.secret, random_secret());
  ApiKey& key = created.key;
  key.name = name, key.prefix = created.secret.substr(0, kPrefixChars), key.scope = scope;
  key.created_unix = now_unix();
  key.requests_per_minute = requests_per_minute, key.chars_per_minute = chars_per_minute;
  const KeyHash hash = hash_key_secret(created.secret);

  std::lock_guard lock(mu_);
  LMAAS_ASSIGN_OR_RETURN(Statement stmt,
                         Statement::prepare(db_, path_,
                                            "INSERT INTO keys (name, prefix, hash, scope, created, "
                                            "requests_per_minute, chars_per_minute) "
                                            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"));
  stmt.bind_text(1, key.name);
  stmt.bind_text(2, key.prefix);
  stmt.bind_blob(3, hash.data(), hash.size());
  stmt.bind_text(4, scope_name(scope));
  stmt.bind_int(5, key.created_unix);
  stmt.bind_int(6, requests_per_minute);
  stmt.bind_int(7, chars_per_minute);
  Status inserted = stmt.run();
  if (!inserted.is_ok()) {
    if (sqlite3_extended_errcode(db_) == SQLITE_CONSTRAINT_UNIQUE)
      return Status(Code::kAlreadyExists,
                    path_ + ": a key named '" + name +
                        "' already exists (revoked keys keep their names; choose another name)");
    return inserted;
  }
  key.id = sqlite3_last_insert_rowid(db_);
  return created;
}

Result<std::vector<ApiKey>> MetadataStore::list_keys() {
  std::lock_guard lock(mu_);
  LMAAS_ASSIGN_OR_RETURN(std::vector<StoredKey> stored, read_all_keys(db_, path_));
  std::vector<ApiKey> keys;
  keys.reserve(stored.size());
  for (auto& s : stored) keys.push_back(std::move(s.key));
  return keys;
}

Result<std::vector<StoredKey>> MetadataStore::load_keys() {
  std::lock_guard lock(mu_);
  return read_all_keys(db_, path_);
}

Status MetadataStore::revoke_key(const std::string& name_or_id) {
  std::lock_guard lock(mu_);
  const int64_t now = now_unix();
  // A name wins over an id: a key named "7" is revoked by "7" even when another key has id 7.
  LMAAS_ASSIGN_OR_RETURN(
      Statement by_name,
      Statement::prepare(db_, path_, "UPDATE keys SET revoked = COALESCE(revoked, ?2) WHERE name = ?1"));
  by_name.bind_text(1, name_or_id);
  by_name.bind_int(2, now);
  LMAAS_RETURN_IF_ERROR(by_name.run());
  if (sqlite3_changes(db_) > 0) return Status::ok();
  if (const auto id = parse_id(name_or_id)) {
    LMAAS_ASSIGN_OR_RETURN(
        Statement by_id,
        Statement::prepare(db_, path_, "UPDATE keys SET revoked = COALESCE(revoked, ?2) WHERE id = ?1"));
    by_id.bind_int(1, *id);
    by_id.bind_int(2, now);
    LMAAS_RETURN_IF_ERROR(by_id.run());
    if (sqlite3_changes(db_) > 0) return Status::ok();
  }
  return Status(Code::kNotFound, path_ + ": no key has the name or id '" + printable(name_or_id) +
                                     "' (`lmaas keys list` shows them)");
}

Result<int64_t> MetadataStore::count_keys() {
  std::lock_guard lock(mu_);
  return read_int_pragma(db_, path_, "SELECT count(*) FROM keys");
}

Result<int64_t> MetadataStore::data_version() {
  std::lock_guard lock(mu_);
  return read_int_pragma(db_, path_, "PRAGMA data_version");
}

Status MetadataStore::add_usage(const std::vector<UsageRow>& deltas) {
  for (const UsageRow& row : deltas) LMAAS_RETURN_IF_ERROR(check_usage_row(row, path_));
  if (deltas.empty()) return Status::ok();
  std::lock_guard lock(mu_);
  return in_transaction(db_, path_, [&]() -> Status {
    LMAAS_ASSIGN_OR_RETURN(Statement stmt,
                           Statement::prepare(db_, path_,
                                              "INSERT INTO usage (key_id, model, day, requests, characters) "
                                              "VALUES (?1, ?2, ?3, ?4, ?5) "
                                              "ON CONFLICT (key_id, model, day) DO UPDATE SET "
                                              "requests = requests + excluded.requests, "
                                              "characters = characters + excluded.characters"));
    for (const UsageRow& row : deltas) {
      stmt.reset();
      stmt.bind_int(1, row.key_id);
      stmt.bind_text(2, row.model);
      stmt.bind_text(3, row.day);
      stmt.bind_int(4, row.requests);
      stmt.bind_int(5, row.characters);
      LMAAS_RETURN_IF_ERROR(stmt.run());
    }
    return Status::ok();
  });
}

Result<std::vector<UsageRow>> MetadataStore::usage(std::optional<int64_t> key_id,
                                                   const std::string& since_day) {
  if (!since_day.empty() && !is_day(since_day))
    return Status(Code::kInvalidArgument, "usage since day '" + printable(since_day) + "' is not YYYY-MM-DD");
  std::lock_guard lock(mu_);
  LMAAS_ASSIGN_OR_RETURN(
      Statement stmt, Statement::prepare(db_, path_,
                                         "SELECT u.key_id, COALESCE(k.name, ''), u.model, u.day, u.requests, "
                                         "u.characters FROM usage u LEFT JOIN keys k ON k.id = u.key_id "
                                         "WHERE (?1 IS NULL OR u.key_id = ?1) AND u.day >= ?2 "
                                         "ORDER BY u.day, COALESCE(k.name, ''), u.model, u.key_id"));
  if (key_id)
    stmt.bind_int(1, *key_id);
  else
    stmt.bind_null(1);
  stmt.bind_text(2, since_day);
  std::vector<UsageRow> rows;
  while (true) {
    LMAAS_ASSIGN_OR_RETURN(const bool row, stmt.step());
    if (!row) return rows;
    UsageRow& out = rows.emplace_back();
    out.key_id = stmt.column_int(0);
    out.key_name = stmt.column_text(1);
    out.model = stmt.column_text(2);
    out.day = stmt.column_text(3);
    out.requests = stmt.column_int(4);
    out.characters = stmt.column_int(5);
  }
}

std::string iso8601_utc(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

nlohmann::json api_key_json(const ApiKey& key) {
  nlohmann::json j = {{"id", key.id},
                      {"object", "api_key"},
                      {"name", key.name},
                      {"prefix", key.prefix},
                      {"scope", scope_name(key.scope)},
                      {"created", iso8601_utc(key.created_unix)},
                      {"revoked", nullptr},
                      {"requests_per_minute", key.requests_per_minute},
                      {"chars_per_minute", key.chars_per_minute}};
  if (key.revoked_unix) j["revoked"] = iso8601_utc(*key.revoked_unix);
  return j;
}

}  // namespace lmaas::store
