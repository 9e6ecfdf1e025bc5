// ThreadPool implementation: a generation counter wakes workers; they spin briefly (a kernel launch is
// often followed by another within microseconds) and then sleep on a condition variable.
#include "base/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <tuple>

namespace lmaas {
namespace {

thread_local bool t_inside_pool_task = false;

// Marks the current thread as running a pool task for the lifetime of the guard.
struct InsideTaskGuard {
  bool previous = t_inside_pool_task;
  InsideTaskGuard() { t_inside_pool_task = true; }
  ~InsideTaskGuard() { t_inside_pool_task = previous; }
};

}  // namespace

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int i = 1; i < n_threads_; ++i) {
    workers_.emplace_back([this](std::stop_token stop) { worker_loop(stop); });
  }
}

ThreadPool::~ThreadPool() {
  for (auto& w : workers_) w.request_stop();  // wakes a sleeping worker (its wait takes the stop token)
  generation_.fetch_add(1);
  workers_.clear();  // joins
}

// The unclaimed tasks are [front, back) of one 64-bit word (front in the low half): the calling thread takes
// them from the front and workers from the back, so each thread runs a contiguous stretch of tasks (a
// kernel's tasks are neighbouring rows: each thread then streams its weights in order, which the hardware
// prefetcher follows, instead of every other block) until the two ends meet.
// A claim takes a share of what is left (guided scheduling): every claim moves the word's cache line between
// cores (~0.2 µs), so claiming tasks one by one cost more than a small task itself; the last claims are
// single tasks, so the threads still finish together.
std::pair<int, int> ThreadPool::claim(bool from_front) {
  uint64_t range = unclaimed_.load(std::memory_order_relaxed);
  while (true) {
    const auto front = static_cast<uint32_t>(range), back = static_cast<uint32_t>(range >> 32);
    if (front >= back) return {0, 0};
    const uint32_t n = std::max<uint32_t>(1, (back - front) / (2 * static_cast<uint32_t>(n_threads_)));
    const uint64_t next = from_front ? range + n : range - (uint64_t{n} << 32);
    if (unclaimed_.compare_exchange_weak(range, next, std::memory_order_acq_rel)) {
      return from_front ? std::pair<int, int>(front, front + n) : std::pair<int, int>(back - n, back);
    }
  }
}

void ThreadPool::claim_tasks(bool from_front) {
  InsideTaskGuard guard;
  for (auto [begin, end] = claim(from_front); begin < end; std::tie(begin, end) = claim(from_front)) {
    // From the back, a claimed stretch runs downwards: it continues where the thread's previous one ended.
    for (int i = 0; i < end - begin; ++i) {
      try {
        (*job_)(from_front ? begin + i : end - 1 - i);
      } catch (...) {
        std::lock_guard lock(error_mutex_);
        if (!job_error_) job_error_ = std::current_exception();
      }
    }
  }
}

void ThreadPool::worker_loop(std::stop_token stop) {
  uint64_t seen = 0;
  while (true) {
    // Spin before sleeping: kernels are launched back to back, and a sleeping worker misses the next
    // job (the caller claims all its tasks before the OS wakes the worker). ~0.5 ms, as OpenMP runtimes do.
    auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(500);
    for (int i = 0; generation_.load(std::memory_order_acquire) == seen && !stop.stop_requested(); ++i) {
      __builtin_ia32_pause();
      if ((i & 255) == 255 && std::chrono::steady_clock::now() >= spin_until) break;
    }
    if (generation_.load() == seen && !stop.stop_requested()) {
      n_sleeping_.fetch_add(1);
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, stop, [&] { return generation_.load() != seen; });
      }
      n_sleeping_.fetch_sub(1);
    }
    if (stop.stop_requested()) return;
    seen = generation_.load();
    n_active_.fetch_add(1);
    if (job_open_.load()) claim_tasks(false);  // else too late: the caller already finished that job
    n_active_.fetch_sub(1, std::memory_order_release);
  }
}

void ThreadPool::run(int n_tasks, const std::function<void(int)>& fn) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1 || t_inside_pool_task) {
    InsideTaskGuard guard;
    for (int i = 0; i < n_tasks; ++i) fn(i);
    return;
  }
  // One job at a time: a server drives each model from its own thread, and those threads share this pool.
  std::lock_guard caller_lock(caller_mutex_);
  job_ = &fn;
  job_error_ = nullptr;
  unclaimed_.store(static_cast<uint64_t>(n_tasks) << 32);
  job_open_.store(true);
  generation_.fetch_add(1);
  if (n_sleeping_.load() > 0) {
    { std::lock_guard lock(mutex_); }  // a worker between its check and its wait is now waiting
    wake_.notify_all();
  }
  claim_tasks(true);
  job_open_.store(false);  // no worker joins from here on
  // Joined workers are finishing their last task: pause-spin (a yield is a system call), yielding only if
  // the wait grows long (an oversubscribed machine).
  for (int i = 0; n_active_.load() != 0; ++i) {
    if (i < (1 << 16)) __builtin_ia32_pause();
    else std::this_thread::yield();
  }
  job_ = nullptr;
  if (job_error_) std::rethrow_exception(job_error_);
}

namespace {
std::unique_ptr<ThreadPool>& pool_slot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}
}  // namespace

ThreadPool& global_pool() {
  auto& slot = pool_slot();
  if (!slot) slot = std::make_unique<ThreadPool>(static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  return *slot;
}

void set_num_threads(int n_threads) {
  auto& slot = pool_slot();
  if (slot && slot->n_threads() == std::max(1, n_threads)) return;
  slot.reset();
  slot = std::make_unique<ThreadPool>(n_threads);
}

int num_threads() { return global_pool().n_threads(); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  int64_t n_chunks = std::min<int64_t>(num_threads(), (n + grain - 1) / grain);
  if (n_chunks <= 1 || t_inside_pool_task) {
    fn(0, n);
    return;
  }
  int64_t chunk = (n + n_chunks - 1) / n_chunks;
  global_pool().run(static_cast<int>(n_chunks), [&](int i) {
    int64_t begin = i * chunk;
    int64_t end = std::min(n, begin + chunk);
    if (begin < end) fn(begin, end);
  });
}

}  // namespace lmaas
