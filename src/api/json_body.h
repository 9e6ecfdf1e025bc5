// Parsing request bodies: JSON with a nesting limit and strict UTF-8, never throwing. Errors are
// ApiErrors naming the byte offset (malformed JSON, invalid UTF-8) or the limit (depth).
#pragma once

#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "api/error.h"

namespace lmaas::api {

// The parsed object, or the error to answer with. The body must be a JSON object.
std::variant<nlohmann::json, ApiError> parse_json_body(std::string_view body, int64_t max_depth);

}  // namespace lmaas::api
