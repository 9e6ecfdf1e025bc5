#include "serve/http_server.h"

#include <sys/socket.h>

#include <cctype>
#include <cerrno>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace lmaas::serve {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct HttpServer::Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  std::atomic<bool> busy{false};  // a request is being read, handled or answered
};

HttpServer::HttpServer(HttpServerOptions options, RequestHandler handler, ErrorResponder error_responder)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      error_responder_(std::move(error_responder)),
      io_(std::max(1, options_.io_threads)),
      acceptor_(io_) {
  std::random_device rd;
  char prefix[17];
  std::snprintf(prefix, sizeof prefix, "%08x%08x", rd(), rd());
  request_id_prefix_ = prefix;
}

HttpServer::~HttpServer() = default;

Result<uint16_t> HttpServer::listen() {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(options_.host, ec);
  if (ec) return Status(Code::kInvalidArgument, "--host '" + options_.host + "' is not an IP address: " + ec.message());
  const tcp::endpoint endpoint(address, options_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return Status(Code::kUnavailable, "cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " +
                                          ec.message());
  return acceptor_.local_endpoint().port();
}

void HttpServer::run() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
  std::vector<std::jthread> threads;
  for (int i = 1; i < options_.io_threads; ++i) threads.emplace_back([this] { io_.run(); });
  io_.run();
}

std::string HttpServer::next_request_id() {
  return request_id_prefix_ + "-" + std::to_string(request_counter_.fetch_add(1) + 1);
}

asio::awaitable<void> HttpServer::accept_loop() {
  for (;;) {
    boost::system::error_code ec;
    // Several I/O threads need a strand per connection (the drain's cancel runs beside its coroutine);
    // one thread serialises everything already, and the strand's bookkeeping shows in every request.
    tcp::socket socket = options_.io_threads > 1 ? tcp::socket(asio::make_strand(io_)) : tcp::socket(io_.get_executor());
    co_await acceptor_.async_accept(socket, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      if (!acceptor_.is_open()) co_return;
      if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
        // Out of file descriptors: back off instead of spinning; connections already open keep working.
        asio::steady_timer pause(io_, std::chrono::milliseconds(50));
        co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
      }
      continue;
    }
    socket.set_option(tcp::no_delay(true), ec);
    auto conn = std::make_shared<Connection>(std::move(socket));
    {
      std::lock_guard lock(connections_mu_);
      open_connections_[conn.get()] = conn;
    }
    n_connections_.fetch_add(1);
    auto executor = conn->stream.get_executor();
    asio::co_spawn(executor, serve_connection(std::move(conn)), asio::detached);
  }
}

namespace {

bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != ':') return false;
  return true;
}

HttpRequest to_request(http::request<http::string_body>& req, std::string remote) {
  HttpRequest r;
  r.method = std::string(req.method_string());
  const std::string target(req.target());
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers.emplace_back(std::move(name), std::string(field.value()));
  }
  r.body = std::move(req.body());
  r.remote = std::move(remote);
  return r;
}

// The response's bytes on the wire, built in one string: one buffer to send, none of a serializer's
// per-field iteration on the hot path.
std::string to_wire(HttpResponse&& response, unsigned version, bool keep_alive, const std::string& request_id,
                    bool chunked = false) {
  const auto status = static_cast<http::status>(response.status);
  std::string out;
  out.reserve(160 + response.body.size());
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ").append(std::to_string(response.status)).push_back(' ');
  const auto reason = http::obsolete_reason(status);  // a boost::string_view
  out.append(reason.data(), reason.size()).append("\r\n");
  auto field = [&out](std::string_view name, std::string_view value) {
    out.append(name).append(": ").append(value).append("\r\n");
  };
  field("Server", "lmaas");
  field("Content-Type", response.content_type);
  field("x-request-id", request_id);
  for (const auto& [k, v] : response.headers) field(k, v);
  if (chunked) {
    field("Transfer-Encoding", "chunked");
    field("Cache-Control", "no-cache");
  } else {
    field("Content-Length", std::to_string(response.body.size()));
  }
  if (version == 10 && keep_alive) field("Connection", "keep-alive");
  if (version != 10 && !keep_alive) field("Connection", "close");
  out.append("\r\n");
  if (!chunked) out.append(response.body);
  return out;
}

// One chunk of a chunked body: hex size, CRLF, data, CRLF (an empty `data` is the last chunk).
std::string chunk_to_wire(std::string_view data) {
  std::string out;
  out.reserve(data.size() + 16);
  constexpr char kHex[] = "0123456789abcdef";
  std::string size;
  for (size_t n = data.size(); n > 0; n >>= 4) size.insert(size.begin(), kHex[n & 15]);
  out.append(size.empty() ? "0" : size).append("\r\n").append(data).append("\r\n");
  if (data.empty()) out.append("\r\n");
  return out;
}

}  // namespace

asio::awaitable<void> HttpServer::serve_connection(std::shared_ptr<Connection> conn) {
  using std::chrono::milliseconds;
  beast::flat_buffer buffer;
  boost::system::error_code ec;
  std::string remote;
  {
    auto ep = conn->stream.socket().remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
  }
  // A transport-level failure is answered (when there is something to say) and ends the connection.
  // The response is built outside any co_await expression: GCC 12 mishandles temporaries living across
  // a suspension.
  std::optional<HttpResponse> failure;
  auto fail = [&](Code code, const std::string& message, const std::string& param) {
    failure = error_responder_(code, message, param);
  };
  auto limit_text = [](int64_t value, const char* flag) { return std::to_string(value) + " (" + flag + ")"; };
  while (!draining_.load()) {
    if (buffer.size() == 0) {  // idle: wait for the next request's first bytes
      conn->stream.expires_after(milliseconds(options_.idle_timeout_ms));
      const size_t n = co_await conn->stream.async_read_some(buffer.prepare(4096), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
      buffer.commit(n);
    }
    conn->busy = true;
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(options_.header_bytes));
    parser.body_limit(static_cast<uint64_t>(options_.body_bytes));
    // A request that arrived whole (the usual case) parses from the buffer with no further read.
    parser.eager(true);
    buffer.consume(parser.put(buffer.data(), ec));
    if (ec == http::error::need_more) ec = {};
    if (!ec && !parser.is_header_done()) {
      conn->stream.expires_after(milliseconds(options_.header_timeout_ms));
      co_await http::async_read_header(conn->stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    }
    if (ec == http::error::end_of_stream || ec == asio::error::eof || ec == asio::error::connection_reset) break;
    if (ec == http::error::header_limit) {
      fail(Code::kOutOfRange, "the request's headers exceed " + limit_text(options_.header_bytes, "--max-header-bytes") + " bytes",
           "max_header_bytes");
    } else if (ec == http::error::body_limit) {  // the parser may run into a chunked body's end already
      fail(Code::kOutOfRange, "the request body exceeds " + limit_text(options_.body_bytes, "--max-body-bytes") + " bytes",
           "max_body_bytes");
    } else if (ec == beast::error::timeout) {
      fail(Code::kDeadlineExceeded, "the request's headers did not arrive within " +
           limit_text(options_.header_timeout_ms, "--header-timeout-ms") + " ms", "header_timeout_ms");
    } else if (ec) {
      fail(Code::kInvalidArgument, "malformed HTTP request: " + ec.message(), "");
    } else if (auto length = parser.content_length(); length && *length > static_cast<uint64_t>(options_.body_bytes)) {
      fail(Code::kOutOfRange, "the request body is " + std::to_string(*length) + " bytes; the limit is " +
           limit_text(options_.body_bytes, "--max-body-bytes"), "max_body_bytes");
    }
    if (!failure && !parser.is_done() && beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      http::response<http::empty_body> cont{http::status::continue_, 11};
      co_await http::async_write(conn->stream, cont, asio::redirect_error(asio::use_awaitable, ec));
      if (ec) break;
    }
    if (!failure && !parser.is_done()) {
      conn->stream.expires_after(milliseconds(options_.body_timeout_ms));
      co_await http::async_read(conn->stream, buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
      if (ec == http::error::body_limit) {
        fail(Code::kOutOfRange, "the request body exceeds " + limit_text(options_.body_bytes, "--max-body-bytes") + " bytes",
             "max_body_bytes");
      } else if (ec == beast::error::timeout) {
        fail(Code::kDeadlineExceeded, "the request body did not arrive within " +
             limit_text(options_.body_timeout_ms, "--body-timeout-ms") + " ms", "body_timeout_ms");
      } else if (ec) {
        break;
      }
    }
    if (failure) {
      const std::string wire = to_wire(std::move(*failure), 11, false, next_request_id());
      conn->stream.expires_after(milliseconds(options_.body_timeout_ms));
      co_await asio::async_write(conn->stream, asio::buffer(wire), asio::redirect_error(asio::use_awaitable, ec));
      break;
    }
    conn->stream.expires_never();
    auto& req = parser.get();
    HttpRequest request = to_request(req, remote);
    const std::string_view given_id = request.header("x-request-id");
    request.request_id = sane_request_id(given_id) ? std::string(given_id) : next_request_id();
    // Readable with nothing to read means the client closed. The queue asks just before the work runs;
    // a peek consumes nothing, so asking from its thread is harmless. (A job still queued after its
    // handler returned was cancelled already, so a reused descriptor never decides anything.)
    request.client_gone = [fd = conn->stream.socket().native_handle()] {
      char byte;
      const ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
      return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
    };
    n_in_flight_.fetch_add(1);
    HttpResponse response = co_await handler_(request);
    n_in_flight_.fetch_sub(1);
    // A streamed body needs HTTP/1.1 chunking; an HTTP/1.0 client gets it until the connection closes.
    const bool streamed = response.stream != nullptr;
    const bool keep_alive = req.keep_alive() && !draining_.load() && !(streamed && req.version() == 10);
    std::shared_ptr<BodyStream> body_stream = std::move(response.stream);
    const bool chunked = streamed && req.version() != 10;
    const std::string wire = to_wire(std::move(response), req.version(), keep_alive, request.request_id, chunked);
    conn->stream.expires_after(milliseconds(options_.body_timeout_ms));
    co_await asio::async_write(conn->stream, asio::buffer(wire), asio::redirect_error(asio::use_awaitable, ec));
    if (!ec && body_stream) co_await write_stream(*conn, *body_stream, chunked, ec);
    body_stream.reset();  // a client that left cancels the work behind the stream here
    conn->busy = false;
    if (ec || !keep_alive) break;
  }
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  conn->stream.close();
  {
    std::lock_guard lock(connections_mu_);
    open_connections_.erase(conn.get());
  }
  n_connections_.fetch_sub(1);
}

asio::awaitable<void> HttpServer::write_stream(Connection& conn, BodyStream& body, bool chunked,
                                               boost::system::error_code& ec) {
  while (true) {
    conn.stream.expires_never();  // the wait for the next piece has no transport deadline
    std::optional<std::string> piece = co_await body.next();
    if (piece && piece->empty()) continue;  // an empty chunk would end the body
    const std::string wire = !chunked ? (piece ? std::move(*piece) : std::string()) : chunk_to_wire(piece ? *piece : "");
    if (!wire.empty()) {
      conn.stream.expires_after(std::chrono::milliseconds(options_.body_timeout_ms));
      co_await asio::async_write(conn.stream, asio::buffer(wire), asio::redirect_error(asio::use_awaitable, ec));
      if (ec) co_return;
    }
    if (!piece) co_return;
  }
}

void HttpServer::drain() {
  if (draining_.exchange(true)) return;
  asio::post(io_, [this] {
    boost::system::error_code ec;
    acceptor_.close(ec);
    std::vector<std::shared_ptr<Connection>> idle;
    {
      std::lock_guard lock(connections_mu_);
      for (auto& [p, weak] : open_connections_)
        if (auto c = weak.lock(); c && !c->busy.load()) idle.push_back(std::move(c));
    }
    // Idle connections wake from their read and close; busy ones close after their response.
    for (auto& c : idle) asio::post(c->stream.get_executor(), [c] { c->stream.cancel(); });
    asio::co_spawn(io_, watch_drain(), asio::detached);
  });
}

asio::awaitable<void> HttpServer::watch_drain() {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.drain_timeout_ms);
  asio::steady_timer timer(io_);
  while (n_connections_.load() > 0 && std::chrono::steady_clock::now() < until) {
    timer.expires_after(std::chrono::milliseconds(10));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  io_.stop();
}

}  // namespace lmaas::serve
