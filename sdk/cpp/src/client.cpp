#include "lmaas/client.h"

#include <curl/curl.h>

#include <chrono>
#include <cstdlib>
#include <mutex>
#include <random>
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

  Answer send_once(const std::string& method, const std::string& path, const std::string* payload) {
    CURL* h = take();
    if (!h) throw ClientError(0, {Code::kInternal, "curl_easy_init failed", "", "client_error"}, "");
    curl_easy_reset(h);  // keeps the connection cache
    Answer a;
    const std::string url = options.base_url + path;
    curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
    if (payload) headers = curl_slist_append(headers, "Content-Type: application/json");
    const std::string auth = "Authorization: Bearer " + options.api_key;
    if (!options.api_key.empty()) headers = curl_slist_append(headers, auth.c_str());
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "lmaas-cpp");
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options.timeout_ms));
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // thread-safe timeouts
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &a.body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, read_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
    if (payload) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload->data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(payload->size()));
    }
    const CURLcode rc = curl_easy_perform(h);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
      curl_easy_cleanup(h);  // its connection is in an unknown state
      const Code code = rc == CURLE_OPERATION_TIMEDOUT ? Code::kDeadlineExceeded : Code::kUnavailable;
      throw ClientError(0, {code, method + " " + url + ": " + curl_easy_strerror(rc), "", "connection_error"}, "");
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a.status);
    give_back(h);
    return a;
  }

  nlohmann::json call(const std::string& method, const std::string& path, const nlohmann::json* body) {
    const std::string payload = body ? body->dump() : std::string();
    for (int attempt = 0;; ++attempt) {
      Answer a = send_once(method, path, body ? &payload : nullptr);
      if (a.status < 400) return a.body.empty() ? nlohmann::json() : nlohmann::json::parse(a.body, nullptr, false);
      if ((a.status == 429 || a.status == 503) && attempt < options.max_retries) {
        double wait_s = std::min(0.5 * (1 << attempt), 8.0) * (0.5 + std::uniform_real_distribution<double>(0, 0.5)(rng()));
        if (!a.retry_after.empty()) wait_s = std::min(std::max(std::atof(a.retry_after.c_str()), 0.0), 60.0);
        std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
        continue;
      }
      throw ClientError(static_cast<int>(a.status), api::parse_error_response(static_cast<int>(a.status), a.body),
                        a.request_id);
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

}  // namespace lmaas
