#include "api/error.h"

#include <cctype>

namespace lmaas::api {

int http_status(Code code) {
  switch (code) {
    case Code::kOk: return 200;
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kAlreadyExists: return 409;
    case Code::kFailedPrecondition: return 409;
    case Code::kOutOfRange: return 413;  // a request over one of the server's limits
    case Code::kResourceExhausted: return 429;
    case Code::kCancelled: return 499;  // the client went away (nginx's convention; never seen by it)
    case Code::kUnimplemented: return 501;
    case Code::kUnavailable: return 503;
    case Code::kDeadlineExceeded: return 504;
    case Code::kDataLoss:
    case Code::kInternal: return 500;
  }
  return 500;
}

const char* error_type(Code code) {
  switch (code) {
    case Code::kInvalidArgument:
    case Code::kOutOfRange:
    case Code::kAlreadyExists:
    case Code::kFailedPrecondition: return "invalid_request_error";
    case Code::kUnauthenticated: return "authentication_error";
    case Code::kPermissionDenied: return "permission_error";
    case Code::kNotFound: return "not_found_error";
    case Code::kResourceExhausted: return "rate_limit_error";
    case Code::kDeadlineExceeded: return "timeout_error";
    case Code::kUnavailable: return "unavailable_error";
    case Code::kCancelled: return "cancelled_error";
    case Code::kUnimplemented: return "not_implemented_error";
    default: return "server_error";
  }
}

namespace {
// "kResourceExhausted" -> "resource_exhausted"
std::string snake_code(Code code) {
  std::string name = code_name(code), out;
  for (char c : name) {
    if (std::isupper(static_cast<unsigned char>(c)) && !out.empty()) out += '_';
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}
}  // namespace

nlohmann::json error_body(const ApiError& error) {
  nlohmann::json e = {{"message", error.message}, {"type", error_type(error.code)}};
  e["param"] = error.param.empty() ? nlohmann::json(nullptr) : nlohmann::json(error.param);
  e["code"] = error.error_code.empty() ? snake_code(error.code) : error.error_code;
  return {{"error", e}};
}

ApiError to_api_error(const Status& status) { return {status.code(), status.message(), "", ""}; }

Code code_for_http_status(int status) {
  switch (status) {
    case 400: case 405: case 415: case 422: return Code::kInvalidArgument;
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kPermissionDenied;
    case 404: return Code::kNotFound;
    case 409: return Code::kAlreadyExists;
    case 413: return Code::kOutOfRange;
    case 429: return Code::kResourceExhausted;
    case 499: return Code::kCancelled;
    case 501: return Code::kUnimplemented;
    case 503: return Code::kUnavailable;
    case 504: return Code::kDeadlineExceeded;
    default: return status >= 400 && status < 500 ? Code::kInvalidArgument : Code::kInternal;
  }
}

ApiError parse_error_response(int status, const std::string& body) {
  ApiError e{code_for_http_status(status), "", "", ""};
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("error") && j["error"].is_object()) {
    const nlohmann::json& err = j["error"];
    auto text = [&](const char* k) { return err.contains(k) && err[k].is_string() ? err[k].get<std::string>() : std::string(); };
    e.message = text("message"), e.param = text("param"), e.error_code = text("code");
  }
  if (e.message.empty()) e.message = "HTTP " + std::to_string(status) + (body.empty() ? "" : ": " + body.substr(0, 300));
  return e;
}

}  // namespace lmaas::api
