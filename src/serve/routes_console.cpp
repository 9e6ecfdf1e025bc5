// The web console: GET / (index.html) and GET /console/{file}, from the files compiled into the binary
// (serve/web_assets.h). Public: the pages hold no data; they call the API with the key the user signs in
// with. A strict Content-Security-Policy keeps every script, style and request on this origin.
#include "serve/routes.h"
#include "serve/web_assets.h"

namespace lmaas::serve {

namespace asio = boost::asio;

namespace {

std::string content_type_of(std::string_view name) {
  auto ends_with = [&](std::string_view ext) { return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext; };
  if (ends_with(".html")) return "text/html; charset=utf-8";
  if (ends_with(".js")) return "text/javascript; charset=utf-8";
  if (ends_with(".css")) return "text/css; charset=utf-8";
  if (ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

HttpResponse asset_response(std::string_view name) {
  for (const WebAsset& a : web_assets()) {
    if (a.name != name) continue;
    HttpResponse r;
    r.content_type = content_type_of(name);
    r.body = std::string(a.bytes);
    r.headers = {{"cache-control", "no-cache"},
                 {"x-content-type-options", "nosniff"},
                 {"content-security-policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"}};
    return r;
  }
  return error_response({Code::kNotFound, "no console file '" + std::string(name) + "'", "path", "unknown_route"});
}

asio::awaitable<HttpResponse> index(ServerContext&, RouteCall&) { co_return asset_response("index.html"); }

asio::awaitable<HttpResponse> console_file(ServerContext&, RouteCall& call) {
  co_return asset_response(call.params["file"]);
}

}  // namespace

void add_console_routes(Router<RouteHandler>& router) {
  router.add({"GET", "/", Access::kPublic, "The web console", index});
  router.add({"GET", "/console/{file}", Access::kPublic, "The web console's scripts and styles", console_file});
}

}  // namespace lmaas::serve
