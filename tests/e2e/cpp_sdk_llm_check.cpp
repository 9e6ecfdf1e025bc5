// lmaas::Client's generation calls against a real `lmaas serve` with generators (started by
// tests/e2e/cpp_sdk_llm_test.py, which passes LMAAS_BASE_URL and LMAAS_DATA): greedy text equal to
// llama2.c's reference, streams equal to whole answers, chat, tokenize, errors as ClientError, and a
// stream its callback stops closing its connection so that the server stops generating.
#include <curl/curl.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <thread>

#include "lmaas/client.h"

namespace {

using nlohmann::json;

json reference_case(size_t i) {
  std::ifstream in(std::string(std::getenv("LMAAS_DATA")) + "/models/stories260K/reference/greedy_and_logits.json");
  return json::parse(in).at("cases").at(i);
}

// The "Once upon a time" case, and how many tokens llama2.c generated after its prompt.
std::pair<json, int64_t> greedy_case() {
  json c = reference_case(1);
  const auto n = static_cast<int64_t>(c["token_ids_after_bos"].size() - (c["prompt_token_ids"].size() - 1));
  return {c, n};
}

lmaas::api::SamplingRequest greedy(int64_t max_tokens) {
  lmaas::api::SamplingRequest p;
  p.temperature = 0;
  p.max_tokens = max_tokens;
  return p;
}

lmaas::api::CompletionRequest completion(const std::string& model, const std::string& prompt,
                                         const lmaas::api::SamplingRequest& params) {
  lmaas::api::CompletionRequest r;
  r.model.name = model;
  r.prompts = {prompt};
  r.sampling = params;
  return r;
}

TEST(CppSdkLlm, GreedyCompletionEqualsLlama2c) {
  lmaas::Client client;
  auto [c, n] = greedy_case();
  const lmaas::CompletionResult r = client.complete("stories", c["prompt"].get<std::string>(), greedy(n));
  EXPECT_EQ(r.object, "text_completion");
  EXPECT_EQ(r.model, "stories");
  ASSERT_EQ(r.choices.size(), 1u);
  EXPECT_EQ(c["prompt"].get<std::string>() + r.choices[0].text, c["text"].get<std::string>());
  EXPECT_EQ(r.choices[0].finish_reason, "length");
  EXPECT_EQ(r.usage.prompt_tokens, 5);
  EXPECT_EQ(r.usage.completion_tokens, n);
}

TEST(CppSdkLlm, StreamedTextEqualsTheWholeAnswer) {
  lmaas::Client client;
  auto [c, n] = greedy_case();
  lmaas::api::CompletionRequest r = completion("stories", c["prompt"].get<std::string>(), greedy(n));
  r.sampling.include_usage = true;
  std::string text, finish;
  std::vector<lmaas::CompletionChunk> chunks;
  EXPECT_TRUE(client.complete_stream(r, [&](const lmaas::CompletionChunk& chunk) {
    chunks.push_back(chunk);
    for (const auto& choice : chunk.choices) {
      text += choice.text;
      if (!choice.finish_reason.empty()) finish = choice.finish_reason;
    }
    return true;
  }));
  EXPECT_GT(chunks.size(), 10u);  // token by token
  EXPECT_EQ(c["prompt"].get<std::string>() + text, c["text"].get<std::string>());
  EXPECT_EQ(finish, "length");
  ASSERT_TRUE(chunks.back().usage);
  EXPECT_TRUE(chunks.back().choices.empty());
  EXPECT_EQ(chunks.back().usage->completion_tokens, n);
  // Sampled with a seed: the same text streamed or not.
  lmaas::api::SamplingRequest sampled;
  sampled.temperature = 0.8;
  sampled.seed = 11;
  sampled.max_tokens = 30;
  const std::string whole = client.complete("stories", "The dog", sampled).choices.at(0).text;
  std::string streamed;
  EXPECT_TRUE(client.complete_stream(completion("stories", "The dog", sampled), [&](const lmaas::CompletionChunk& chunk) {
    for (const auto& choice : chunk.choices) streamed += choice.text;
    return true;
  }));
  EXPECT_EQ(streamed, whole);
}

TEST(CppSdkLlm, ChatPlainAndStreamed) {
  lmaas::Client client;
  lmaas::api::ChatRequest r;
  r.model.name = "stories";
  r.messages = {{"system", "Be kind."}, {"user", "Tell me a story"}};
  r.sampling.max_tokens = 20;
  r.sampling.temperature = 0.7;
  r.sampling.seed = 3;
  r.logprobs = true;
  r.top_logprobs = 2;
  const lmaas::CompletionResult whole = client.chat(r);
  EXPECT_EQ(whole.object, "chat.completion");
  ASSERT_EQ(whole.choices.size(), 1u);
  ASSERT_TRUE(whole.choices[0].logprobs);
  EXPECT_EQ(static_cast<int64_t>(whole.choices[0].logprobs->size()), whole.usage.completion_tokens);
  for (const auto& t : *whole.choices[0].logprobs) EXPECT_EQ(t.top.size(), 2u);
  std::vector<lmaas::CompletionChunk> chunks;
  EXPECT_TRUE(client.chat_stream(r, [&](const lmaas::CompletionChunk& chunk) {
    chunks.push_back(chunk);
    return true;
  }));
  ASSERT_FALSE(chunks.empty());
  EXPECT_EQ(chunks[0].object, "chat.completion.chunk");
  EXPECT_EQ(chunks[0].choices.at(0).role, "assistant");
  std::string text;
  for (const auto& chunk : chunks) text += chunk.choices.at(0).text;
  EXPECT_EQ(text, whole.choices[0].text);
  EXPECT_EQ(chunks.back().choices.at(0).finish_reason, whole.choices[0].finish_reason);
  // The short form.
  const lmaas::CompletionResult short_form = client.chat("stories", {{"user", "Hi"}}, greedy(5));
  ASSERT_EQ(short_form.choices.size(), 1u);
  EXPECT_LE(short_form.usage.completion_tokens, 5);
}

TEST(CppSdkLlm, TokenizeAndDetokenize) {
  lmaas::Client client;
  const json c = reference_case(1);
  EXPECT_EQ(client.tokenize("stories", c["prompt"].get<std::string>()), c["prompt_token_ids"].get<std::vector<int32_t>>());
  EXPECT_EQ(client.tokenize("stories", "Once upon", false), (std::vector<int32_t>{403, 407}));
  EXPECT_EQ(client.detokenize("stories", c["prompt_token_ids"].get<std::vector<int32_t>>(), true),
            c["prompt"].get<std::string>());
}

TEST(CppSdkLlm, ErrorsAreClientErrors) {
  lmaas::Client client({.base_url = "", .api_key = "", .timeout_ms = 60000, .max_retries = 0});
  try {
    client.complete("nope", "x");
    ADD_FAILURE() << "no error";
  } catch (const lmaas::ClientError& e) {
    EXPECT_EQ(e.http_status(), 404);
    EXPECT_EQ(e.error().param, "model");
  }
  lmaas::api::SamplingRequest hot;
  hot.temperature = 3;  // out of [0, 2]
  try {
    client.complete_stream(completion("stories", "x", hot), [](const lmaas::CompletionChunk&) { return true; });
    ADD_FAILURE() << "no error";
  } catch (const lmaas::ClientError& e) {
    EXPECT_EQ(e.http_status(), 400);
    EXPECT_EQ(e.error().param, "temperature");
  }
  try {
    client.complete("sent-en", "x");
    ADD_FAILURE() << "no error";
  } catch (const lmaas::ClientError& e) {
    EXPECT_EQ(e.error().error_code, "wrong_model_task");
  }
  // What the callback throws comes out of the call.
  EXPECT_THROW(client.complete_stream(completion("stories", "x", greedy(5)),
                                      [](const lmaas::CompletionChunk&) -> bool { throw std::runtime_error("mine"); }),
               std::runtime_error);
  EXPECT_EQ(client.complete("stories", "Once upon a time", greedy(3)).choices.at(0).text, ", there was");
}

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

// A sample of the server's Prometheus text (GET /metrics), 0 when absent.
double metric(const std::string& name) {
  CURL* h = curl_easy_init();
  std::string body;
  const std::string url = std::string(std::getenv("LMAAS_BASE_URL")) + "/metrics";
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
  curl_easy_perform(h);
  curl_easy_cleanup(h);
  std::smatch m;
  const std::regex line("(^|\n)" + std::regex_replace(name, std::regex(R"([{}"])"), R"(\$&)") + " ([^\n]+)");
  return std::regex_search(body, m, line) ? std::stod(m[2].str()) : 0.0;
}

TEST(CppSdkLlm, ACallbackThatStopsClosesTheStream) {
  lmaas::Client client;
  const std::string generated = R"(lmaas_llm_generated_tokens_total{model="slow"})";
  const std::string running = R"(lmaas_llm_running_sequences{model="slow"})";
  const double before = metric(generated);
  lmaas::api::SamplingRequest long_run;
  long_run.max_tokens = 2000;
  long_run.ignore_eos = true;
  int n_chunks = 0;
  EXPECT_FALSE(client.complete_stream(completion("slow", "Once", long_run),
                                      [&](const lmaas::CompletionChunk&) { return ++n_chunks < 3; }));
  EXPECT_EQ(n_chunks, 3);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (metric(running) > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(metric(running), 0);
  const double n_generated = metric(generated) - before;
  EXPECT_GE(n_generated, 3);
  EXPECT_LT(n_generated, 1000);  // stopped, not run to max_tokens
  // The client goes on with a fresh connection.
  EXPECT_EQ(client.complete("stories", "Once upon a time", greedy(3)).choices.at(0).text, ", there was");
}

}  // namespace
