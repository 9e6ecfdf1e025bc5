// GenerationRun: the scheduler jobs of one generation request (one per prompt × choice) and what they
// produce, handed from the scheduler's thread to the request's coroutine.
// - The scheduler calls each job's on_event on its own thread; the event becomes a Delta (text released,
//   the token's log-probabilities when asked for, the end) queued under a mutex, and the coroutine's
//   executor is woken. Jobs hold only a weak reference to the run's state, so a run that is gone (client
//   left) simply drops late events.
// - A non-streamed request awaits finish(); a streamed one is the response's BodyStream: next() gives
//   each Delta formatted as a server-sent event by the route's `format`, then `data: [DONE]`.
// - Destroying the run cancels every job that has not finished (a client that leaves frees its slots).
// Threads: construct, submit, finish() and next() on the request's executor; on_event on the scheduler's.
#pragma once

#include <utility>  // before asio (Boost 1.74)

#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "api/completions.h"
#include "scheduler/llm_scheduler.h"
#include "serve/http_types.h"
#include "text/llm_tokenizer.h"

namespace lmaas::serve {

// What one event of one choice brought.
struct Delta {
  size_t choice = 0;
  std::string text;
  std::optional<api::TokenLogprobOut> logprob;  // when the request asked for log-probabilities
  std::string finish_reason;                    // on the choice's last token
  bool done = false;
  Status status;  // not OK: the choice failed (its last delta)
  int64_t n_prompt_tokens = 0, n_generated_tokens = 0;
  std::vector<float> embedding;
};

class GenerationRun : public BodyStream {
 public:
  // Formats one delta as a server-sent event's JSON ("" to send nothing for it); called by next().
  using Formatter = std::function<std::string(const Delta&)>;
  // n_logprobs: < 0 none; else the token's log-probability and that many alternatives.
  GenerationRun(boost::asio::any_io_executor executor, std::shared_ptr<const text::LlmTokenizer> tokenizer,
                int64_t n_logprobs);
  ~GenerationRun() override;

  // Submits a job for choice `choice` (choices are numbered by the caller from 0); the scheduler's refusal
  // comes back and the job is not run.
  Status submit(scheduler::LlmScheduler& scheduler, size_t choice, std::shared_ptr<scheduler::LlmJob> job);

  // Non-streamed: waits until every submitted job is done (polling `client_gone` now and then, which
  // cancels the jobs); then every delta is in deltas().
  boost::asio::awaitable<void> finish(std::function<bool()> client_gone);
  const std::vector<Delta>& deltas() const { return collected_; }

  // Streamed: set before the response is returned. `first` events are sent before any delta (the chat
  // role chunks); `last` after every job is done (the usage chunk), then `data: [DONE]`.
  void set_stream(Formatter format, std::vector<std::string> first, std::function<std::string()> last);
  boost::asio::awaitable<std::optional<std::string>> next() override;

  // Between these two calls, the jobs' events on the calling thread queue their deltas but hold the
  // wake-ups of the runs' coroutines; release sends them as one post per executor. The scheduler calls
  // them around each step's events (LlmSchedulerOptions::on_events_begin/end): 16 streams then cost the
  // I/O thread one wake-up per step instead of 16, each of which could preempt the scheduler's thread.
  static void hold_wakeups();
  static void release_wakeups();

 private:
  struct State;
  boost::asio::awaitable<void> wait_for_news();

  std::shared_ptr<State> state_;
  std::vector<std::shared_ptr<scheduler::LlmJob>> jobs_;
  std::vector<Delta> collected_;
  Formatter format_;
  std::deque<std::string> first_;
  std::function<std::string()> last_;
  bool finished_stream_ = false;
};

}  // namespace lmaas::serve
