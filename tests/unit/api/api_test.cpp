// The API layer: error mapping and bodies, JSON body parsing (depth, UTF-8), inputs and their limits,
// classify and KServe request/response shapes — expected values written out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "api/classify.h"
#include "api/error.h"
#include "api/json_body.h"
#include "api/json_writer.h"
#include "api/kserve.h"

namespace lmaas::api {
namespace {

using nlohmann::json;

template <typename T>
const ApiError& err(const std::variant<T, ApiError>& v) {
  return std::get<ApiError>(v);
}

TEST(ApiError, OneMappingFromCodesToStatuses) {
  EXPECT_EQ(http_status(Code::kInvalidArgument), 400);
  EXPECT_EQ(http_status(Code::kUnauthenticated), 401);
  EXPECT_EQ(http_status(Code::kPermissionDenied), 403);
  EXPECT_EQ(http_status(Code::kNotFound), 404);
  EXPECT_EQ(http_status(Code::kOutOfRange), 413);
  EXPECT_EQ(http_status(Code::kResourceExhausted), 429);
  EXPECT_EQ(http_status(Code::kUnavailable), 503);
  EXPECT_EQ(http_status(Code::kDeadlineExceeded), 504);
  EXPECT_EQ(http_status(Code::kInternal), 500);
}

TEST(ApiError, BodyHasOpenAiShape) {
  EXPECT_EQ(error_body({Code::kResourceExhausted, "full", "", ""}),
            json::parse(R"({"error":{"message":"full","type":"rate_limit_error","param":null,"code":"resource_exhausted"}})"));
  EXPECT_EQ(error_body({Code::kInvalidArgument, "bad", "input", "invalid_field"}),
            json::parse(R"({"error":{"message":"bad","type":"invalid_request_error","param":"input","code":"invalid_field"}})"));
}

TEST(JsonBody, ParsesObjectsAndRefusesEverythingElse) {
  EXPECT_EQ(std::get<json>(parse_json_body(R"({"a":[1,{"b":2}]})", 8)), json::parse(R"({"a":[1,{"b":2}]})"));
  EXPECT_EQ(err(parse_json_body("", 8)).error_code, "empty_body");
  EXPECT_EQ(err(parse_json_body("[1]", 8)).code, Code::kInvalidArgument);
  EXPECT_EQ(err(parse_json_body(R"({"a":)", 8)).error_code, "invalid_json");
  EXPECT_EQ(err(parse_json_body("{\"a\":\"\xff\"}", 8)).error_code, "invalid_utf8");
  EXPECT_EQ(err(parse_json_body("{\"a\":\"\xc0\xaf\"}", 8)).error_code, "invalid_utf8");  // overlong '/'
}

TEST(JsonBody, DepthLimitCountsNesting) {
  // {"a":[[1]]} nests three containers: the object and two arrays.
  EXPECT_TRUE(std::holds_alternative<json>(parse_json_body(R"({"a":[[1]]})", 3)));
  const auto parsed = parse_json_body(R"({"a":[[1]]})", 2);
  const ApiError& e = err(parsed);
  EXPECT_EQ(e.code, Code::kOutOfRange);
  EXPECT_EQ(e.param, "max_json_depth");
  std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  EXPECT_EQ(err(parse_json_body(deep, 32)).error_code, "json_too_deep");
  // Brackets inside strings (escaped quotes too) are text, not nesting.
  EXPECT_TRUE(std::holds_alternative<json>(parse_json_body(R"({"a":"[[[{{{","b":"\"[[[\\"})", 1)));
  EXPECT_EQ(err(parse_json_body(R"({"a":"\\",  "b":[[1]]})", 2)).error_code, "json_too_deep");
}

TEST(JsonWriter, WritesWhatNlohmannReadsBack) {
  std::string out;
  JsonWriter w(out);
  const std::string odd = std::string("q\"b\\s\n\x01 \xc3\xa9 \xff end");  // escapes, UTF-8, an invalid byte
  w.begin_object().key("s").value(odd).key("n").value(int64_t{-42}).key("f").value(0.1f).key("d").value(1e-7);
  w.key("nan").value(std::nan("")).key("a").begin_array().value("x").begin_object().end_object().begin_array().end_array();
  w.value(uint64_t{7}).end_array().key(odd).value("k").end_object();
  const json j = json::parse(out);
  EXPECT_EQ(j["s"], "q\"b\\s\n\x01 \xc3\xa9 \xef\xbf\xbd end");  // the invalid byte as U+FFFD
  EXPECT_EQ(j["n"], -42);
  EXPECT_EQ(j["f"].get<float>(), 0.1f);  // the shortest text that reads back as the same float
  EXPECT_EQ(out.find("0.100000001"), std::string::npos);
  EXPECT_EQ(j["d"].get<double>(), 1e-7);
  EXPECT_TRUE(j["nan"].is_null());
  EXPECT_EQ(j["a"], json::parse(R"(["x", {}, [], 7])"));
  EXPECT_EQ(j.size(), 7u);
}

TEST(Inputs, StringOrListWithinLimits) {
  RequestLimits limits;
  limits.inputs_per_request = 2;
  limits.chars_per_input = 3;
  EXPECT_EQ(std::get<std::vector<std::string>>(text_inputs(json{{"input", "abc"}}, "input", limits)),
            std::vector<std::string>{"abc"});
  EXPECT_EQ(std::get<std::vector<std::string>>(text_inputs(json{{"input", {"我爱你", "a"}}}, "input", limits)).size(), 2u);
  EXPECT_EQ(err(text_inputs(json{{"input", "abcd"}}, "input", limits)).error_code, "input_too_long");
  EXPECT_EQ(err(text_inputs(json{{"input", {"a", "b", "c"}}}, "input", limits)).error_code, "too_many_inputs");
  EXPECT_EQ(err(text_inputs(json{{"input", json::array()}}, "input", limits)).code, Code::kInvalidArgument);
  EXPECT_EQ(err(text_inputs(json{{"input", {"a", 1}}}, "input", limits)).message, "'input' [1] must be a string, not number");
  EXPECT_EQ(err(text_inputs(json::object(), "input", limits)).error_code, "missing_field");
  EXPECT_EQ(count_code_points("我爱你 ok"), 6);
}

TEST(Classify, ParsesModelReferences) {
  auto ref = std::get<ModelRef>(parse_model_ref("sentiment/3", "model"));
  EXPECT_EQ(ref.name, "sentiment");
  EXPECT_EQ(ref.version, 3);
  EXPECT_FALSE(std::get<ModelRef>(parse_model_ref("sentiment", "model")).version.has_value());
  EXPECT_EQ(err(parse_model_ref("sentiment/0", "model")).code, Code::kInvalidArgument);
  EXPECT_EQ(err(parse_model_ref("sentiment/x", "model")).code, Code::kInvalidArgument);
  EXPECT_EQ(err(parse_model_ref("/2", "model")).code, Code::kInvalidArgument);
}

TEST(Classify, ResponseOrdersTopByProbabilityTiesToLowerIndex) {
  json r = json::parse(classify_response("m", 2, {"a", "b", "c"}, {{0.25f, 0.5f, 0.25f}}, 3));
  EXPECT_EQ(r["version"], "2");
  const json& row = r["data"][0];
  EXPECT_EQ(row["label"], "b");
  EXPECT_EQ(row["score"], 0.5);
  EXPECT_EQ(row["top"][1]["label"], "a");
  EXPECT_EQ(row["top"][2]["label"], "c");
  EXPECT_EQ(row["probabilities"], json::parse(R"({"a":0.25,"b":0.5,"c":0.25})"));
  EXPECT_FALSE(json::parse(classify_response("m", 1, {"a"}, {{1.0f}}, 0))["data"][0].contains("top"));
}

TEST(Classify, ResponseReadsBack) {
  const auto r = parse_classify_response(json::parse(classify_response("m", 2, {"a", "b"}, {{0.25f, 0.75f}}, 1)));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r.value().model, "m");
  EXPECT_EQ(r.value().version, "2");
  const Classification& c = r.value().data.at(0);
  EXPECT_EQ(c.label, "b");
  EXPECT_EQ(c.score, 0.75f);
  EXPECT_EQ(c.probabilities, (std::vector<std::pair<std::string, float>>{{"a", 0.25f}, {"b", 0.75f}}));
  EXPECT_EQ(c.top, (std::vector<std::pair<std::string, float>>{{"b", 0.75f}}));
  EXPECT_EQ(parse_classify_response(json::parse(R"({"data":[{"index":0}]})")).status().code(), Code::kDataLoss);
}

TEST(Errors, ResponsesReadBackToTheirCode) {
  const ApiError e = parse_error_response(404, error_body({Code::kNotFound, "no model 'x'", "model", "model_not_found"}).dump());
  EXPECT_EQ(e.code, Code::kNotFound);
  EXPECT_EQ(e.message, "no model 'x'");
  EXPECT_EQ(e.param, "model");
  EXPECT_EQ(e.error_code, "model_not_found");
  for (Code c : {Code::kInvalidArgument, Code::kUnauthenticated, Code::kPermissionDenied, Code::kOutOfRange,
                 Code::kResourceExhausted, Code::kUnavailable, Code::kDeadlineExceeded, Code::kInternal})
    EXPECT_EQ(code_for_http_status(http_status(c)), c) << code_name(c);
  const ApiError plain = parse_error_response(502, "<html>bad gateway</html>");  // not lmaas' shape
  EXPECT_EQ(plain.code, Code::kInternal);
  EXPECT_EQ(plain.message, "HTTP 502: <html>bad gateway</html>");
}

TEST(Kserve, ParsesBytesTensorAndClassificationParameter) {
  RequestLimits limits;
  auto body = json::parse(R"({"id":"7","inputs":[{"name":"text","shape":[2,1],"datatype":"BYTES","data":[["x"],["y"]]}],
                               "outputs":[{"name":"probabilities","parameters":{"classification":2}}]})");
  auto r = std::get<KserveInferRequest>(parse_kserve_infer(body, limits));
  EXPECT_EQ(r.texts, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(r.classification_k, 2);
  json out = kserve_infer_response("m", 1, r, {"neg", "pos"}, {{0.25f, 0.75f}, {1.0f, 0.0f}});
  EXPECT_EQ(out["id"], "7");
  EXPECT_EQ(out["outputs"][0]["shape"], json::parse("[2,2]"));
  EXPECT_EQ(out["outputs"][0]["data"],
            json::parse(R"(["0.750000:1:pos","0.250000:0:neg","1.000000:0:neg","0.000000:1:pos"])"));
  r.classification_k = 0;
  out = kserve_infer_response("m", 1, r, {"neg", "pos"}, {{0.25f, 0.75f}});
  EXPECT_EQ(out["outputs"][0]["datatype"], "FP32");
  EXPECT_EQ(out["outputs"][0]["data"], json::parse("[0.25,0.75]"));
}

TEST(Kserve, RefusesMalformedTensors) {
  RequestLimits limits;
  auto parse = [&](const char* text) { return err(parse_kserve_infer(json::parse(text), limits)).message; };
  EXPECT_NE(parse(R"({"inputs":[]})").find("exactly one"), std::string::npos);
  EXPECT_NE(parse(R"({"inputs":[{"name":"text","shape":[1],"datatype":"FP32","data":[1]}]})").find("BYTES"), std::string::npos);
  EXPECT_NE(parse(R"({"inputs":[{"name":"text","shape":[2],"datatype":"BYTES","data":["a"]}]})").find("shape says 2"),
            std::string::npos);
  EXPECT_NE(parse(R"({"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":[5]}]})").find("strings"), std::string::npos);
  EXPECT_NE(parse(R"({"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["a"]}],"outputs":[{"name":"zz"}]})")
                .find("unknown output"),
            std::string::npos);
}

}  // namespace
}  // namespace lmaas::api
