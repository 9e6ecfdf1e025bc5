// Reading the fields of request objects: typed getters that answer with an ApiError naming the field,
// and text inputs (`"input": "text" | ["t1", ...]`) checked against the inputs-per-request and
// characters-per-input limits.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/error.h"
#include "api/limits.h"

namespace lmaas::api {

template <typename T>
using Parsed = std::variant<T, ApiError>;

// A required non-empty string field.
Parsed<std::string> required_string(const nlohmann::json& object, const char* field);
// An optional integer field in [lo, hi]; absent or null gives `fallback`.
Parsed<int64_t> optional_int(const nlohmann::json& object, const char* field, int64_t fallback, int64_t lo, int64_t hi);
// An optional string field; absent or null gives "".
Parsed<std::string> optional_string(const nlohmann::json& object, const char* field);

// `field` as one string or a non-empty list of strings, each within limits.chars_per_input code points,
// at most limits.inputs_per_request of them.
Parsed<std::vector<std::string>> text_inputs(const nlohmann::json& object, const char* field, const RequestLimits& limits);
// The same check for texts that arrived another way (KServe BYTES tensors).
std::optional<ApiError> check_texts(const std::vector<std::string>& texts, const char* field, const RequestLimits& limits);

// Code points in valid UTF-8 (request JSON has been validated already).
int64_t count_code_points(const std::string& text);

}  // namespace lmaas::api
