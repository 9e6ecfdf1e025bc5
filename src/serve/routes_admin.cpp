// Management routes (admin keys only): API keys (list, create — the secret is shown once — and revoke)
// and usage per key, model and UTC day. With auth off there is no store, and these answer 501.
#include <ctime>

#include "api/inputs.h"
#include "api/json_body.h"
#include "serve/routes.h"

namespace lmaas::serve {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

std::optional<HttpResponse> need_store(const ServerContext& ctx) {
  if (ctx.store) return std::nullopt;
  return error_response({Code::kUnimplemented, "the server runs with --no-auth: there are no keys or usage", "", "auth_disabled"});
}

asio::awaitable<HttpResponse> list_keys(ServerContext& ctx, RouteCall&) {
  if (auto r = need_store(ctx)) co_return *r;
  auto keys = ctx.store->list_keys();
  if (!keys.is_ok()) co_return error_response(api::to_api_error(keys.status()));
  json data = json::array();
  for (const auto& k : keys.value()) data.push_back(store::api_key_json(k));
  co_return json_response(200, json{{"object", "list"}, {"data", std::move(data)}});
}

asio::awaitable<HttpResponse> create_key(ServerContext& ctx, RouteCall& call) {
  if (auto r = need_store(ctx)) co_return *r;
  auto body = api::parse_json_body(call.request.body, ctx.options.limits.json_depth);
  if (auto* e = std::get_if<api::ApiError>(&body)) co_return error_response(*e);
  const json& b = std::get<json>(body);
  auto name = api::required_string(b, "name");
  if (auto* e = std::get_if<api::ApiError>(&name)) co_return error_response(*e);
  auto scope_text = api::optional_string(b, "scope");
  if (auto* e = std::get_if<api::ApiError>(&scope_text)) co_return error_response(*e);
  auto scope = store::parse_scope(std::get<std::string>(scope_text).empty() ? "infer" : std::get<std::string>(scope_text));
  if (!scope.is_ok()) co_return error_response({scope.status().code(), scope.status().message(), "scope", "invalid_field"});
  auto rpm = api::optional_int(b, "requests_per_minute", 0, 0, int64_t{1} << 40);
  if (auto* e = std::get_if<api::ApiError>(&rpm)) co_return error_response(*e);
  auto cpm = api::optional_int(b, "chars_per_minute", 0, 0, int64_t{1} << 40);
  if (auto* e = std::get_if<api::ApiError>(&cpm)) co_return error_response(*e);
  auto created = ctx.store->create_key(std::get<std::string>(name), scope.value(), std::get<int64_t>(rpm), std::get<int64_t>(cpm));
  if (!created.is_ok()) {
    api::ApiError e = api::to_api_error(created.status());
    e.param = "name";
    co_return error_response(e);
  }
  ctx.auth->invalidate();
  json j = store::api_key_json(created.value().key);
  j["secret"] = created.value().secret;
  co_return json_response(201, j);
}

asio::awaitable<HttpResponse> revoke_key(ServerContext& ctx, RouteCall& call) {
  if (auto r = need_store(ctx)) co_return *r;
  Status s = ctx.store->revoke_key(call.params["id"]);
  if (!s.is_ok()) co_return error_response(api::ApiError{s.code(), s.message(), "id", ""});
  ctx.auth->invalidate();
  co_return json_response(200, json{{"id", call.params["id"]}, {"revoked", true}});
}

// Query parameters of GET /v1/usage: key_id=<n>, since=YYYY-MM-DD.
std::map<std::string, std::string> query_params(const std::string& query) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < query.size()) {
    size_t amp = query.find('&', i);
    if (amp == std::string::npos) amp = query.size();
    const std::string pair = query.substr(i, amp - i);
    const size_t eq = pair.find('=');
    out[pair.substr(0, eq)] = eq == std::string::npos ? "" : pair.substr(eq + 1);
    i = amp + 1;
  }
  return out;
}

asio::awaitable<HttpResponse> usage(ServerContext& ctx, RouteCall& call) {
  if (auto r = need_store(ctx)) co_return *r;
  auto q = query_params(call.request.query);
  std::optional<int64_t> key_id;
  if (q.count("key_id")) {
    const std::string& v = q["key_id"];
    if (v.empty() || v.size() > 18 || !std::all_of(v.begin(), v.end(), ::isdigit))
      co_return error_response({Code::kInvalidArgument, "key_id '" + v + "' is not a key id", "key_id", "invalid_field"});
    key_id = std::stoll(v);
  }
  const std::string since = q.count("since") ? q["since"] : "";
  if (!since.empty() && (since.size() != 10 || since[4] != '-' || since[7] != '-'))
    co_return error_response({Code::kInvalidArgument, "since '" + since + "' is not a day (YYYY-MM-DD)", "since", "invalid_field"});
  Status flushed = ctx.usage->flush();
  if (!flushed.is_ok()) co_return error_response(api::to_api_error(flushed));
  auto rows = ctx.store->usage(key_id, since);
  if (!rows.is_ok()) co_return error_response(api::to_api_error(rows.status()));
  json data = json::array();
  for (const auto& r : rows.value())
    data.push_back({{"key_id", r.key_id}, {"key_name", r.key_name}, {"model", r.model}, {"day", r.day},
                    {"requests", r.requests}, {"characters", r.characters}});
  co_return json_response(200, json{{"object", "list"}, {"data", std::move(data)}});
}

}  // namespace

void add_admin_routes(Router<RouteHandler>& router) {
  router.add({"GET", "/v1/keys", Access::kAdmin, "API keys (never their secrets)", list_keys});
  router.add({"POST", "/v1/keys", Access::kAdmin, "Create an API key: {name, scope?, requests_per_minute?, chars_per_minute?}; "
                                                  "the secret is in this response only", create_key});
  router.add({"DELETE", "/v1/keys/{id}", Access::kAdmin, "Revoke an API key (by id or name)", revoke_key});
  router.add({"GET", "/v1/usage", Access::kAdmin, "Requests and characters per key, model and UTC day (?key_id=&since=)", usage});
}

}  // namespace lmaas::serve
