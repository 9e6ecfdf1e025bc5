// LlmScheduler on a real model (stories260K): greedy output equals llama2.c's reference; sampled outputs
// do not depend on what else runs in the batch or on the prefill chunk size; admission (429), context
// limits, cancellation, and the hooks around each step's token events.
#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>

#include "models/llm_loader.h"
#include "scheduler/llm_scheduler.h"

namespace lmaas::scheduler {
namespace {

const std::string kDir = std::string(LMAAS_SOURCE_DIR) + "/../shared/data/models/stories260K/";

const models::LoadedLlm& stories() {
  static const models::LoadedLlm llm = models::load_llm(kDir + "stories260K.bin").value();
  return llm;
}

// Runs jobs to completion; returns each job's generated tokens (or throws on a failed job).
struct Collected {
  std::vector<int32_t> tokens;
  std::string text;
  Status status;
  std::string finish;
};

std::shared_ptr<LlmJob> make_job(std::vector<int32_t> prompt, runtime::GenerationParams params, Collected& out,
                                 std::promise<void>& done) {
  auto job = std::make_shared<LlmJob>();
  job->prompt = std::move(prompt);
  job->params = std::move(params);
  job->on_event = [&out, &done](const LlmJobEvent& e) {
    if (e.has_token) {
      out.tokens.push_back(e.step.token.token);
      out.text += e.step.text;
      out.finish = runtime::finish_reason_name(e.step.finish);
    }
    if (e.done) {
      out.status = e.status;
      done.set_value();
    }
  };
  return job;
}

std::vector<Collected> run_all(LlmScheduler& scheduler, const std::vector<std::vector<int32_t>>& prompts,
                               const std::vector<runtime::GenerationParams>& params) {
  std::vector<Collected> out(prompts.size());
  std::vector<std::promise<void>> done(prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_TRUE(scheduler.submit(make_job(prompts[i], params[i], out[i], done[i])).is_ok());
  }
  for (auto& d : done) d.get_future().wait();
  return out;
}

runtime::GenerationParams greedy(int32_t max_tokens) {
  runtime::GenerationParams p;
  p.sampling.temperature = 0.0f;
  p.max_tokens = max_tokens;
  return p;
}

TEST(LlmScheduler, GreedyOutputEqualsTheReference) {
  std::ifstream in(kDir + "reference/greedy_and_logits.json");
  const auto ref = nlohmann::json::parse(in);
  LlmScheduler scheduler("stories", stories().model, stories().tokenizer, {});
  std::vector<std::vector<int32_t>> prompts;
  std::vector<runtime::GenerationParams> params;
  std::vector<std::vector<int32_t>> expected;
  for (const auto& c : ref["cases"]) {
    const auto prompt = c["prompt_token_ids"].get<std::vector<int32_t>>();
    auto after_bos = c["token_ids_after_bos"].get<std::vector<int32_t>>();
    after_bos.erase(after_bos.begin(), after_bos.begin() + static_cast<std::ptrdiff_t>(prompt.size() - 1));
    prompts.push_back(prompt);
    params.push_back(greedy(static_cast<int32_t>(after_bos.size())));
    expected.push_back(after_bos);
  }
  const auto out = run_all(scheduler, prompts, params);  // all four at once, in one running batch
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_TRUE(out[i].status.is_ok()) << out[i].status.message();
    EXPECT_EQ(out[i].tokens, expected[i]) << "case " << i;
    EXPECT_EQ(out[i].finish, "length");
  }
}

// Sampled tokens depend only on the seed: alone, beside others, or with prompts fed in 2-token chunks.
TEST(LlmScheduler, SampledOutputsDoNotDependOnBatchingOrChunking) {
  const auto& tok = *stories().tokenizer;
  std::vector<std::vector<int32_t>> prompts;
  std::vector<runtime::GenerationParams> params;
  for (int i = 0; i < 6; ++i) {
    prompts.push_back(tok.encode(i % 2 ? "Lily and Tom went to the park" : "The dog", true, false));
    runtime::GenerationParams p;
    p.sampling.temperature = 0.9f;
    p.sampling.top_p = 0.95f;
    p.sampling.seed = 100 + static_cast<uint64_t>(i);
    p.max_tokens = 40;
    params.push_back(p);
  }
  LlmSchedulerOptions together;
  together.max_running = 6;
  LlmScheduler batched("stories", stories().model, stories().tokenizer, together);
  const auto all = run_all(batched, prompts, params);

  LlmSchedulerOptions chunked;
  chunked.max_running = 1;
  chunked.batch_max_tokens = 2;
  LlmScheduler alone("stories", stories().model, stories().tokenizer, chunked);
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto one = run_all(alone, {prompts[i]}, {params[i]});
    EXPECT_EQ(one[0].tokens, all[i].tokens) << "request " << i;
    EXPECT_EQ(one[0].text, all[i].text) << "request " << i;
  }
  EXPECT_NE(all[0].tokens, all[2].tokens);  // same prompt, other seed
}

// Every token event is reported between on_events_begin and on_events_end (what lets the server send one
// wake-up per step), and each begin has its end.
TEST(LlmScheduler, TokenEventsComeBetweenTheStepHooks) {
  std::atomic<int> open{0}, begins{0}, ends{0}, outside{0};
  LlmSchedulerOptions o;
  o.max_running = 3;
  o.on_events_begin = [&] {
    ++begins;
    EXPECT_EQ(open.exchange(1), 0);
  };
  o.on_events_end = [&] {
    ++ends;
    EXPECT_EQ(open.exchange(0), 1);
  };
  LlmScheduler scheduler("stories", stories().model, stories().tokenizer, o);
  std::vector<Collected> out(3);
  std::vector<std::promise<void>> done(3);
  for (size_t i = 0; i < 3; ++i) {
    auto job = make_job(stories().tokenizer->encode("The dog", true, false), greedy(5), out[i], done[i]);
    auto inner = job->on_event;
    job->on_event = [&, inner](const LlmJobEvent& e) {
      if (e.has_token && open.load() == 0) ++outside;
      inner(e);
    };
    ASSERT_TRUE(scheduler.submit(job).is_ok());
  }
  for (auto& d : done) d.get_future().wait();
  scheduler.stop();
  for (const Collected& c : out) EXPECT_EQ(c.tokens.size(), 5u);
  EXPECT_EQ(outside.load(), 0);
  EXPECT_GE(begins.load(), 5);
  EXPECT_EQ(begins.load(), ends.load());
}

TEST(LlmScheduler, AFullQueueRefusesWithResourceExhausted) {
  LlmSchedulerOptions o;
  o.max_running = 1;
  o.max_waiting = 1;
  LlmScheduler scheduler("stories", stories().model, stories().tokenizer, o);
  // The first job holds the scheduler thread in its first event until the queue has been tried.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> first_started, first_done;
  auto first = std::make_shared<LlmJob>();
  first->prompt = {1};
  first->params = greedy(2);
  bool started = false;
  first->on_event = [&](const LlmJobEvent& e) {
    if (!started) {
      started = true;
      first_started.set_value();
      released.wait();
    }
    if (e.done) first_done.set_value();
  };
  ASSERT_TRUE(scheduler.submit(first).is_ok());
  first_started.get_future().wait();
  Collected second_out;
  std::promise<void> second_done;
  ASSERT_TRUE(scheduler.submit(make_job({1}, greedy(2), second_out, second_done)).is_ok());
  Collected third_out;
  std::promise<void> third_done;
  const Status third = scheduler.submit(make_job({1}, greedy(2), third_out, third_done));
  EXPECT_EQ(third.code(), Code::kResourceExhausted);
  EXPECT_NE(third.message().find("busy"), std::string::npos) << third.message();
  release.set_value();
  first_done.get_future().wait();
  second_done.get_future().wait();
  EXPECT_TRUE(second_out.status.is_ok());
  EXPECT_EQ(scheduler.stats().waiting, 0);
}

TEST(LlmScheduler, APromptThatCannotFitIsRefused) {
  LlmSchedulerOptions o;
  o.max_context = 16;
  LlmScheduler scheduler("stories", stories().model, stories().tokenizer, o);
  Collected out;
  std::promise<void> done;
  const Status s = scheduler.submit(make_job(std::vector<int32_t>(10, 1), greedy(7), out, done));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_NE(s.message().find("context is 16 tokens"), std::string::npos) << s.message();
  EXPECT_EQ(scheduler.submit(make_job({}, greedy(1), out, done)).code(), Code::kInvalidArgument);
}

TEST(LlmScheduler, ACancelledJobEndsWithCancelled) {
  LlmScheduler scheduler("stories", stories().model, stories().tokenizer, {});
  Collected out;
  std::promise<void> done;
  auto job = make_job({1}, greedy(400), out, done);
  auto* raw = job.get();
  job->on_event = [&, raw](const LlmJobEvent& e) {
    if (e.has_token && e.n_generated_tokens == 3) raw->cancelled = true;
    if (e.done) {
      out.status = e.status;
      out.tokens.resize(static_cast<size_t>(e.n_generated_tokens));
      done.set_value();
    }
  };
  ASSERT_TRUE(scheduler.submit(job).is_ok());
  done.get_future().wait();
  EXPECT_EQ(out.status.code(), Code::kCancelled);
  EXPECT_EQ(out.tokens.size(), 3u);
}

TEST(LlmScheduler, StopSequencesEndGenerationAndAreNotReturned) {
  LlmScheduler scheduler("stories", stories().model, stories().tokenizer, {});
  auto p = greedy(100);
  p.stop = {"Lily"};
  const auto out = run_all(scheduler, {stories().tokenizer->encode("Once upon a time", true, false)}, {p});
  // Greedy: ", there was a little girl named Lily. ..." — stops before "Lily".
  EXPECT_EQ(out[0].text, ", there was a little girl named ");
  EXPECT_EQ(out[0].finish, "stop");
}

}  // namespace
}  // namespace lmaas::scheduler
