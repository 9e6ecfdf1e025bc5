// Training progress: on a terminal, one line redrawn in place (epoch, step, loss, last validation
// metric, samples/s, ETA); otherwise — or with --log-format json — one JSON object per line.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace lmaas::train {

// Seconds from `start` until now (the trainers' budgets, rates and ETAs).
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

enum class LogFormat { kAuto, kText, kJson };
Result<LogFormat> parse_log_format(const std::string& name);  // auto | text | json

struct StepInfo {
  int64_t epoch = 0, epochs = 0, step = 0, steps = 0;  // 1-based epoch, step within the epoch
  double loss = 0, lr = 0, samples_per_s = 0, eta_s = 0;
};

class Progress {
 public:
  explicit Progress(LogFormat format, std::FILE* out = stderr);
  void step(const StepInfo& s);
  // One finished epoch: the validation figures and what early stopping decided.
  void epoch(const nlohmann::json& summary);
  void message(const std::string& text);
  void set_validation(const std::string& name, double value);

 private:
  void end_line();
  bool json_;
  std::FILE* out_;
  bool line_open_ = false;
  std::string validation_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace lmaas::train
