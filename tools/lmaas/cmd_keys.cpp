// lmaas keys: create, list and revoke the server's API keys in <data-dir>/lmaas.db (the metadata store).
// A secret is printed once, by `create`, and never stored: the database holds only its SHA-256. Safe to
// run beside a running server, which notices the change through the store's data_version.
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "store/metadata_store.h"

namespace lmaas::cli {
namespace {

struct KeysArgs {
  std::string data_dir = "var";
  bool json = false;
  std::string name;  // create
  std::string scope = "infer";
  int64_t requests_per_minute = 0;
  int64_t chars_per_minute = 0;
  std::string name_or_id;  // revoke
};

std::unique_ptr<store::MetadataStore> open_store(const std::string& data_dir, bool create_dir) {
  std::error_code ec;
  if (create_dir && !data_dir.empty()) std::filesystem::create_directories(data_dir, ec);
  if (ec)
    throw Error(Code::kPermissionDenied, "cannot create data directory " + data_dir + ": " + ec.message());
  auto opened = store::MetadataStore::open(store::metadata_db_path(data_dir));
  if (!opened.is_ok()) throw Error(opened.status());
  return std::move(opened).value();
}

std::string limit_text(int64_t limit) { return limit == 0 ? "default" : std::to_string(limit); }

int run_create(const KeysArgs& args) {
  auto scope = store::parse_scope(args.scope);
  if (!scope.is_ok()) throw Error(scope.status());
  auto db = open_store(args.data_dir, true);
  auto created = db->create_key(args.name, scope.value(), args.requests_per_minute, args.chars_per_minute);
  if (!created.is_ok()) throw Error(created.status());
  const store::ApiKey& key = created.value().key;
  if (args.json) {
    nlohmann::json j = store::api_key_json(key);
    j["secret"] = created.value().secret;
    j["database"] = db->path();
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("Created key '%s' (id %lld, scope %s, requests/min %s, chars/min %s) in %s\n", key.name.c_str(),
              static_cast<long long>(key.id), store::scope_name(key.scope),
              limit_text(key.requests_per_minute).c_str(), limit_text(key.chars_per_minute).c_str(),
              db->path().c_str());
  std::printf("%s\n", created.value().secret.c_str());
  std::printf("This secret will not be shown again: store it now (only its hash is kept).\n");
  return 0;
}

int run_list(const KeysArgs& args) {
  auto db = open_store(args.data_dir, true);
  auto keys = db->list_keys();
  if (!keys.is_ok()) throw Error(keys.status());
  if (args.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& key : keys.value()) list.push_back(store::api_key_json(key));
    std::printf("%s\n", nlohmann::json{{"database", db->path()}, {"keys", list}}.dump().c_str());
    return 0;
  }
  if (keys.value().empty()) {
    std::printf("No keys in %s (create one with `lmaas keys create --name NAME`)\n", db->path().c_str());
    return 0;
  }
  std::printf("%-6s %-24s %-14s %-6s %-21s %-21s %-12s %s\n", "id", "name", "prefix", "scope", "created",
              "revoked", "requests/min", "chars/min");
  for (const auto& key : keys.value()) {
    const std::string revoked = key.revoked_unix ? store::iso8601_utc(*key.revoked_unix) : "-";
    std::printf("%-6lld %-24s %-14s %-6s %-21s %-21s %-12s %s\n", static_cast<long long>(key.id),
                key.name.c_str(), key.prefix.c_str(), store::scope_name(key.scope),
                store::iso8601_utc(key.created_unix).c_str(), revoked.c_str(),
                limit_text(key.requests_per_minute).c_str(), limit_text(key.chars_per_minute).c_str());
  }
  return 0;
}

int run_revoke(const KeysArgs& args) {
  auto db = open_store(args.data_dir, false);
  Status revoked = db->revoke_key(args.name_or_id);
  if (!revoked.is_ok()) throw Error(revoked);
  std::printf("Revoked key '%s' in %s\n", args.name_or_id.c_str(), db->path().c_str());
  return 0;
}

void add_data_dir(CLI::App* cmd, KeysArgs& args) {
  cmd->add_option("--data-dir", args.data_dir, "directory of lmaas.db, created when missing (default: var)");
}

}  // namespace

void add_keys_command(CLI::App& app, int& exit_code) {
  auto args = std::make_shared<KeysArgs>();
  CLI::App* keys = app.add_subcommand("keys", "Create, list and revoke API keys (in <data-dir>/lmaas.db)");
  keys->require_subcommand(1);

  CLI::App* create = keys->add_subcommand("create", "Create a key and print its secret once");
  create->add_option("--name", args->name, "unique name: 1-64 characters from A-Z a-z 0-9 . _ -")->required();
  create
      ->add_option("--scope", args->scope,
                   "admin (management and inference) or infer (inference only; default)")
      ->check(CLI::IsMember({"admin", "infer"}));
  create
      ->add_option("--requests-per-minute", args->requests_per_minute, "rate limit (0: the server's default)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  create->add_option("--chars-per-minute", args->chars_per_minute, "input characters per minute (0: default)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 50));
  create->add_flag("--json", args->json, "print one JSON object (with the secret) instead of text");
  add_data_dir(create, *args);
  create->callback([args, &exit_code] { exit_code = run_create(*args); });

  CLI::App* list = keys->add_subcommand("list", "List keys (never their secrets)");
  list->add_flag("--json", args->json, "print one JSON object instead of a table");
  add_data_dir(list, *args);
  list->callback([args, &exit_code] { exit_code = run_list(*args); });

  CLI::App* revoke =
      keys->add_subcommand("revoke", "Revoke a key by name or id (it stays listed, as revoked)");
  revoke->add_option("name_or_id", args->name_or_id, "the key's name or numeric id")->required();
  add_data_dir(revoke, *args);
  revoke->callback([args, &exit_code] { exit_code = run_revoke(*args); });
}

}  // namespace lmaas::cli
