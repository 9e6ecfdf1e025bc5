// RateLimiter: per-key limits on requests and characters per minute, as token buckets that refill
// continuously (a full minute's allowance at most). A key's own limits win; 0 there means the server's
// defaults (--rate-limit-rpm, --rate-limit-cpm); 0 there means unlimited. A request is admitted only if
// both buckets hold enough, and then takes from both; a refused request takes nothing.
// Thread-safe (one mutex; the critical section is a few arithmetic operations).
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "serve/auth.h"

namespace lmaas::serve {

struct RateDecision {
  bool allowed = true;
  std::string limit;          // which limit refused: "requests_per_minute" | "chars_per_minute"
  int64_t retry_after_s = 0;  // when the refused bucket will hold enough
  // x-ratelimit-* headers (OpenAI's names, with "characters" for "tokens"); empty when unlimited.
  std::vector<std::pair<std::string, std::string>> headers;
};

class RateLimiter {
 public:
  RateLimiter(int64_t default_requests_per_minute, int64_t default_chars_per_minute)
      : default_rpm_(default_requests_per_minute), default_cpm_(default_chars_per_minute) {}
  // n_requests: 1 for a request's first admission, 0 for more texts of the same request.
  RateDecision take(const Caller& caller, int64_t n_requests, int64_t n_chars);
  // For tests: the clock the buckets refill by.
  using Clock = std::chrono::steady_clock;
  RateDecision take_at(const Caller& caller, int64_t n_requests, int64_t n_chars, Clock::time_point now);

 private:
  struct Bucket {
    double level = -1;  // < 0: not started (full)
    Clock::time_point updated{};
  };
  static double refill(Bucket& b, double per_minute, Clock::time_point now);

  const int64_t default_rpm_, default_cpm_;
  std::mutex mu_;
  std::unordered_map<int64_t, std::pair<Bucket, Bucket>> buckets_;  // key id -> (requests, characters)
};

}  // namespace lmaas::serve
