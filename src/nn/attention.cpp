#include "nn/attention.h"

#include <vector>

#include "ops/ops.h"

namespace lmaas::nn {

TokenPacking make_token_packing(int64_t batch, int64_t steps, const Tensor& key_padding_mask) {
  TokenPacking p{batch, steps, Tensor(), key_padding_mask};
  std::vector<int32_t> rows;
  Tensor m = key_padding_mask.defined() ? key_padding_mask.contiguous() : Tensor();
  for (int64_t i = 0; i < batch * steps; ++i)
    if (!m.defined() || !m.data<uint8_t>()[i]) rows.push_back(static_cast<int32_t>(i));
  p.indices = Tensor::from_vector(rows, {static_cast<int64_t>(rows.size())});
  return p;
}

Tensor pack_tokens(const Tensor& x, const TokenPacking& packing) {
  return ops::gather_rows(ops::reshape(x, {packing.batch * packing.steps, x.size(-1)}), packing.indices);
}

Tensor unpack_tokens(const Tensor& packed, const TokenPacking& packing) {
  return ops::reshape(ops::scatter_rows(packed, packing.indices, packing.batch * packing.steps),
                      {packing.batch, packing.steps, packed.size(-1)});
}

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
  return attend(project_query(query), project_key(key), project_value(value), key_padding_mask, causal);
}

Tensor MultiheadAttention::attend(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& key_padding_mask,
                                  bool causal) const {
  return out_proj_->forward(ops::scaled_dot_product_attention(q, k, v, n_heads_, key_padding_mask, causal));
}

Tensor MultiheadAttention::forward_packed(const Tensor& x, const TokenPacking& packing, bool causal) const {
  Tensor q = unpack_tokens(q_proj_->forward(x), packing), k = unpack_tokens(k_proj_->forward(x), packing),
         v = unpack_tokens(v_proj_->forward(x), packing);
  Tensor a = ops::scaled_dot_product_attention(q, k, v, n_heads_, packing.key_padding_mask, causal);
  return out_proj_->forward(pack_tokens(a, packing));
}

}  // namespace lmaas::nn
