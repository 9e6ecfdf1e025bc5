#include "config_values.h"

#include <yaml-cpp/yaml.h>

#include "base/file_util.h"

namespace lmaas::cli {
namespace {

std::string key_of(const std::string& flag) {
  std::string k = flag.substr(flag.find_first_not_of('-'));
  for (char& c : k)
    if (c == '-') c = '_';
  return k;
}

nlohmann::json yaml_to_json(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json j = nlohmann::json::object();
      for (const auto& kv : n) j[kv.first.as<std::string>()] = yaml_to_json(kv.second);
      return j;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json j = nlohmann::json::array();
      for (const auto& item : n) j.push_back(yaml_to_json(item));
      return j;
    }
    case YAML::NodeType::Scalar: {
      const std::string s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted: always a string
      int64_t i;
      double d;
      bool b;
      if (YAML::convert<int64_t>::decode(n, i)) return i;
      if (YAML::convert<double>::decode(n, d)) return d;
      if (YAML::convert<bool>::decode(n, b)) return b;
      return s;
    }
    default: return nullptr;
  }
}

Result<nlohmann::json> parse_value(const std::string& key, ConfigValues::Kind kind, const std::string& text) {
  auto bad = [&](const char* what) {
    return Status(Code::kInvalidArgument, "option '" + key + "': '" + text + "' is not " + what);
  };
  try {
    size_t used = 0;
    switch (kind) {
      case ConfigValues::Kind::kString: return nlohmann::json(text);
      case ConfigValues::Kind::kInt: {
        const long long v = std::stoll(text, &used);
        if (used != text.size()) return bad("an integer");
        return nlohmann::json(v);
      }
      case ConfigValues::Kind::kNumber: {
        const double v = std::stod(text, &used);
        if (used != text.size()) return bad("a number");
        return nlohmann::json(v);
      }
      case ConfigValues::Kind::kList: {
        nlohmann::json list = nlohmann::json::array();
        size_t start = 0;
        while (start <= text.size()) {
          const size_t comma = std::min(text.find(',', start), text.size());
          const std::string item = text.substr(start, comma - start);
          const long long v = std::stoll(item, &used);
          if (used != item.size()) return bad("a comma-separated list of integers");
          list.push_back(v);
          start = comma + 1;
        }
        return list;
      }
    }
  } catch (const std::exception&) {
    return bad(kind == ConfigValues::Kind::kNumber ? "a number" : "an integer");
  }
  return bad("valid");
}

}  // namespace

void ConfigValues::add(CLI::App* cmd, const std::string& flag, Kind kind, const std::string& help) {
  Entry& e = entries_[flag];
  e.key = key_of(flag), e.kind = kind;
  e.option = cmd->add_option(flag, e.value, help);
}

void ConfigValues::add_switch(CLI::App* cmd, const std::string& flag, const std::string& key, bool value,
                              const std::string& help) {
  Entry& e = entries_[flag];
  e.key = key, e.kind = Kind::kString, e.is_switch = true, e.switch_value = value;
  e.option = cmd->add_flag(flag, help);
}

Result<nlohmann::json> ConfigValues::merged(const std::string& config_path) const {
  nlohmann::json j = nlohmann::json::object();
  if (!config_path.empty()) {
    auto file = read_config_file(config_path);
    if (!file.is_ok()) return file.status();
    j = file.value();
    std::set<std::string> known = file_keys_;
    for (const auto& [flag, e] : entries_) known.insert(e.key);
    for (auto it = j.begin(); it != j.end(); ++it)
      if (!known.count(it.key()))
        return Status(Code::kInvalidArgument, config_path + ": unknown option '" + it.key() +
                                                  "' (keys are the flags' names without dashes, '-' as '_')");
  }
  for (const auto& [flag, e] : entries_) {
    if (e.option->count() == 0) continue;
    if (e.is_switch) {
      j[e.key] = e.switch_value;
      continue;
    }
    auto v = parse_value(e.key, e.kind, e.value);
    if (!v.is_ok()) return v.status();
    j[e.key] = v.value();
  }
  return j;
}

Result<nlohmann::json> read_config_file(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.is_ok()) return bytes.status();
  nlohmann::json j;
  if (path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0) {
    j = nlohmann::json::parse(bytes.value(), nullptr, false);
    if (j.is_discarded()) return Status(Code::kInvalidArgument, path + ": not valid JSON");
  } else {
    try {
      j = yaml_to_json(YAML::Load(bytes.value()));
    } catch (const YAML::Exception& e) {
      return Status(Code::kInvalidArgument, path + ": " + e.what());
    }
  }
  if (!j.is_object()) return Status(Code::kInvalidArgument, path + ": the config must be a mapping of options");
  return j;
}

}  // namespace lmaas::cli
