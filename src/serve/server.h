// Server: `lmaas serve` — the model repository, the metadata store and the HTTP transport wired together.
// It owns the routes' shared state (ServerContext), turns each HttpRequest into a route call (request id,
// auth, limits, error bodies, metrics), installs SIGTERM/SIGINT for a graceful drain, and answers errors
// in one shape: {"error":{"message","type","param","code"}} with the status from api::http_status.
// Lifetime: build, start() (binds; loads the models), run() (blocks until drained). Not copyable.
#pragma once

#include <utility>  // before asio (Boost 1.74)

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/awaitable.hpp>

#include "api/classify.h"
#include "api/error.h"
#include "api/limits.h"
#include "scheduler/batch_queue.h"
#include "scheduler/llm_scheduler.h"
#include "serve/auth.h"
#include "serve/http_server.h"
#include "serve/metrics.h"
#include "serve/rate_limiter.h"
#include "serve/usage_recorder.h"
#include "serve/router.h"
#include "store/metadata_store.h"
#include "store/model_repository.h"

namespace lmaas::serve {

// Generators' defaults under `lmaas serve`: contexts capped at 4096 positions (KV-cache memory).
inline scheduler::LlmSchedulerOptions default_llm_options() {
  scheduler::LlmSchedulerOptions o;
  o.max_context = 4096;
  return o;
}

struct ServeOptions {
  std::string models_dir = "models";
  std::string data_dir = "var";
  bool auth = true;
  HttpServerOptions http;
  api::RequestLimits limits;
  scheduler::BatchQueueOptions queue;
  // Generators: --llm-slots, --llm-queue, --llm-context (default 4096: KV-cache memory), --llm-batch-tokens.
  scheduler::LlmSchedulerOptions llm = default_llm_options();
  int64_t request_timeout_ms = 30000;     // --request-timeout-ms: default per-request deadline
  std::string sentiment_en = "sentiment-en";  // --sentiment-en-model
  std::string sentiment_zh = "sentiment-zh";  // --sentiment-zh-model
  int64_t rate_limit_rpm = 0;              // --rate-limit-rpm: default requests per minute per key (0: none)
  int64_t rate_limit_cpm = 0;              // --rate-limit-cpm: default characters per minute per key (0: none)
  int64_t usage_flush_ms = 1000;           // how often usage counts reach the store
};

struct ServerMetrics {
  explicit ServerMetrics(Registry& registry);
  CounterFamily& requests;          // model, endpoint, status
  HistogramFamily& latency;         // endpoint
  HistogramFamily& queue_time;      // model
  HistogramFamily& batch_texts;     // model
  GaugeFamily& in_flight;
  // Generators (per model).
  CounterFamily& llm_prompt_tokens;
  CounterFamily& llm_generated_tokens;
  HistogramFamily& llm_time_to_first_token;
  HistogramFamily& llm_inter_token_latency;
  HistogramFamily& llm_batch_tokens;
  GaugeFamily& llm_running;
  GaugeFamily& llm_waiting;
  GaugeFamily& llm_kv_cache_usage;
};

// What a route sees: the server's shared state.
struct ServerContext {
  ServeOptions options;
  std::unique_ptr<store::MetadataStore> store;  // null when auth is off
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<RateLimiter> limiter;
  std::unique_ptr<UsageRecorder> usage;  // null when auth is off
  std::unique_ptr<store::ModelRepository> repository;
  Registry registry;
  std::unique_ptr<ServerMetrics> metrics;
  std::atomic<bool> ready{false};
};

// One request as a route sees it.
struct RouteCall {
  HttpRequest& request;
  PathParams params;
  Caller caller;
  std::string model_label;  // set by inference routes, for the requests metric
  bool request_counted = false;  // the rate limiter and usage have counted this request once
  std::vector<std::pair<std::string, std::string>> headers;  // added to the response (x-ratelimit-*)
};

using RouteHandler = std::function<boost::asio::awaitable<HttpResponse>(ServerContext&, RouteCall&)>;

// Helpers every route uses.
HttpResponse json_response(int status, const nlohmann::json& body);
HttpResponse json_response(int status, std::string body);  // a body already written as JSON text
HttpResponse error_response(const api::ApiError& error);
// The model a KServe path names: {model}, and {version} when the route has one (a positive integer).
api::Parsed<api::ModelRef> path_model_ref(const RouteCall& call);
// A failed model lookup as an error about the "model" parameter (code model_not_found when unknown).
api::ApiError model_lookup_error(const Status& status);
// The served version `ref` names (its highest ready one without a version), or the lookup's error.
std::variant<std::shared_ptr<store::ServedModel>, api::ApiError> find_model(const ServerContext& ctx,
                                                                           const api::ModelRef& ref);
// Admits one request of n_chars characters for the caller under the rate limits (once per request);
// the error is the 429 (with Retry-After) or 400 to answer. Sets call.headers (x-ratelimit-*).
std::optional<api::ApiError> admit_request(ServerContext& ctx, RouteCall& call, int64_t n_chars);

class Server {
 public:
  explicit Server(ServeOptions options);
  ~Server();
  // Opens the store (creating the first admin key, printed once to stdout), binds, loads every model.
  Status start();
  uint16_t port() const { return port_; }
  void run();  // until SIGTERM/SIGINT (or drain()) has drained the connections
  void drain();

 private:
  boost::asio::awaitable<HttpResponse> handle(HttpRequest& request);
  void add_routes();

  ServerContext ctx_;
  Router<RouteHandler> router_;
  std::unique_ptr<HttpServer> http_;
  uint16_t port_ = 0;
};

}  // namespace lmaas::serve
