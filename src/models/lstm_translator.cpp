#include "models/lstm_translator.h"

#include <tuple>

#include "ops/ops.h"

namespace lmaas::models {
namespace {

// The recurrent layers' mask convention: 1 = token (the inverse of attention's key_padding_mask).
Tensor token_mask(const Tensor& padding_mask) {
  Tensor out = Tensor::empty(padding_mask.shape(), DType::kU8);
  const uint8_t* p = padding_mask.data<uint8_t>();
  for (int64_t i = 0; i < out.numel(); ++i) out.data<uint8_t>()[i] = !p[i];
  return out;
}

nn::RecurrentOptions lstm_options(int64_t input, int64_t hidden, int64_t layers, bool bidirectional, double dropout,
                                  uint64_t seed) {
  nn::RecurrentOptions o;
  o.input_size = input, o.hidden_size = hidden, o.num_layers = layers, o.bidirectional = bidirectional;
  o.dropout = dropout, o.dropout_seed = seed;
  return o;
}

}  // namespace

LstmTranslator::LstmTranslator(const TranslatorConfig& c) : Translator(c) {
  Rng rng(c.seed);
  std::tie(src_embedding_, tgt_embedding_) = register_embeddings(rng);
  const int64_t h = c.hidden_size;
  encoder_ = register_module("encoder", std::make_shared<nn::LSTM>(
                                            lstm_options(c.d_model, h / 2, c.encoder_layers, true, c.dropout,
                                                         c.seed * 7919 + 1),
                                            rng));
  decoder_ = register_module(
      "decoder", std::make_shared<nn::LSTM>(lstm_options(c.d_model, h, c.decoder_layers, false, c.dropout, c.seed * 7919 + 2),
                                            rng));
  attention_ = register_module("attention", std::make_shared<nn::Linear>(h, h, rng, /*bias=*/false));
  combine_ = register_module("combine", std::make_shared<nn::Linear>(2 * h, h, rng, true, nn::Activation::kTanh));
  dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(c.dropout, c.seed * 7919 + 3));
  if (!c.tie_output)
    output_projection_ =
        register_module("output_projection", std::make_shared<nn::Linear>(h, c.tgt_vocab_size, rng, /*bias=*/false));
}

Tensor LstmTranslator::project_output(const Tensor& h) const {
  return config_.tie_output ? ops::linear(h, tgt_embedding_->weight(), Tensor()) : output_projection_->forward(h);
}

Tensor LstmTranslator::encode(const Tensor& src_ids, const Tensor& src_padding_mask) {
  LMAAS_CHECK(src_ids.dim() == 2 && src_ids.dtype() == DType::kI32, "translator: source ids must be I32 [B, T], got {} {}",
              dtype_name(src_ids.dtype()), shape_str(src_ids.shape()));
  return encoder_->forward(dropout_->forward(src_embedding_->forward(src_ids)), token_mask(src_padding_mask)).output;
}

Tensor LstmTranslator::attend(const Tensor& s, const Tensor& memory, const Tensor& src_padding_mask) {
  Tensor context = ops::scaled_dot_product_attention(attention_->forward(s), memory, memory, 1, src_padding_mask, false);
  return dropout_->forward(combine_->forward(ops::cat({context, s}, 2)));
}

Tensor LstmTranslator::decoder_states(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask) {
  LMAAS_CHECK(tgt_in.dim() == 2 && tgt_in.dtype() == DType::kI32, "translator: target ids must be I32 [B, T], got {} {}",
              dtype_name(tgt_in.dtype()), shape_str(tgt_in.shape()));
  Tensor embedded = dropout_->forward(tgt_embedding_->forward(tgt_in));
  Tensor s = decoder_->forward(embedded, tgt_embedding_->padding_mask(tgt_in)).output;
  return attend(s, memory, src_padding_mask);
}

Tensor LstmTranslator::decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask) {
  return project_output(decoder_states(tgt_in, memory, src_padding_mask));
}

Tensor LstmTranslator::loss(const Tensor& src_ids, const Tensor& tgt_in, const Tensor& tgt_out, double label_smoothing) {
  Tensor src_mask = padding_mask(src_ids);
  Tensor h = decoder_states(tgt_in, encode(src_ids, src_mask), src_mask);
  return real_token_loss(h, tgt_out, label_smoothing, [&](const Tensor& rows) { return project_output(rows); });
}

DecoderState LstmTranslator::start_decoding(const Tensor& memory, const Tensor& src_padding_mask) {
  DecoderState state;
  const int64_t n = memory.size(0);
  state.memory_key_padding_mask = src_padding_mask;
  state.memory = {memory};
  state.rows = {Tensor::zeros({n, config_.decoder_layers, config_.hidden_size}),
                Tensor::zeros({n, config_.decoder_layers, config_.hidden_size})};
  return state;
}

Tensor LstmTranslator::decode_step(DecoderState& state, const Tensor& last_tokens) {
  const int64_t n = state.n_rows();
  LMAAS_CHECK(last_tokens.dim() == 1 && last_tokens.size(0) == n, "translator: decode_step needs one token per row ({}), got {}",
              n, shape_str(last_tokens.shape()));
  Tensor x = tgt_embedding_->forward(ops::reshape(last_tokens, {n, 1}));
  // The LSTM keeps states layer-major [L, N, H]; the decoding state keeps rows first.
  nn::RecurrentState st = decoder_->forward(x, Tensor(), ops::contiguous(ops::transpose(state.rows[0], 0, 1)),
                                            ops::contiguous(ops::transpose(state.rows[1], 0, 1)));
  state.rows[0] = ops::contiguous(ops::transpose(st.h_n, 0, 1));
  state.rows[1] = ops::contiguous(ops::transpose(st.c_n, 0, 1));
  ++state.steps;
  Tensor h = attend(st.output, state.memory[0], state.memory_key_padding_mask);
  return ops::log_softmax(ops::reshape(project_output(h), {n, config_.tgt_vocab_size}), -1);
}

}  // namespace lmaas::models
