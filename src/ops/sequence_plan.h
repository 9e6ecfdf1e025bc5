// SequencePlan: how a recurrent op walks a padded batch (internal to ops/recurrent.cpp).
// - Processing order: step s handles time t = s, or T-1-s when reversed.
// - When every row of the mask is right-padded (tokens then pads), or every row left-padded, the rows
//   are reordered by length (longest first, stable) so that the rows active at step s are exactly the
//   first n_active[s]: each step's GEMM and cell run only on them, and the idle rows' state is carried
//   with one copy. This is what packed sequences buy PyTorch, without asking the caller to sort.
// - Any other mask keeps the batch order, runs every row, and hands the cells a per-step row mask.
// Packed layout: the op keeps per-step rows only for active rows, step after step: step s owns rows
// offset[s] … offset[s] + n_active[s] - 1 of a [total_rows, …] buffer (PyTorch's packed sequences).
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace lmaas::ops::detail {

struct SequencePlan {
  int64_t batch = 0, steps = 0;
  bool reverse = false;
  std::vector<int64_t> order;     // row i of the op holds batch row order[i]
  std::vector<int64_t> n_active;  // per step: rows 0 … n_active[s]-1 run; the rest are idle
  std::vector<int64_t> offset;    // per step (and one past the end): first packed row of the step
  int64_t total_rows = 0;
  Tensor row_mask;                // [T, B] U8 in op order, only for masks that are not one-sided

  const uint8_t* step_mask(int64_t s) const {
    return row_mask.defined() ? row_mask.data<uint8_t>() + s * batch : nullptr;
  }
};

// mask: [B, T] U8 (1 = token) or undefined.
SequencePlan make_sequence_plan(int64_t batch, int64_t steps, const Tensor& mask, bool reverse);

// x[B, T, F] → packed [total_rows, F] in processing order and op row order.
Tensor to_op_layout(const Tensor& x, const SequencePlan& plan);
// The inverse: packed [total_rows, F] → [B, T, F] with zeros where no row ran.
Tensor from_op_layout(const Tensor& packed, const SequencePlan& plan);
// Rows of a [B, …] tensor into op row order, and back.
Tensor rows_to_op_order(const Tensor& x, const SequencePlan& plan);
Tensor rows_from_op_order(const Tensor& x, const SequencePlan& plan);

}  // namespace lmaas::ops::detail
