// MetadataStore: the server's durable state in one SQLite file (WAL mode) — API keys and usage.
// - Keys are stored as the SHA-256 of their secret; the secret itself is shown once, at creation, and
//   never stored. A key has a name (unique), a scope (admin: management routes and inference; infer:
//   inference only), optional per-key rate limits, and may be revoked (revocation is kept, not deleted).
// - Usage is counted per (key, model, UTC day): requests and characters, added in batches.
// - Every method is safe to call from any thread (one connection, guarded by a mutex). Other processes
//   (`lmaas keys ...` beside a running server) may write the same file; data_version() tells when they did.
// - Nothing here throws on bad input or a bad file: errors come back as Status naming the file.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

struct sqlite3;

namespace lmaas::store {

// The metadata database inside a data directory: `data_dir + "/lmaas.db"` (the CLI and the server agree).
std::string metadata_db_path(const std::string& data_dir);

enum class Scope { kInfer, kAdmin };
const char* scope_name(Scope scope);                      // "infer" | "admin"
Result<Scope> parse_scope(std::string_view name);         // the inverse; anything else is kInvalidArgument

using KeyHash = std::array<uint8_t, 32>;
KeyHash hash_key_secret(std::string_view secret);          // SHA-256 of the secret's bytes
bool hashes_equal(const KeyHash& a, const KeyHash& b);     // constant time

struct ApiKey {
  int64_t id = 0;
  std::string name;
  std::string prefix;                 // the secret's first 12 characters, shown by `keys list`
  Scope scope = Scope::kInfer;
  int64_t created_unix = 0;
  std::optional<int64_t> revoked_unix;
  int64_t requests_per_minute = 0;    // 0: the server's default
  int64_t chars_per_minute = 0;       // 0: the server's default
};

// "2024-05-01T12:00:00Z"
std::string iso8601_utc(int64_t unix_seconds);
// A key as the CLI and the API show it (never its secret): id, object, name, prefix, scope, created,
// revoked (null or a time), requests_per_minute, chars_per_minute.
nlohmann::json api_key_json(const ApiKey& key);

struct StoredKey {
  ApiKey key;
  KeyHash hash{};
};

struct CreatedKey {
  ApiKey key;
  std::string secret;                 // "lmaas-" + 48 hex characters from the OS's random source
};

struct UsageRow {
  int64_t key_id = 0;
  std::string key_name;               // filled by usage(); ignored by add_usage()
  std::string model;
  std::string day;                    // "YYYY-MM-DD", UTC
  int64_t requests = 0;
  int64_t characters = 0;
};

class MetadataStore {
 public:
  // Opens or creates `path` (its directory must exist), sets WAL and a busy timeout, creates the schema
  // when missing, refuses a file whose schema version is newer than this build's.
  static Result<std::unique_ptr<MetadataStore>> open(const std::string& path);
  ~MetadataStore();
  MetadataStore(const MetadataStore&) = delete;
  MetadataStore& operator=(const MetadataStore&) = delete;

  // kAlreadyExists when the name is taken (revoked keys keep their names).
  Result<CreatedKey> create_key(const std::string& name, Scope scope, int64_t requests_per_minute = 0,
                                int64_t chars_per_minute = 0);
  Result<std::vector<ApiKey>> list_keys();
  // Every key with its hash, revoked ones included (the server caches these).
  Result<std::vector<StoredKey>> load_keys();
  // By name or by numeric id; kNotFound when neither matches; revoking twice is not an error.
  Status revoke_key(const std::string& name_or_id);
  // Every key ever created, revoked ones included.
  Result<int64_t> count_keys();

  // Changes whenever another connection commits to the file (SQLite's PRAGMA data_version).
  Result<int64_t> data_version();

  // Adds the deltas (requests, characters) to their (key, model, day) rows in one transaction.
  Status add_usage(const std::vector<UsageRow>& deltas);
  // Rows ordered by day, key name, model; filtered by key id and by days >= since_day when given.
  Result<std::vector<UsageRow>> usage(std::optional<int64_t> key_id = std::nullopt,
                                      const std::string& since_day = "");

  const std::string& path() const { return path_; }

 private:
  MetadataStore(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  std::mutex mu_;
  sqlite3* db_;
  std::string path_;
};

}  // namespace lmaas::store
