#include <gtest/gtest.h>

#include <atomic>
#include <numeric>

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

}  // namespace
}  // namespace lmaas
