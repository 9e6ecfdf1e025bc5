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
// Ids: pad_id pads both sides (ignored by attention and loss); targets start with bos_id and end with eos_id.
// Ownership: the model owns its layers. Training runs on one thread; decoding under NoGradGuard in eval
// mode may run on several threads at once, each with its own DecoderState.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/positional.h"
#include "nn/transformer.h"

namespace lmaas::models {

struct TranslatorConfig {
  int64_t src_vocab_size = 0, tgt_vocab_size = 0;
  int64_t d_model = 256, n_heads = 4, dim_feedforward = 1024;
  int64_t encoder_layers = 3, decoder_layers = 3;
  double dropout = 0.1;
  bool norm_first = true;
  std::string positions = "sinusoidal";  // sinusoidal | learned
  bool share_embeddings = false;         // one table for both sides (needs equal vocab sizes)
  bool tie_output = true;                // output projection = target embedding
  int64_t max_len = 256;                 // longest source or target (in tokens, BOS/EOS included)
  int32_t pad_id = 0, bos_id = 2, eos_id = 3;
  uint64_t seed = 1;
};
Result<TranslatorConfig> translator_config_from_json(const nlohmann::json& j);
nlohmann::json translator_config_to_json(const TranslatorConfig& c);

// The decoder's incremental state for N rows (sentences × beams): one cache per layer, the memory's
// padding mask and how many target steps have been fed.
struct DecoderState {
  std::vector<nn::DecoderLayerCache> layers;
  Tensor memory_key_padding_mask;  // U8 [N, Ts]
  int64_t steps = 0;
  int64_t rows() const { return memory_key_padding_mask.size(0); }
};

class TransformerTranslator : public nn::Module {
 public:
  explicit TransformerTranslator(const TranslatorConfig& config);
  const TranslatorConfig& config() const { return config_; }

  // U8 [B, T], 1 where ids == pad_id (attention's key_padding_mask).
  Tensor padding_mask(const Tensor& ids) const;
  Tensor encode(const Tensor& src_ids, const Tensor& src_padding_mask);  // → memory [B, Ts, E]
  Tensor decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask);  // → logits
  // Mean label-smoothed cross-entropy of predicting tgt_out[B, Tt] from src and tgt_in (pad ignored).
  Tensor loss(const Tensor& src_ids, const Tensor& tgt_in, const Tensor& tgt_out, double label_smoothing);

  // Incremental decoding (eval mode, no grad): start from the encoder's memory, then feed one token per
  // row per step and read log-probabilities [N, V] of the next token.
  DecoderState start_decoding(const Tensor& memory, const Tensor& src_padding_mask);
  Tensor decode_step(DecoderState& state, const Tensor& last_tokens);
  // Keeps rows `rows` (I32 [M], any order, repeats allowed) of the self-attention caches, and rows
  // `memory_rows` (I32 [M]) of the memory's keys, values and mask — undefined: the memory rows stay as they
  // are (beam search reorders hypotheses within a sentence's rows, whose memory is the same).
  static void select_rows(DecoderState& state, const Tensor& rows, const Tensor& memory_rows);

 private:
  Tensor embed(const nn::Embedding& table, const nn::Module& positions, const Tensor& ids, int64_t offset) const;
  // The decoder's final hidden states [B, Tt, E] (before the output projection).
  Tensor decoder_states(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask);
  Tensor project_output(const Tensor& h) const;

  TranslatorConfig config_;
  std::shared_ptr<nn::Embedding> src_embedding_, tgt_embedding_;
  std::shared_ptr<nn::Module> src_positions_, tgt_positions_;
  std::shared_ptr<nn::Dropout> dropout_;
  std::vector<std::shared_ptr<nn::TransformerEncoderLayer>> encoder_layers_;
  std::vector<std::shared_ptr<nn::TransformerDecoderLayer>> decoder_layers_;
  std::shared_ptr<nn::LayerNorm> encoder_norm_, decoder_norm_;
  std::shared_ptr<nn::Linear> output_projection_;
};

}  // namespace lmaas::models
