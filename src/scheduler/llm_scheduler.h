// LlmScheduler: continuous batching of generation requests for one decoder-only model (the vLLM / TGI
// router loop). One owner thread runs steps; each step:
//   1. admits waiting jobs (FIFO) into free KV-cache slots, up to max_running sequences;
//   2. builds one batch: one token for every sequence that is generating, then chunks of prompts still
//      being prefilled until the batch holds batch_max_tokens tokens (a long prompt is fed over several
//      steps, so running sequences keep generating while it loads);
//   3. runs the model once and samples, per sequence, from its own logits with its own Sampler — the
//      tokens a request gets do not depend on what else shared its batches;
//   4. reports each new token to its job (on_event) and retires finished or cancelled sequences, freeing
//      their slots for the next step.
// Admission: submit() refuses with kResourceExhausted (the server's 429) when max_waiting jobs already
// wait, with kInvalidArgument when prompt + max_tokens cannot fit the context, and kUnavailable once
// stopping. A job's on_event runs on the scheduler thread and must not block: the last event of a job has
// `done` set (with an error status when the job failed or was cancelled); exactly one such event per job.
// Embedding jobs (LlmJob::embed) take a slot too, run their prompt in model calls of their own, and end
// with the pooled vector.
// stop() (and the destructor) refuse new jobs, cancel waiting and running ones, and join the thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"
#include "models/kv_cache.h"
#include "models/llama_model.h"
#include "runtime/llm_sequence.h"

namespace lmaas::scheduler {

struct LlmJobEvent {
  Status status;                // not OK only on the final event of a failed or cancelled job
  runtime::GenerationStep step;  // the token of this event (absent on a failure event)
  bool has_token = false;
  bool done = false;
  int64_t n_prompt_tokens = 0;
  int64_t n_generated_tokens = 0;
  std::vector<float> embedding;  // an embedding job's result (on its final event)
};

struct LlmJob {
  std::vector<int32_t> prompt;
  runtime::GenerationParams params;
  std::function<void(const LlmJobEvent&)> on_event;
  std::atomic<bool> cancelled{false};  // set by the submitter (client gone): the job ends at the next step
  // An embedding instead of a generation: the prompt's final hidden states (after the output norm),
  // averaged over its tokens and scaled to unit length; the job ends after its prompt.
  bool embed = false;
};

struct LlmSchedulerOptions {
  int max_running = 16;           // sequences generating at once (= KV-cache slots)
  int64_t max_waiting = 64;       // jobs queued beyond those; more → kResourceExhausted
  int64_t batch_max_tokens = 512; // tokens per model call (prefill chunks fill up to this)
  int64_t max_context = 0;        // positions per sequence; 0 or more than the model's → the model's
  models::KvType kv_type = models::KvType::kF16;  // KV-cache entries: half the memory of f32 (llama.cpp's default)
  // Metrics hooks, called on the scheduler thread; each may be empty.
  std::function<void(double seconds)> on_first_token;  // submit → first token
  std::function<void(double seconds)> on_inter_token;  // between a sequence's consecutive tokens
  std::function<void(int64_t n_prompt, int64_t n_generated)> on_finish;
  std::function<void(int64_t n_batch_tokens, double seconds)> on_step;
  // Called on the scheduler thread before and after it reports one step's tokens to their jobs (each may
  // be empty): a receiver can hold the wake-ups of its threads and send them once per step.
  std::function<void()> on_events_begin, on_events_end;
};

struct LlmSchedulerStats {
  int64_t running = 0;
  int64_t waiting = 0;
  int64_t kv_positions_used = 0;      // positions held by running sequences
  int64_t kv_positions_capacity = 0;  // max_running × max_context
  int64_t kv_bytes_allocated = 0;
};

class LlmScheduler {
 public:
  LlmScheduler(std::string name, std::shared_ptr<models::LlamaModel> model,
               std::shared_ptr<const text::LlmTokenizer> tokenizer, LlmSchedulerOptions options);
  ~LlmScheduler();
  LlmScheduler(const LlmScheduler&) = delete;
  LlmScheduler& operator=(const LlmScheduler&) = delete;

  Status submit(std::shared_ptr<LlmJob> job);
  void stop();

  LlmSchedulerStats stats() const;
  int64_t max_context() const { return max_context_; }
  const LlmSchedulerOptions& options() const { return options_; }
  const std::string& name() const { return name_; }

 private:
  using Clock = std::chrono::steady_clock;
  struct Running {
    std::shared_ptr<LlmJob> job;
    std::unique_ptr<runtime::LlmSequence> sequence;
    int slot = 0;
    Clock::time_point submitted, last_token;
    bool has_token = false;
    std::vector<double> hidden_sum;  // embedding jobs: Σ of the final hidden states so far
  };
  struct Waiting {
    std::shared_ptr<LlmJob> job;
    Clock::time_point submitted;
  };

  void run(std::stop_token stop);
  void admit();
  void step();
  // Runs the prompts of embedding jobs (a model call of their own: they want hidden states, not logits).
  void embed_step();
  void retire(size_t index, const Status& status);
  void fail_all(const Status& status);

  const std::string name_;
  const std::shared_ptr<models::LlamaModel> model_;
  const std::shared_ptr<const text::LlmTokenizer> tokenizer_;
  const LlmSchedulerOptions options_;
  const int64_t max_context_;

  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<Waiting> waiting_;  // guarded by mu_
  bool stopping_ = false;        // guarded by mu_
  std::atomic<int64_t> n_running_{0};
  std::atomic<int64_t> kv_used_{0};
  std::atomic<int64_t> kv_bytes_{0};

  // Owned by the scheduler thread.
  models::KvCache cache_;
  std::vector<Running> running_;
  std::vector<int> free_slots_;
  std::vector<float> logits_, hidden_;
  std::jthread thread_;
};

}  // namespace lmaas::scheduler
