#include "scheduler/batch_queue.h"

namespace lmaas::scheduler {

BatchQueue::BatchQueue(std::string name, BatchQueueOptions options, BatchRunner runner)
    : name_(std::move(name)), options_(std::move(options)), runner_(std::move(runner)) {
  thread_ = std::jthread([this] { run(); });
}

BatchQueue::~BatchQueue() { stop(); }

void BatchQueue::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

Status BatchQueue::submit(std::shared_ptr<Job> job) {
  const auto n = static_cast<int64_t>(job->texts.size());
  {
    std::lock_guard lock(mu_);
    if (stopping_) return Status(Code::kUnavailable, "model '" + name_ + "' is unloading; retry");
    const int64_t queued = queued_texts_.load(std::memory_order_relaxed);
    // An empty queue takes any job, so one over-sized request is never refused forever.
    if (queued > 0 && queued + n > options_.max_queue_texts)
      return Status(Code::kResourceExhausted, "model '" + name_ + "' has " + std::to_string(queued) +
                                                  " texts queued; the queue holds " +
                                                  std::to_string(options_.max_queue_texts) + " (--max-queue-texts)");
    job->enqueued = Clock::now();
    jobs_.push_back(std::move(job));
    queued_texts_.fetch_add(n, std::memory_order_relaxed);
  }
  cv_.notify_one();
  return Status::ok();
}

// Waits for work, then gathers one batch. Called with the lock held; returns empty only when stopping
// with nothing left.
std::vector<std::shared_ptr<Job>> BatchQueue::take_batch(std::unique_lock<std::mutex>& lock) {
  cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
  if (jobs_.empty()) return {};
  // Hold the batch open until it is full or the oldest job has waited long enough.
  const auto delay = std::chrono::microseconds(options_.max_queue_delay_us);
  while (!stopping_ && queued_texts_.load(std::memory_order_relaxed) < options_.max_batch_texts) {
    const auto until = jobs_.front()->enqueued + delay;
    if (Clock::now() >= until) break;
    cv_.wait_until(lock, until);
  }
  std::vector<std::shared_ptr<Job>> batch;
  int64_t n = 0;
  const JobKind kind = jobs_.front()->kind;
  const DecodeSettings decode = jobs_.front()->decode;
  while (!jobs_.empty() && jobs_.front()->kind == kind && jobs_.front()->decode == decode) {
    const auto size = static_cast<int64_t>(jobs_.front()->texts.size());
    if (!batch.empty() && n + size > options_.max_batch_texts) break;
    n += size;
    batch.push_back(std::move(jobs_.front()));
    jobs_.pop_front();
  }
  queued_texts_.fetch_sub(n, std::memory_order_relaxed);
  return batch;
}

void BatchQueue::execute(std::vector<std::shared_ptr<Job>>& batch) {
  const auto start = Clock::now();
  std::vector<std::shared_ptr<Job>> live;
  std::vector<std::string_view> texts;
  for (auto& job : batch) {
    job->queue_seconds = std::chrono::duration<double>(start - job->enqueued).count();
    if (job->cancelled.load() || (job->abandoned && job->abandoned())) {
      job->status = Status(Code::kCancelled, "the request was cancelled (or its client left) before it ran");
    } else if (start > job->deadline) {
      job->status = Status(Code::kDeadlineExceeded, "the request waited past its deadline in the queue of '" + name_ + "'");
    } else {
      live.push_back(job);
      for (const auto& t : job->texts) texts.push_back(t);
    }
  }
  if (!live.empty()) {
    Result<BatchOutput> out = Status(Code::kInternal, "the model runner failed");
    try {
      out = runner_(live.front()->kind, live.front()->decode, texts);
    } catch (const std::exception& e) {
      out = Status(Code::kInternal, std::string("the model failed on this batch: ") + e.what());
    }
    if (out.is_ok() && (out.value().rows.size() != texts.size() ||
                        (!out.value().texts.empty() && out.value().texts.size() != texts.size())))
      out = Status(Code::kInternal, "the model returned " + std::to_string(out.value().rows.size()) + " rows for " +
                                        std::to_string(texts.size()) + " texts");
    size_t next = 0;
    for (auto& job : live) {
      job->batch_texts = static_cast<int64_t>(texts.size());
      if (!out.is_ok()) {
        job->status = out.status();
        continue;
      }
      for (size_t i = 0; i < job->texts.size(); ++i, ++next) {
        job->outputs.push_back(std::move(out.value().rows[next]));
        if (!out.value().texts.empty()) job->text_outputs.push_back(std::move(out.value().texts[next]));
      }
    }
    if (options_.on_batch)
      options_.on_batch(name_, static_cast<int64_t>(texts.size()), std::chrono::duration<double>(Clock::now() - start).count());
  }
  for (auto& job : batch)
    if (job->on_done) job->on_done();
}

void BatchQueue::run() {
  for (;;) {
    std::vector<std::shared_ptr<Job>> batch;
    {
      std::unique_lock lock(mu_);
      batch = take_batch(lock);
    }
    if (batch.empty()) return;
    execute(batch);
  }
}

}  // namespace lmaas::scheduler
