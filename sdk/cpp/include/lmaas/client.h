// lmaas::Client — the C++ client of `lmaas serve`, over libcurl, with the server's own api types.
//
//   lmaas::Client client({.base_url = "http://127.0.0.1:8080", .api_key = "lmaas-..."});
//   lmaas::api::ClassifyResponse r = client.classify("sentiment-en", {"a fine film"});
//   r.data[0].label, r.data[0].score, r.data[0].probabilities
//   lmaas::api::SamplingRequest p;  p.max_tokens = 30;  p.temperature = 0;
//   client.complete("stories", "Once upon a time", p).choices[0].text
//   client.chat_stream(request, [](const lmaas::CompletionChunk& c) { ...; return true; });  // false stops
//
// Errors are lmaas::ClientError exceptions carrying the HTTP status and the server's error (code, param,
// message) and request id. Thread-safe: calls from several threads share a pool of curl handles, each
// keeping its connection alive for the next call. 429 and 503 are retried max_retries times after the
// server's Retry-After (else an exponential backoff).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/classify.h"
#include "api/completions_client.h"
#include "api/error.h"
#include "api/translation.h"

namespace lmaas {

struct ClientOptions {
  std::string base_url = "http://127.0.0.1:8080";  // empty: $LMAAS_BASE_URL, else this default
  std::string api_key;                             // empty: $LMAAS_API_KEY, else none
  int64_t timeout_ms = 60000;
  int max_retries = 2;
};

class ClientError : public std::runtime_error {
 public:
  ClientError(int http_status, api::ApiError error, std::string request_id);
  int http_status() const { return http_status_; }  // 0: no answer (connection failed or timed out)
  const api::ApiError& error() const { return error_; }  // code, message, param, error_code
  const std::string& request_id() const { return request_id_; }

 private:
  int http_status_;
  api::ApiError error_;
  std::string request_id_;
};

struct ModelInfo {
  std::string id;
  std::string version;  // serving now; empty when none
  bool ready = false;
  std::vector<std::string> labels;
  nlohmann::json raw;   // the whole entry as the server sent it
};

// Options of Client::translate; those left at 0 / "" take the model's defaults.
struct TranslateParams {
  std::string source_language, target_language;
  int64_t beam_size = 0, max_tokens = 0;
};

// Generation results and chunks are the api level's (api/completions_client.h).
using CompletionResult = api::CompletionResult;
using CompletionChunk = api::CompletionChunk;
// Called with each chunk of a stream as it arrives, on the calling thread; return false to stop: the
// transfer is aborted and its connection closed, so the server stops generating.
using ChunkCallback = std::function<bool(const CompletionChunk&)>;

class Client {
 public:
  explicit Client(ClientOptions options = {});
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  api::ClassifyResponse classify(const std::string& model, const std::vector<std::string>& texts, int64_t top_k = 0);
  api::ClassifyResponse sentiment(const std::vector<std::string>& texts, const std::string& language = "");
  std::vector<std::vector<float>> embeddings(const std::string& model, const std::vector<std::string>& texts);
  // One translation per text, in order.
  std::vector<api::Translation> translate(const std::string& model, const std::vector<std::string>& texts,
                                          const TranslateParams& params = TranslateParams());
  std::vector<ModelInfo> models();
  ModelInfo model(const std::string& id);
  void load_model(const std::string& name);    // admin
  void unload_model(const std::string& name);  // admin
  bool ready();

  // Generators (pretrained language models): OpenAI's /v1/completions and /v1/chat/completions.
  // `params` defaults are the server's (max_tokens: 16 for completions, the rest of the context for chat).
  CompletionResult complete(const std::string& model, const std::string& prompt,
                            const api::SamplingRequest& params = api::SamplingRequest());
  CompletionResult complete(const api::CompletionRequest& request);  // several prompts, token ids, logprobs, echo
  CompletionResult chat(const std::string& model, const std::vector<api::ChatMessageIn>& messages,
                        const api::SamplingRequest& params = api::SamplingRequest());
  CompletionResult chat(const api::ChatRequest& request);
  // Streamed (server-sent events): on_chunk gets each chunk; request.sampling.stream is set for you.
  // Returns true when the stream ran to its end, false when on_chunk stopped it. An error the server
  // reports mid-stream, and one on_chunk throws, are thrown from here.
  bool complete_stream(api::CompletionRequest request, const ChunkCallback& on_chunk);
  bool chat_stream(api::ChatRequest request, const ChunkCallback& on_chunk);
  // A generator's tokenizer: the ids of a text (with its BOS when add_special), and the text of ids.
  std::vector<int32_t> tokenize(const std::string& model, const std::string& text, bool add_special = true);
  std::string detokenize(const std::string& model, const std::vector<int32_t>& tokens, bool skip_special = false);

  // Any route: the parsed JSON answer (null when empty); errors thrown as above.
  nlohmann::json request(const std::string& method, const std::string& path, const nlohmann::json* body = nullptr);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace lmaas
