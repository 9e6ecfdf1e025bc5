// UsageRecorder: counts requests and characters per (key, model, UTC day) in memory and adds them to the
// MetadataStore in one transaction every flush interval (and on flush()/destruction), so the request path
// never waits on SQLite. A failed write keeps the counts for the next flush.
// Thread-safe: add() from any thread; one flusher thread owned here.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>

#include "store/metadata_store.h"

namespace lmaas::serve {

class UsageRecorder {
 public:
  UsageRecorder(store::MetadataStore* store, std::chrono::milliseconds interval);
  ~UsageRecorder();  // flushes
  void add(int64_t key_id, const std::string& model, int64_t requests, int64_t characters);
  Status flush();

 private:
  static std::string utc_day();
  store::MetadataStore* store_;
  std::mutex mu_;
  std::map<std::tuple<int64_t, std::string, std::string>, std::pair<int64_t, int64_t>> pending_;
  std::mutex flush_mu_;
  std::condition_variable_any wake_;
  std::jthread flusher_;
};

}  // namespace lmaas::serve
