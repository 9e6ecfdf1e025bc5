#include "api/kserve.h"

#include "api/classify.h"

#include <algorithm>
#include <cstdio>
#include <numeric>

namespace lmaas::api {

namespace {

ApiError bad(const std::string& message, const std::string& param) {
  return {Code::kInvalidArgument, message, param, "invalid_infer_request"};
}

// Flattens "data" (strings, possibly nested in row-major lists) into texts.
std::optional<ApiError> flatten_bytes(const nlohmann::json& data, std::vector<std::string>& out, int depth) {
  if (depth > 2) return bad("inputs[0].data nests deeper than the tensor's shape allows", "inputs");
  for (const auto& v : data) {
    if (v.is_string()) {
      out.push_back(v.get<std::string>());
    } else if (v.is_array()) {
      if (auto e = flatten_bytes(v, out, depth + 1)) return e;
    } else {
      return bad(std::string("inputs[0].data holds a ") + v.type_name() + "; BYTES data must be strings", "inputs");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> parse_outputs(const nlohmann::json& body, KserveInferRequest& r) {
  auto it = body.find("outputs");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) return bad("'outputs' must be a list", "outputs");
  for (const auto& o : *it) {
    if (!o.is_object() || !o.contains("name") || !o["name"].is_string())
      return bad("every entry of 'outputs' must be an object with a string 'name'", "outputs");
    if (o["name"] != kKserveOutput)
      return ApiError{Code::kInvalidArgument, "unknown output \"" + o["name"].get<std::string>() + "\"; this model has \"" +
                      kKserveOutput + "\"", "outputs", "unknown_output"};
    auto params = o.find("parameters");
    if (params == o.end() || !params->is_object()) continue;
    auto k = optional_int(*params, "classification", 0, 1, 1 << 20);
    if (auto* e = std::get_if<ApiError>(&k)) return *e;
    r.classification_k = std::get<int64_t>(k);
  }
  return std::nullopt;
}

}  // namespace

Parsed<KserveInferRequest> parse_kserve_infer(const nlohmann::json& body, const RequestLimits& limits) {
  KserveInferRequest r;
  if (auto id = body.find("id"); id != body.end() && id->is_string()) r.id = id->get<std::string>();
  auto inputs = body.find("inputs");
  if (inputs == body.end() || !inputs->is_array() || inputs->size() != 1)
    return bad("'inputs' must be a list of exactly one tensor, \"text\" (BYTES)", "inputs");
  const auto& in = (*inputs)[0];
  if (!in.is_object()) return bad("inputs[0] must be an object", "inputs");
  if (!in.contains("name") || !in["name"].is_string() || in["name"] != kKserveInput)
    return bad(std::string("inputs[0].name must be \"") + kKserveInput + "\"", "inputs");
  if (!in.contains("datatype") || in["datatype"] != "BYTES")
    return bad("inputs[0].datatype must be \"BYTES\" (texts)", "inputs");
  if (!in.contains("shape") || !in["shape"].is_array() || in["shape"].empty() || in["shape"].size() > 2)
    return bad("inputs[0].shape must be [N] or [N, 1]", "inputs");
  int64_t n = 1;
  for (const auto& d : in["shape"]) {
    if (!d.is_number_integer() || d.get<int64_t>() < 0 || d.get<int64_t>() > limits.inputs_per_request * 2)
      return bad("inputs[0].shape holds " + d.dump() + "; expected non-negative integers", "inputs");
    n *= d.get<int64_t>();
  }
  if (in["shape"].size() == 2 && in["shape"][1] != 1) return bad("inputs[0].shape must be [N] or [N, 1]", "inputs");
  if (!in.contains("data") || !in["data"].is_array()) return bad("inputs[0].data must be a list of strings", "inputs");
  if (auto e = flatten_bytes(in["data"], r.texts, 1)) return *e;
  if (static_cast<int64_t>(r.texts.size()) != n)
    return bad("inputs[0].data holds " + std::to_string(r.texts.size()) + " strings but its shape says " + std::to_string(n),
               "inputs");
  if (auto e = check_texts(r.texts, "inputs", limits)) return *e;
  if (auto e = parse_outputs(body, r)) return *e;
  return r;
}

nlohmann::json kserve_infer_response(const std::string& model, int64_t version, const KserveInferRequest& request,
                                     const std::vector<std::string>& labels,
                                     const std::vector<std::vector<float>>& probabilities) {
  const int64_t n = static_cast<int64_t>(probabilities.size()), c = static_cast<int64_t>(labels.size());
  nlohmann::json output = {{"name", kKserveOutput}};
  nlohmann::json data = nlohmann::json::array();
  if (request.classification_k > 0) {
    const int64_t k = std::min<int64_t>(request.classification_k, c);
    for (const auto& p : probabilities) {
      const std::vector<size_t> order = ranked_classes(p);
      for (int64_t j = 0; j < k; ++j) {
        char score[32];
        std::snprintf(score, sizeof score, "%.6f", static_cast<double>(p[order[j]]));
        data.push_back(std::string(score) + ":" + std::to_string(order[j]) + ":" + labels[order[j]]);
      }
    }
    output["datatype"] = "BYTES";
    output["shape"] = {n, k};
  } else {
    for (const auto& p : probabilities)
      for (float v : p) data.push_back(v);
    output["datatype"] = "FP32";
    output["shape"] = {n, c};
  }
  output["data"] = std::move(data);
  nlohmann::json response = {{"model_name", model}, {"model_version", std::to_string(version)},
                             {"outputs", nlohmann::json::array({output})}};
  if (!request.id.empty()) response["id"] = request.id;
  return response;
}

nlohmann::json kserve_model_metadata(const std::string& model, const std::vector<int64_t>& versions, int64_t n_classes) {
  nlohmann::json v = nlohmann::json::array();
  for (int64_t x : versions) v.push_back(std::to_string(x));
  return {{"name", model},
          {"versions", v},
          {"platform", "lmaas"},
          {"inputs", {{{"name", kKserveInput}, {"datatype", "BYTES"}, {"shape", {-1}}}}},
          {"outputs", {{{"name", kKserveOutput}, {"datatype", "FP32"}, {"shape", {-1, n_classes}}}}}};
}

}  // namespace lmaas::api
