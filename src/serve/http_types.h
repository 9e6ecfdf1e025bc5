// HttpRequest / HttpResponse: what the transport hands to the routes and takes back. Plain values with
// no Beast types, so routes and tests need not see the transport.
#pragma once

#include <atomic>
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
  // Becomes true if the client closes its connection while the request is handled (work can be dropped).
  std::shared_ptr<const std::atomic<bool>> client_gone;

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
