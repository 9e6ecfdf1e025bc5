// Transformer encoder and decoder layers with PyTorch's semantics and parameter names (multihead_attn is
// called cross_attn here). norm_first selects pre-norm; post-norm (the 2017 original) is the default.
//   post: x = norm1(x + sa(x)); [x = norm2(x + ca(x, memory));] x = normN(x + ff(x))
//   pre:  x = x + sa(norm1(x)); [x = x + ca(norm2(x), memory);] x = x + ff(normN(x))
//   ff(x) = linear2(dropout(act(linear1(x)))), act ReLU or GELU (erf).
// Dropout applies to each residual branch and inside ff, in training mode only.
#pragma once

#include "nn/attention.h"
#include "nn/dropout.h"
#include "nn/layer_norm.h"

namespace lmaas::nn {

struct TransformerOptions {
  int64_t d_model = 0;
  int64_t n_heads = 0;
  int64_t dim_feedforward = 0;
  double dropout = 0.1;
  Activation activation = Activation::kRelu;  // kRelu or kGelu
  bool norm_first = false;
  double layer_norm_eps = 1e-5;
  uint64_t dropout_seed = 0x7f7f;
};


class TransformerEncoderLayer : public Module {
 public:
  TransformerEncoderLayer(const TransformerOptions& options, Rng& rng);
  // x[B, T, E]; key_padding_mask[B, T] U8 (1 = padding) or undefined.
  Tensor forward(const Tensor& x, const Tensor& key_padding_mask = Tensor(), bool causal = false);
  // The same layer over packed tokens x[N, E] (see TokenPacking): equal to forward() at real tokens,
  // without computing padded positions.
  Tensor forward_packed(const Tensor& x, const TokenPacking& packing, bool causal = false);

 private:
  template <typename SelfAttention>
  Tensor forward_with(const Tensor& x, SelfAttention self_attention);
  TransformerOptions options_;
  std::shared_ptr<MultiheadAttention> self_attn_;
  std::shared_ptr<Linear> linear1_, linear2_;
  std::shared_ptr<LayerNorm> norm1_, norm2_;
  std::shared_ptr<Dropout> dropout_;
};

// Incremental decoding state of one decoder layer: the projected keys and values of the target steps
// decoded so far (self-attention) and of the memory (cross-attention, projected once).
struct DecoderLayerCache {
  Tensor self_k, self_v;    // [N, t, E]; undefined before the first step
  Tensor cross_k, cross_v;  // [N, Ts, E]
};

class TransformerDecoderLayer : public Module {
 public:
  TransformerDecoderLayer(const TransformerOptions& options, Rng& rng);
  // tgt[B, Tt, E] attends causally to itself (when causal) and to memory[B, Ts, E].
  Tensor forward(const Tensor& tgt, const Tensor& memory, const Tensor& tgt_key_padding_mask = Tensor(),
                 const Tensor& memory_key_padding_mask = Tensor(), bool causal = true);
  // Incremental decoding (inference): start_cache projects memory[N, Ts, E] once; forward_step takes the
  // newest target step x[N, 1, E], appends its keys and values to the cache and returns [N, 1, E] — equal
  // to row t of forward() over the whole prefix with causal masking.
  DecoderLayerCache start_cache(const Tensor& memory) const;
  Tensor forward_step(const Tensor& x, DecoderLayerCache& cache, const Tensor& memory_key_padding_mask = Tensor());

 private:
  template <typename SelfAttention, typename CrossAttention>
  Tensor forward_with(const Tensor& tgt, SelfAttention self_attention, CrossAttention cross_attention);
  TransformerOptions options_;
  std::shared_ptr<MultiheadAttention> self_attn_, cross_attn_;
  std::shared_ptr<Linear> linear1_, linear2_;
  std::shared_ptr<LayerNorm> norm1_, norm2_, norm3_;
  std::shared_ptr<Dropout> dropout_;
};

}  // namespace lmaas::nn
