#include "serve/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace lmaas::serve {

double RateLimiter::refill(Bucket& b, double per_minute, Clock::time_point now) {
  if (b.level < 0) {
    b.level = per_minute;
  } else {
    const double seconds = std::chrono::duration<double>(now - b.updated).count();
    b.level = std::min(per_minute, b.level + seconds * per_minute / 60.0);
  }
  b.updated = now;
  return b.level;
}

RateDecision RateLimiter::take(const Caller& caller, int64_t n_requests, int64_t n_chars) {
  return take_at(caller, n_requests, n_chars, Clock::now());
}

RateDecision RateLimiter::take_at(const Caller& caller, int64_t n_requests, int64_t n_chars, Clock::time_point now) {
  RateDecision d;
  const int64_t rpm = caller.requests_per_minute > 0 ? caller.requests_per_minute : default_rpm_;
  const int64_t cpm = caller.chars_per_minute > 0 ? caller.chars_per_minute : default_cpm_;
  if (caller.key_id == 0 || (rpm <= 0 && cpm <= 0)) return d;
  std::lock_guard lock(mu_);
  auto& [requests, chars] = buckets_[caller.key_id];
  const double r = rpm > 0 ? refill(requests, static_cast<double>(rpm), now) : 0;
  const double c = cpm > 0 ? refill(chars, static_cast<double>(cpm), now) : 0;
  auto wait_s = [](double need, double have, double per_minute) {
    return static_cast<int64_t>(std::ceil((need - have) * 60.0 / per_minute));
  };
  if (rpm > 0 && r < static_cast<double>(n_requests)) {
    d = {false, "requests_per_minute", std::max<int64_t>(1, wait_s(static_cast<double>(n_requests), r, static_cast<double>(rpm))), {}};
  } else if (cpm > 0 && c < static_cast<double>(n_chars)) {
    // A request larger than a whole minute's allowance can never pass: say so rather than "retry later".
    const int64_t wait = n_chars > cpm ? -1 : std::max<int64_t>(1, wait_s(static_cast<double>(n_chars), c, static_cast<double>(cpm)));
    d = {false, "chars_per_minute", wait, {}};
  } else {
    if (rpm > 0) requests.level -= static_cast<double>(n_requests);
    if (cpm > 0) chars.level -= static_cast<double>(n_chars);
  }
  if (rpm > 0) {
    d.headers.emplace_back("x-ratelimit-limit-requests", std::to_string(rpm));
    d.headers.emplace_back("x-ratelimit-remaining-requests", std::to_string(static_cast<int64_t>(std::floor(requests.level))));
  }
  if (cpm > 0) {
    d.headers.emplace_back("x-ratelimit-limit-characters", std::to_string(cpm));
    d.headers.emplace_back("x-ratelimit-remaining-characters", std::to_string(static_cast<int64_t>(std::floor(chars.level))));
  }
  return d;
}

}  // namespace lmaas::serve
