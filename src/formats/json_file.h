// JsonFile: a JSON document read from a file, with field accessors whose errors name the file, the field
// path and the offending value ("tokenizer.json: model.merges[17]: is 3, expected a string"). Used by the
// readers of Hugging Face model directories (hf_tokenizer.h, models/llm_hf_checkpoint.h).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"

namespace lmaas {

struct JsonFile {
  std::string name;  // the file's path; starts every message
  nlohmann::json root;

  // "<name>: <path>: <what>"
  Status error(Code code, const std::string& path, const std::string& what) const;
};

// The file at `path`, which must hold a JSON object: kNotFound when missing, kDataLoss when not JSON or not
// an object.
Result<JsonFile> read_json_file(const std::string& path);

// The value for messages: JSON text, cut after 80 characters.
std::string show(const nlohmann::json& value);
// The member `key` of `object` (an object), nullptr when absent or null.
const nlohmann::json* member(const nlohmann::json& object, const char* key);

// The value at `path` (given as `value`) as the expected type; kDataLoss naming `path` otherwise.
Result<std::string> as_string(const JsonFile& file, const nlohmann::json& value, const std::string& path);
Result<bool> as_bool(const JsonFile& file, const nlohmann::json& value, const std::string& path);
Result<int64_t> as_int(const JsonFile& file, const nlohmann::json& value, const std::string& path);
// "path.key", or "key" at the top level (path "").
std::string member_path(const std::string& path, const char* key);
// Optional members of `object` (at `path`): `fallback` when absent or null.
Result<bool> bool_or(const JsonFile& file, const nlohmann::json& object, const std::string& path, const char* key,
                     bool fallback);
Result<std::string> string_or(const JsonFile& file, const nlohmann::json& object, const std::string& path,
                              const char* key, const std::string& fallback);

}  // namespace lmaas
