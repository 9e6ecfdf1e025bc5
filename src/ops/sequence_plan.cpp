#include "ops/sequence_plan.h"

#include <algorithm>
#include <cstring>
#include <numeric>

#include "base/thread_pool.h"

namespace lmaas::ops::detail {
namespace {

enum class Side { kRight, kLeft, kNone };

// Which side a row's padding is on: tokens form a prefix (right padding), a suffix (left), or neither.
// A row that is all tokens or all padding fits both; it reports kRight and also passes the kLeft test.
bool is_prefix(const uint8_t* row, int64_t steps, int64_t length) {
  for (int64_t t = 0; t < steps; ++t)
    if (row[t] != (t < length)) return false;
  return true;
}

bool is_suffix(const uint8_t* row, int64_t steps, int64_t length) {
  for (int64_t t = 0; t < steps; ++t)
    if (row[t] != (t >= steps - length)) return false;
  return true;
}

Side padding_side(const Tensor& mask, std::vector<int64_t>& lengths) {
  const int64_t batch = mask.size(0), steps = mask.size(1);
  Tensor m = mask.contiguous();
  bool all_right = true, all_left = true;
  for (int64_t b = 0; b < batch; ++b) {
    const uint8_t* row = m.data<uint8_t>() + b * steps;
    lengths[b] = std::count_if(row, row + steps, [](uint8_t v) { return v != 0; });
    all_right = all_right && is_prefix(row, steps, lengths[b]);
    all_left = all_left && is_suffix(row, steps, lengths[b]);
  }
  return all_right ? Side::kRight : all_left ? Side::kLeft : Side::kNone;
}

int64_t time_of(int64_t s, int64_t steps, bool reverse) { return reverse ? steps - 1 - s : s; }

}  // namespace

SequencePlan make_sequence_plan(int64_t batch, int64_t steps, const Tensor& mask, bool reverse) {
  SequencePlan plan;
  plan.batch = batch, plan.steps = steps, plan.reverse = reverse;
  plan.order.resize(static_cast<size_t>(batch));
  std::iota(plan.order.begin(), plan.order.end(), 0);
  plan.n_active.assign(static_cast<size_t>(steps), batch);
  auto finish = [&plan] {
    plan.offset.assign(static_cast<size_t>(plan.steps + 1), 0);
    for (int64_t s = 0; s < plan.steps; ++s) plan.offset[s + 1] = plan.offset[s] + plan.n_active[s];
    plan.total_rows = plan.offset[plan.steps];
    return plan;
  };
  if (!mask.defined()) return finish();
  std::vector<int64_t> lengths(static_cast<size_t>(batch));
  Side side = padding_side(mask, lengths);
  if (side == Side::kNone) {
    plan.row_mask = Tensor::empty({steps, batch}, DType::kU8);
    Tensor m = mask.contiguous();
    for (int64_t s = 0; s < steps; ++s)
      for (int64_t b = 0; b < batch; ++b)
        plan.row_mask.data<uint8_t>()[s * batch + b] = m.data<uint8_t>()[b * steps + time_of(s, steps, reverse)];
    return finish();
  }
  std::stable_sort(plan.order.begin(), plan.order.end(), [&](int64_t a, int64_t b) { return lengths[a] > lengths[b]; });
  for (int64_t s = 0; s < steps; ++s) {
    const int64_t t = time_of(s, steps, reverse);
    int64_t n = 0;
    for (int64_t b = 0; b < batch; ++b) n += side == Side::kRight ? t < lengths[b] : t >= steps - lengths[b];
    plan.n_active[s] = n;
  }
  return finish();
}

namespace {

// Bytes of one (batch row, time step) slice of a [B, T, F] tensor.
size_t slice_bytes(const Tensor& t) {
  return static_cast<size_t>(t.numel() / std::max<int64_t>(1, t.size(0) * t.size(1))) * dtype_size(t.dtype());
}

}  // namespace

Tensor to_op_layout(const Tensor& x, const SequencePlan& plan) {
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty({plan.total_rows, x.numel() / std::max<int64_t>(1, plan.batch * plan.steps)}, x.dtype());
  const size_t row = slice_bytes(xc);
  const char* src = static_cast<const char*>(xc.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  parallel_for(plan.steps, 4, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      const int64_t t = time_of(s, plan.steps, plan.reverse);
      for (int64_t i = 0; i < plan.n_active[s]; ++i)
        std::memcpy(dst + (plan.offset[s] + i) * row, src + (plan.order[i] * plan.steps + t) * row, row);
    }
  });
  return out;
}

Tensor from_op_layout(const Tensor& packed, const SequencePlan& plan) {
  Tensor pc = packed.contiguous();
  const int64_t features = packed.size(1);
  Tensor out = Tensor::zeros({plan.batch, plan.steps, features}, packed.dtype());
  const size_t row = static_cast<size_t>(features) * dtype_size(packed.dtype());
  const char* src = static_cast<const char*>(pc.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  parallel_for(plan.steps, 4, [&](int64_t s0, int64_t s1) {
    for (int64_t s = s0; s < s1; ++s) {
      const int64_t t = time_of(s, plan.steps, plan.reverse);
      for (int64_t i = 0; i < plan.n_active[s]; ++i)
        std::memcpy(dst + (plan.order[i] * plan.steps + t) * row, src + (plan.offset[s] + i) * row, row);
    }
  });
  return out;
}

namespace {

// Row i of the op order is row order[i] of the caller's order; `to_op` picks the direction.
Tensor permute_rows(const Tensor& x, const SequencePlan& plan, bool to_op) {
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  const size_t row = xc.nbytes() / static_cast<size_t>(std::max<int64_t>(1, plan.batch));
  const char* src = static_cast<const char*>(xc.raw_data());
  char* dst = static_cast<char*>(out.raw_data());
  for (int64_t i = 0; i < plan.batch; ++i) {
    const int64_t op_row = i, caller_row = plan.order[i];
    std::memcpy(dst + (to_op ? op_row : caller_row) * row, src + (to_op ? caller_row : op_row) * row, row);
  }
  return out;
}

}  // namespace

Tensor rows_to_op_order(const Tensor& x, const SequencePlan& plan) { return permute_rows(x, plan, true); }
Tensor rows_from_op_order(const Tensor& x, const SequencePlan& plan) { return permute_rows(x, plan, false); }

}  // namespace lmaas::ops::detail
