// The model bundle: a directory holding config.json (what the model is: format version, task,
// architecture, tokenizer, labels, data hash, metrics, creation time, lmaas version), model.safetensors
// (the module's state under its parameter names) and the tokenizer's files.
// Writes publish the whole directory atomically; reads validate every part and name what is wrong.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "nn/module.h"

namespace lmaas {

inline constexpr int64_t kBundleFormatVersion = 1;
inline constexpr const char* kBundleConfigFile = "config.json";
inline constexpr const char* kBundleWeightsFile = "model.safetensors";

// Writes `config` (format_version, lmaas_version and created are filled in when absent), the module's
// state, and whatever `write_extra(tmp_dir)` adds, then publishes the directory as `dir`.
Status write_model_bundle(const std::string& dir, nlohmann::json config, const nn::Module& module,
                          const std::function<Status(const std::string& tmp_dir)>& write_extra = {});
// The same with the weights given as a module state (named_state()'s names, e.g. a snapshot of one).
Status write_model_bundle(const std::string& dir, nlohmann::json config, const nn::NamedTensors& state,
                          const std::function<Status(const std::string& tmp_dir)>& write_extra = {});

// Reads and validates config.json: an object with an integer format_version no newer than this lmaas
// reads, a known task ("classification" or "translation"), an "architecture" and a "tokenizer" object,
// and for classification at least two distinct labels.
Result<nlohmann::json> read_bundle_config(const std::string& dir);
// Loads model.safetensors into `module` (every parameter present, with its shape; nothing extra).
Status load_bundle_weights(const std::string& dir, nn::Module& module);

}  // namespace lmaas
