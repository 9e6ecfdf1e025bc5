// Options that can be given as flags or in a --config file (YAML or JSON); a flag given on the command
// line wins over the file. A flag's key is its name without the dashes, '-' → '_' (--valid-fraction →
// valid_fraction), so a config file reads like the command line.
#pragma once

#include <map>
#include <set>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "base/status.h"

namespace lmaas::cli {

class ConfigValues {
 public:
  enum class Kind { kString, kInt, kNumber, kList };  // kList: comma-separated integers
  // A value option: --name VALUE.
  void add(CLI::App* cmd, const std::string& flag, Kind kind, const std::string& help);
  // A switch: --name sets `key` to `value`.
  void add_switch(CLI::App* cmd, const std::string& flag, const std::string& key, bool value, const std::string& help);

  // A key only a config file can give (a value no flag can spell, e.g. an ensemble's members).
  void add_file_key(const std::string& key) { file_keys_.insert(key); }

  // The file's values, then the flags given on the command line over them. Errors name the key; a key
  // in the file that is neither a flag's nor a file key is an error (a misspelt option never goes unseen).
  Result<nlohmann::json> merged(const std::string& config_path) const;

 private:
  struct Entry {
    std::string key;
    Kind kind;
    std::string value;
    CLI::Option* option = nullptr;
    bool is_switch = false;
    bool switch_value = false;
  };
  std::map<std::string, Entry> entries_;  // by flag; map nodes keep `value` addresses stable for CLI11
  std::set<std::string> file_keys_;
};

// Reads a YAML or JSON config file (by extension: .json is JSON, anything else YAML) into JSON.
Result<nlohmann::json> read_config_file(const std::string& path);

// Typed access with errors that name the key: get(j, "epochs", 10).
template <typename T>
T get(const nlohmann::json& j, const std::string& key, T fallback) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  try {
    return j[key].get<T>();
  } catch (const nlohmann::json::exception&) {
    throw Error(Code::kInvalidArgument, "option '" + key + "': unexpected value " + j[key].dump());
  }
}

}  // namespace lmaas::cli
