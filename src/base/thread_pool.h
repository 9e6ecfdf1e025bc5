// ThreadPool: the one pool every kernel runs on (BLAS is held at one thread so nothing oversubscribes).
// - n_threads counts the calling thread: a pool of 2 owns 1 worker and the caller works too.
// - run() may be called from several threads (a server drives each model from its own thread): their
//   jobs take turns, one at a time. A run() issued from inside a task runs inline, so nested parallel loops
//   never deadlock.
// - Work is split statically by task index, so results do not depend on scheduling: training is
//   bit-reproducible for a fixed thread count.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace lmaas {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int n_threads() const { return n_threads_; }
  // Calls fn(i) for every i in [0, n_tasks) and returns when all are done. Tasks are claimed by
  // whichever thread is free (the caller too), so a worker that the OS is slow to wake never stalls the
  // caller: the caller from the front of the range and workers from its back, a share of what is left at
  // a time, so that each thread runs neighbouring tasks in order. The first exception thrown by a task is
  // rethrown here.
  void run(int n_tasks, const std::function<void(int)>& fn);

 private:
  void worker_loop(std::stop_token stop);
  std::pair<int, int> claim(bool from_front);  // tasks [first, second); empty when none is left
  void claim_tasks(bool from_front);

  int n_threads_;
  alignas(64) std::atomic<uint64_t> generation_{0};  // a new job (or the stop) bumps it
  // Workers spin on generation_ and join a job without a lock: a worker counts itself in n_active_ and
  // then checks job_open_; the caller closes the job (all tasks claimed) and then waits for n_active_ to
  // fall to 0. Both sides use sequentially consistent operations, so either the caller waits for the
  // worker or the worker sees the job closed and touches nothing.
  const std::function<void(int)>* job_ = nullptr;  // written before job_open_ is set
  std::atomic<bool> job_open_{false};
  alignas(64) std::atomic<uint64_t> unclaimed_{0};  // tasks not yet claimed: [low 32 bits, high 32 bits)
  alignas(64) std::atomic<int> n_active_{0};
  std::exception_ptr job_error_;
  std::mutex caller_mutex_;  // held by the thread whose job runs
  std::mutex error_mutex_;
  // A worker idle for a while sleeps on wake_ (counted in n_sleeping_, so that run() notifies only then).
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::atomic<int> n_sleeping_{0};
  std::vector<std::jthread> workers_;
};

// The process-wide pool. Defaults to the number of online CPUs; set_num_threads() replaces it
// (call it before any model runs, e.g. from a --threads flag).
ThreadPool& global_pool();
void set_num_threads(int n_threads);
int num_threads();

// Splits [0, n) into at most num_threads() contiguous chunks of at least `grain` items and calls
// fn(begin, end) on each, in parallel. Chunk boundaries depend only on n, grain and num_threads().
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace lmaas
