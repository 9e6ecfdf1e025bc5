// Triton's model_repository extension (admin keys only): the repository index and hot load/unload.
// Loading reads model files and can take seconds, so it runs on a worker thread while the I/O thread
// keeps serving; a load that fails keeps the old version serving.
#include <utility>  // before asio (Boost 1.74)

#include <set>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "serve/routes.h"

namespace lmaas::serve {

namespace asio = boost::asio;
using nlohmann::json;

namespace {

// One thread for loads and unloads (the repository runs them one at a time anyway).
asio::thread_pool& loader_pool() {
  static asio::thread_pool pool(1);
  return pool;
}

// Not a coroutine itself, and called with named objects only: GCC 12 destroys temporaries that live
// across a co_await (and by-value coroutine parameters built from them) twice.
asio::awaitable<Status> off_thread(const std::function<Status()>& work) {
  return asio::co_spawn(
      loader_pool(), [work]() -> asio::awaitable<Status> { co_return work(); }, asio::use_awaitable);
}

asio::awaitable<HttpResponse> index(ServerContext& ctx, RouteCall&) {
  json out = json::array();
  std::set<std::string> loaded;
  for (const auto& info : ctx.repository->list()) {
    loaded.insert(info.name);
    json e = {{"name", info.name}, {"version", std::to_string(info.version)}, {"state", store::model_state_name(info.state)}};
    e["reason"] = info.reason;
    out.push_back(std::move(e));
  }
  for (const auto& name : ctx.repository->names_on_disk())
    if (!loaded.count(name)) out.push_back({{"name", name}, {"state", "unavailable"}, {"reason", "not loaded"}});
  co_return json_response(200, out);
}

// Runs a repository operation on the loader thread; answers {"name", <done_field>: true} or the error.
asio::awaitable<HttpResponse> repository_op(ServerContext& ctx, RouteCall& call, bool load_model) {
  const std::string name = call.params["model"];
  call.model_label = name;
  store::ModelRepository* repo = ctx.repository.get();
  const std::function<Status()> work = [repo, name, load_model] { return load_model ? repo->load(name) : repo->unload(name); };
  Status s = co_await off_thread(work);
  if (!s.is_ok()) co_return error_response(api::ApiError{s.code(), s.message(), "model", load_model ? "load_failed" : ""});
  co_return json_response(200, json{{"name", name}, {load_model ? "loaded" : "unloaded", true}});
}

asio::awaitable<HttpResponse> load(ServerContext& ctx, RouteCall& call) { return repository_op(ctx, call, true); }
asio::awaitable<HttpResponse> unload(ServerContext& ctx, RouteCall& call) { return repository_op(ctx, call, false); }

}  // namespace

void add_repository_routes(Router<RouteHandler>& router) {
  router.add({"POST", "/v2/repository/index", Access::kAdmin, "Models in the repository and their states", index});
  router.add({"POST", "/v2/repository/models/{model}/load", Access::kAdmin, "Load or reload a model (hot)", load});
  router.add({"POST", "/v2/repository/models/{model}/unload", Access::kAdmin, "Unload a model", unload});
}

}  // namespace lmaas::serve
