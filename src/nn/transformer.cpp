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

template <typename SelfAttention, typename CrossAttention>
Tensor TransformerDecoderLayer::forward_with(const Tensor& tgt, SelfAttention self_attention,
                                             CrossAttention cross_attention) {
  auto sa = [&](const Tensor& h) { return dropout_->forward(self_attention(h)); };
  auto ca = [&](const Tensor& h) { return dropout_->forward(cross_attention(h)); };
  auto ff = [&](const Tensor& h) { return feed_forward(options_, *linear1_, *linear2_, *dropout_, h); };
  Tensor h = residual(options_.norm_first, *norm1_, tgt, sa);
  h = residual(options_.norm_first, *norm2_, h, ca);
  return residual(options_.norm_first, *norm3_, h, ff);
}

Tensor TransformerDecoderLayer::forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_key_padding_mask,
                                        const Tensor& memory_key_padding_mask, bool causal) {
  return forward_with(
      tgt, [&](const Tensor& h) { return self_attn_->forward(h, h, h, tgt_key_padding_mask, causal); },
      [&](const Tensor& h) { return cross_attn_->forward(h, memory, memory, memory_key_padding_mask, false); });
}

DecoderLayerCache TransformerDecoderLayer::start_cache(const Tensor& memory) const {
  return {Tensor(), Tensor(), cross_attn_->project_key(memory), cross_attn_->project_value(memory)};
}

Tensor TransformerDecoderLayer::forward_step(const Tensor& x, DecoderLayerCache& cache,
                                             const Tensor& memory_key_padding_mask) {
  LMAAS_CHECK(x.dim() == 3 && x.size(1) == 1, "decoder step: input {} is not [N, 1, E]", shape_str(x.shape()));
  auto self_attention = [&](const Tensor& h) {
    Tensor k = self_attn_->project_key(h), v = self_attn_->project_value(h);
    cache.self_k = cache.self_k.defined() ? ops::cat({cache.self_k, k}, 1) : k;
    cache.self_v = cache.self_v.defined() ? ops::cat({cache.self_v, v}, 1) : v;
    // The new step sees every cached step (all earlier): no causal mask is needed.
    return self_attn_->attend(self_attn_->project_query(h), cache.self_k, cache.self_v);
  };
  auto cross_attention = [&](const Tensor& h) {
    return cross_attn_->attend(cross_attn_->project_query(h), cache.cross_k, cache.cross_v, memory_key_padding_mask);
  };
  return forward_with(x, self_attention, cross_attention);
}

}  // namespace lmaas::nn
