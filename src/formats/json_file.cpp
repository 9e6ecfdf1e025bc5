// JsonFile and its accessors: see json_file.h.
#include "formats/json_file.h"

#include <limits>

#include "base/file_util.h"

namespace lmaas {

Status JsonFile::error(Code code, const std::string& path, const std::string& what) const {
  return Status(code, name + ": " + path + ": " + what);
}

std::string show(const nlohmann::json& value) {
  std::string text = value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() <= 80) return text;
  size_t cut = 77;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // whole characters
  return text.substr(0, cut) + "...";
}

const nlohmann::json* member(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

Result<std::string> as_string(const JsonFile& file, const nlohmann::json& value, const std::string& path) {
  if (!value.is_string())
    return file.error(Code::kDataLoss, path, "is " + show(value) + ", expected a string");
  return value.get<std::string>();
}

Result<bool> as_bool(const JsonFile& file, const nlohmann::json& value, const std::string& path) {
  if (!value.is_boolean())
    return file.error(Code::kDataLoss, path, "is " + show(value) + ", expected true or false");
  return value.get<bool>();
}

Result<int64_t> as_int(const JsonFile& file, const nlohmann::json& value, const std::string& path) {
  const bool fits = value.is_number_integer() &&
                    (!value.is_number_unsigned() ||
                     value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()));
  if (!fits) return file.error(Code::kDataLoss, path, "is " + show(value) + ", expected an integer");
  return value.get<int64_t>();
}

std::string member_path(const std::string& path, const char* key) { return path.empty() ? key : path + "." + key; }

Result<bool> bool_or(const JsonFile& file, const nlohmann::json& object, const std::string& path, const char* key,
                     bool fallback) {
  const nlohmann::json* value = member(object, key);
  if (value == nullptr) return fallback;
  return as_bool(file, *value, member_path(path, key));
}

Result<std::string> string_or(const JsonFile& file, const nlohmann::json& object, const std::string& path,
                              const char* key, const std::string& fallback) {
  const nlohmann::json* value = member(object, key);
  if (value == nullptr) return fallback;
  return as_string(file, *value, member_path(path, key));
}

Result<JsonFile> read_json_file(const std::string& path) {
  LMAAS_ASSIGN_OR_RETURN(const std::string text, read_file(path));
  JsonFile file{path, {}};
  try {
    file.root = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    return Status(Code::kDataLoss, path + ": not valid JSON: " + e.what());
  }
  if (!file.root.is_object()) {
    return Status(Code::kDataLoss, path + ": is " + show(file.root) + ", expected a JSON object");
  }
  return file;
}

}  // namespace lmaas
