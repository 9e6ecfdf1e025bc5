// MultiheadAttention (batch-first): separate q/k/v/out projections (PyTorch's packed in_proj_weight is
// split into q_proj/k_proj/v_proj when importing). Masks: key_padding_mask [B, Tk] U8 with 1 = ignore
// (PyTorch's convention) and `causal`. Differences from PyTorch: no dropout on the attention weights
// (dropout is applied by the transformer layers to their residual branches); a query whose keys are all
// masked outputs zeros instead of NaN.
#pragma once

#include "base/rng.h"
#include "nn/linear.h"

namespace lmaas::nn {

class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t n_heads, Rng& rng, bool bias = true);
  // query[B, Tq, E], key/value[B, Tk, E] → [B, Tq, E]
  Tensor forward(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& key_padding_mask = Tensor(),
                 bool causal = false) const;
  int64_t n_heads() const { return n_heads_; }

 private:
  int64_t n_heads_;
  std::shared_ptr<Linear> q_proj_, k_proj_, v_proj_, out_proj_;
};

}  // namespace lmaas::nn
