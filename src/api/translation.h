// /v1/translations bodies, and KServe v2 for translation models. Shared by the server and the C++ SDK.
//   request:  {"model": "name" | "name/version", "input": str | [str], "source_language"?: str,
//              "target_language"?: str, "beam_size"?: 1..16, "max_tokens"?: 1..1024}
//   response: {"object": "list", "model": name, "version": "v",
//              "translations": [{"index", "text", "score"}]}   (score: length-normalised log-probability)
// The languages, when given, must match the model's (a translator serves one direction); beam_size and
// max_tokens default to the model's (beam 4; the length limit of the search).
// KServe: a translator takes input "text" (BYTES [N] or [N, 1]) and gives output "translation" (BYTES [N]).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/classify.h"
#include "api/inputs.h"
#include "base/status.h"

namespace lmaas::api {

inline constexpr int64_t kMaxBeamSize = 16;
inline constexpr int64_t kMaxTranslationTokens = 1024;
inline constexpr const char* kKserveTranslationOutput = "translation";

struct TranslateRequest {
  ModelRef model;
  std::vector<std::string> inputs;
  std::string source_language, target_language;  // "" = not given
  int64_t beam_size = 0, max_tokens = 0;          // 0 = the model's default
};
Parsed<TranslateRequest> parse_translate_request(const nlohmann::json& body, const RequestLimits& limits);

// An error when a requested language differs from the model's (the model's "" accepts anything).
std::optional<ApiError> check_languages(const TranslateRequest& request, const std::string& model_source,
                                        const std::string& model_target);

std::string translate_response(const std::string& model, int64_t version, const std::vector<std::string>& texts,
                               const std::vector<std::vector<float>>& scores);

// The response read back (the C++ SDK).
struct Translation {
  int64_t index = 0;
  std::string text;
  double score = 0;
};
Result<std::vector<Translation>> parse_translate_response(const nlohmann::json& body);

nlohmann::json kserve_translation_response(const std::string& model, int64_t version, const std::string& id,
                                           const std::vector<std::string>& texts);
nlohmann::json kserve_translator_metadata(const std::string& model, const std::vector<int64_t>& versions);

}  // namespace lmaas::api
