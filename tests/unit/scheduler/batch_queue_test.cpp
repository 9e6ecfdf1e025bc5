// BatchQueue: coalescing, bounds (429), deadlines, cancellation, runner failures, exactly-once completion.
#include "scheduler/batch_queue.h"

#include <gtest/gtest.h>

#include <future>

namespace lmaas::scheduler {
namespace {

using namespace std::chrono_literals;

struct Recorder {
  std::mutex mu;
  std::vector<int64_t> batch_sizes;
  BatchRunner runner(std::chrono::milliseconds work = 0ms) {
    return [this, work](JobKind kind, const DecodeSettings&, const std::vector<std::string_view>& texts)
               -> Result<BatchOutput> {
      std::this_thread::sleep_for(work);
      {
        std::lock_guard lock(mu);
        batch_sizes.push_back(static_cast<int64_t>(texts.size()));
      }
      std::vector<std::vector<float>> rows;
      for (auto t : texts) rows.push_back({static_cast<float>(t.size()), kind == JobKind::kEmbed ? 1.0f : 0.0f});
      return BatchOutput{std::move(rows), {}};
    };
  }
};

std::shared_ptr<Job> make_job(std::vector<std::string> texts, std::promise<void>* done = nullptr) {
  auto job = std::make_shared<Job>();
  job->texts = std::move(texts);
  if (done) job->on_done = [done] { done->set_value(); };
  return job;
}

TEST(BatchQueue, CoalescesWaitingJobsAndReturnsRowsInOrder) {
  Recorder rec;
  BatchQueueOptions o;
  o.max_batch_texts = 8;
  o.max_queue_delay_us = 200000;  // long enough for all submissions to land in one batch
  BatchQueue q("m/1", o, rec.runner());
  std::vector<std::promise<void>> done(3);
  std::vector<std::shared_ptr<Job>> jobs = {make_job({"a", "bb"}, &done[0]), make_job({"ccc"}, &done[1]),
                                            make_job({"dddd", "e", "ff"}, &done[2])};
  for (auto& j : jobs) ASSERT_TRUE(q.submit(j).is_ok());
  for (auto& d : done) d.get_future().wait();
  ASSERT_EQ(rec.batch_sizes, std::vector<int64_t>({6}));
  EXPECT_EQ(jobs[0]->outputs, (std::vector<std::vector<float>>{{1, 0}, {2, 0}}));
  EXPECT_EQ(jobs[1]->outputs, (std::vector<std::vector<float>>{{3, 0}}));
  EXPECT_EQ(jobs[2]->outputs, (std::vector<std::vector<float>>{{4, 0}, {1, 0}, {2, 0}}));
  for (auto& j : jobs) EXPECT_EQ(j->batch_texts, 6);
}

TEST(BatchQueue, FullBatchRunsWithoutWaitingAndLargeJobRunsAlone) {
  Recorder rec;
  BatchQueueOptions o;
  o.max_batch_texts = 2;
  o.max_queue_delay_us = 10000000;  // 10 s: only a full batch can start early
  BatchQueue q("m/1", o, rec.runner());
  std::promise<void> d1;
  auto big = make_job({"a", "b", "c", "d", "e"}, &d1);
  ASSERT_TRUE(q.submit(big).is_ok());
  ASSERT_EQ(d1.get_future().wait_for(5s), std::future_status::ready);
  EXPECT_EQ(big->outputs.size(), 5u);
  EXPECT_EQ(rec.batch_sizes, std::vector<int64_t>({5}));
}

TEST(BatchQueue, KindsAreNotMixed) {
  Recorder rec;
  BatchQueueOptions o;
  o.max_queue_delay_us = 100000;
  BatchQueue q("m/1", o, rec.runner());
  std::promise<void> d1, d2;
  auto a = make_job({"x"}, &d1);
  auto b = make_job({"y"}, &d2);
  b->kind = JobKind::kEmbed;
  ASSERT_TRUE(q.submit(a).is_ok());
  ASSERT_TRUE(q.submit(b).is_ok());
  d1.get_future().wait();
  d2.get_future().wait();
  EXPECT_EQ(rec.batch_sizes, std::vector<int64_t>({1, 1}));
  EXPECT_EQ(b->outputs[0][1], 1.0f);
}

TEST(BatchQueue, FullQueueRefusesWithResourceExhausted) {
  Recorder rec;
  BatchQueueOptions o;
  o.max_queue_texts = 3;
  o.max_queue_delay_us = 300000;
  BatchQueue q("m/1", o, rec.runner());
  std::promise<void> d1;
  ASSERT_TRUE(q.submit(make_job({"a", "b"}, &d1)).is_ok());
  Status refused = q.submit(make_job({"c", "d"}));
  EXPECT_EQ(refused.code(), Code::kResourceExhausted);
  EXPECT_NE(refused.message().find("--max-queue-texts"), std::string::npos);
  EXPECT_TRUE(q.submit(make_job({"c"})).is_ok());  // still room for one
  d1.get_future().wait();
}

TEST(BatchQueue, ExpiredAndAbandonedJobsAreDroppedUnrun) {
  Recorder rec;
  BatchQueueOptions o;
  o.max_queue_delay_us = 50000;
  BatchQueue q("m/1", o, rec.runner());
  std::promise<void> d1, d2, d3;
  auto late = make_job({"a"}, &d1);
  late->deadline = Clock::now() + 1ms;
  auto gone = make_job({"b"}, &d2);
  auto fine = make_job({"c"}, &d3);
  auto client_gone = std::make_shared<std::atomic<bool>>(false);
  gone->abandoned = [client_gone] { return client_gone->load(); };
  ASSERT_TRUE(q.submit(late).is_ok());
  ASSERT_TRUE(q.submit(gone).is_ok());
  ASSERT_TRUE(q.submit(fine).is_ok());
  client_gone->store(true);
  d1.get_future().wait();
  d2.get_future().wait();
  d3.get_future().wait();
  EXPECT_EQ(late->status.code(), Code::kDeadlineExceeded);
  EXPECT_EQ(gone->status.code(), Code::kCancelled);
  EXPECT_TRUE(fine->status.is_ok());
  EXPECT_EQ(rec.batch_sizes, std::vector<int64_t>({1}));
}

TEST(BatchQueue, OnlyJobsWithTheSameDecodeSettingsShareABatch) {
  Recorder rec;
  BatchQueueOptions o;
  o.max_queue_delay_us = 50000;
  BatchQueue q("m/1", o, rec.runner());
  std::promise<void> d1, d2, d3;
  auto a = make_job({"a", "b"}, &d1), b = make_job({"c"}, &d2), c = make_job({"d"}, &d3);
  for (auto* job : {&a, &b, &c}) (*job)->kind = JobKind::kTranslate;
  a->decode.beam_size = 4, b->decode.beam_size = 4, c->decode.beam_size = 1;
  ASSERT_TRUE(q.submit(a).is_ok());
  ASSERT_TRUE(q.submit(b).is_ok());
  ASSERT_TRUE(q.submit(c).is_ok());
  d1.get_future().wait();
  d2.get_future().wait();
  d3.get_future().wait();
  EXPECT_EQ(rec.batch_sizes, std::vector<int64_t>({3, 1}));
}

TEST(BatchQueue, RunnerFailureReachesEveryJobOfTheBatch) {
  BatchQueueOptions o;
  o.max_queue_delay_us = 100000;
  BatchQueue q("m/1", o, [](JobKind, const DecodeSettings&, const std::vector<std::string_view>&) -> Result<BatchOutput> {
    throw std::runtime_error("boom");
  });
  std::promise<void> d1, d2;
  auto a = make_job({"a"}, &d1), b = make_job({"b"}, &d2);
  ASSERT_TRUE(q.submit(a).is_ok());
  ASSERT_TRUE(q.submit(b).is_ok());
  d1.get_future().wait();
  d2.get_future().wait();
  EXPECT_EQ(a->status.code(), Code::kInternal);
  EXPECT_NE(b->status.message().find("boom"), std::string::npos);
}

TEST(BatchQueue, StopFinishesQueuedJobsThenRefuses) {
  Recorder rec;
  BatchQueueOptions o;
  o.max_queue_delay_us = 10000000;
  auto q = std::make_unique<BatchQueue>("m/1", o, rec.runner(5ms));
  std::atomic<int> completed{0};
  std::vector<std::shared_ptr<Job>> jobs;
  for (int i = 0; i < 20; ++i) {
    auto j = make_job({"t"});
    j->on_done = [&completed] { completed.fetch_add(1); };
    ASSERT_TRUE(q->submit(j).is_ok());
    jobs.push_back(j);
  }
  q->stop();
  EXPECT_EQ(completed.load(), 20);
  for (auto& j : jobs) EXPECT_TRUE(j->status.is_ok());
  EXPECT_EQ(q->submit(make_job({"late"})).code(), Code::kUnavailable);
}

TEST(BatchQueue, ManyThreadsEveryJobCompletesExactlyOnce) {
  Recorder rec;
  BatchQueueOptions o;
  o.max_batch_texts = 16;
  o.max_queue_delay_us = 100;
  o.max_queue_texts = 1 << 20;
  BatchQueue q("m/1", o, rec.runner());
  std::atomic<int> completed{0};
  std::vector<std::thread> threads;
  std::vector<std::shared_ptr<Job>> all(800);
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 100; ++i) {
        auto j = make_job({std::string(static_cast<size_t>(i % 7 + 1), 'x')});
        j->on_done = [&completed] { completed.fetch_add(1); };
        all[static_cast<size_t>(t * 100 + i)] = j;
        ASSERT_TRUE(q.submit(j).is_ok());
      }
    });
  for (auto& th : threads) th.join();
  q.stop();
  EXPECT_EQ(completed.load(), 800);
  for (size_t k = 0; k < all.size(); ++k) EXPECT_EQ(all[k]->outputs[0][0], static_cast<float>(k % 100 % 7 + 1));
  int64_t total = 0;
  for (auto n : rec.batch_sizes) {
    EXPECT_LE(n, 16);
    total += n;
  }
  EXPECT_EQ(total, 800);
}

}  // namespace
}  // namespace lmaas::scheduler
