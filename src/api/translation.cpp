#include "api/translation.h"

#include "api/json_writer.h"
#include "api/kserve.h"

namespace lmaas::api {

Parsed<TranslateRequest> parse_translate_request(const nlohmann::json& body, const RequestLimits& limits) {
  TranslateRequest r;
  if (auto e = read_model_and_inputs(body, limits, r.model, r.inputs)) return *e;
  for (auto [field, out] : {std::pair{"source_language", &r.source_language}, std::pair{"target_language", &r.target_language}}) {
    auto lang = optional_string(body, field);
    if (auto* e = std::get_if<ApiError>(&lang)) return *e;
    *out = std::get<std::string>(lang);
  }
  auto beam = optional_int(body, "beam_size", 0, 1, kMaxBeamSize);
  if (auto* e = std::get_if<ApiError>(&beam)) return *e;
  r.beam_size = std::get<int64_t>(beam);
  auto max_tokens = optional_int(body, "max_tokens", 0, 1, kMaxTranslationTokens);
  if (auto* e = std::get_if<ApiError>(&max_tokens)) return *e;
  r.max_tokens = std::get<int64_t>(max_tokens);
  return r;
}

std::optional<ApiError> check_languages(const TranslateRequest& r, const std::string& model_source,
                                        const std::string& model_target) {
  for (auto [field, asked, served] : {std::tuple{"source_language", &r.source_language, &model_source},
                                      std::tuple{"target_language", &r.target_language, &model_target}}) {
    if (!asked->empty() && !served->empty() && *asked != *served)
      return ApiError{Code::kInvalidArgument,
                      "model '" + r.model.name + "' translates " + model_source + " → " + model_target + "; '" + field +
                          "' is \"" + *asked + "\"",
                      field, "unsupported_language"};
  }
  return std::nullopt;
}

std::string translate_response(const std::string& model, int64_t version, const std::vector<std::string>& texts,
                               const std::vector<std::vector<float>>& scores) {
  std::string out;
  JsonWriter w(out);
  w.begin_object().key("object").value("list").key("model").value(model).key("version").value(std::to_string(version));
  w.key("translations").begin_array();
  for (size_t i = 0; i < texts.size(); ++i) {
    w.begin_object().key("index").value(uint64_t{i}).key("text").value(texts[i]);
    w.key("score").value(scores[i].empty() ? 0.0 : static_cast<double>(scores[i][0])).end_object();
  }
  w.end_array().end_object();
  return out;
}

Result<std::vector<Translation>> parse_translate_response(const nlohmann::json& body) {
  try {
    std::vector<Translation> out;
    for (const auto& row : body.at("translations"))
      out.push_back({row.at("index").get<int64_t>(), row.at("text").get<std::string>(), row.value("score", 0.0)});
    return out;
  } catch (const nlohmann::json::exception& e) {
    return Status(Code::kDataLoss, std::string("unexpected translation response: ") + e.what());
  }
}

nlohmann::json kserve_translation_response(const std::string& model, int64_t version, const std::string& id,
                                           const std::vector<std::string>& texts) {
  nlohmann::json output = {{"name", kKserveTranslationOutput},
                           {"datatype", "BYTES"},
                           {"shape", {static_cast<int64_t>(texts.size())}},
                           {"data", texts}};
  nlohmann::json response = {{"model_name", model}, {"model_version", std::to_string(version)},
                             {"outputs", nlohmann::json::array({output})}};
  if (!id.empty()) response["id"] = id;
  return response;
}

nlohmann::json kserve_translator_metadata(const std::string& model, const std::vector<int64_t>& versions) {
  nlohmann::json metadata = kserve_model_metadata(model, versions, 0);
  metadata["outputs"] = {{{"name", kKserveTranslationOutput}, {"datatype", "BYTES"}, {"shape", {-1}}}};
  return metadata;
}

}  // namespace lmaas::api
