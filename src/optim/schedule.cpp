#include "optim/schedule.h"

#include <algorithm>
#include <cmath>

namespace lmaas::optim {

double Schedule::factor(int64_t step) const {
  const double s = static_cast<double>(step);
  const double warmup = static_cast<double>(warmup_steps), total = static_cast<double>(total_steps);
  switch (kind) {
    case ScheduleKind::kConstant: return 1.0;
    case ScheduleKind::kWarmupLinear:
      if (step < warmup_steps) return s / std::max(1.0, warmup);
      return std::max(0.0, (total - s) / std::max(1.0, total - warmup));
    case ScheduleKind::kCosine: {
      double progress = std::min(1.0, s / std::max(1.0, total));
      return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + std::cos(M_PI * progress));
    }
    case ScheduleKind::kWarmupCosine: {
      if (step < warmup_steps) return s / std::max(1.0, warmup);
      double progress = std::min(1.0, (s - warmup) / std::max(1.0, total - warmup));
      return 0.5 * (1.0 + std::cos(M_PI * progress));
    }
    case ScheduleKind::kInverseSqrt:
      if (step < warmup_steps) return s / std::max(1.0, warmup);
      return std::sqrt(std::max(1.0, warmup) / std::max(1.0, s));
  }
  return 1.0;
}

Result<ScheduleKind> parse_schedule_kind(const std::string& name) {
  if (name == "constant") return ScheduleKind::kConstant;
  if (name == "warmup_linear") return ScheduleKind::kWarmupLinear;
  if (name == "cosine") return ScheduleKind::kCosine;
  if (name == "warmup_cosine") return ScheduleKind::kWarmupCosine;
  if (name == "inverse_sqrt") return ScheduleKind::kInverseSqrt;
  return Status(Code::kInvalidArgument, "unknown learning-rate schedule '" + name +
                                            "' (expected constant, warmup_linear, cosine, warmup_cosine, inverse_sqrt)");
}

}  // namespace lmaas::optim
