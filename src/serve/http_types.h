// HttpRequest / HttpResponse: what the transport hands to the routes and takes back. Plain values with
// no Beast types, so routes and tests need not see the transport.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lmaas::serve {

struct HttpRequest {
  std::string method;   // "GET", "POST", ...
  std::string path;     // the target before '?', percent-decoding not applied
  std::string query;    // after '?', may be empty
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;
  std::string request_id;
  std::string remote;   // peer address
  // Whether the client has closed its connection (its work can be dropped); callable from any thread
  // while the request is in flight.
  std::function<bool()> client_gone;

  std::string_view header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers)
      if (k == lower_name) return v;
    return {};
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace lmaas::serve
