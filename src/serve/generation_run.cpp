// GenerationRun: see generation_run.h.
#include "serve/generation_run.h"

#include <chrono>

#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace lmaas::serve {

namespace asio = boost::asio;

// Shared with the jobs' callbacks (weakly): the queue of deltas and the wake-up.
struct GenerationRun::State {
  State(asio::any_io_executor ex, std::shared_ptr<const text::LlmTokenizer> tok, int64_t logprobs)
      : executor(std::move(ex)), timer(executor), tokenizer(std::move(tok)), n_logprobs(logprobs) {}

  asio::any_io_executor executor;
  asio::steady_timer timer;  // touched on `executor` only; cancelled to wake the waiting coroutine
  const std::shared_ptr<const text::LlmTokenizer> tokenizer;
  const int64_t n_logprobs;

  std::mutex mu;
  std::deque<Delta> pending;  // guarded by mu
  size_t n_open = 0;          // jobs submitted and not done; guarded by mu

  // Scheduler thread: turns the event into a Delta and wakes the coroutine.
  static void on_event(const std::weak_ptr<State>& weak, size_t choice, const scheduler::LlmJobEvent& e) {
    auto self = weak.lock();
    if (!self) return;  // the request is gone
    Delta d;
    d.choice = choice;
    d.done = e.done;
    d.status = e.status;
    d.n_prompt_tokens = e.n_prompt_tokens;
    d.n_generated_tokens = e.n_generated_tokens;
    d.embedding = e.embedding;
    if (e.has_token) {
      d.text = e.step.text;
      d.finish_reason = runtime::finish_reason_name(e.step.finish);
      if (self->n_logprobs >= 0) {
        api::TokenLogprobOut lp;
        lp.token = self->tokenizer->token_to_piece(e.step.token.token);
        lp.logprob = e.step.token.logprob;
        for (const runtime::TokenLogprob& t : e.step.token.top) {
          lp.top.emplace_back(self->tokenizer->token_to_piece(t.token), t.logprob);
        }
        d.logprob = std::move(lp);
      }
    }
    {
      std::lock_guard lock(self->mu);
      if (d.done) --self->n_open;
      self->pending.push_back(std::move(d));
    }
    Held& held = held_here();
    if (held.on) held.runs.push_back(weak);
    else wake_all(self->executor, {weak});
  }

  // Wakes the coroutines of `runs` (all on `executor`).
  static void wake_all(const asio::any_io_executor& executor, std::vector<std::weak_ptr<State>> runs) {
    asio::post(executor, [runs = std::move(runs)] {
      for (const auto& weak : runs)
        if (auto s = weak.lock()) s->timer.cancel();
    });
  }

  // Wake-ups held on this thread (GenerationRun::hold_wakeups).
  struct Held {
    bool on = false;
    std::vector<std::weak_ptr<State>> runs;
  };
  static Held& held_here() {
    thread_local Held held;
    return held;
  }
};

void GenerationRun::hold_wakeups() { State::held_here().on = true; }

void GenerationRun::release_wakeups() {
  State::Held& held = State::held_here();
  held.on = false;
  std::vector<std::weak_ptr<State>> runs;
  runs.swap(held.runs);
  // One post per executor (a server's runs share its I/O executor); runs already gone are dropped.
  while (!runs.empty()) {
    auto first = runs.front().lock();
    if (!first) {
      runs.erase(runs.begin());
      continue;
    }
    std::vector<std::weak_ptr<State>> same, rest;
    for (auto& weak : runs) {
      auto s = weak.lock();
      if (s && s->executor == first->executor) same.push_back(std::move(weak));
      else if (s) rest.push_back(std::move(weak));
    }
    State::wake_all(first->executor, std::move(same));
    runs.swap(rest);
  }
}

GenerationRun::GenerationRun(asio::any_io_executor executor, std::shared_ptr<const text::LlmTokenizer> tokenizer,
                             int64_t n_logprobs)
    : state_(std::make_shared<State>(std::move(executor), std::move(tokenizer), n_logprobs)) {}

GenerationRun::~GenerationRun() {
  for (auto& job : jobs_) job->cancelled.store(true);
}

Status GenerationRun::submit(scheduler::LlmScheduler& scheduler, size_t choice, std::shared_ptr<scheduler::LlmJob> job) {
  std::weak_ptr<State> weak = state_;
  job->on_event = [weak, choice](const scheduler::LlmJobEvent& e) { State::on_event(weak, choice, e); };
  {
    std::lock_guard lock(state_->mu);
    ++state_->n_open;
  }
  Status s = scheduler.submit(job);
  if (!s.is_ok()) {
    std::lock_guard lock(state_->mu);
    --state_->n_open;
    return s;
  }
  jobs_.push_back(std::move(job));
  return Status::ok();
}

asio::awaitable<void> GenerationRun::wait_for_news() {
  {
    std::lock_guard lock(state_->mu);
    if (!state_->pending.empty() || state_->n_open == 0) co_return;
  }
  // The wake-up is posted to this executor, so it cannot run between the check above and the wait.
  state_->timer.expires_after(std::chrono::seconds(1));
  boost::system::error_code ec;
  co_await state_->timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

asio::awaitable<void> GenerationRun::finish(std::function<bool()> client_gone) {
  while (true) {
    co_await wait_for_news();
    std::lock_guard lock(state_->mu);
    while (!state_->pending.empty()) {
      collected_.push_back(std::move(state_->pending.front()));
      state_->pending.pop_front();
    }
    if (state_->n_open == 0) co_return;
    if (client_gone && client_gone()) {
      for (auto& job : jobs_) job->cancelled.store(true);
    }
  }
}

void GenerationRun::set_stream(Formatter format, std::vector<std::string> first, std::function<std::string()> last) {
  format_ = std::move(format);
  first_.assign(first.begin(), first.end());
  last_ = std::move(last);
}

asio::awaitable<std::optional<std::string>> GenerationRun::next() {
  while (true) {
    if (!first_.empty()) {
      std::string event = api::sse_event(first_.front());
      first_.pop_front();
      co_return event;
    }
    if (finished_stream_) co_return std::nullopt;
    std::optional<Delta> delta;
    bool all_done = false;
    {
      std::lock_guard lock(state_->mu);
      if (!state_->pending.empty()) {
        delta = std::move(state_->pending.front());
        state_->pending.pop_front();
      } else {
        all_done = state_->n_open == 0;
      }
    }
    if (delta) {
      collected_.push_back(*delta);
      const std::string json = format_(*delta);
      if (!json.empty()) co_return api::sse_event(json);
      continue;
    }
    if (all_done) {
      finished_stream_ = true;
      std::string tail = last_ ? last_() : std::string();
      co_return (tail.empty() ? std::string() : api::sse_event(tail)) + api::kSseDone;
    }
    co_await wait_for_news();
  }
}

}  // namespace lmaas::serve
