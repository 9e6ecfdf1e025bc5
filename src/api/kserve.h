// KServe v2 / Open Inference Protocol bodies for text classifiers.
// A classifier takes one input tensor "text" (BYTES, shape [N] or [N, 1]) and gives one output
// "probabilities" (FP32, shape [N, C]). Asking for that output with parameters {"classification": k}
// (Triton's classification extension) gives instead BYTES "score:index:label" strings, shape [N, k].
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/inputs.h"

namespace lmaas::api {

inline constexpr const char* kKserveInput = "text";
inline constexpr const char* kKserveOutput = "probabilities";

struct KserveInferRequest {
  std::string id;                   // echoed back; may be empty
  std::vector<std::string> texts;
  int64_t classification_k = 0;     // 0: FP32 probabilities
};
Parsed<KserveInferRequest> parse_kserve_infer(const nlohmann::json& body, const RequestLimits& limits);

nlohmann::json kserve_infer_response(const std::string& model, int64_t version, const KserveInferRequest& request,
                                     const std::vector<std::string>& labels,
                                     const std::vector<std::vector<float>>& probabilities);

// GET /v2/models/{m}[/versions/{v}]
nlohmann::json kserve_model_metadata(const std::string& model, const std::vector<int64_t>& versions, int64_t n_classes);

}  // namespace lmaas::api
