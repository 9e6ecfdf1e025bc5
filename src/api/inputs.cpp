#include "api/inputs.h"

namespace lmaas::api {

namespace {
ApiError bad_field(const char* field, const std::string& what) {
  return {Code::kInvalidArgument, std::string("'") + field + "' " + what, field, "invalid_field"};
}
}  // namespace

Parsed<std::string> required_string(const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return ApiError{Code::kInvalidArgument, std::string("'") + field + "' is required", field, "missing_field"};
  if (!it->is_string()) return bad_field(field, std::string("must be a string, not ") + it->type_name());
  if (it->get_ref<const std::string&>().empty()) return bad_field(field, "must not be empty");
  return it->get<std::string>();
}

Parsed<std::string> optional_string(const nlohmann::json& object, const char* field) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return bad_field(field, std::string("must be a string, not ") + it->type_name());
  return it->get<std::string>();
}

Parsed<int64_t> optional_int(const nlohmann::json& object, const char* field, int64_t fallback, int64_t lo, int64_t hi) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return fallback;
  if (!it->is_number_integer()) return bad_field(field, std::string("must be an integer, not ") + it->type_name());
  const int64_t v = it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)
                        ? INT64_MAX
                        : it->get<int64_t>();
  if (v < lo || v > hi)
    return bad_field(field, "is " + std::to_string(v) + "; expected " + std::to_string(lo) + ".." + std::to_string(hi));
  return v;
}

int64_t count_code_points(const std::string& text) {
  int64_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::optional<ApiError> check_texts(const std::vector<std::string>& texts, const char* field, const RequestLimits& limits) {
  if (texts.empty()) return bad_field(field, "is an empty list; expected at least one text");
  if (static_cast<int64_t>(texts.size()) > limits.inputs_per_request)
    return ApiError{Code::kOutOfRange,
                    std::string("'") + field + "' has " + std::to_string(texts.size()) + " inputs; the limit is " +
                        std::to_string(limits.inputs_per_request) + " per request (--max-inputs)",
                    field, "too_many_inputs"};
  for (size_t i = 0; i < texts.size(); ++i) {
    const int64_t n = count_code_points(texts[i]);
    if (n > limits.chars_per_input)
      return ApiError{Code::kOutOfRange,
                      std::string("'") + field + "[" + std::to_string(i) + "]' has " + std::to_string(n) +
                          " characters; the limit is " + std::to_string(limits.chars_per_input) + " per input (--max-input-chars)",
                      field, "input_too_long"};
  }
  return std::nullopt;
}

Parsed<std::vector<std::string>> text_inputs(const nlohmann::json& object, const char* field, const RequestLimits& limits) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) return ApiError{Code::kInvalidArgument, std::string("'") + field + "' is required", field, "missing_field"};
  std::vector<std::string> texts;
  if (it->is_string()) {
    texts.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    texts.reserve(it->size());
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& v = (*it)[i];
      if (!v.is_string())
        return bad_field(field, "[" + std::to_string(i) + "] must be a string, not " + v.type_name());
      texts.push_back(v.get<std::string>());
    }
  } else {
    return bad_field(field, std::string("must be a string or a list of strings, not ") + it->type_name());
  }
  if (auto e = check_texts(texts, field, limits)) return *e;
  return texts;
}

}  // namespace lmaas::api
