// MultiheadAttention (batch-first): separate q/k/v/out projections (PyTorch's packed in_proj_weight is
// split into q_proj/k_proj/v_proj when importing). Masks: key_padding_mask [B, Tk] U8 with 1 = ignore
// (PyTorch's convention) and `causal`. Differences from PyTorch: no dropout on the attention weights
// (dropout is applied by the transformer layers to their residual branches); a query whose keys are all
// masked outputs zeros instead of NaN.
#pragma once

#include "base/rng.h"
#include "nn/linear.h"

namespace lmaas::nn {

// Real tokens of a right- or left-padded batch, as rows of the flattened [B·T, E] layout. Position-wise
// layers run on the packed [N, E] rows only (PyTorch's nested-tensor fast path does the same).
struct TokenPacking {
  int64_t batch = 0, steps = 0;
  Tensor indices;  // I32 [N]: row b·T + t for every real token
  Tensor key_padding_mask;  // U8 [B, T], 1 = padding
};
// From a key-padding mask (1 = padding); every position is a token when the mask is undefined.
TokenPacking make_token_packing(int64_t batch, int64_t steps, const Tensor& key_padding_mask);
// [B, T, E] → packed [N, E], and back (padding rows become zeros).
Tensor pack_tokens(const Tensor& x, const TokenPacking& packing);
Tensor unpack_tokens(const Tensor& packed, const TokenPacking& packing);

class MultiheadAttention : public Module {
 public:
  MultiheadAttention(int64_t embed_dim, int64_t n_heads, Rng& rng, bool bias = true);
  // query[B, Tq, E], key/value[B, Tk, E] → [B, Tq, E]
  Tensor forward(const Tensor& query, const Tensor& key, const Tensor& value, const Tensor& key_padding_mask = Tensor(),
                 bool causal = false) const;
  // Self-attention over packed tokens x[N, E] → [N, E]; same values as forward() at the real tokens.
  Tensor forward_packed(const Tensor& x, const TokenPacking& packing, bool causal = false) const;
  // The parts of forward() for incremental decoding, which keeps projected keys and values in a cache:
  // forward(q, k, v) == attend(project_query(q), project_key(k), project_value(v)).
  Tensor project_query(const Tensor& x) const { return q_proj_->forward(x); }
  Tensor project_key(const Tensor& x) const { return k_proj_->forward(x); }
  Tensor project_value(const Tensor& x) const { return v_proj_->forward(x); }
  // Projected q[B, Tq, E], k/v[B, Tk, E] → out_proj(attention) [B, Tq, E].
  Tensor attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask = Tensor(),
                bool causal = false) const;
  int64_t n_heads() const { return n_heads_; }

 private:
  int64_t n_heads_;
  std::shared_ptr<Linear> q_proj_, k_proj_, v_proj_, out_proj_;
};

}  // namespace lmaas::nn
