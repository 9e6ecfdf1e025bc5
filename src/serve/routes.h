// The route groups of `lmaas serve`, one file each:
//   routes_health.cpp      GET /v2, /v2/health/live, /v2/health/ready, /metrics, /openapi.json
//   routes_models.cpp      GET /v1/models[/{id}], /v2/models/{m}[/versions/{v}][/ready]
//   routes_inference.cpp   POST /v1/classify, /v1/sentiment, /v1/embeddings, /v2/models/{m}[/versions/{v}]/infer
//   routes_repository.cpp  POST /v2/repository/index, /v2/repository/models/{m}/load|unload (admin)
//   routes_admin.cpp       GET/POST /v1/keys, DELETE /v1/keys/{id}, GET /v1/usage (admin)
//   routes_console.cpp     GET / and /console/{file}: the web console (web/, compiled in)
//   routes_generation.cpp  POST /v1/completions, /v1/chat/completions, /tokenize, /detokenize (generators)
#pragma once

#include <utility>

#include "api/json_body.h"
#include "serve/server.h"

namespace lmaas::serve {

// A request body as JSON, then as a request by `parse(json, limits)` (the api/ parsers); their error otherwise.
template <typename Parse>
auto parse_body_as(const ServerContext& ctx, const HttpRequest& request, Parse parse)
    -> decltype(parse(std::declval<const nlohmann::json&>(), ctx.options.limits)) {
  auto body = api::parse_json_body(request.body, ctx.options.limits.json_depth);
  if (auto* e = std::get_if<api::ApiError>(&body)) return *e;
  return parse(std::get<nlohmann::json>(body), ctx.options.limits);
}

void add_health_routes(Router<RouteHandler>& router);
void add_model_routes(Router<RouteHandler>& router);
void add_inference_routes(Router<RouteHandler>& router);
void add_repository_routes(Router<RouteHandler>& router);
void add_admin_routes(Router<RouteHandler>& router);
void add_console_routes(Router<RouteHandler>& router);
void add_generation_routes(Router<RouteHandler>& router);

// /v1/embeddings for a generator (routes_generation.cpp): each input's mean-pooled final hidden states.
boost::asio::awaitable<std::variant<std::vector<std::vector<float>>, api::ApiError>> generator_embeddings(
    ServerContext& ctx, RouteCall& call, const std::shared_ptr<store::ServedModel>& model,
    const std::vector<std::string>& inputs);

}  // namespace lmaas::serve
