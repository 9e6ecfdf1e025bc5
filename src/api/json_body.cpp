#include "api/json_body.h"

#include <string>

namespace lmaas::api {

std::variant<nlohmann::json, ApiError> parse_json_body(std::string_view body, int64_t max_depth) {
  using nlohmann::json;
  if (body.empty()) return ApiError{Code::kInvalidArgument, "the request body is empty; expected a JSON object", "", "empty_body"};
  bool too_deep = false;
  // The callback sees every nesting step; returning false from a start event would only drop the value,
  // so the depth breach is recorded and the parse stopped by throwing inside nlohmann's own machinery.
  json::parser_callback_t check_depth = [&](int depth, json::parse_event_t event, json&) {
    if ((event == json::parse_event_t::object_start || event == json::parse_event_t::array_start) &&
        depth >= max_depth) {
      too_deep = true;
      return false;
    }
    return !too_deep;
  };
  json parsed;
  try {
    parsed = json::parse(body.begin(), body.end(), check_depth, /*allow_exceptions=*/true);
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
  if (too_deep)
    return ApiError{Code::kOutOfRange,
                    "the request body nests arrays/objects deeper than the limit of " + std::to_string(max_depth) +
                        " (--max-json-depth)",
                    "max_json_depth", "json_too_deep"};
  if (!parsed.is_object())
    return ApiError{Code::kInvalidArgument, std::string("the request body must be a JSON object, not ") + parsed.type_name(), "",
                    "invalid_json"};
  return parsed;
}

}  // namespace lmaas::api
