// RateLimiter: token buckets per key with a fake clock — admission, refill, refusal that takes nothing,
// retry-after, per-key limits over the defaults, and requests larger than a minute's allowance.
#include "serve/rate_limiter.h"

#include <gtest/gtest.h>

namespace lmaas::serve {
namespace {

using namespace std::chrono_literals;

Caller key(int64_t id, int64_t rpm = 0, int64_t cpm = 0) { return Caller{id, "k" + std::to_string(id), false, rpm, cpm}; }

std::string header(const RateDecision& d, const std::string& name) {
  for (const auto& [k, v] : d.headers)
    if (k == name) return v;
  return "";
}

TEST(RateLimiter, RequestsPerMinuteRefillContinuously) {
  RateLimiter limiter(3, 0);
  const auto t0 = RateLimiter::Clock::now();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.take_at(key(1), 1, 10, t0).allowed);
  RateDecision refused = limiter.take_at(key(1), 1, 10, t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit, "requests_per_minute");
  EXPECT_EQ(refused.retry_after_s, 20);  // one request refills in 60 / 3 s
  EXPECT_EQ(header(refused, "x-ratelimit-remaining-requests"), "0");
  EXPECT_FALSE(limiter.take_at(key(1), 1, 10, t0 + 19s).allowed);
  RateDecision later = limiter.take_at(key(1), 1, 10, t0 + 21s);
  EXPECT_TRUE(later.allowed);
  EXPECT_EQ(header(later, "x-ratelimit-limit-requests"), "3");
  EXPECT_TRUE(limiter.take_at(key(2), 1, 10, t0).allowed);  // another key has its own bucket
}

TEST(RateLimiter, CharactersRefusedWithoutTakingAndKeyLimitsWin) {
  RateLimiter limiter(0, 100);
  const auto t0 = RateLimiter::Clock::now();
  EXPECT_TRUE(limiter.take_at(key(1), 1, 80, t0).allowed);
  RateDecision refused = limiter.take_at(key(1), 1, 30, t0);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.limit, "chars_per_minute");
  EXPECT_EQ(refused.retry_after_s, 6);  // 10 characters at 100 per minute
  EXPECT_TRUE(limiter.take_at(key(1), 1, 20, t0).allowed);  // the refusal took nothing
  RateDecision never = limiter.take_at(key(3), 1, 101, t0);
  EXPECT_FALSE(never.allowed);
  EXPECT_EQ(never.retry_after_s, -1);
  EXPECT_TRUE(limiter.take_at(key(4, 0, 1000), 1, 500, t0).allowed);  // the key's own limit
  EXPECT_TRUE(limiter.take_at(key(5), 0, 100, t0).allowed);
  EXPECT_FALSE(limiter.take_at(key(5), 0, 1, t0).allowed);
}

TEST(RateLimiter, AnonymousAndUnlimitedPassWithoutHeaders) {
  RateLimiter limiter(0, 0);
  RateDecision d = limiter.take(key(1), 1, 1000000);
  EXPECT_TRUE(d.allowed);
  EXPECT_TRUE(d.headers.empty());
  RateLimiter limited(1, 1);
  EXPECT_TRUE(limited.take(Caller{0, "anonymous", true, 0, 0}, 1, 1000000).allowed);
}

}  // namespace
}  // namespace lmaas::serve
