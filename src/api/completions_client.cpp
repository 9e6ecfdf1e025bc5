// The client side of completions and chat: see completions_client.h.
#include "api/completions_client.h"

#include <algorithm>

namespace lmaas::api {

using nlohmann::json;

std::string model_ref_string(const ModelRef& ref) {
  return ref.version ? ref.name + "/" + std::to_string(*ref.version) : ref.name;
}

namespace {

// The sampling fields that differ from the server's defaults.
void write_sampling(const SamplingRequest& s, json& body) {
  const SamplingRequest d;
  auto put = [&](const char* field, double value, double fallback) {
    if (value != fallback) body[field] = value;
  };
  put("temperature", s.temperature, d.temperature);
  put("top_p", s.top_p, d.top_p);
  put("min_p", s.min_p, d.min_p);
  put("repetition_penalty", s.repetition_penalty, d.repetition_penalty);
  put("presence_penalty", s.presence_penalty, d.presence_penalty);
  put("frequency_penalty", s.frequency_penalty, d.frequency_penalty);
  if (s.top_k != d.top_k) body["top_k"] = s.top_k;
  if (s.seed) body["seed"] = static_cast<int64_t>(*s.seed);  // the server reads a signed 64-bit integer
  if (s.max_tokens) body["max_tokens"] = *s.max_tokens;
  if (!s.stop.empty()) body["stop"] = s.stop;
  if (s.ignore_eos) body["ignore_eos"] = true;
  if (s.n != d.n) body["n"] = s.n;
  if (s.stream) body["stream"] = true;
  if (s.stream && s.include_usage) body["stream_options"] = {{"include_usage", true}};
}

// Top alternatives, most likely first.
void sort_top(std::vector<std::pair<std::string, double>>& top) {
  std::stable_sort(top.begin(), top.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
}

// Completions' {"tokens", "token_logprobs", "top_logprobs", "text_offset"} (parallel lists).
std::vector<TokenLogprobOut> completion_logprobs(const json& lp) {
  std::vector<TokenLogprobOut> out;
  const json& tokens = lp.at("tokens");
  for (size_t i = 0; i < tokens.size(); ++i) {
    TokenLogprobOut t;
    t.token = tokens.at(i).get<std::string>();
    t.logprob = lp.at("token_logprobs").at(i).get<double>();
    if (lp.contains("top_logprobs") && lp["top_logprobs"].at(i).is_object()) {
      for (const auto& [token, value] : lp["top_logprobs"][i].items()) t.top.emplace_back(token, value.get<double>());
      sort_top(t.top);
    }
    if (lp.contains("text_offset")) t.text_offset = lp["text_offset"].at(i).get<int64_t>();
    out.push_back(std::move(t));
  }
  return out;
}

// Chat's {"content": [{"token", "logprob", "top_logprobs": [{"token", "logprob"}]}]}.
std::vector<TokenLogprobOut> chat_logprobs(const json& lp) {
  std::vector<TokenLogprobOut> out;
  const json& content = lp.at("content");
  if (content.is_null()) return out;
  for (const json& entry : content) {
    TokenLogprobOut t;
    t.token = entry.at("token").get<std::string>();
    t.logprob = entry.at("logprob").get<double>();
    for (const json& alt : entry.value("top_logprobs", json::array()))
      t.top.emplace_back(alt.at("token").get<std::string>(), alt.at("logprob").get<double>());
    out.push_back(std::move(t));
  }
  return out;
}

std::optional<std::vector<TokenLogprobOut>> logprobs_of(const json& choice) {
  auto it = choice.find("logprobs");
  if (it == choice.end() || it->is_null()) return std::nullopt;
  return it->contains("content") ? chat_logprobs(*it) : completion_logprobs(*it);
}

std::string string_or_empty(const json& object, const char* field) {
  auto it = object.find(field);
  return it == object.end() || it->is_null() ? std::string() : it->get<std::string>();
}

UsageOut usage_of(const json& u) {
  return {u.at("prompt_tokens").get<int64_t>(), u.at("completion_tokens").get<int64_t>()};
}

// A whole answer has a usage; a chunk has one only at the end of a stream asked with include_usage.
void read_usage(const json& body, UsageOut& out) { out = usage_of(body.at("usage")); }
void read_usage(const json& body, std::optional<UsageOut>& out) {
  if (auto u = body.find("usage"); u != body.end() && !u->is_null()) out = usage_of(*u);
}

// The envelope, every choice (read by read_choice) and the usage of an answer or a chunk; what does not
// have OpenAI's shape is a kDataLoss status.
template <typename T, typename ReadChoice>
Result<T> parse_generated(const json& body, const char* what, ReadChoice read_choice) {
  try {
    T out;
    out.id = body.at("id").get<std::string>();
    out.object = body.at("object").get<std::string>();
    out.model = body.at("model").get<std::string>();
    out.created = body.at("created").get<int64_t>();
    for (const json& c : body.at("choices")) out.choices.push_back(read_choice(c));
    read_usage(body, out.usage);
    return out;
  } catch (const json::exception& e) {
    return Status(Code::kDataLoss, std::string("unexpected ") + what + ": " + e.what() +
                                       "; expected OpenAI's shape (is the server an lmaas or OpenAI-compatible one?)");
  }
}

}  // namespace

json completion_request_json(const CompletionRequest& r) {
  json body = {{"model", model_ref_string(r.model)}};
  if (!r.prompt_tokens.empty()) {
    body["prompt"] = r.prompt_tokens.size() == 1 ? json(r.prompt_tokens[0]) : json(r.prompt_tokens);
  } else {
    body["prompt"] = r.prompts.size() == 1 ? json(r.prompts[0]) : json(r.prompts);
  }
  write_sampling(r.sampling, body);
  if (r.logprobs) body["logprobs"] = *r.logprobs;
  if (r.echo) body["echo"] = true;
  return body;
}

json chat_request_json(const ChatRequest& r) {
  json body = {{"model", model_ref_string(r.model)}, {"messages", json::array()}};
  for (const ChatMessageIn& m : r.messages) body["messages"].push_back({{"role", m.role}, {"content", m.content}});
  write_sampling(r.sampling, body);
  if (r.logprobs) body["logprobs"] = true;
  if (r.top_logprobs > 0) body["top_logprobs"] = r.top_logprobs;
  return body;
}

Result<CompletionResult> parse_completion_result(const json& body) {
  return parse_generated<CompletionResult>(body, "completion answer", [](const json& c) {
    ChoiceOut choice;
    choice.text = c.contains("message") ? string_or_empty(c["message"], "content") : c.at("text").get<std::string>();
    choice.finish_reason = string_or_empty(c, "finish_reason");
    choice.logprobs = logprobs_of(c);
    return choice;
  });
}

Result<CompletionChunk> parse_completion_chunk(const json& body) {
  return parse_generated<CompletionChunk>(body, "stream chunk", [](const json& c) {
    ChunkChoice choice;
    choice.index = c.at("index").get<int64_t>();
    if (auto delta = c.find("delta"); delta != c.end()) {
      choice.text = string_or_empty(*delta, "content");
      choice.role = string_or_empty(*delta, "role");
    } else {
      choice.text = c.at("text").get<std::string>();
    }
    choice.finish_reason = string_or_empty(c, "finish_reason");
    choice.logprobs = logprobs_of(c);
    return choice;
  });
}

std::vector<std::string> SseReader::feed(std::string_view bytes) {
  std::vector<std::string> events;
  for (char c : bytes) {
    if (c == '\n') {
      end_line(events);
    } else {
      line_.push_back(c);
    }
  }
  return events;
}

void SseReader::end_line(std::vector<std::string>& events) {
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  if (line_.empty()) {  // a blank line ends the event
    if (has_data_) events.push_back(std::move(data_));
    data_.clear();
    has_data_ = false;
  } else if (line_.rfind("data:", 0) == 0) {
    std::string_view value(line_);
    value.remove_prefix(5);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (has_data_) data_.push_back('\n');
    data_.append(value);
    has_data_ = true;
  }
  line_.clear();
}

}  // namespace lmaas::api
