// HttpServer: the HTTP/1.1 transport — the only code in lmaas that sees Boost.Beast.
// - Asio coroutines on `io_threads` threads; each connection runs on its own strand. Keep-alive with
//   TCP_NODELAY; three timeouts (idle between requests, headers, body) and two size limits (header block,
//   body), each breach answered with a JSON error naming it, then the connection is closed.
// - `Expect: 100-continue` is honoured; a declared Content-Length over the limit is refused before the
//   body is read.
// - Every response carries `x-request-id` (the client's, when it sent a sane one).
// - A response with a BodyStream (server-sent events) is sent chunked as its pieces come.
// - drain(): stop accepting, close idle connections, let in-flight requests finish (their connections
//   close after the response); run() returns once no connection is left or the drain timeout passed.
// Thread-safety: listen() then run() from one thread; drain() from any thread (or a signal handler
// installed on io()).
#pragma once

#include <utility>  // before asio: Boost 1.74's awaitable.hpp uses std::exchange without it

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "base/status.h"
#include "serve/http_types.h"

namespace lmaas::serve {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (listen() says which)
  int io_threads = 1;
  int64_t idle_timeout_ms = 60000;    // --idle-timeout-ms: between requests on a kept-alive connection
  int64_t header_timeout_ms = 10000;  // --header-timeout-ms: first byte to the end of the headers
  int64_t body_timeout_ms = 30000;    // --body-timeout-ms: reading the body, and writing the response
  int64_t header_bytes = 16 << 10;
  int64_t body_bytes = 1 << 20;
  int64_t drain_timeout_ms = 30000;
};

using RequestHandler = std::function<boost::asio::awaitable<HttpResponse>(HttpRequest&)>;
// Builds the error response for a transport-level failure (status from the Code, the message, the limit).
using ErrorResponder = std::function<HttpResponse(Code code, const std::string& message, const std::string& param)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, RequestHandler handler, ErrorResponder error_responder);
  ~HttpServer();

  Result<uint16_t> listen();  // binds and listens; the bound port
  void run();                 // serves on io_threads threads (this one included) until drained or stopped
  void drain();               // graceful: see above
  bool draining() const { return draining_.load(); }
  boost::asio::io_context& io() { return io_; }
  int64_t connections() const { return n_connections_.load(); }
  int64_t in_flight() const { return n_in_flight_.load(); }

 private:
  struct Connection;
  boost::asio::awaitable<void> accept_loop();
  boost::asio::awaitable<void> serve_connection(std::shared_ptr<Connection> conn);
  // Writes a streamed body (chunked, or raw until close for HTTP/1.0); `ec` says whether the client left.
  boost::asio::awaitable<void> write_stream(Connection& conn, BodyStream& body, bool chunked,
                                            boost::system::error_code& ec);
  boost::asio::awaitable<void> watch_drain();
  std::string next_request_id();

  const HttpServerOptions options_;
  const RequestHandler handler_;
  const ErrorResponder error_responder_;
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<bool> draining_{false};
  std::atomic<int64_t> n_connections_{0};
  std::atomic<int64_t> n_in_flight_{0};
  std::atomic<uint64_t> request_counter_{0};
  std::string request_id_prefix_;
  std::mutex connections_mu_;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> open_connections_;
};

}  // namespace lmaas::serve
