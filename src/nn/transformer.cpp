#include "nn/transformer.h"

#include "ops/ops.h"

namespace lmaas::nn {
namespace {

void check_options(const TransformerOptions& o) {
  LMAAS_CHECK(o.d_model > 0 && o.n_heads > 0 && o.dim_feedforward > 0,
              "transformer layer: d_model {}, n_heads {}, dim_feedforward {} must be positive", o.d_model, o.n_heads,
              o.dim_feedforward);
  LMAAS_CHECK(o.activation == Activation::kRelu || o.activation == Activation::kGelu,
              "transformer layer: activation must be relu or gelu");
}

// dropout(linear2(dropout(act(linear1(x))))): the position-wise branch of both layers.
Tensor feed_forward(const TransformerOptions& o, Linear& linear1, Linear& linear2, Dropout& dropout, const Tensor& x) {
  return dropout.forward(linear2.forward(dropout.forward(apply_activation(o.activation, linear1.forward(x)))));
}

// One residual sub-layer: x + branch(norm(x)) when pre-norm, norm(x + branch(x)) when post-norm.
template <typename Branch>
Tensor residual(bool norm_first, const LayerNorm& norm, const Tensor& x, Branch branch) {
  return norm_first ? ops::add(x, branch(norm.forward(x))) : norm.forward(ops::add(x, branch(x)));
}

}  // namespace

TransformerEncoderLayer::TransformerEncoderLayer(const TransformerOptions& o, Rng& rng) : options_(o) {
  check_options(o);
  self_attn_ = register_module("self_attn", std::make_shared<MultiheadAttention>(o.d_model, o.n_heads, rng));
  linear1_ = register_module("linear1", std::make_shared<Linear>(o.d_model, o.dim_feedforward, rng));
  linear2_ = register_module("linear2", std::make_shared<Linear>(o.dim_feedforward, o.d_model, rng));
  norm1_ = register_module("norm1", std::make_shared<LayerNorm>(o.d_model, o.layer_norm_eps));
  norm2_ = register_module("norm2", std::make_shared<LayerNorm>(o.d_model, o.layer_norm_eps));
  dropout_ = register_module("dropout", std::make_shared<Dropout>(o.dropout, o.dropout_seed));
}

template <typename SelfAttention>
Tensor TransformerEncoderLayer::forward_with(const Tensor& x, SelfAttention self_attention) {
  auto sa = [&](const Tensor& h) { return dropout_->forward(self_attention(h)); };
  auto ff = [&](const Tensor& h) { return feed_forward(options_, *linear1_, *linear2_, *dropout_, h); };
  Tensor h = residual(options_.norm_first, *norm1_, x, sa);
  return residual(options_.norm_first, *norm2_, h, ff);
}

Tensor TransformerEncoderLayer::forward(const Tensor& x, const Tensor& key_padding_mask, bool causal) {
  return forward_with(x, [&](const Tensor& h) { return self_attn_->forward(h, h, h, key_padding_mask, causal); });
}

Tensor TransformerEncoderLayer::forward_packed(const Tensor& x, const TokenPacking& packing, bool causal) {
  return forward_with(x, [&](const Tensor& h) { return self_attn_->forward_packed(h, packing, causal); });
}

TransformerDecoderLayer::TransformerDecoderLayer(const TransformerOptions& o, Rng& rng) : options_(o) {
  check_options(o);
  self_attn_ = register_module("self_attn", std::make_shared<MultiheadAttention>(o.d_model, o.n_heads, rng));
  cross_attn_ = register_module("cross_attn", std::make_shared<MultiheadAttention>(o.d_model, o.n_heads, rng));
  linear1_ = register_module("linear1", std::make_shared<Linear>(o.d_model, o.dim_feedforward, rng));
  linear2_ = register_module("linear2", std::make_shared<Linear>(o.dim_feedforward, o.d_model, rng));
  norm1_ = register_module("norm1", std::make_shared<LayerNorm>(o.d_model, o.layer_norm_eps));
  norm2_ = register_module("norm2", std::make_shared<LayerNorm>(o.d_model, o.layer_norm_eps));
  norm3_ = register_module("norm3", std::make_shared<LayerNorm>(o.d_model, o.layer_norm_eps));
  dropout_ = register_module("dropout", std::make_shared<Dropout>(o.dropout, o.dropout_seed));
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_key_padding_mask,
                                        const Tensor& memory_key_padding_mask, bool causal) {
  auto sa = [&](const Tensor& h) {
    return dropout_->forward(self_attn_->forward(h, h, h, tgt_key_padding_mask, causal));
  };
  auto ca = [&](const Tensor& h) {
    return dropout_->forward(cross_attn_->forward(h, memory, memory, memory_key_padding_mask, false));
  };
  auto ff = [&](const Tensor& h) { return feed_forward(options_, *linear1_, *linear2_, *dropout_, h); };
  Tensor h = residual(options_.norm_first, *norm1_, tgt, sa);
  h = residual(options_.norm_first, *norm2_, h, ca);
  return residual(options_.norm_first, *norm3_, h, ff);
}

}  // namespace lmaas::nn
