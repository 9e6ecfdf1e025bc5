// Model listing routes: OpenAI's GET /v1/models[/{id}] (one entry per model name, its served version's
// task, labels (classifiers) or languages (translators), and evaluation metrics from config.json) and
// KServe v2 model metadata and readiness.
#include <sys/stat.h>

#include "api/kserve.h"
#include "api/translation.h"
#include "serve/routes.h"

namespace lmaas::serve {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

int64_t created_unix(const std::string& dir) {
  struct stat st {};
  if (::stat((dir + "/config.json").c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtime);
}

// Every model name with its versions, as /v1/models shows it.
json model_entry(const std::string& name, const std::vector<store::ModelVersionInfo>& versions,
                 const std::shared_ptr<store::ServedModel>& served) {
  json v = json::array();
  for (const auto& info : versions) {
    json e = {{"version", std::to_string(info.version)}, {"state", store::model_state_name(info.state)}};
    if (!info.reason.empty()) e["reason"] = info.reason;
    v.push_back(std::move(e));
  }
  json entry = {{"id", name}, {"object", "model"}, {"owned_by", "lmaas"}, {"versions", v},
                {"task", served ? served->task() : "classification"}, {"ready", served != nullptr}};
  entry["created"] = served ? created_unix(served->dir()) : 0;
  if (served) {
    entry["version"] = std::to_string(served->version());
    const json& config = served->config();
    if (served->is_generator()) {
      for (const char* key : {"format", "n_params", "weight_type", "context_length", "n_vocab", "chat_format"})
        entry[key] = config[key];
    } else if (served->is_translator()) {
      entry["source_language"] = config.value("source_language", "");
      entry["target_language"] = config.value("target_language", "");
    } else {
      entry["labels"] = served->session().labels();
    }
    if (config.contains("metrics")) entry["metrics"] = config["metrics"];
    if (config.contains("architecture") && config["architecture"].contains("arch"))
      entry["architecture"] = config["architecture"]["arch"];
  }
  return entry;
}

std::map<std::string, std::vector<store::ModelVersionInfo>> by_name(const store::ModelRepository& repo) {
  std::map<std::string, std::vector<store::ModelVersionInfo>> out;
  for (auto& info : repo.list()) out[info.name].push_back(info);
  return out;
}

asio::awaitable<HttpResponse> list_models(ServerContext& ctx, RouteCall&) {
  json data = json::array();
  for (const auto& [name, versions] : by_name(*ctx.repository)) {
    auto served = ctx.repository->find(name);
    data.push_back(model_entry(name, versions, served.is_ok() ? served.value() : nullptr));
  }
  co_return json_response(200, json{{"object", "list"}, {"data", std::move(data)}});
}

asio::awaitable<HttpResponse> get_model(ServerContext& ctx, RouteCall& call) {
  const std::string& name = call.params["id"];
  auto all = by_name(*ctx.repository);
  auto it = all.find(name);
  if (it == all.end())
    co_return error_response({Code::kNotFound, "model '" + name + "' is not loaded; GET /v1/models lists the served models",
                              "model", "model_not_found"});
  auto served = ctx.repository->find(name);
  co_return json_response(200, model_entry(name, it->second, served.is_ok() ? served.value() : nullptr));
}

// The version the path names (or the served one), as an error response when there is none.
std::variant<std::shared_ptr<store::ServedModel>, api::ApiError> path_model(ServerContext& ctx, RouteCall& call) {
  auto parsed = path_model_ref(call);
  if (auto* e = std::get_if<api::ApiError>(&parsed)) return *e;
  const api::ModelRef& ref = std::get<api::ModelRef>(parsed);
  auto served = ctx.repository->find(ref.name, ref.version);
  if (!served.is_ok()) return model_lookup_error(served.status());
  return served.value();
}

asio::awaitable<HttpResponse> model_metadata(ServerContext& ctx, RouteCall& call) {
  auto m = path_model(ctx, call);
  if (auto* e = std::get_if<api::ApiError>(&m)) co_return error_response(*e);
  auto& served = std::get<std::shared_ptr<store::ServedModel>>(m);
  std::vector<int64_t> versions;
  for (const auto& info : ctx.repository->list())
    if (info.name == served->name() && info.served) versions.push_back(info.version);
  if (served->is_translator()) co_return json_response(200, api::kserve_translator_metadata(served->name(), versions));
  if (served->is_generator()) {  // served over the OpenAI routes, not KServe infer
    json versions_json = json::array();
    for (int64_t v : versions) versions_json.push_back(std::to_string(v));
    co_return json_response(200, json{{"name", served->name()}, {"versions", versions_json}, {"platform", "lmaas_generator"},
                                      {"inputs", json::array()}, {"outputs", json::array()}});
  }
  co_return json_response(200, api::kserve_model_metadata(served->name(), versions,
                                                          static_cast<int64_t>(served->session().labels().size())));
}

asio::awaitable<HttpResponse> model_ready(ServerContext& ctx, RouteCall& call) {
  auto m = path_model(ctx, call);
  if (auto* e = std::get_if<api::ApiError>(&m)) {
    if (e->code == Code::kUnavailable) e->code = Code::kFailedPrecondition;  // known but not ready: a 4xx, as KServe says
    co_return error_response(*e);
  }
  co_return json_response(200, json{{"name", call.params["model"]}, {"ready", true}});
}

}  // namespace

void add_model_routes(Router<RouteHandler>& router) {
  router.add({"GET", "/v1/models", Access::kInfer, "OpenAI: the served models", list_models});
  router.add({"GET", "/v1/models/{id}", Access::kInfer, "OpenAI: one model", get_model});
  router.add({"GET", "/v2/models/{model}", Access::kInfer, "KServe v2 model metadata", model_metadata});
  router.add({"GET", "/v2/models/{model}/versions/{version}", Access::kInfer, "KServe v2 metadata of a version", model_metadata});
  router.add({"GET", "/v2/models/{model}/ready", Access::kInfer, "KServe v2 model readiness (200 ready, 4xx not)", model_ready});
  router.add({"GET", "/v2/models/{model}/versions/{version}/ready", Access::kInfer, "KServe v2 readiness of a version",
              model_ready});
}

}  // namespace lmaas::serve
