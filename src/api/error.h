// The API's error vocabulary: one lmaas::Code per failure, one mapping from Code to HTTP status, and the
// error body every route answers with: {"error":{"message","type","param","code"}} (OpenAI's shape).
// `code` is a short machine-readable string (e.g. "body_too_large"); `type` follows from the Code.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace lmaas::api {

struct ApiError {
  Code code = Code::kInternal;
  std::string message;
  std::string param;       // the offending field, header or limit; empty when none
  std::string error_code;  // machine-readable; empty: derived from `code`
};

int http_status(Code code);         // the one mapping from error codes to HTTP statuses
const char* error_type(Code code);  // "invalid_request_error", "authentication_error", ...
nlohmann::json error_body(const ApiError& error);

// A Status from a lower level as an ApiError (message kept, param empty).
ApiError to_api_error(const Status& status);

// The other way (clients): the Code an HTTP error status stands for, and an error response read back
// (its body when it has the error shape, else the status and the start of the body).
Code code_for_http_status(int status);
ApiError parse_error_response(int status, const std::string& body);

}  // namespace lmaas::api
