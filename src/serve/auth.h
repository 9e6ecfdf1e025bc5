// Authenticator: `Authorization: Bearer <key>` -> the key's identity and scope, or the error to answer.
// Keys live hashed in the MetadataStore; this class caches them by hash and reloads the cache when the
// database changed (another process ran `lmaas keys create|revoke`: SQLite's data_version moves), checked
// at most every refresh_ms. The presented key is hashed and compared in constant time.
// Thread-safe. With auth disabled (--no-auth, loopback only) every request is an anonymous admin.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "api/error.h"
#include "store/metadata_store.h"

namespace lmaas::serve {

struct Caller {
  int64_t key_id = 0;  // 0: anonymous (auth disabled)
  std::string key_name;
  bool admin = false;
  int64_t requests_per_minute = 0;
  int64_t chars_per_minute = 0;
};

class Authenticator {
 public:
  // store == nullptr: auth disabled.
  explicit Authenticator(store::MetadataStore* store, int64_t refresh_ms = 250);
  // need_admin: the route is a management route. Errors: 401 (missing, malformed, unknown, revoked),
  // 403 (an infer key on an admin route).
  std::variant<Caller, api::ApiError> authenticate(std::string_view authorization, bool need_admin);
  void invalidate();  // reload on next use (after this process changed the keys)

 private:
  void refresh_if_stale(bool missed);

  store::MetadataStore* store_;
  const std::chrono::milliseconds refresh_;
  std::mutex mu_;
  std::map<store::KeyHash, store::StoredKey> keys_;
  int64_t data_version_ = -1;
  std::chrono::steady_clock::time_point checked_{};
  bool stale_ = true;
};

}  // namespace lmaas::serve
