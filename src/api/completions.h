// OpenAI's /v1/completions and /v1/chat/completions bodies (shared by the server and the C++ SDK).
//   completions: {"model", "prompt": str | [str] | [int] | [[int]], "max_tokens"?: 16, "temperature"?: 1,
//                 "top_p"?: 1, "n"?: 1, "stream"?: false, "stream_options"?: {"include_usage"}, "logprobs"?: 0..5,
//                 "echo"?: false, "stop"?: str | [str] (≤ 4), "presence_penalty"?, "frequency_penalty"?, "seed"?,
//                 "user"?; lmaas extras (as vLLM): "top_k", "min_p", "repetition_penalty", "ignore_eos"}
//   chat:        {"model", "messages": [{"role": "system"|"user"|"assistant", "content": str | [{"type": "text",
//                 "text"}]}], "max_tokens"? | "max_completion_tokens"?, "logprobs"?: bool, "top_logprobs"?: 0..20,
//                 "response_format"?: {"type": "text"}, and the sampling fields above}
// Fields OpenAI defines that lmaas cannot honour (suffix, best_of > n, logit_bias, tools, functions,
// response_format other than text) are refused with a 400 naming the field, rather than ignored.
// max_tokens absent: 16 for completions (OpenAI's default); for chat, the rest of the context.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/classify.h"
#include "api/inputs.h"

namespace lmaas::api {

inline constexpr int64_t kMaxChoices = 16;      // n
inline constexpr int64_t kMaxStopSequences = 4;
inline constexpr int64_t kMaxCompletionLogprobs = 5;
inline constexpr int64_t kMaxTopLogprobs = 20;

struct SamplingRequest {
  double temperature = 1.0, top_p = 1.0, min_p = 0.0;
  int64_t top_k = 0;
  double repetition_penalty = 1.0, presence_penalty = 0.0, frequency_penalty = 0.0;
  std::optional<uint64_t> seed;
  std::optional<int64_t> max_tokens;  // absent: the endpoint's default
  std::vector<std::string> stop;
  bool ignore_eos = false;
  int64_t n = 1;
  bool stream = false, include_usage = false;
};

struct CompletionRequest {
  ModelRef model;
  std::vector<std::string> prompts;                  // text prompts, or
  std::vector<std::vector<int32_t>> prompt_tokens;   // token-id prompts
  SamplingRequest sampling;
  std::optional<int64_t> logprobs;  // completions' integer logprobs
  bool echo = false;
};
Parsed<CompletionRequest> parse_completion_request(const nlohmann::json& body, const RequestLimits& limits);

struct ChatMessageIn {
  std::string role, content;
};
struct ChatRequest {
  ModelRef model;
  std::vector<ChatMessageIn> messages;
  SamplingRequest sampling;
  bool logprobs = false;
  int64_t top_logprobs = 0;
};
Parsed<ChatRequest> parse_chat_request(const nlohmann::json& body, const RequestLimits& limits);

// ---- responses ----
struct TokenLogprobOut {
  std::string token;  // the token's text (its bytes, invalid UTF-8 replaced)
  double logprob = 0;
  std::vector<std::pair<std::string, double>> top;
  int64_t text_offset = 0;  // completions: offset of the token's text in the choice's text
};
struct ChoiceOut {
  std::string text;
  std::string finish_reason;  // "stop" | "length"
  std::optional<std::vector<TokenLogprobOut>> logprobs;
};
struct UsageOut {
  int64_t prompt_tokens = 0, completion_tokens = 0;
};

nlohmann::json usage_json(const UsageOut& usage);
std::string completion_response(const std::string& id, int64_t created, const std::string& model,
                                const std::vector<ChoiceOut>& choices, const UsageOut& usage);
std::string chat_response(const std::string& id, int64_t created, const std::string& model,
                          const std::vector<ChoiceOut>& choices, const UsageOut& usage);
// One server-sent event's data for a streamed choice: text (or delta content) since the last chunk,
// logprobs of the tokens it covers, finish_reason on the last chunk of the choice (else null).
// role_delta: the chat stream's first chunk of a choice carries {"role": "assistant"}.
std::string completion_chunk(const std::string& id, int64_t created, const std::string& model, int64_t index,
                             const std::string& text, const std::optional<std::vector<TokenLogprobOut>>& logprobs,
                             const std::string& finish_reason);
std::string chat_chunk(const std::string& id, int64_t created, const std::string& model, int64_t index,
                       bool role_delta, const std::string& content,
                       const std::optional<std::vector<TokenLogprobOut>>& logprobs, const std::string& finish_reason);
// The last chunk when stream_options.include_usage: no choices, the usage.
std::string usage_chunk(const std::string& id, int64_t created, const std::string& model, const char* object,
                        const UsageOut& usage);
// "data: <json>\n\n" and the closing "data: [DONE]\n\n".
std::string sse_event(const std::string& json);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

}  // namespace lmaas::api
