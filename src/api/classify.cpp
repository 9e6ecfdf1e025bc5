#include "api/classify.h"

#include <algorithm>
#include <numeric>

namespace lmaas::api {

Parsed<ModelRef> parse_model_ref(const std::string& text, const char* field) {
  ModelRef ref;
  const auto slash = text.find('/');
  ref.name = text.substr(0, slash);
  if (slash != std::string::npos) {
    const std::string v = text.substr(slash + 1);
    const bool digits = !v.empty() && v.size() <= 18 && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoll(v) <= 0)
      return ApiError{Code::kInvalidArgument,
                      std::string("'") + field + "' is \"" + text + "\"; expected \"name\" or \"name/version\" with a positive version",
                      field, "invalid_model"};
    ref.version = std::stoll(v);
  }
  if (ref.name.empty()) return ApiError{Code::kInvalidArgument, std::string("'") + field + "' names no model", field, "invalid_model"};
  return ref;
}

std::optional<ApiError> read_model_field(const nlohmann::json& body, ModelRef& model) {
  auto name = required_string(body, "model");
  if (auto* e = std::get_if<ApiError>(&name)) return *e;
  auto ref = parse_model_ref(std::get<std::string>(name), "model");
  if (auto* e = std::get_if<ApiError>(&ref)) return *e;
  model = std::get<ModelRef>(ref);
  return std::nullopt;
}

std::optional<ApiError> read_model_and_inputs(const nlohmann::json& body, const RequestLimits& limits, ModelRef& model,
                                              std::vector<std::string>& inputs) {
  if (auto e = read_model_field(body, model)) return *e;
  auto texts = text_inputs(body, "input", limits);
  if (auto* e = std::get_if<ApiError>(&texts)) return *e;
  inputs = std::move(std::get<std::vector<std::string>>(texts));
  return std::nullopt;
}

Parsed<ClassifyRequest> parse_classify_request(const nlohmann::json& body, const RequestLimits& limits) {
  ClassifyRequest r;
  if (auto e = read_model_and_inputs(body, limits, r.model, r.inputs)) return *e;
  auto top_k = optional_int(body, "top_k", 0, 0, 1 << 20);
  if (auto* e = std::get_if<ApiError>(&top_k)) return *e;
  r.top_k = std::get<int64_t>(top_k);
  return r;
}

Parsed<SentimentRequest> parse_sentiment_request(const nlohmann::json& body, const RequestLimits& limits) {
  SentimentRequest r;
  auto inputs = text_inputs(body, "input", limits);
  if (auto* e = std::get_if<ApiError>(&inputs)) return *e;
  r.inputs = std::move(std::get<std::vector<std::string>>(inputs));
  auto language = optional_string(body, "language");
  if (auto* e = std::get_if<ApiError>(&language)) return *e;
  r.language = std::get<std::string>(language);
  if (!r.language.empty() && r.language != "en" && r.language != "zh")
    return ApiError{Code::kInvalidArgument, "'language' is \"" + r.language + "\"; expected \"en\" or \"zh\" (or leave it out)",
                    "language", "invalid_field"};
  return r;
}

std::vector<size_t> ranked_classes(const std::vector<float>& p) {
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  return order;
}

void write_classification(JsonWriter& w, const std::vector<std::string>& labels, const std::vector<float>& p, int64_t top_k) {
  const std::vector<size_t> order = ranked_classes(p);
  w.key("label").value(labels[order[0]]).key("score").value(p[order[0]]);
  w.key("probabilities").begin_object();
  for (size_t c = 0; c < labels.size(); ++c) w.key(labels[c]).value(p[c]);
  w.end_object();
  if (top_k > 0) {
    w.key("top").begin_array();
    for (size_t k = 0; k < std::min<size_t>(static_cast<size_t>(top_k), order.size()); ++k)
      w.begin_object().key("label").value(labels[order[k]]).key("score").value(p[order[k]]).end_object();
    w.end_array();
  }
}

Result<ClassifyResponse> parse_classify_response(const nlohmann::json& body) {
  try {
    ClassifyResponse r;
    r.model = body.value("model", std::string());
    r.version = body.value("version", std::string());
    for (const auto& row : body.at("data")) {
      Classification c;
      c.index = row.at("index").get<int64_t>();
      c.label = row.at("label").get<std::string>();
      c.score = row.at("score").get<float>();
      for (const auto& [label, p] : row.at("probabilities").items()) c.probabilities.emplace_back(label, p.get<float>());
      if (row.contains("top"))
        for (const auto& t : row["top"]) c.top.emplace_back(t.at("label").get<std::string>(), t.at("score").get<float>());
      c.language = row.value("language", std::string());
      c.model = row.value("model", std::string());
      r.data.push_back(std::move(c));
    }
    return r;
  } catch (const nlohmann::json::exception& e) {
    return Status(Code::kDataLoss, std::string("unexpected classification response: ") + e.what());
  }
}

std::string classify_response(const std::string& model, int64_t version, const std::vector<std::string>& labels,
                              const std::vector<std::vector<float>>& probabilities, int64_t top_k) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("object").value("list").key("model").value(model).key("version").value(std::to_string(version));
  w.key("data").begin_array();
  for (size_t i = 0; i < probabilities.size(); ++i) {
    w.begin_object().key("index").value(uint64_t{i});
    write_classification(w, labels, probabilities[i], top_k);
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

}  // namespace lmaas::api
