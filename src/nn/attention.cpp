#include "nn/attention.h"

#include "ops/ops.h"

namespace lmaas::nn {

MultiheadAttention::MultiheadAttention(int64_t embed_dim, int64_t n_heads, Rng& rng, bool bias) : n_heads_(n_heads) {
  LMAAS_CHECK(n_heads > 0 && embed_dim % n_heads == 0, "MultiheadAttention: embed_dim {} not divisible by {} heads",
              embed_dim, n_heads);
  q_proj_ = register_module("q_proj", std::make_shared<Linear>(embed_dim, embed_dim, rng, bias));
  k_proj_ = register_module("k_proj", std::make_shared<Linear>(embed_dim, embed_dim, rng, bias));
  v_proj_ = register_module("v_proj", std::make_shared<Linear>(embed_dim, embed_dim, rng, bias));
  out_proj_ = register_module("out_proj", std::make_shared<Linear>(embed_dim, embed_dim, rng, bias));
}

Tensor MultiheadAttention::forward(const Tensor& query, const Tensor& key, const Tensor& value,
                                   const Tensor& key_padding_mask, bool causal) const {
  Tensor q = q_proj_->forward(query), k = k_proj_->forward(key), v = v_proj_->forward(value);
  return out_proj_->forward(ops::scaled_dot_product_attention(q, k, v, n_heads_, key_padding_mask, causal));
}

}  // namespace lmaas::nn
