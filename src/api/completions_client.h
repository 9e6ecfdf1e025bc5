// The client side of OpenAI's /v1/completions and /v1/chat/completions (the C++ SDK's; the server's side
// is completions.h): request bodies from the same request types, parsers of the answers and of the
// streamed chunks, and a reader that cuts a server-sent-events byte stream into events.
// Request writers write only what differs from the server's defaults (SamplingRequest's defaults are
// the server's). Parsers never throw: a malformed answer is a kDataLoss status naming the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/completions.h"
#include "base/status.h"

namespace lmaas::api {

// A whole answer: completions' text_completion or chat's chat.completion (the message's content in
// choices[i].text). Logprobs are present when asked for: completions' parallel lists or chat's content
// list, read into the same TokenLogprobOut (text_offset is 0 for chat).
struct CompletionResult {
  std::string id, object, model;
  int64_t created = 0;
  std::vector<ChoiceOut> choices;
  UsageOut usage;
};

// One choice's part of a streamed chunk.
struct ChunkChoice {
  int64_t index = 0;
  std::string text;           // completions: text since the last chunk; chat: delta.content ("" when none)
  std::string role;           // chat: "assistant" on a choice's first chunk, else empty
  std::string finish_reason;  // "stop" | "length" on a choice's last chunk, else empty
  std::optional<std::vector<TokenLogprobOut>> logprobs;
};

// One event of a stream (object "text_completion" or "chat.completion.chunk"). The last chunk of a
// stream asked with include_usage has no choices and the usage.
struct CompletionChunk {
  std::string id, object, model;
  int64_t created = 0;
  std::vector<ChunkChoice> choices;
  std::optional<UsageOut> usage;
};

// "name" or "name/version".
std::string model_ref_string(const ModelRef& ref);
nlohmann::json completion_request_json(const CompletionRequest& request);
nlohmann::json chat_request_json(const ChatRequest& request);

Result<CompletionResult> parse_completion_result(const nlohmann::json& body);
Result<CompletionChunk> parse_completion_chunk(const nlohmann::json& body);

// Cuts server-sent events out of bytes as they arrive (any split, "\n" or "\r\n" line ends). An
// event's data is its "data:" lines joined by "\n"; comments (":...") and other fields are skipped.
// Not thread-safe: one reader per stream.
class SseReader {
 public:
  // The data of every event the bytes complete, in order.
  std::vector<std::string> feed(std::string_view bytes);

 private:
  void end_line(std::vector<std::string>& events);

  std::string line_;  // the unfinished line
  std::string data_;  // the unfinished event's data
  bool has_data_ = false;
};

}  // namespace lmaas::api
