#include "serve/auth.h"

namespace lmaas::serve {

Authenticator::Authenticator(store::MetadataStore* store, int64_t refresh_ms) : store_(store), refresh_(refresh_ms) {}

void Authenticator::invalidate() {
  std::lock_guard lock(mu_);
  stale_ = true;
}

void Authenticator::refresh_if_stale(bool missed) {
  const auto now = std::chrono::steady_clock::now();
  // A key not in the cache may have just been created by another process: look at the database's
  // version then too (a cheap read; the keys are reloaded only when it moved).
  if (!stale_ && !missed && now - checked_ < refresh_) return;
  checked_ = now;
  auto version = store_->data_version();
  if (!stale_ && version.is_ok() && version.value() == data_version_) return;
  auto keys = store_->load_keys();
  if (!keys.is_ok()) return;  // keep serving with the cache we have; the next check retries
  keys_.clear();
  for (auto& k : keys.value()) keys_[k.hash] = std::move(k);
  if (version.is_ok()) data_version_ = version.value();
  stale_ = false;
}

std::variant<Caller, api::ApiError> Authenticator::authenticate(std::string_view authorization, bool need_admin) {
  if (store_ == nullptr) return Caller{0, "anonymous", true, 0, 0};
  auto unauthenticated = [](const std::string& message) {
    return api::ApiError{Code::kUnauthenticated, message, "authorization", "invalid_api_key"};
  };
  if (authorization.empty())
    return unauthenticated("no API key: send the header 'Authorization: Bearer <key>' (`lmaas keys create` makes one)");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() || authorization.substr(0, kBearer.size()) != kBearer)
    return unauthenticated("the Authorization header must be 'Bearer <key>'");
  const auto hash = store::hash_key_secret(authorization.substr(kBearer.size()));
  std::lock_guard lock(mu_);
  refresh_if_stale(false);
  // The map finds a candidate by hash; the final comparison is constant-time on the full digest.
  auto it = keys_.find(hash);
  if (it == keys_.end()) {
    refresh_if_stale(true);
    it = keys_.find(hash);
  }
  if (it == keys_.end() || !store::hashes_equal(it->second.hash, hash)) return unauthenticated("the API key is not valid");
  const auto& key = it->second.key;
  if (key.revoked_unix) return unauthenticated("the API key '" + key.name + "' has been revoked");
  const bool admin = key.scope == store::Scope::kAdmin;
  if (need_admin && !admin)
    return api::ApiError{Code::kPermissionDenied, "the API key '" + key.name + "' has scope 'infer'; this route needs 'admin'",
                         "authorization", "insufficient_scope"};
  return Caller{key.id, key.name, admin, key.requests_per_minute, key.chars_per_minute};
}

}  // namespace lmaas::serve
