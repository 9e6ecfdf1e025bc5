// LlmScheduler: see llm_scheduler.h.
#include "scheduler/llm_scheduler.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "base/thread_pool.h"

namespace lmaas::scheduler {

namespace {

int64_t context_of(const models::LlamaModel& model, int64_t requested) {
  const int64_t model_context = model.config().context_length;
  return requested > 0 ? std::min(requested, model_context) : model_context;
}

double seconds_between(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// Calls the options' on_events_begin now and on_events_end when it goes out of scope.
struct EventsScope {
  explicit EventsScope(const LlmSchedulerOptions& o) : options(o) {
    if (options.on_events_begin) options.on_events_begin();
  }
  ~EventsScope() {
    if (options.on_events_end) options.on_events_end();
  }
  EventsScope(const EventsScope&) = delete;
  EventsScope& operator=(const EventsScope&) = delete;
  const LlmSchedulerOptions& options;
};

}  // namespace

LlmScheduler::LlmScheduler(std::string name, std::shared_ptr<models::LlamaModel> model,
                           std::shared_ptr<const text::LlmTokenizer> tokenizer, LlmSchedulerOptions options)
    : name_(std::move(name)),
      model_(std::move(model)),
      tokenizer_(std::move(tokenizer)),
      options_(std::move(options)),
      max_context_(context_of(*model_, options_.max_context)),
      cache_(model_->config().n_layers, model_->config().n_kv_heads, model_->config().head_dim, std::max(1, options_.max_running), max_context_,
             options_.kv_type) {
  for (int s = cache_.n_slots() - 1; s >= 0; --s) free_slots_.push_back(s);
  thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
}

LlmScheduler::~LlmScheduler() { stop(); }

Status LlmScheduler::submit(std::shared_ptr<LlmJob> job) {
  const auto n_prompt = static_cast<int64_t>(job->prompt.size());
  if (n_prompt == 0) return Status(Code::kInvalidArgument, "the prompt is empty (no tokens)");
  if (n_prompt + (job->embed ? 0 : std::max<int64_t>(job->params.max_tokens, 1)) > max_context_) {
    return Status(Code::kInvalidArgument,
                  fmt::format("this model's context is {} tokens; the prompt has {} and max_tokens asks for {} more "
                              "(shorten the prompt or lower max_tokens)",
                              max_context_, n_prompt, job->params.max_tokens));
  }
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Status(Code::kUnavailable, fmt::format("model {} is shutting down", name_));
    if (static_cast<int64_t>(waiting_.size()) >= options_.max_waiting) {
      return Status(Code::kResourceExhausted,
                    fmt::format("model {} is busy: {} requests already wait (limit {}); retry later", name_,
                                waiting_.size(), options_.max_waiting));
    }
    waiting_.push_back({std::move(job), Clock::now()});
  }
  cv_.notify_one();
  return Status::ok();
}

void LlmScheduler::stop() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  thread_.request_stop();
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // The thread is gone: end what it left behind.
  fail_all(Status(Code::kUnavailable, fmt::format("model {} was unloaded", name_)));
  std::deque<Waiting> left;
  {
    std::lock_guard lock(mu_);
    left.swap(waiting_);
  }
  for (Waiting& w : left) {
    LlmJobEvent e;
    e.status = Status(Code::kUnavailable, fmt::format("model {} was unloaded", name_));
    e.done = true;
    e.n_prompt_tokens = static_cast<int64_t>(w.job->prompt.size());
    if (w.job->on_event) w.job->on_event(e);
  }
}

LlmSchedulerStats LlmScheduler::stats() const {
  LlmSchedulerStats s;
  {
    std::lock_guard lock(mu_);
    s.waiting = static_cast<int64_t>(waiting_.size());
  }
  s.running = n_running_.load(std::memory_order_relaxed);
  s.kv_positions_used = kv_used_.load(std::memory_order_relaxed);
  s.kv_positions_capacity = static_cast<int64_t>(cache_.n_slots()) * max_context_;
  s.kv_bytes_allocated = kv_bytes_.load(std::memory_order_relaxed);
  return s;
}

void LlmScheduler::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, stop, [&] { return !waiting_.empty() || !running_.empty(); });
      if (stop.stop_requested()) return;
    }
    admit();
    if (running_.empty()) continue;
    try {
      step();
    } catch (const std::exception& e) {
      fail_all(Status(Code::kInternal, fmt::format("generation failed: {}", e.what())));
    }
  }
}

void LlmScheduler::admit() {
  std::lock_guard lock(mu_);
  while (!waiting_.empty() && !free_slots_.empty()) {
    Waiting w = std::move(waiting_.front());
    waiting_.pop_front();
    Running r;
    r.slot = free_slots_.back();
    free_slots_.pop_back();
    cache_.clear(r.slot);
    runtime::GenerationParams params = w.job->params;
    if (w.job->embed) params.max_tokens = 1;  // never sampled; keeps the sequence open until its prompt is in
    r.sequence = std::make_unique<runtime::LlmSequence>(tokenizer_, w.job->prompt, std::move(params), max_context_);
    r.job = std::move(w.job);
    r.submitted = w.submitted;
    running_.push_back(std::move(r));
  }
  n_running_.store(static_cast<int64_t>(running_.size()), std::memory_order_relaxed);
}

void LlmScheduler::step() {
  // Cancelled jobs leave before they cost a model call.
  for (size_t i = running_.size(); i-- > 0;) {
    if (running_[i].job->cancelled.load(std::memory_order_relaxed)) {
      retire(i, Status(Code::kCancelled, "the request was cancelled"));
    }
  }
  if (running_.empty()) return;
  embed_step();
  if (running_.empty()) return;

  // Generating sequences first (one token each), then prompt chunks within the token budget.
  std::vector<models::BatchToken> batch;
  std::vector<size_t> wants;                     // running_ index of each logits row
  std::vector<std::pair<size_t, int64_t>> fed;  // (running_ index, tokens in this batch)
  auto add_tokens = [&](size_t i, int64_t n) {
    runtime::LlmSequence& seq = *running_[i].sequence;
    for (int64_t j = 0; j < n; ++j) {
      const bool last = j + 1 == seq.n_pending();
      batch.push_back({seq.pending_token(j), static_cast<int32_t>(seq.n_fed() + j), running_[i].slot, last});
      if (last) wants.push_back(i);
    }
    fed.emplace_back(i, n);
  };
  for (size_t i = 0; i < running_.size(); ++i) {
    if (!running_[i].job->embed && running_[i].sequence->prefilled()) add_tokens(i, running_[i].sequence->n_pending());
  }
  for (size_t i = 0; i < running_.size(); ++i) {
    runtime::LlmSequence& seq = *running_[i].sequence;
    const int64_t budget = options_.batch_max_tokens - static_cast<int64_t>(batch.size());
    if (running_[i].job->embed || seq.prefilled() || budget <= 0) continue;
    add_tokens(i, std::min(seq.n_pending(), budget));
  }
  if (batch.empty()) return;

  const Clock::time_point start = Clock::now();
  const int64_t n_vocab = model_->config().n_vocab;
  logits_.resize(wants.size() * static_cast<size_t>(n_vocab));
  model_->forward(batch, cache_, logits_.data());
  for (const auto& [i, n] : fed) running_[i].sequence->mark_fed(n);
  const Clock::time_point now = Clock::now();
  if (options_.on_step) options_.on_step(static_cast<int64_t>(batch.size()), seconds_between(start, now));

  // Sampling (a softmax over the vocabulary per sequence) runs on the pool: each sequence has its own
  // sampler and seed, so the tokens do not depend on the split. Events then go out here, in order.
  std::vector<runtime::GenerationStep> steps(wants.size());
  parallel_for(static_cast<int64_t>(wants.size()), 1, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const auto r = static_cast<size_t>(row);
      steps[r] = running_[wants[r]].sequence->on_logits(
          {logits_.data() + r * static_cast<size_t>(n_vocab), static_cast<size_t>(n_vocab)});
    }
  });
  std::vector<size_t> finished;
  {
    // The end hook runs however the block is left: a receiver holding wake-ups must get to send them.
    EventsScope scope(options_);
    for (size_t row = 0; row < wants.size(); ++row) {
      Running& r = running_[wants[row]];
      LlmJobEvent e;
      e.step = std::move(steps[row]);
      e.has_token = true;
      e.done = r.sequence->finished();
      e.n_prompt_tokens = static_cast<int64_t>(r.sequence->prompt().size());
      e.n_generated_tokens = static_cast<int64_t>(r.sequence->generated().size());
      if (!r.has_token) {
        if (options_.on_first_token) options_.on_first_token(seconds_between(r.submitted, now));
      } else if (options_.on_inter_token) {
        options_.on_inter_token(seconds_between(r.last_token, now));
      }
      r.has_token = true;
      r.last_token = now;
      if (r.job->on_event) r.job->on_event(e);
      if (e.done) finished.push_back(wants[row]);
    }
  }
  std::sort(finished.rbegin(), finished.rend());
  for (size_t i : finished) retire(i, Status::ok());

  int64_t used = 0;
  for (const Running& r : running_) used += r.sequence->n_fed();
  kv_used_.store(used, std::memory_order_relaxed);
  kv_bytes_.store(cache_.bytes_allocated(), std::memory_order_relaxed);
}

void LlmScheduler::embed_step() {
  const int64_t dim = model_->config().dim;
  std::vector<models::BatchToken> batch;
  std::vector<std::pair<size_t, int64_t>> fed;
  for (size_t i = 0; i < running_.size(); ++i) {
    const int64_t budget = options_.batch_max_tokens - static_cast<int64_t>(batch.size());
    if (!running_[i].job->embed || budget <= 0) continue;
    runtime::LlmSequence& seq = *running_[i].sequence;
    const int64_t n = std::min(seq.n_pending(), budget);
    for (int64_t j = 0; j < n; ++j) {
      batch.push_back({seq.pending_token(j), static_cast<int32_t>(seq.n_fed() + j), running_[i].slot, true});
    }
    fed.emplace_back(i, n);
  }
  if (batch.empty()) return;
  hidden_.resize(batch.size() * static_cast<size_t>(dim));
  const Clock::time_point start = Clock::now();
  model_->forward_hidden(batch, cache_, hidden_.data());
  if (options_.on_step) options_.on_step(static_cast<int64_t>(batch.size()), seconds_between(start, Clock::now()));
  std::vector<size_t> finished;
  size_t row = 0;
  for (const auto& [i, n] : fed) {
    Running& r = running_[i];
    r.hidden_sum.resize(static_cast<size_t>(dim), 0.0);
    for (int64_t j = 0; j < n; ++j, ++row) {
      for (int64_t d = 0; d < dim; ++d) r.hidden_sum[static_cast<size_t>(d)] += hidden_[row * static_cast<size_t>(dim) + static_cast<size_t>(d)];
    }
    r.sequence->mark_fed(n);
    if (!r.sequence->prefilled()) continue;
    LlmJobEvent e;
    e.done = true;
    e.n_prompt_tokens = static_cast<int64_t>(r.sequence->prompt().size());
    double norm = 0.0;
    for (double v : r.hidden_sum) norm += v * v;
    norm = std::sqrt(norm);
    for (double v : r.hidden_sum) e.embedding.push_back(static_cast<float>(norm > 0 ? v / norm : 0.0));
    if (r.job->on_event) r.job->on_event(e);
    finished.push_back(i);
  }
  std::sort(finished.rbegin(), finished.rend());
  for (size_t i : finished) retire(i, Status::ok());
}

// Removes running_[index]; a non-OK status is reported as the job's final event (a finished job has
// already had its final event).
void LlmScheduler::retire(size_t index, const Status& status) {
  Running r = std::move(running_[index]);
  running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(index));
  if (!status.is_ok()) {
    LlmJobEvent e;
    e.status = status;
    e.done = true;
    e.n_prompt_tokens = static_cast<int64_t>(r.sequence->prompt().size());
    e.n_generated_tokens = static_cast<int64_t>(r.sequence->generated().size());
    if (r.job->on_event) r.job->on_event(e);
  }
  if (options_.on_finish) {
    options_.on_finish(static_cast<int64_t>(r.sequence->prompt().size()),
                       static_cast<int64_t>(r.sequence->generated().size()));
  }
  cache_.clear(r.slot);
  {
    std::lock_guard lock(mu_);
    free_slots_.push_back(r.slot);
  }
  n_running_.store(static_cast<int64_t>(running_.size()), std::memory_order_relaxed);
}

void LlmScheduler::fail_all(const Status& status) {
  while (!running_.empty()) retire(running_.size() - 1, status);
}

}  // namespace lmaas::scheduler
