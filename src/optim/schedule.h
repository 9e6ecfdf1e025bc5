// Learning-rate schedules: lr(step) = base_lr · factor(step), step counted from 0 (the first update).
//   constant:        1
//   warmup_linear:   step/warmup for step < warmup, then max(0, (total - step)/(total - warmup))
//   cosine:          min + (1 - min)·½(1 + cos(π·step/total)), clamped at total
//   warmup_cosine:   step/warmup, then ½(1 + cos(π·(step - warmup)/(total - warmup)))
//   inverse_sqrt:    step/warmup, then √(warmup/step) (Vaswani et al.'s "noam" shape; fairseq's inverse_sqrt)
#pragma once

#include <cstdint>
#include <string>

#include "base/status.h"

namespace lmaas::optim {

enum class ScheduleKind { kConstant, kWarmupLinear, kCosine, kWarmupCosine, kInverseSqrt };

struct Schedule {
  ScheduleKind kind = ScheduleKind::kConstant;
  int64_t warmup_steps = 0;
  int64_t total_steps = 0;
  double min_factor = 0.0;  // cosine floor (eta_min / base_lr)

  double factor(int64_t step) const;
};

// "constant" | "warmup_linear" | "cosine" | "warmup_cosine" | "inverse_sqrt"
Result<ScheduleKind> parse_schedule_kind(const std::string& name);

}  // namespace lmaas::optim
