#include "formats/model_bundle.h"

#include <chrono>
#include <ctime>
#include <filesystem>
#include <set>

#include "base/file_util.h"
#include "formats/module_state.h"
#include "formats/safetensors.h"

namespace lmaas {
namespace {

std::string utc_now_iso8601() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string path_in(const std::string& dir, const char* file) { return (std::filesystem::path(dir) / file).string(); }

}  // namespace

Status write_model_bundle(const std::string& dir, nlohmann::json config, const nn::Module& module,
                          const std::function<Status(const std::string& tmp_dir)>& write_extra) {
  return write_model_bundle(dir, std::move(config), module.named_state(), write_extra);
}

Status write_model_bundle(const std::string& dir, nlohmann::json config, const nn::NamedTensors& state,
                          const std::function<Status(const std::string& tmp_dir)>& write_extra) {
  if (!config.contains("format_version")) config["format_version"] = kBundleFormatVersion;
  if (!config.contains("lmaas_version")) config["lmaas_version"] = LMAAS_VERSION;
  if (!config.contains("created")) config["created"] = utc_now_iso8601();
  return publish_directory_atomic(dir, [&](const std::string& tmp) {
    Status s = write_safetensors(path_in(tmp, kBundleWeightsFile), TensorMap{state, {{"format", "pt"}}});
    if (s.is_ok() && write_extra) s = write_extra(tmp);
    if (s.is_ok()) s = write_file_atomic(path_in(tmp, kBundleConfigFile), config.dump(2) + "\n");
    return s;
  });
}

Result<nlohmann::json> read_bundle_config(const std::string& dir) {
  const std::string path = path_in(dir, kBundleConfigFile);
  if (!std::filesystem::is_directory(dir)) return Status(Code::kNotFound, "model directory '" + dir + "' does not exist");
  auto bytes = read_file(path);
  if (!bytes.is_ok()) return Status(Code::kNotFound, path + ": " + bytes.status().message());
  nlohmann::json c = nlohmann::json::parse(bytes.value(), nullptr, false);
  auto bad = [&](const std::string& why) { return Status(Code::kInvalidArgument, path + ": " + why); };
  if (c.is_discarded()) return bad("not valid JSON");
  if (!c.is_object()) return bad("not a JSON object");
  if (!c.contains("format_version") || !c["format_version"].is_number_integer())
    return bad("no integer format_version");
  const int64_t version = c["format_version"].get<int64_t>();
  if (version > kBundleFormatVersion)
    return bad("format_version " + std::to_string(version) + " is newer than this lmaas reads (" +
               std::to_string(kBundleFormatVersion) + "); upgrade lmaas");
  if (version < 1) return bad("format_version " + std::to_string(version) + " is not valid");
  if (!c.contains("task") || !c["task"].is_string() || (c["task"] != "classification" && c["task"] != "translation"))
    return bad("task must be \"classification\" or \"translation\"");
  for (const char* key : {"architecture", "tokenizer"})
    if (!c.contains(key) || !c[key].is_object()) return bad(std::string("no \"") + key + "\" object");
  if (c["task"] == "translation") return c;  // its tokenizer files are checked by the translator's loader
  if (!c.contains("labels") || !c["labels"].is_array() || c["labels"].size() < 2)
    return bad("\"labels\" must list at least two labels");
  std::set<std::string> seen;
  for (const auto& l : c["labels"]) {
    if (!l.is_string()) return bad("labels must be strings");
    if (!seen.insert(l.get<std::string>()).second) return bad("label '" + l.get<std::string>() + "' is listed twice");
  }
  return c;
}

Status load_bundle_weights(const std::string& dir, nn::Module& module) {
  return load_module_state(module, path_in(dir, kBundleWeightsFile), true);
}

}  // namespace lmaas
