// LstmTranslator: the seed's RNN family for translation — a bidirectional LSTM encoder and an LSTM decoder
// with attention (Luong et al. 2015: "general" scores, scaled by 1/√H here; no input feeding, so
// teacher-forced training runs over whole sequences with the fused recurrent op):
//   encode:  src ids → embedding (d_model) → dropout → bidirectional LSTM (encoder_layers, hidden_size/2
//            per direction, padding masked) → memory [B, Ts, hidden_size]
//   decode:  tgt ids → embedding → dropout → LSTM (decoder_layers, hidden_size; initial state zero)
//            → s [B, Tt, H]; context = softmax(((W_a s)·memoryᵀ)/√H, padding masked)·memory;
//            h̃ = tanh(W_c [context; s]) → dropout → output projection (tied to the target embedding when
//            d_model == hidden_size, else a matrix of its own)
// Parameter names: src_embedding.weight, tgt_embedding.weight (embedding.weight when shared),
// encoder.weight_ih_l0[_reverse] …, decoder.weight_ih_l0 …, attention.weight (W_a), combine.weight/bias
// (W_c), output_projection.weight (untied only).
// Decoding state: rows = {h [N, L, H], c [N, L, H]} of the decoder LSTM; memory = {memory [N, Ts, H]}.
#pragma once

#include <memory>

#include "models/translator.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/recurrent.h"

namespace lmaas::models {

class LstmTranslator : public Translator {
 public:
  explicit LstmTranslator(const TranslatorConfig& config);

  Tensor encode(const Tensor& src_ids, const Tensor& src_padding_mask) override;
  Tensor decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask) override;
  Tensor loss(const Tensor& src_ids, const Tensor& tgt_in, const Tensor& tgt_out, double label_smoothing) override;
  DecoderState start_decoding(const Tensor& memory, const Tensor& src_padding_mask) override;
  Tensor decode_step(DecoderState& state, const Tensor& last_tokens) override;

 private:
  // h̃ [B, T, H] from decoder outputs s [B, T, H] attending to the memory.
  Tensor attend(const Tensor& s, const Tensor& memory, const Tensor& src_padding_mask);
  Tensor decoder_states(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask);
  Tensor project_output(const Tensor& h) const;

  std::shared_ptr<nn::Embedding> src_embedding_, tgt_embedding_;
  std::shared_ptr<nn::LSTM> encoder_, decoder_;
  std::shared_ptr<nn::Linear> attention_, combine_, output_projection_;
  std::shared_ptr<nn::Dropout> dropout_;
};

}  // namespace lmaas::models
