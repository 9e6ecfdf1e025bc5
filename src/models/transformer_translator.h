// TransformerTranslator: a sequence-to-sequence transformer (Vaswani et al. 2017) for translation.
//   encode:  src ids[B, Ts] → embedding·√d + positions → dropout → encoder layers → (pre-norm) final norm
//   decode:  target input ids[B, Tt] (BOS + target) → the same embedding recipe → causal decoder layers
//            attending to the memory → (pre-norm) final norm → output projection → logits[B, Tt, V]
// Options: pre-norm (norm_first, the default here) or post-norm; sinusoidal or learned positions; one
// embedding table shared by both sides (a joint vocabulary) or one per side; the output projection tied
// to the target embedding (no bias) or a separate matrix.
// Parameter names: src_embedding.weight, tgt_embedding.weight (embedding.weight when shared),
// src_positions.weight / tgt_positions.weight (learned only), encoder.layers.{i}.…, encoder.norm.…,
// decoder.layers.{i}.… (self_attn, cross_attn, linear1/2, norm1..3), decoder.norm.…, output_projection.weight
// (untied only).
// Decoding state: rows = each decoder layer's self-attention keys and values [N, t, E] (k0, v0, k1, …),
// memory = each layer's projected memory keys and values [N, Ts, E].
#pragma once

#include <memory>
#include <vector>

#include "models/translator.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/positional.h"
#include "nn/transformer.h"

namespace lmaas::models {

class TransformerTranslator : public Translator {
 public:
  explicit TransformerTranslator(const TranslatorConfig& config);

  Tensor encode(const Tensor& src_ids, const Tensor& src_padding_mask) override;
  Tensor decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask) override;
  Tensor loss(const Tensor& src_ids, const Tensor& tgt_in, const Tensor& tgt_out, double label_smoothing) override;
  DecoderState start_decoding(const Tensor& memory, const Tensor& src_padding_mask) override;
  Tensor decode_step(DecoderState& state, const Tensor& last_tokens) override;

 private:
  Tensor embed(const nn::Embedding& table, const nn::PositionalEncoding& positions, const Tensor& ids,
               int64_t offset) const;
  // The decoder's final hidden states [B, Tt, E] (before the output projection).
  Tensor decoder_states(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask);
  Tensor project_output(const Tensor& h) const;

  std::shared_ptr<nn::Embedding> src_embedding_, tgt_embedding_;
  std::shared_ptr<nn::PositionalEncoding> src_positions_, tgt_positions_;
  std::shared_ptr<nn::Dropout> dropout_;
  std::vector<std::shared_ptr<nn::TransformerEncoderLayer>> encoder_layers_;
  std::vector<std::shared_ptr<nn::TransformerDecoderLayer>> decoder_layers_;
  std::shared_ptr<nn::LayerNorm> encoder_norm_, decoder_norm_;
  std::shared_ptr<nn::Linear> output_projection_;
};

}  // namespace lmaas::models
