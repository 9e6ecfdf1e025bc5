// OpenAI completions and chat bodies: see completions.h.
#include "api/completions.h"

#include <cmath>

namespace lmaas::api {

using nlohmann::json;

namespace {

ApiError bad(const std::string& field, const std::string& message, const char* code = "invalid_value") {
  return ApiError{Code::kInvalidArgument, message, field, code};
}

// An optional number in [lo, hi]; absent or null leaves `out` alone.
std::optional<ApiError> read_number(const json& body, const char* field, double lo, double hi, double& out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_number()) return bad(field, std::string("'") + field + "' must be a number");
  const double v = it->get<double>();
  if (!(v >= lo && v <= hi)) {
    return bad(field, std::string("'") + field + "' is " + it->dump() + "; expected a number in [" + json(lo).dump() +
                          ", " + json(hi).dump() + "]");
  }
  out = v;
  return std::nullopt;
}

std::optional<ApiError> read_bool(const json& body, const char* field, bool& out) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (!it->is_boolean()) return bad(field, std::string("'") + field + "' must be true or false");
  out = it->get<bool>();
  return std::nullopt;
}

std::optional<ApiError> read_int(const json& body, const char* field, int64_t lo, int64_t hi, std::optional<int64_t>& out) {
  if (!body.contains(field) || body[field].is_null()) return std::nullopt;
  auto v = optional_int(body, field, 0, lo, hi);
  if (auto* e = std::get_if<ApiError>(&v)) return *e;
  out = std::get<int64_t>(v);
  return std::nullopt;
}

// A field lmaas refuses unless it has its neutral value.
std::optional<ApiError> unsupported(const json& body, const char* field, const json& neutral, const std::string& why) {
  auto it = body.find(field);
  if (it == body.end() || it->is_null() || *it == neutral) return std::nullopt;
  return ApiError{Code::kInvalidArgument, std::string("'") + field + "' is not supported: " + why, field,
                  "unsupported_parameter"};
}

#define LMAAS_API_TRY(expr)              \
  do {                                   \
    if (auto error_ = (expr)) return *error_; \
  } while (0)

std::optional<ApiError> read_stop(const json& body, std::vector<std::string>& out) {
  auto it = body.find("stop");
  if (it == body.end() || it->is_null()) return std::nullopt;
  if (it->is_string()) {
    out.push_back(it->get<std::string>());
  } else if (it->is_array() && it->size() <= static_cast<size_t>(kMaxStopSequences)) {
    for (const json& s : *it) {
      if (!s.is_string()) return bad("stop", "'stop' must be a string or a list of strings");
      out.push_back(s.get<std::string>());
    }
  } else {
    return bad("stop", "'stop' must be a string or a list of at most " + std::to_string(kMaxStopSequences) + " strings");
  }
  for (const std::string& s : out) {
    if (s.empty()) return bad("stop", "'stop' sequences must not be empty");
  }
  return std::nullopt;
}

// The sampling fields both endpoints share.
std::optional<ApiError> read_sampling(const json& body, SamplingRequest& s) {
  LMAAS_API_TRY(read_number(body, "temperature", 0.0, 2.0, s.temperature));
  LMAAS_API_TRY(read_number(body, "top_p", 0.0, 1.0, s.top_p));
  if (s.top_p == 0.0) return bad("top_p", "'top_p' must be greater than 0");
  LMAAS_API_TRY(read_number(body, "min_p", 0.0, 1.0, s.min_p));
  std::optional<int64_t> top_k, n, seed;
  LMAAS_API_TRY(read_int(body, "top_k", -1, 1 << 20, top_k));
  s.top_k = top_k.value_or(0) < 0 ? 0 : top_k.value_or(0);  // -1 (vLLM's "off") = 0
  LMAAS_API_TRY(read_number(body, "repetition_penalty", 0.01, 10.0, s.repetition_penalty));
  LMAAS_API_TRY(read_number(body, "presence_penalty", -2.0, 2.0, s.presence_penalty));
  LMAAS_API_TRY(read_number(body, "frequency_penalty", -2.0, 2.0, s.frequency_penalty));
  LMAAS_API_TRY(read_int(body, "seed", INT64_MIN, INT64_MAX, seed));
  if (seed) s.seed = static_cast<uint64_t>(*seed);
  LMAAS_API_TRY(read_int(body, "n", 1, kMaxChoices, n));
  s.n = n.value_or(1);
  LMAAS_API_TRY(read_stop(body, s.stop));
  LMAAS_API_TRY(read_bool(body, "ignore_eos", s.ignore_eos));
  LMAAS_API_TRY(read_bool(body, "stream", s.stream));
  if (auto it = body.find("stream_options"); it != body.end() && !it->is_null()) {
    if (!it->is_object()) return bad("stream_options", "'stream_options' must be an object");
    if (!s.stream) return bad("stream_options", "'stream_options' is only allowed with \"stream\": true");
    LMAAS_API_TRY(read_bool(*it, "include_usage", s.include_usage));
  }
  LMAAS_API_TRY(unsupported(body, "logit_bias", json::object(), "token biases are not implemented"));
  LMAAS_API_TRY(unsupported(body, "tools", json::array(), "tool calls are not implemented"));
  LMAAS_API_TRY(unsupported(body, "functions", json::array(), "function calls are not implemented"));
  if (auto it = body.find("user"); it != body.end() && !it->is_null() && !it->is_string())
    return bad("user", "'user' must be a string");
  return std::nullopt;
}

std::optional<ApiError> read_max_tokens(const json& body, const char* field, SamplingRequest& s) {
  std::optional<int64_t> v;
  LMAAS_API_TRY(read_int(body, field, 0, 1 << 20, v));
  if (v) s.max_tokens = v;
  return std::nullopt;
}

// "prompt": str | [str] | [int] | [[int]].
std::optional<ApiError> read_prompt(const json& body, const RequestLimits& limits, CompletionRequest& r) {
  auto it = body.find("prompt");
  if (it == body.end() || it->is_null()) return bad("prompt", "'prompt' is required", "missing_field");
  auto token_list = [&](const json& list, std::vector<int32_t>& out) -> std::optional<ApiError> {
    for (const json& t : list) {
      if (!t.is_number_integer() || t.get<int64_t>() < 0 || t.get<int64_t>() > INT32_MAX)
        return bad("prompt", "token-id prompts hold non-negative integers");
      out.push_back(static_cast<int32_t>(t.get<int64_t>()));
    }
    return std::nullopt;
  };
  if (it->is_array() && !it->empty() && (*it)[0].is_number()) {
    LMAAS_API_TRY(token_list(*it, r.prompt_tokens.emplace_back()));
  } else if (it->is_array() && !it->empty() && (*it)[0].is_array()) {
    if (it->size() > static_cast<size_t>(limits.inputs_per_request))
      return bad("prompt", "at most " + std::to_string(limits.inputs_per_request) + " prompts per request");
    for (const json& p : *it) {
      if (!p.is_array()) return bad("prompt", "a list of token-id prompts holds lists of integers");
      LMAAS_API_TRY(token_list(p, r.prompt_tokens.emplace_back()));
    }
  } else {
    auto texts = text_inputs(body, "prompt", limits);
    if (auto* e = std::get_if<ApiError>(&texts)) return *e;
    r.prompts = std::move(std::get<std::vector<std::string>>(texts));
  }
  return std::nullopt;
}

}  // namespace

Parsed<CompletionRequest> parse_completion_request(const json& body, const RequestLimits& limits) {
  if (!body.is_object()) return bad("", "the body must be a JSON object");
  CompletionRequest r;
  LMAAS_API_TRY(read_model_field(body, r.model));
  LMAAS_API_TRY(read_prompt(body, limits, r));
  LMAAS_API_TRY(read_sampling(body, r.sampling));
  LMAAS_API_TRY(read_max_tokens(body, "max_tokens", r.sampling));
  LMAAS_API_TRY(read_int(body, "logprobs", 0, kMaxCompletionLogprobs, r.logprobs));
  LMAAS_API_TRY(read_bool(body, "echo", r.echo));
  LMAAS_API_TRY(unsupported(body, "suffix", json(""), "insertion (suffix) is not implemented"));
  std::optional<int64_t> best_of;
  LMAAS_API_TRY(read_int(body, "best_of", 1, kMaxChoices, best_of));
  if (best_of && *best_of != r.sampling.n) return bad("best_of", "'best_of' other than n is not supported", "unsupported_parameter");
  if (r.echo && r.sampling.stream) return bad("echo", "'echo' cannot be combined with \"stream\": true", "unsupported_parameter");
  return r;
}

Parsed<ChatRequest> parse_chat_request(const json& body, const RequestLimits& limits) {
  if (!body.is_object()) return bad("", "the body must be a JSON object");
  ChatRequest r;
  LMAAS_API_TRY(read_model_field(body, r.model));
  auto messages = body.find("messages");
  if (messages == body.end() || !messages->is_array() || messages->empty())
    return bad("messages", "'messages' must be a non-empty list of {\"role\", \"content\"} objects", "missing_field");
  if (messages->size() > static_cast<size_t>(limits.inputs_per_request))
    return bad("messages", "at most " + std::to_string(limits.inputs_per_request) + " messages per request");
  for (size_t i = 0; i < messages->size(); ++i) {
    const json& m = (*messages)[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      return bad(where + ".role", where + " needs a \"role\" string");
    ChatMessageIn msg{m["role"].get<std::string>(), ""};
    const json content = m.value("content", json());
    if (content.is_string()) {
      msg.content = content.get<std::string>();
    } else if (content.is_array()) {  // [{"type": "text", "text": ...}]
      for (const json& part : content) {
        if (!part.is_object() || part.value("type", "") != "text" || !part.contains("text") || !part["text"].is_string())
          return bad(where + ".content", where + ".content parts must be {\"type\": \"text\", \"text\": str} (only text is supported)");
        msg.content += part["text"].get<std::string>();
      }
    } else if (!content.is_null()) {
      return bad(where + ".content", where + ".content must be a string or a list of text parts");
    }
    if (count_code_points(msg.content) > limits.chars_per_input)
      return bad(where + ".content", where + ".content is longer than " + std::to_string(limits.chars_per_input) + " characters");
    r.messages.push_back(std::move(msg));
  }
  LMAAS_API_TRY(read_sampling(body, r.sampling));
  LMAAS_API_TRY(read_max_tokens(body, "max_tokens", r.sampling));
  LMAAS_API_TRY(read_max_tokens(body, "max_completion_tokens", r.sampling));
  LMAAS_API_TRY(read_bool(body, "logprobs", r.logprobs));
  std::optional<int64_t> top;
  LMAAS_API_TRY(read_int(body, "top_logprobs", 0, kMaxTopLogprobs, top));
  r.top_logprobs = top.value_or(0);
  if (r.top_logprobs > 0 && !r.logprobs) return bad("top_logprobs", "'top_logprobs' needs \"logprobs\": true");
  if (auto it = body.find("response_format"); it != body.end() && !it->is_null()) {
    if (!it->is_object() || it->value("type", "") != "text")
      return bad("response_format", "only {\"type\": \"text\"} is supported", "unsupported_parameter");
  }
  return r;
}

// ---- responses ----

json usage_json(const UsageOut& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

namespace {

json null_or(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// Completions' logprobs object: parallel lists.
json completion_logprobs(const std::vector<TokenLogprobOut>& tokens) {
  json out = {{"tokens", json::array()}, {"token_logprobs", json::array()}, {"top_logprobs", json::array()},
              {"text_offset", json::array()}};
  for (const TokenLogprobOut& t : tokens) {
    out["tokens"].push_back(t.token);
    out["token_logprobs"].push_back(t.logprob);
    json top = json::object();
    for (const auto& [tok, lp] : t.top) top[tok] = lp;
    out["top_logprobs"].push_back(top);
    out["text_offset"].push_back(t.text_offset);
  }
  return out;
}

json bytes_of(const std::string& s) {
  json b = json::array();
  for (unsigned char c : s) b.push_back(c);
  return b;
}

// Chat's logprobs object: {"content": [{"token", "logprob", "bytes", "top_logprobs": [...]}]}.
json chat_logprobs(const std::vector<TokenLogprobOut>& tokens) {
  json content = json::array();
  for (const TokenLogprobOut& t : tokens) {
    json top = json::array();
    for (const auto& [tok, lp] : t.top) top.push_back({{"token", tok}, {"logprob", lp}, {"bytes", bytes_of(tok)}});
    content.push_back({{"token", t.token}, {"logprob", t.logprob}, {"bytes", bytes_of(t.token)}, {"top_logprobs", top}});
  }
  return {{"content", content}};
}

json envelope(const std::string& id, const char* object, int64_t created, const std::string& model) {
  return {{"id", id}, {"object", object}, {"created", created}, {"model", model}};
}

}  // namespace

std::string completion_response(const std::string& id, int64_t created, const std::string& model,
                                const std::vector<ChoiceOut>& choices, const UsageOut& usage) {
  json out = envelope(id, "text_completion", created, model);
  out["choices"] = json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChoiceOut& c = choices[i];
    out["choices"].push_back({{"index", i},
                              {"text", c.text},
                              {"logprobs", c.logprobs ? completion_logprobs(*c.logprobs) : json(nullptr)},
                              {"finish_reason", null_or(c.finish_reason)}});
  }
  out["usage"] = usage_json(usage);
  return dump(out);
}

std::string chat_response(const std::string& id, int64_t created, const std::string& model,
                          const std::vector<ChoiceOut>& choices, const UsageOut& usage) {
  json out = envelope(id, "chat.completion", created, model);
  out["choices"] = json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChoiceOut& c = choices[i];
    out["choices"].push_back({{"index", i},
                              {"message", {{"role", "assistant"}, {"content", c.text}}},
                              {"logprobs", c.logprobs ? chat_logprobs(*c.logprobs) : json(nullptr)},
                              {"finish_reason", null_or(c.finish_reason)}});
  }
  out["usage"] = usage_json(usage);
  return dump(out);
}

std::string completion_chunk(const std::string& id, int64_t created, const std::string& model, int64_t index,
                             const std::string& text, const std::optional<std::vector<TokenLogprobOut>>& logprobs,
                             const std::string& finish_reason) {
  json out = envelope(id, "text_completion", created, model);
  out["choices"] = json::array({{{"index", index},
                                 {"text", text},
                                 {"logprobs", logprobs ? completion_logprobs(*logprobs) : json(nullptr)},
                                 {"finish_reason", null_or(finish_reason)}}});
  return dump(out);
}

std::string chat_chunk(const std::string& id, int64_t created, const std::string& model, int64_t index,
                       bool role_delta, const std::string& content,
                       const std::optional<std::vector<TokenLogprobOut>>& logprobs, const std::string& finish_reason) {
  json out = envelope(id, "chat.completion.chunk", created, model);
  json delta = json::object();
  if (role_delta) delta["role"] = "assistant";
  if (role_delta || !content.empty()) delta["content"] = content;
  out["choices"] = json::array({{{"index", index},
                                 {"delta", delta},
                                 {"logprobs", logprobs ? chat_logprobs(*logprobs) : json(nullptr)},
                                 {"finish_reason", null_or(finish_reason)}}});
  return dump(out);
}

std::string usage_chunk(const std::string& id, int64_t created, const std::string& model, const char* object,
                        const UsageOut& usage) {
  json out = envelope(id, object, created, model);
  out["choices"] = json::array();
  out["usage"] = usage_json(usage);
  return dump(out);
}

std::string sse_event(const std::string& json_text) { return "data: " + json_text + "\n\n"; }

}  // namespace lmaas::api
