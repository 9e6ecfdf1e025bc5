#include "serve/server.h"

#include <cstdio>
#include <filesystem>

#include <boost/asio/signal_set.hpp>

#include "serve/generation_run.h"
#include "serve/routes.h"

namespace lmaas::serve {

namespace asio = boost::asio;

ServerMetrics::ServerMetrics(Registry& r)
    : requests(r.counter("lmaas_requests_total", "HTTP requests by model, endpoint and status",
                         {"model", "endpoint", "status"})),
      latency(r.histogram("lmaas_request_duration_seconds", "Time from a request's headers to its response",
                          {"endpoint"}, latency_buckets_seconds())),
      queue_time(r.histogram("lmaas_queue_duration_seconds", "Time a request waited in its model's queue",
                             {"model"}, latency_buckets_seconds())),
      batch_texts(r.histogram("lmaas_batch_size", "Texts per batch a model ran", {"model"}, batch_size_buckets())),
      in_flight(r.gauge("lmaas_requests_in_flight", "Requests being handled")),
      llm_prompt_tokens(r.counter("lmaas_llm_prompt_tokens_total", "Prompt tokens a generator processed", {"model"})),
      llm_generated_tokens(r.counter("lmaas_llm_generated_tokens_total", "Tokens a generator generated", {"model"})),
      llm_time_to_first_token(r.histogram("lmaas_llm_time_to_first_token_seconds",
                                          "Time from a generation request's arrival to its first token", {"model"},
                                          latency_buckets_seconds())),
      llm_inter_token_latency(r.histogram("lmaas_llm_inter_token_latency_seconds",
                                          "Time between a sequence's consecutive tokens", {"model"},
                                          latency_buckets_seconds())),
      llm_batch_tokens(r.histogram("lmaas_llm_batch_tokens", "Tokens per generator model call", {"model"},
                                   exponential_buckets(1, 2, 12))),
      llm_running(r.gauge("lmaas_llm_running_sequences", "Sequences a generator is running", {"model"})),
      llm_waiting(r.gauge("lmaas_llm_waiting_sequences", "Generation requests waiting for a slot", {"model"})),
      llm_kv_cache_usage(r.gauge("lmaas_llm_kv_cache_usage_ratio",
                                 "Positions held in a generator's KV cache over its capacity", {"model"})) {}

HttpResponse json_response(int status, const nlohmann::json& body) {
  return json_response(status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse error_response(const api::ApiError& error) {
  HttpResponse r = json_response(api::http_status(error.code), api::error_body(error));
  if (error.code == Code::kResourceExhausted || error.code == Code::kUnavailable) r.headers.emplace_back("retry-after", "1");
  return r;
}

api::Parsed<api::ModelRef> path_model_ref(const RouteCall& call) {
  const std::string& name = call.params.at("model");
  auto version = call.params.find("version");
  if (version == call.params.end()) return api::ModelRef{name, std::nullopt};
  return api::parse_model_ref(name + "/" + version->second, "version");
}

std::variant<std::shared_ptr<store::ServedModel>, api::ApiError> find_model(const ServerContext& ctx,
                                                                           const api::ModelRef& ref) {
  auto model = ctx.repository->find(ref.name, ref.version);
  if (!model.is_ok()) return model_lookup_error(model.status());
  return model.value();
}

std::optional<api::ApiError> admit_request(ServerContext& ctx, RouteCall& call, int64_t n_chars) {
  const int64_t n_requests = call.request_counted ? 0 : 1;
  RateDecision admitted = ctx.limiter->take(call.caller, n_requests, n_chars);
  call.headers = admitted.headers;
  if (!admitted.allowed) {
    if (admitted.retry_after_s < 0)
      return api::ApiError{Code::kOutOfRange, "the request holds " + std::to_string(n_chars) + " characters, more than the key's " +
                                                  "limit per minute allows at all", "input", "over_chars_per_minute"};
    call.headers.emplace_back("retry-after", std::to_string(admitted.retry_after_s));
    return api::ApiError{Code::kResourceExhausted, "rate limit reached for key '" + call.caller.key_name + "' (" +
                                                       admitted.limit + "); retry in " +
                                                       std::to_string(admitted.retry_after_s) + " s",
                         admitted.limit, "rate_limit_exceeded"};
  }
  call.request_counted = true;
  return std::nullopt;
}

api::ApiError model_lookup_error(const Status& status) {
  api::ApiError e = api::to_api_error(status);
  e.param = "model";
  if (e.code == Code::kNotFound) e.error_code = "model_not_found";
  return e;
}

Server::Server(ServeOptions options) {
  ctx_.options = std::move(options);
  ctx_.metrics = std::make_unique<ServerMetrics>(ctx_.registry);
  add_routes();
}

Server::~Server() = default;

void Server::add_routes() {
  add_health_routes(router_);
  add_model_routes(router_);
  add_inference_routes(router_);
  add_repository_routes(router_);
  add_admin_routes(router_);
  add_console_routes(router_);
  add_generation_routes(router_);
}

namespace {

bool is_loopback(const std::string& host) { return host == "127.0.0.1" || host == "::1" || host == "localhost"; }

Status open_store(ServerContext& ctx) {
  std::error_code ec;
  std::filesystem::create_directories(ctx.options.data_dir, ec);
  if (ec) return Status(Code::kUnavailable, "cannot create --data-dir '" + ctx.options.data_dir + "': " + ec.message());
  auto store = store::MetadataStore::open(store::metadata_db_path(ctx.options.data_dir));
  if (!store.is_ok()) return store.status();
  ctx.store = std::move(store.value());
  auto n = ctx.store->count_keys();
  if (!n.is_ok()) return n.status();
  if (n.value() == 0) {
    auto key = ctx.store->create_key("admin", store::Scope::kAdmin);
    if (!key.is_ok()) return key.status();
    std::printf("lmaas serve: first start: admin API key (shown once, store it now): %s\n", key.value().secret.c_str());
    std::fflush(stdout);
  }
  return Status::ok();
}

}  // namespace

Status Server::start() {
  auto& o = ctx_.options;
  if (!o.auth && !is_loopback(o.http.host))
    return Status(Code::kInvalidArgument, "--no-auth is allowed only with a loopback --host (127.0.0.1 or ::1), not '" +
                                              o.http.host + "'");
  if (o.auth) {
    Status s = open_store(ctx_);
    if (!s.is_ok()) return s;
  }
  ctx_.auth = std::make_unique<Authenticator>(ctx_.store.get());
  ctx_.limiter = std::make_unique<RateLimiter>(o.rate_limit_rpm, o.rate_limit_cpm);
  if (ctx_.store) ctx_.usage = std::make_unique<UsageRecorder>(ctx_.store.get(), std::chrono::milliseconds(o.usage_flush_ms));
  o.http.header_bytes = o.limits.header_bytes;
  o.http.body_bytes = o.limits.body_bytes;
  auto queue = o.queue;
  ServerMetrics* metrics = ctx_.metrics.get();
  queue.on_batch = [metrics](const std::string& queue_name, int64_t n, double) {
    metrics->batch_texts.with({queue_name.substr(0, queue_name.rfind('/'))}).observe(static_cast<double>(n));
  };
  store::GeneratorOptions generator;
  generator.scheduler = o.llm;
  generator.with_hooks = [metrics, base = o.llm](const std::string& model) {
    scheduler::LlmSchedulerOptions options = base;
    Counter& prompt_tokens = metrics->llm_prompt_tokens.with({model});
    Counter& generated_tokens = metrics->llm_generated_tokens.with({model});
    Histogram& first_token = metrics->llm_time_to_first_token.with({model});
    Histogram& inter_token = metrics->llm_inter_token_latency.with({model});
    Histogram& batch_tokens = metrics->llm_batch_tokens.with({model});
    options.on_first_token = [&first_token](double s) { first_token.observe(s); };
    options.on_inter_token = [&inter_token](double s) { inter_token.observe(s); };
    options.on_finish = [&prompt_tokens, &generated_tokens](int64_t n_prompt, int64_t n_generated) {
      prompt_tokens.inc(n_prompt);
      generated_tokens.inc(n_generated);
    };
    options.on_step = [&batch_tokens](int64_t n, double) { batch_tokens.observe(static_cast<double>(n)); };
    options.on_events_begin = GenerationRun::hold_wakeups;
    options.on_events_end = GenerationRun::release_wakeups;
    return options;
  };
  ctx_.repository = std::make_unique<store::ModelRepository>(o.models_dir, queue, generator);
  auto* repo = ctx_.repository.get();
  ctx_.registry.callback_gauge("lmaas_models_ready", "Model versions loaded and ready",
                               [repo] { return static_cast<double>(repo->n_ready()); });
  ctx_.registry.callback_gauge("lmaas_queue_texts", "Texts waiting in the models' queues",
                               [repo] { return static_cast<double>(repo->queued_texts()); });
  http_ = std::make_unique<HttpServer>(
      o.http, [this](HttpRequest& r) { return handle(r); },
      [](Code code, const std::string& message, const std::string& param) {
        return error_response(api::ApiError{code, message, param, ""});
      });
  auto port = http_->listen();
  if (!port.is_ok()) return port.status();
  port_ = port.value();
  Status loaded = ctx_.repository->load_all();
  if (!loaded.is_ok()) return loaded;
  for (const auto& v : ctx_.repository->list())
    std::fprintf(stderr, "lmaas serve: model %s/%lld %s%s%s\n", v.name.c_str(), static_cast<long long>(v.version),
                 store::model_state_name(v.state), v.reason.empty() ? "" : ": ", v.reason.c_str());
  ctx_.ready = true;
  return Status::ok();
}

void Server::drain() {
  ctx_.ready = false;
  if (http_) http_->drain();
}

void Server::run() {
  asio::signal_set signals(http_->io(), SIGTERM, SIGINT);
  signals.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) drain();
  });
  std::fprintf(stderr, "lmaas serve: listening on http://%s:%u (%s)\n", ctx_.options.http.host.c_str(), port_,
               ctx_.options.auth ? "API keys required" : "no auth");
  http_->run();
}

asio::awaitable<HttpResponse> Server::handle(HttpRequest& request) {
  const auto started = std::chrono::steady_clock::now();
  PathParams params;
  std::string allowed;
  const Route<RouteHandler>* route = router_.match(request.method, request.path, params, allowed);
  HttpResponse response;
  std::string endpoint = "unmatched", model;
  if (route == nullptr) {
    if (!allowed.empty()) {
      response = error_response({Code::kInvalidArgument, request.method + " is not allowed on " + request.path +
                                                             "; allowed: " + allowed, "method", "method_not_allowed"});
      response.status = 405;
      response.headers.emplace_back("allow", allowed);
    } else {
      response = error_response({Code::kNotFound, "no route " + request.method + " " + request.path +
                                                      " (GET /openapi.json lists the routes)", "path", "unknown_route"});
    }
  } else {
    endpoint = route->pattern;
    auto caller = ctx_.auth->authenticate(request.header("authorization"), route->access == Access::kAdmin);
    if (auto* e = std::get_if<api::ApiError>(&caller); e && route->access != Access::kPublic) {
      response = error_response(*e);
    } else {
      RouteCall call{request, std::move(params), {}, {}, false, {}};
      if (auto* c = std::get_if<Caller>(&caller)) call.caller = *c;
      ctx_.metrics->in_flight.unlabelled().inc();
      try {
        response = co_await route->handler(ctx_, call);
      } catch (const std::exception& ex) {
        response = error_response({Code::kInternal, std::string("internal error: ") + ex.what(), "", ""});
      }
      ctx_.metrics->in_flight.unlabelled().dec();
      model = call.model_label;
      // The route's own headers win over a generic one of the same name (a rate limit's Retry-After
      // over error_response's "1"): one value per header.
      for (auto& h : call.headers) {
        std::erase_if(response.headers, [&](const auto& existing) { return existing.first == h.first; });
        response.headers.push_back(std::move(h));
      }
    }
  }
  ctx_.metrics->requests.with({model, endpoint, std::to_string(response.status)}).inc();
  ctx_.metrics->latency.with({endpoint})
      .observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  co_return response;
}

}  // namespace lmaas::serve
