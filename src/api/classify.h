// /v1/classify and /v1/sentiment bodies: the request (model, texts, top_k) and the response built from
// class probabilities. Shared by the server and the C++ SDK.
//   request:  {"model": "name" | "name/version", "input": str | [str], "top_k"?: int}
//   response: {"object": "list", "model": name, "version": "v",
//              "data": [{"index", "label", "score", "probabilities": {label: p}, "top"?: [{label, score}]}]}
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/inputs.h"
#include "api/json_writer.h"

namespace lmaas::api {

// "name" or "name/version" (a positive integer).
struct ModelRef {
  std::string name;
  std::optional<int64_t> version;
};
Parsed<ModelRef> parse_model_ref(const std::string& text, const char* field);
// The required "model" string of a request body, parsed as above.
std::optional<ApiError> read_model_field(const nlohmann::json& body, ModelRef& model);

// "model" (a ModelRef) and "input" (texts within limits) of a task request body.
std::optional<ApiError> read_model_and_inputs(const nlohmann::json& body, const RequestLimits& limits, ModelRef& model,
                                              std::vector<std::string>& inputs);

struct ClassifyRequest {
  ModelRef model;
  std::vector<std::string> inputs;
  int64_t top_k = 0;  // 0: no "top" list
};
Parsed<ClassifyRequest> parse_classify_request(const nlohmann::json& body, const RequestLimits& limits);

struct SentimentRequest {
  std::vector<std::string> inputs;
  std::string language;  // "" (route by script), "en" or "zh"
};
Parsed<SentimentRequest> parse_sentiment_request(const nlohmann::json& body, const RequestLimits& limits);

// Class indices from the most to the least probable; ties go to the lower index, as argmax does.
std::vector<size_t> ranked_classes(const std::vector<float>& probabilities);

// The fields of one text's result into an open object: "label", "score", "probabilities" and, when
// top_k > 0, "top".
void write_classification(JsonWriter& w, const std::vector<std::string>& labels, const std::vector<float>& probabilities,
                          int64_t top_k);
// The /v1/classify response body: one entry of "data" per row of probabilities, in input order.
std::string classify_response(const std::string& model, int64_t version, const std::vector<std::string>& labels,
                              const std::vector<std::vector<float>>& probabilities, int64_t top_k);

// The response read back (the C++ SDK): one text's result, and the whole body of /v1/classify or
// /v1/sentiment (whose rows also name their language and model; model and version stay empty).
struct Classification {
  int64_t index = 0;
  std::string label;
  float score = 0;
  std::vector<std::pair<std::string, float>> probabilities;  // in the labels' order
  std::vector<std::pair<std::string, float>> top;            // when top_k was asked for
  std::string language, model;                               // /v1/sentiment
};
struct ClassifyResponse {
  std::string model, version;
  std::vector<Classification> data;
};
Result<ClassifyResponse> parse_classify_response(const nlohmann::json& body);

}  // namespace lmaas::api
