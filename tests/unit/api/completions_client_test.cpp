// The C++ SDK's side of completions and chat (api/completions_client.h): request bodies as OpenAI's
// documentation writes them, answers and chunks in OpenAI's published shapes (written out by hand here),
// and server-sent events cut at every possible byte boundary.
#include <gtest/gtest.h>

#include "api/completions_client.h"

namespace lmaas::api {
namespace {

using nlohmann::json;

TEST(CompletionsClient, RequestBodiesCarryOnlyWhatDiffersFromTheDefaults) {
  CompletionRequest r;
  r.model = {"stories", 2};
  r.prompts = {"Once upon a time"};
  EXPECT_EQ(completion_request_json(r), json::parse(R"({"model": "stories/2", "prompt": "Once upon a time"})"));
  r.sampling.temperature = 0;
  r.sampling.max_tokens = 30;
  r.sampling.seed = 7;
  r.sampling.stop = {"Lily", "."};
  r.sampling.top_k = 40;
  r.sampling.stream = true;
  r.sampling.include_usage = true;
  r.logprobs = 2;
  EXPECT_EQ(completion_request_json(r), json::parse(R"({"model": "stories/2", "prompt": "Once upon a time",
      "temperature": 0.0, "max_tokens": 30, "seed": 7, "stop": ["Lily", "."], "top_k": 40, "stream": true,
      "stream_options": {"include_usage": true}, "logprobs": 2})"));
  CompletionRequest tokens;
  tokens.model = {"m", std::nullopt};
  tokens.prompt_tokens = {{1, 403}, {1, 291}};
  tokens.sampling.n = 3;
  EXPECT_EQ(completion_request_json(tokens), json::parse(R"({"model": "m", "prompt": [[1, 403], [1, 291]], "n": 3})"));
  ChatRequest chat;
  chat.model = {"m", std::nullopt};
  chat.messages = {{"system", "Be kind."}, {"user", "Hi"}};
  chat.logprobs = true;
  chat.top_logprobs = 2;
  EXPECT_EQ(chat_request_json(chat), json::parse(R"({"model": "m", "messages": [{"role": "system", "content": "Be kind."},
      {"role": "user", "content": "Hi"}], "logprobs": true, "top_logprobs": 2})"));
}

TEST(CompletionsClient, ParsesCompletionAndChatAnswers) {
  auto completion = parse_completion_result(json::parse(R"({"id": "cmpl-1", "object": "text_completion",
      "created": 1700000000, "model": "m", "choices": [{"index": 0, "text": " there", "finish_reason": "length",
      "logprobs": {"tokens": [" there"], "token_logprobs": [-0.5], "top_logprobs": [{" there": -0.5, " here": -1.5}],
                   "text_offset": [0]}}],
      "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}})"));
  ASSERT_TRUE(completion.is_ok()) << completion.status().to_string();
  EXPECT_EQ(completion->id, "cmpl-1");
  EXPECT_EQ(completion->created, 1700000000);
  ASSERT_EQ(completion->choices.size(), 1u);
  EXPECT_EQ(completion->choices[0].text, " there");
  EXPECT_EQ(completion->choices[0].finish_reason, "length");
  ASSERT_TRUE(completion->choices[0].logprobs);
  const TokenLogprobOut& t = (*completion->choices[0].logprobs)[0];
  EXPECT_EQ(t.logprob, -0.5);
  ASSERT_EQ(t.top.size(), 2u);
  EXPECT_EQ(t.top[0].first, " there");  // most likely first, whatever the object's key order
  EXPECT_EQ(completion->usage.prompt_tokens, 5);
  EXPECT_EQ(completion->usage.completion_tokens, 1);

  auto chat = parse_completion_result(json::parse(R"({"id": "chatcmpl-1", "object": "chat.completion", "created": 1,
      "model": "m", "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello!"}, "finish_reason": "stop",
      "logprobs": {"content": [{"token": "Hello", "logprob": -0.1, "bytes": [72, 101, 108, 108, 111],
                                "top_logprobs": [{"token": "Hello", "logprob": -0.1, "bytes": null}]}]}}],
      "usage": {"prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11}})"));
  ASSERT_TRUE(chat.is_ok()) << chat.status().to_string();
  EXPECT_EQ(chat->choices[0].text, "Hello!");
  EXPECT_EQ(chat->choices[0].finish_reason, "stop");
  ASSERT_EQ(chat->choices[0].logprobs->size(), 1u);
  EXPECT_EQ((*chat->choices[0].logprobs)[0].top[0].first, "Hello");
}

TEST(CompletionsClient, ParsesChunks) {
  auto first = parse_completion_chunk(json::parse(R"({"id": "c", "object": "chat.completion.chunk", "created": 1,
      "model": "m", "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": null,
      "finish_reason": null}]})"));
  ASSERT_TRUE(first.is_ok()) << first.status().to_string();
  EXPECT_EQ(first->choices[0].role, "assistant");
  EXPECT_EQ(first->choices[0].text, "");
  EXPECT_EQ(first->choices[0].finish_reason, "");
  EXPECT_FALSE(first->usage);
  auto last = parse_completion_chunk(json::parse(R"({"id": "c", "object": "chat.completion.chunk", "created": 1,
      "model": "m", "choices": [{"index": 2, "delta": {}, "finish_reason": "length"}]})"));
  ASSERT_TRUE(last.is_ok());
  EXPECT_EQ(last->choices[0].index, 2);
  EXPECT_EQ(last->choices[0].text, "");
  EXPECT_EQ(last->choices[0].finish_reason, "length");
  auto text = parse_completion_chunk(json::parse(R"({"id": "c", "object": "text_completion", "created": 1, "model": "m",
      "choices": [{"index": 0, "text": " upon", "logprobs": null, "finish_reason": null}]})"));
  ASSERT_TRUE(text.is_ok());
  EXPECT_EQ(text->choices[0].text, " upon");
  auto usage = parse_completion_chunk(json::parse(R"({"id": "c", "object": "text_completion", "created": 1, "model": "m",
      "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}})"));
  ASSERT_TRUE(usage.is_ok());
  EXPECT_TRUE(usage->choices.empty());
  ASSERT_TRUE(usage->usage);
  EXPECT_EQ(usage->usage->completion_tokens, 4);
}

TEST(CompletionsClient, MalformedAnswersAreStatusesNotExceptions) {
  for (const char* body : {R"({})", R"({"id": 1, "object": "x", "created": 1, "model": "m", "choices": []})",
                           R"({"id": "a", "object": "x", "created": 1, "model": "m", "choices": [{"index": 0}]})",
                           R"([1, 2])", R"(null)"}) {
    auto whole = parse_completion_result(json::parse(body));
    EXPECT_FALSE(whole.is_ok()) << body;
    EXPECT_EQ(whole.status().code(), Code::kDataLoss);
    EXPECT_FALSE(parse_completion_chunk(json::parse(body)).is_ok()) << body;
  }
}

TEST(SseReader, CutsEventsAtAnyByteBoundary) {
  const std::string stream =
      "data: {\"a\": 1}\n\n: a comment\n\nevent: x\r\ndata: two\r\ndata:lines\r\n\r\nid: 3\ndata: [DONE]\n\n";
  const std::vector<std::string> expected = {"{\"a\": 1}", "two\nlines", "[DONE]"};
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    SseReader reader;
    std::vector<std::string> events = reader.feed(std::string_view(stream).substr(0, cut));
    for (std::string& e : reader.feed(std::string_view(stream).substr(cut))) events.push_back(std::move(e));
    EXPECT_EQ(events, expected) << "cut at " << cut;
  }
  SseReader byte_by_byte;
  std::vector<std::string> events;
  for (char c : stream) {
    for (std::string& e : byte_by_byte.feed(std::string_view(&c, 1))) events.push_back(std::move(e));
  }
  EXPECT_EQ(events, expected);
  SseReader unfinished;
  EXPECT_TRUE(unfinished.feed("data: {\"a\": 1}\n").empty());  // no blank line yet
}

}  // namespace
}  // namespace lmaas::api
