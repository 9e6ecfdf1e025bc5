#include "serve/usage_recorder.h"

#include <ctime>
#include <vector>

namespace lmaas::serve {

UsageRecorder::UsageRecorder(store::MetadataStore* store, std::chrono::milliseconds interval) : store_(store) {
  flusher_ = std::jthread([this, interval](std::stop_token stop) {
    std::mutex m;
    std::unique_lock lock(m);
    while (!stop.stop_requested()) {
      wake_.wait_for(lock, stop, interval, [] { return false; });
      Status s = flush();
      (void)s;  // kept for the next round
    }
  });
}

UsageRecorder::~UsageRecorder() {
  flusher_.request_stop();
  flusher_.join();
  Status s = flush();
  (void)s;
}

std::string UsageRecorder::utc_day() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char day[16];
  std::strftime(day, sizeof day, "%Y-%m-%d", &tm);
  return day;
}

void UsageRecorder::add(int64_t key_id, const std::string& model, int64_t requests, int64_t characters) {
  if (key_id == 0) return;  // anonymous (auth off): nothing to account to
  std::lock_guard lock(mu_);
  auto& [r, c] = pending_[{key_id, model, utc_day()}];
  r += requests;
  c += characters;
}

Status UsageRecorder::flush() {
  std::lock_guard flush_lock(flush_mu_);
  decltype(pending_) taken;
  {
    std::lock_guard lock(mu_);
    taken.swap(pending_);
  }
  if (taken.empty()) return Status::ok();
  std::vector<store::UsageRow> rows;
  for (const auto& [k, v] : taken) {
    store::UsageRow row;
    row.key_id = std::get<0>(k);
    row.model = std::get<1>(k);
    row.day = std::get<2>(k);
    row.requests = v.first;
    row.characters = v.second;
    rows.push_back(std::move(row));
  }
  Status s = store_->add_usage(rows);
  if (!s.is_ok()) {  // put them back
    std::lock_guard lock(mu_);
    for (const auto& [k, v] : taken) {
      auto& [r, c] = pending_[k];
      r += v.first;
      c += v.second;
    }
  }
  return s;
}

}  // namespace lmaas::serve
