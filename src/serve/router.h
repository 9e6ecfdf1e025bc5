// Router: method + path pattern -> route. Patterns are literal segments and "{param}" segments
// ("/v2/models/{model}/versions/{version}/infer"); the first route that matches wins. A path that matches
// a pattern under another method gives the allowed methods (for a 405).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace lmaas::serve {

enum class Access { kPublic, kInfer, kAdmin };

template <typename Handler>
struct Route {
  std::string method;
  std::string pattern;
  Access access = Access::kInfer;
  std::string summary;  // one line for /openapi.json
  Handler handler;
};

using PathParams = std::map<std::string, std::string>;

// Splits "/a/b/" into {"a", "b"}; empty segments are dropped.
std::vector<std::string_view> split_path(std::string_view path);
// True when the path's segments fit the pattern's, filling `params`.
bool match_segments(const std::vector<std::string>& pattern, const std::vector<std::string_view>& path, PathParams& params);
inline bool match_pattern(std::string_view pattern, std::string_view path, PathParams& params) {
  std::vector<std::string> want;
  for (auto seg : split_path(pattern)) want.emplace_back(seg);
  return match_segments(want, split_path(path), params);
}

template <typename Handler>
class Router {
 public:
  void add(Route<Handler> route) {
    std::vector<std::string> segments;
    for (auto seg : split_path(route.pattern)) segments.emplace_back(seg);
    segments_.push_back(std::move(segments));
    routes_.push_back(std::move(route));
  }
  // The matching route or null; `allowed` lists the methods of routes whose pattern fits another method.
  const Route<Handler>* match(std::string_view method, std::string_view path, PathParams& params,
                              std::string& allowed) const {
    const auto got = split_path(path);
    for (size_t i = 0; i < routes_.size(); ++i) {
      const auto& r = routes_[i];
      PathParams p;
      if (!match_segments(segments_[i], got, p)) continue;
      if (r.method == method) {
        params = std::move(p);
        return &r;
      }
      if (allowed.find(r.method) == std::string::npos) allowed += (allowed.empty() ? "" : ", ") + r.method;
    }
    return nullptr;
  }
  const std::vector<Route<Handler>>& routes() const { return routes_; }

 private:
  std::vector<Route<Handler>> routes_;
  std::vector<std::vector<std::string>> segments_;  // each route's pattern, split once
};

}  // namespace lmaas::serve
