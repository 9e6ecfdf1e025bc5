// BatchQueue: one model's request queue with dynamic batching (TEI's queue/Triton's dynamic batcher).
// - Submitters (any thread) add Jobs; one owner thread takes them, coalescing consecutive jobs of the same
//   kind (and, for translation, the same decoding settings) until the batch holds max_batch_texts texts or the oldest job has waited max_queue_delay_us, and
//   runs them through the BatchRunner in one call. A job larger than a batch runs alone. With a delay of 0
//   (the default) a batch is whatever waited while the previous one ran: no added latency when idle,
//   large batches under load.
// - The queue is bounded by max_queue_texts: submit() refuses with kResourceExhausted (the server's 429)
//   rather than wait. A job past its deadline or cancelled (client gone) is dropped unrun.
// - Every submitted job completes exactly once: its `on_done` runs on the owner thread after `status` and
//   `outputs` are set (outputs[i] is the runner's row for texts[i]; text_outputs[i] its text, for runners
//   that produce text).
// - stop() (and the destructor) refuse new jobs, finish the queued ones, and join the thread.
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
#include <string_view>
#include <thread>
#include <vector>

#include "base/status.h"

namespace lmaas::scheduler {

enum class JobKind { kClassify, kEmbed, kTranslate };

// How a translation job decodes (0: the model's default). Jobs batch together only when these are equal.
struct DecodeSettings {
  int64_t beam_size = 0;
  int64_t max_tokens = 0;
  bool operator==(const DecodeSettings&) const = default;
};

using Clock = std::chrono::steady_clock;

struct Job {
  JobKind kind = JobKind::kClassify;
  DecodeSettings decode;
  std::vector<std::string> texts;
  Clock::time_point deadline = Clock::time_point::max();
  std::function<void()> on_done;        // called once, on the queue's thread
  std::atomic<bool> cancelled{false};   // set by the submitter: drop the job if it has not run yet
  std::function<bool()> abandoned;      // optional, asked just before the job runs: true when its client went away (same effect)
  // Set by the queue before on_done:
  Status status;
  std::vector<std::vector<float>> outputs;
  std::vector<std::string> text_outputs;
  double queue_seconds = 0;             // submit -> batch start
  int64_t batch_texts = 0;              // texts in the batch it ran in
  // Internal:
  Clock::time_point enqueued;
};

// What a runner returns for a batch: one row per text, in order, and (runners that produce text, e.g.
// translation) one text per text; `texts` stays empty otherwise.
struct BatchOutput {
  std::vector<std::vector<float>> rows;
  std::vector<std::string> texts;
};
using BatchRunner =
    std::function<Result<BatchOutput>(JobKind, const DecodeSettings&, const std::vector<std::string_view>&)>;

struct BatchQueueOptions {
  int64_t max_batch_texts = 64;
  int64_t max_queue_delay_us = 0;
  int64_t max_queue_texts = 4096;
  // Called on the owner thread after each batch ran (for metrics); may be empty.
  std::function<void(const std::string& queue_name, int64_t batch_texts, double run_seconds)> on_batch;
};

class BatchQueue {
 public:
  BatchQueue(std::string name, BatchQueueOptions options, BatchRunner runner);
  ~BatchQueue();
  BatchQueue(const BatchQueue&) = delete;
  BatchQueue& operator=(const BatchQueue&) = delete;

  // kResourceExhausted when the queue is full, kUnavailable once stopping. On error the job is not queued
  // and on_done is not called.
  Status submit(std::shared_ptr<Job> job);
  void stop();
  int64_t queued_texts() const { return queued_texts_.load(std::memory_order_relaxed); }
  const std::string& name() const { return name_; }

 private:
  void run();
  std::vector<std::shared_ptr<Job>> take_batch(std::unique_lock<std::mutex>& lock);
  void execute(std::vector<std::shared_ptr<Job>>& batch);

  const std::string name_;
  const BatchQueueOptions options_;
  const BatchRunner runner_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Job>> jobs_;
  std::atomic<int64_t> queued_texts_{0};
  bool stopping_ = false;
  std::jthread thread_;
};

}  // namespace lmaas::scheduler
