#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <thread>
#include <vector>

#include "base/thread_pool.h"

namespace lmaas {
namespace {

TEST(ThreadPool, RunsEveryTaskOnce) {
  ThreadPool pool(3);
  std::vector<std::atomic<int>> hits(100);
  for (int round = 0; round < 50; ++round) pool.run(100, [&](int i) { hits[i].fetch_add(1); });
  for (auto& h : hits) EXPECT_EQ(h.load(), 50);
}

TEST(ThreadPool, PropagatesExceptions) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run(4, [](int i) { if (i == 3) throw std::runtime_error("task 3"); }), std::runtime_error);
  int count = 0;
  pool.run(1, [&](int) { ++count; });  // still usable afterwards
  EXPECT_EQ(count, 1);
}

TEST(ThreadPool, ParallelForCoversRangeWithFixedChunks) {
  set_num_threads(2);
  std::vector<int> seen(1000, 0);
  std::vector<std::pair<int64_t, int64_t>> chunks(2, {-1, -1});
  parallel_for(1000, 10, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) seen[i]++;
    chunks[b == 0 ? 0 : 1] = {b, e};
  });
  EXPECT_EQ(std::accumulate(seen.begin(), seen.end(), 0), 1000);
  EXPECT_EQ(chunks[0], (std::pair<int64_t, int64_t>{0, 500}));
  EXPECT_EQ(chunks[1], (std::pair<int64_t, int64_t>{500, 1000}));
}

TEST(ThreadPool, NestedParallelForRunsInline) {
  set_num_threads(2);
  std::atomic<int> total{0};
  parallel_for(4, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) parallel_for(10, 1, [&](int64_t b2, int64_t e2) { total += static_cast<int>(e2 - b2); });
  });
  EXPECT_EQ(total.load(), 40);
}

// A server runs one batch loop per model, each calling the same pool: every caller's tasks must run
// exactly once, with that caller's function, however their runs interleave (and never hang).
TEST(ThreadPool, ConcurrentCallersEachRunTheirOwnTasks) {
  ThreadPool pool(2);
  constexpr int kCallers = 3, kRounds = 20000, kTasks = 16;
  std::vector<std::vector<std::atomic<int>>> hits;
  for (int c = 0; c < kCallers; ++c) hits.emplace_back(kTasks);
  std::atomic<int> n_done{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < kCallers; ++c) {
    callers.emplace_back([&, c] {
      for (int round = 0; round < kRounds; ++round) pool.run(kTasks, [&](int i) { hits[c][i].fetch_add(1); });
      n_done.fetch_add(1);
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (n_done.load() < kCallers && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (n_done.load() < kCallers) {  // the callers are stuck inside the pool and cannot be joined
    std::fprintf(stderr, "ThreadPool.ConcurrentCallersEachRunTheirOwnTasks: callers still running after 60 s\n");
    std::_Exit(1);
  }
  for (std::thread& t : callers) t.join();
  for (int c = 0; c < kCallers; ++c) {
    for (int i = 0; i < kTasks; ++i) EXPECT_EQ(hits[c][i].load(), kRounds) << "caller " << c << " task " << i;
  }
}

}  // namespace
}  // namespace lmaas
