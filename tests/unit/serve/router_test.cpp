// Router: literal and {param} segments, first match wins, other methods reported for a 405.
#include "serve/router.h"

#include <gtest/gtest.h>

namespace lmaas::serve {
namespace {

TEST(Router, MatchesSegmentsAndFillsParams) {
  Router<int> router;
  router.add({"GET", "/v2/models/{model}", Access::kInfer, "", 1});
  router.add({"GET", "/v2/models/{model}/versions/{version}", Access::kInfer, "", 2});
  router.add({"POST", "/v2/models/{model}/versions/{version}/infer", Access::kInfer, "", 3});
  router.add({"GET", "/v2/health/ready", Access::kPublic, "", 4});
  PathParams params;
  std::string allowed;
  auto* r = router.match("GET", "/v2/models/m/versions/7", params, allowed);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->handler, 2);
  EXPECT_EQ(params, (PathParams{{"model", "m"}, {"version", "7"}}));
  EXPECT_EQ(router.match("GET", "/v2/models/m/", params, allowed)->handler, 1);  // trailing slash ignored
  EXPECT_EQ(router.match("GET", "/v2/health/ready", params, allowed)->handler, 4);
  EXPECT_EQ(router.match("GET", "/v2/health", params, allowed), nullptr);
  EXPECT_TRUE(allowed.empty());
  EXPECT_EQ(router.match("GET", "/v2/models/m/versions/7/infer", params, allowed), nullptr);
  EXPECT_EQ(allowed, "POST");
}

TEST(Router, SplitsPaths) {
  EXPECT_EQ(split_path("//a/b//c/"), (std::vector<std::string_view>{"a", "b", "c"}));
  EXPECT_TRUE(split_path("/").empty());
}

}  // namespace
}  // namespace lmaas::serve
