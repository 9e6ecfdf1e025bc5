#include "api/json_body.h"

#include <string>

namespace lmaas::api {

namespace {

// Whether arrays/objects open more than max_depth deep, outside strings: checked before parsing, so a
// hostile body never reaches the parser's recursion (and the parser runs without a callback).
bool nesting_exceeds(std::string_view body, int64_t max_depth) {
  int64_t depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

}  // namespace

std::variant<nlohmann::json, ApiError> parse_json_body(std::string_view body, int64_t max_depth) {
  using nlohmann::json;
  if (body.empty()) return ApiError{Code::kInvalidArgument, "the request body is empty; expected a JSON object", "", "empty_body"};
  if (nesting_exceeds(body, max_depth))
    return ApiError{Code::kOutOfRange,
                    "the request body nests arrays/objects deeper than the limit of " + std::to_string(max_depth) +
                        " (--max-json-depth)",
                    "max_json_depth", "json_too_deep"};
  json parsed;
  try {
    parsed = json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/true);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    const auto bracket = what.find("] ");
    if (bracket != std::string::npos) what = what.substr(bracket + 2);
    const bool utf8 = what.find("UTF-8") != std::string::npos;
    return ApiError{Code::kInvalidArgument,
                    std::string(utf8 ? "the request body is not valid UTF-8 JSON: " : "the request body is not valid JSON: ") +
                        what,
                    "", utf8 ? "invalid_utf8" : "invalid_json"};
  } catch (const std::exception& e) {
    return ApiError{Code::kInvalidArgument, std::string("the request body is not valid JSON: ") + e.what(), "", "invalid_json"};
  }
  if (!parsed.is_object())
    return ApiError{Code::kInvalidArgument, std::string("the request body must be a JSON object, not ") + parsed.type_name(), "",
                    "invalid_json"};
  return parsed;
}

}  // namespace lmaas::api
