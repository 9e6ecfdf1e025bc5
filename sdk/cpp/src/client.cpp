// lmaas::Client over libcurl: see lmaas/client.h. A curl handle serves one call at a time; idle ones wait
// in the pool with their connections open. A stream stopped early, or any failed transfer, discards its
// handle (and so closes its connection) rather than pooling it.
#include "lmaas/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <exception>
#include <mutex>
#include <optional>
#include <random>
#include <string_view>
#include <thread>

namespace lmaas {

ClientError::ClientError(int http_status, api::ApiError error, std::string request_id)
    : std::runtime_error((http_status ? std::to_string(http_status) + " " : std::string()) +
                         (error.error_code.empty() ? std::string(api::error_type(error.code)) : error.error_code) + ": " +
                         error.message + (error.param.empty() ? "" : " (param " + error.param + ")")),
      http_status_(http_status),
      error_(std::move(error)),
      request_id_(std::move(request_id)) {}

namespace {

std::string env_or(const std::string& given, const char* name, const std::string& fallback) {
  if (!given.empty()) return given;
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

struct Answer {
  long status = 0;
  std::string body, request_id, retry_after;
};

size_t append_body(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// Keeps the two headers the client reads.
size_t read_header(char* data, size_t size, size_t n, void* out) {
  auto* a = static_cast<Answer*>(out);
  std::string line(data, size * n);
  const auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    value.erase(value.find_last_not_of(" \t\r\n") + 1);
    if (name == "x-request-id") a->request_id = value;
    if (name == "retry-after") a->retry_after = value;
  }
  return size * n;
}

// A stream's state while curl delivers its bytes (read_stream); the outcome is judged after the transfer.
struct StreamState {
  CURL* handle = nullptr;
  const ChunkCallback* on_chunk = nullptr;
  Answer answer;  // status, and the body of an error answer
  api::SseReader reader;
  bool done = false, stopped = false;  // [DONE] seen; on_chunk asked to stop
  std::optional<ClientError> failure;  // an error event, or an event that is not a chunk
  std::exception_ptr thrown;           // what on_chunk threw
};

// One event's data: false stops the transfer.
bool take_event(StreamState& s, const std::string& event) {
  if (s.done) return true;
  if (event == "[DONE]") {
    s.done = true;
    return true;
  }
  const nlohmann::json j = nlohmann::json::parse(event, nullptr, false);
  if (j.is_object() && j.contains("error")) {
    s.failure = ClientError(500, api::parse_error_response(500, event), s.answer.request_id);
    return false;
  }
  auto chunk = api::parse_completion_chunk(j);
  if (!chunk.is_ok()) {
    s.failure = ClientError(static_cast<int>(s.answer.status), api::to_api_error(chunk.status()), s.answer.request_id);
    return false;
  }
  try {
    s.stopped = !(*s.on_chunk)(chunk.value());
  } catch (...) {
    s.thrown = std::current_exception();
  }
  return !s.stopped && !s.thrown;
}

// curl's write callback for a stream: events to on_chunk as they complete; an error answer's body kept.
size_t read_stream(char* data, size_t size, size_t n, void* out) {
  auto* s = static_cast<StreamState*>(out);
  if (s->answer.status == 0) curl_easy_getinfo(s->handle, CURLINFO_RESPONSE_CODE, &s->answer.status);
  if (s->answer.status >= 400) return append_body(data, size, n, &s->answer.body);
  for (const std::string& event : s->reader.feed(std::string_view(data, size * n))) {
    if (!take_event(*s, event)) return 0;  // not the size given: curl aborts the transfer
  }
  return size * n;
}

std::string url_segment(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out.push_back(static_cast<char>(c));
    else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

}  // namespace

struct Client::Impl {
  ClientOptions options;
  std::mutex mu;
  std::vector<CURL*> idle;  // handles between calls; each keeps its connection alive

  ~Impl() {
    for (CURL* h : idle) curl_easy_cleanup(h);
  }

  CURL* take() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        CURL* h = idle.back();
        idle.pop_back();
        return h;
      }
    }
    return curl_easy_init();
  }

  void give_back(CURL* h) {
    std::lock_guard lock(mu);
    idle.push_back(h);
  }

  // Sets `h` up for one request; the returned header list is the caller's to free after the transfer.
  // Streams have no overall timeout, only one on silence (timeout_ms without a byte).
  curl_slist* configure(CURL* h, const std::string& method, const std::string& url, const std::string* payload,
                        Answer& a, bool stream) {
    curl_easy_reset(h);  // keeps the connection cache
    curl_slist* headers = curl_slist_append(nullptr, stream ? "Accept: text/event-stream" : "Accept: application/json");
    if (payload) headers = curl_slist_append(headers, "Content-Type: application/json");
    const std::string auth = "Authorization: Bearer " + options.api_key;
    if (!options.api_key.empty()) headers = curl_slist_append(headers, auth.c_str());
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "lmaas-cpp");
    if (stream) {
      curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.timeout_ms));
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
      curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(options.timeout_ms / 1000)));
    } else {
      curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
    }
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // thread-safe timeouts
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
    if (payload) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload->data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload->size()));
    }
    return headers;
  }

  [[noreturn]] static void throw_transfer_error(CURLcode rc, const std::string& method, const std::string& url) {
    const Code code = rc == CURLE_OPERATION_TIMEDOUT ? Code::kDeadlineExceeded : Code::kUnavailable;
    throw ClientError(0, {code, method + " " + url + ": " + curl_easy_strerror(rc), "", "connection_error"}, "");
  }

  CURL* take_or_throw() {
    CURL* h = take();
    if (!h) throw ClientError(0, {Code::kInternal, "curl_easy_init failed", "", "client_error"}, "");
    return h;
  }

  Answer send_once(const std::string& method, const std::string& path, const std::string* payload) {
    CURL* h = take_or_throw();
    Answer a;
    const std::string url = options.base_url + path;
    curl_slist* headers = configure(h, method, url, payload, a, false);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a.body);
    const CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      curl_easy_cleanup(h);  // its connection is in an unknown state
      throw_transfer_error(rc, method, url);
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
    give_back(h);
    return a;
  }

  // One streamed POST: chunks to on_chunk. The answer's status is in the result (an error's body too)
  // for call_stream to judge; what went wrong once the stream had begun is thrown from here.
  Answer stream_once(const std::string& path, const std::string& payload, const ChunkCallback& on_chunk, bool& done) {
    StreamState s;
    s.handle = take_or_throw();
    s.on_chunk = &on_chunk;
    const std::string url = options.base_url + path;
    curl_slist* headers = configure(s.handle, "POST", url, &payload, s.answer, true);
    curl_easy_setopt(s.handle, CURLOPT_WRITEFUNCTION, read_stream);
    curl_easy_setopt(s.handle, CURLOPT_WRITEDATA, &s);
    const CURLcode rc = curl_easy_perform(s.handle);
    curl_slist_free_all(headers);
    if (rc == CURLE_OK && s.done) {
      give_back(s.handle);
    } else {
      curl_easy_cleanup(s.handle);  // stopped or broken: closing the connection tells the server to stop
    }
    if (s.thrown) std::rethrow_exception(s.thrown);
    if (s.failure) throw *s.failure;
    done = s.done;
    if (s.stopped || s.answer.status >= 400) return s.answer;
    if (rc != CURLE_OK) throw_transfer_error(rc, "POST", url);
    if (!s.done) {
      throw ClientError(0, {Code::kUnavailable, "POST " + url + ": the stream ended before data: [DONE]", "",
                            "connection_error"}, s.answer.request_id);
    }
    return s.answer;
  }

  // Whether an answer with `status` is worth another attempt; if so, after waiting as the server asked
  // (Retry-After) or an exponential backoff with jitter.
  bool wait_to_retry(const Answer& a, int attempt) {
    if ((a.status != 429 && a.status != 503) || attempt >= options.max_retries) return false;
    double wait_s = std::min(0.5 * (1 << attempt), 8.0) * (0.5 + std::uniform_real_distribution<double>(0, 0.5)(rng()));
    if (!a.retry_after.empty()) wait_s = std::min(std::max(std::atof(a.retry_after.c_str()), 0.0), 60.0);
    std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
    return true;
  }

  [[noreturn]] static void throw_answer(const Answer& a) {
    throw ClientError(static_cast<int>(a.status), api::parse_error_response(static_cast<int>(a.status), a.body),
                      a.request_id);
  }

  // A generation answered whole (a "stream" the request asked for is dropped: streams go to call_stream).
  CompletionResult call_whole(const std::string& path, nlohmann::json body) {
    body.erase("stream");
    body.erase("stream_options");
    auto parsed = api::parse_completion_result(call("POST", path, &body));
    if (!parsed.is_ok()) throw ClientError(200, api::to_api_error(parsed.status()), "");
    return std::move(parsed.value());
  }

  bool call_stream(const std::string& path, const nlohmann::json& body, const ChunkCallback& on_chunk) {
    const std::string payload = body.dump();
    for (int attempt = 0;; ++attempt) {
      bool done = false;
      Answer a = stream_once(path, payload, on_chunk, done);
      if (a.status < 400) return done;
      if (!wait_to_retry(a, attempt)) throw_answer(a);
    }
  }

  nlohmann::json call(const std::string& method, const std::string& path, const nlohmann::json* body) {
    const std::string payload = body ? body->dump() : std::string();
    for (int attempt = 0;; ++attempt) {
      Answer a = send_once(method, path, body ? &payload : nullptr);
      if (a.status < 400) return a.body.empty() ? nlohmann::json() : nlohmann::json::parse(a.body, nullptr, false);
      if (!wait_to_retry(a, attempt)) throw_answer(a);
    }
  }

  static std::mt19937& rng() {
    thread_local std::mt19937 g(std::random_device{}());
    return g;
  }
};

Client::Client(ClientOptions options) : impl_(std::make_unique<Impl>()) {
  static std::once_flag curl_ready;
  std::call_once(curl_ready, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  options.base_url = env_or(options.base_url == ClientOptions{}.base_url ? "" : options.base_url, "LMAAS_BASE_URL",
                            ClientOptions{}.base_url);
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  options.api_key = env_or(options.api_key, "LMAAS_API_KEY", "");
  impl_->options = std::move(options);
}

Client::~Client() = default;

nlohmann::json Client::request(const std::string& method, const std::string& path, const nlohmann::json* body) {
  return impl_->call(method, path, body);
}

namespace {
api::ClassifyResponse classification_or_throw(const nlohmann::json& answer) {
  auto parsed = api::parse_classify_response(answer);
  if (!parsed.is_ok()) throw ClientError(200, api::to_api_error(parsed.status()), "");
  return std::move(parsed.value());
}

ModelInfo model_info(const nlohmann::json& m) {
  ModelInfo info;
  info.id = m.value("id", std::string());
  info.version = m.value("version", std::string());
  info.ready = m.value("ready", false);
  if (m.contains("labels")) info.labels = m["labels"].get<std::vector<std::string>>();
  info.raw = m;
  return info;
}
}  // namespace

api::ClassifyResponse Client::classify(const std::string& model, const std::vector<std::string>& texts, int64_t top_k) {
  nlohmann::json body = {{"model", model}, {"input", texts}};
  if (top_k > 0) body["top_k"] = top_k;
  return classification_or_throw(request("POST", "/v1/classify", &body));
}

api::ClassifyResponse Client::sentiment(const std::vector<std::string>& texts, const std::string& language) {
  nlohmann::json body = {{"input", texts}};
  if (!language.empty()) body["language"] = language;
  return classification_or_throw(request("POST", "/v1/sentiment", &body));
}

std::vector<std::vector<float>> Client::embeddings(const std::string& model, const std::vector<std::string>& texts) {
  const nlohmann::json body = {{"model", model}, {"input", texts}};
  const nlohmann::json answer = request("POST", "/v1/embeddings", &body);
  std::vector<std::vector<float>> out;
  for (const auto& row : answer.at("data")) out.push_back(row.at("embedding").get<std::vector<float>>());
  return out;
}

std::vector<api::Translation> Client::translate(const std::string& model, const std::vector<std::string>& texts,
                                               const TranslateParams& options) {
  nlohmann::json body = {{"model", model}, {"input", texts}};
  if (!options.source_language.empty()) body["source_language"] = options.source_language;
  if (!options.target_language.empty()) body["target_language"] = options.target_language;
  if (options.beam_size > 0) body["beam_size"] = options.beam_size;
  if (options.max_tokens > 0) body["max_tokens"] = options.max_tokens;
  auto parsed = api::parse_translate_response(request("POST", "/v1/translations", &body));
  if (!parsed.is_ok()) throw ClientError(200, api::to_api_error(parsed.status()), "");
  return std::move(parsed.value());
}

std::vector<ModelInfo> Client::models() {
  std::vector<ModelInfo> out;
  for (const auto& m : request("GET", "/v1/models").at("data")) out.push_back(model_info(m));
  return out;
}

ModelInfo Client::model(const std::string& id) { return model_info(request("GET", "/v1/models/" + url_segment(id))); }

void Client::load_model(const std::string& name) {
  request("POST", "/v2/repository/models/" + url_segment(name) + "/load");
}

void Client::unload_model(const std::string& name) {
  request("POST", "/v2/repository/models/" + url_segment(name) + "/unload");
}

bool Client::ready() {
  try {
    request("GET", "/v2/health/ready");
    return true;
  } catch (const ClientError& e) {
    if (e.http_status() == 503) return false;
    throw;
  }
}

// --- generators ---------------------------------------------------------------------------------------

namespace {
// A request for `model` with `params`.
template <typename Request>
Request request_for(const std::string& model, const api::SamplingRequest& params) {
  Request r;
  auto ref = api::parse_model_ref(model, "model");
  if (auto* e = std::get_if<api::ApiError>(&ref)) throw ClientError(0, *e, "");
  r.model = std::get<api::ModelRef>(ref);
  r.sampling = params;
  return r;
}
}  // namespace

CompletionResult Client::complete(const std::string& model, const std::string& prompt,
                                  const api::SamplingRequest& params) {
  auto r = request_for<api::CompletionRequest>(model, params);
  r.prompts = {prompt};
  return complete(r);
}

CompletionResult Client::complete(const api::CompletionRequest& request) {
  return impl_->call_whole("/v1/completions", api::completion_request_json(request));
}

CompletionResult Client::chat(const std::string& model, const std::vector<api::ChatMessageIn>& messages,
                              const api::SamplingRequest& params) {
  auto r = request_for<api::ChatRequest>(model, params);
  r.messages = messages;
  return chat(r);
}

CompletionResult Client::chat(const api::ChatRequest& request) {
  return impl_->call_whole("/v1/chat/completions", api::chat_request_json(request));
}

bool Client::complete_stream(api::CompletionRequest request, const ChunkCallback& on_chunk) {
  request.sampling.stream = true;
  return impl_->call_stream("/v1/completions", api::completion_request_json(request), on_chunk);
}

bool Client::chat_stream(api::ChatRequest request, const ChunkCallback& on_chunk) {
  request.sampling.stream = true;
  return impl_->call_stream("/v1/chat/completions", api::chat_request_json(request), on_chunk);
}

std::vector<int32_t> Client::tokenize(const std::string& model, const std::string& text, bool add_special) {
  const nlohmann::json body = {{"model", model}, {"content", text}, {"add_special", add_special}};
  try {
    return request("POST", "/tokenize", &body).at("tokens").get<std::vector<int32_t>>();
  } catch (const nlohmann::json::exception& e) {
    throw ClientError(200, {Code::kDataLoss, std::string("unexpected /tokenize answer: ") + e.what(), "", ""}, "");
  }
}

std::string Client::detokenize(const std::string& model, const std::vector<int32_t>& tokens, bool skip_special) {
  const nlohmann::json body = {{"model", model}, {"tokens", tokens}, {"skip_special", skip_special}};
  try {
    return request("POST", "/detokenize", &body).at("content").get<std::string>();
  } catch (const nlohmann::json::exception& e) {
    throw ClientError(200, {Code::kDataLoss, std::string("unexpected /detokenize answer: ") + e.what(), "", ""}, "");
  }
}

}  // namespace lmaas
