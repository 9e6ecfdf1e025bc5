// Server-level routes: KServe v2 server metadata and health (public, for probes), Prometheus /metrics
// (public, for scrapers) and /openapi.json, generated from the router's own table.
#include "serve/routes.h"

namespace lmaas::serve {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

asio::awaitable<HttpResponse> server_metadata(ServerContext&, RouteCall&) {
  co_return json_response(200, json{{"name", "lmaas"}, {"version", "0.1.0"},
                                    {"extensions", {"classification", "model_repository"}}});
}

asio::awaitable<HttpResponse> live(ServerContext&, RouteCall&) { co_return json_response(200, json{{"live", true}}); }

asio::awaitable<HttpResponse> ready(ServerContext& ctx, RouteCall&) {
  const bool is_ready = ctx.ready.load() && ctx.repository && ctx.repository->all_ready();
  co_return json_response(is_ready ? 200 : 503, json{{"ready", is_ready}});
}

asio::awaitable<HttpResponse> metrics(ServerContext& ctx, RouteCall&) {
  // Generators' gauges are read from their schedulers now.
  for (const auto& info : ctx.repository->list()) {
    if (!info.served || !info.served->is_generator()) continue;
    const scheduler::LlmSchedulerStats st = info.served->generator().stats();
    ctx.metrics->llm_running.with({info.name}).set(static_cast<double>(st.running));
    ctx.metrics->llm_waiting.with({info.name}).set(static_cast<double>(st.waiting));
    ctx.metrics->llm_kv_cache_usage.with({info.name})
        .set(st.kv_positions_capacity > 0 ? static_cast<double>(st.kv_positions_used) / static_cast<double>(st.kv_positions_capacity) : 0.0);
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = ctx.registry.render();
  co_return r;
}

}  // namespace

json openapi_document(const Router<RouteHandler>& router) {
  json paths = json::object();
  for (const auto& r : router.routes()) {
    std::string method = r.method;
    for (auto& c : method) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    json op = {{"summary", r.summary}, {"responses", {{"200", {{"description", "OK"}}}, {"default", {{"description", "error: {\"error\":{message,type,param,code}}"}}}}}};
    json params = json::array();
    for (auto seg : split_path(r.pattern))
      if (seg.front() == '{')
        params.push_back({{"name", std::string(seg.substr(1, seg.size() - 2))}, {"in", "path"}, {"required", true},
                          {"schema", {{"type", "string"}}}});
    if (!params.empty()) op["parameters"] = params;
    if (r.access != Access::kPublic) op["security"] = json::array({{{"bearer", json::array()}}});
    if (r.access == Access::kAdmin) op["x-scope"] = "admin";
    paths[r.pattern][method] = op;
  }
  return {{"openapi", "3.0.3"},
          {"info", {{"title", "lmaas"}, {"version", "0.1.0"}}},
          {"components", {{"securitySchemes", {{"bearer", {{"type", "http"}, {"scheme", "bearer"}}}}}}},
          {"paths", paths}};
}

void add_health_routes(Router<RouteHandler>& router) {
  router.add({"GET", "/v2", Access::kPublic, "KServe v2 server metadata", server_metadata});
  router.add({"GET", "/v2/health/live", Access::kPublic, "Liveness", live});
  router.add({"GET", "/v2/health/ready", Access::kPublic, "Readiness: every model loaded, not draining", ready});
  router.add({"GET", "/metrics", Access::kPublic, "Prometheus metrics", metrics});
  // The document is built on first request from the router the route is registered in.
  router.add({"GET", "/openapi.json", Access::kPublic, "This API's OpenAPI description",
              [&router](ServerContext&, RouteCall&) -> asio::awaitable<HttpResponse> {
                co_return json_response(200, openapi_document(router));
              }});
}

}  // namespace lmaas::serve
