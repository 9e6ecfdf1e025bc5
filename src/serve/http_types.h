// HttpRequest / HttpResponse: what the transport hands to the routes and takes back. Plain values with
// no Beast types, so routes and tests need not see the transport (a streamed body is an Asio awaitable).
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

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

// A response body produced while it is sent (server-sent events): the transport writes the headers with
// `Transfer-Encoding: chunked`, then awaits next() and writes each string as one chunk at once, until
// next() gives nullopt. When the client goes away the transport stops awaiting and destroys the stream,
// so its owner can cancel the work behind it in its destructor.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  virtual boost::asio::awaitable<std::optional<std::string>> next() = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;  // ignored when `stream` is set
  std::vector<std::pair<std::string, std::string>> headers;
  std::shared_ptr<BodyStream> stream;
};

}  // namespace lmaas::serve
