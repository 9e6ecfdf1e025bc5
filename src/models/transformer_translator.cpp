#include "models/transformer_translator.h"

#include <cmath>
#include <tuple>

#include "ops/ops.h"

namespace lmaas::models {
TransformerTranslator::TransformerTranslator(const TranslatorConfig& c) : Translator(c) {
  Rng rng(c.seed);
  const bool learned = c.positions == "learned";
  std::tie(src_embedding_, tgt_embedding_) = register_embeddings(rng);
  if (learned) {
    src_positions_ =
        register_module("src_positions", std::make_shared<nn::LearnedPositionalEmbedding>(c.max_len, c.d_model, rng));
    tgt_positions_ =
        register_module("tgt_positions", std::make_shared<nn::LearnedPositionalEmbedding>(c.max_len, c.d_model, rng));
  } else {
    src_positions_ = tgt_positions_ = std::make_shared<nn::SinusoidalPositionalEncoding>(c.max_len, c.d_model);
  }
  dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(c.dropout, c.seed * 7919 + 101));

  nn::TransformerOptions o;
  o.d_model = c.d_model, o.n_heads = c.n_heads, o.dim_feedforward = c.dim_feedforward, o.dropout = c.dropout;
  o.norm_first = c.norm_first;
  auto encoder = std::make_shared<nn::ModuleList>(), encoder_stack = std::make_shared<nn::ModuleList>();
  for (int64_t i = 0; i < c.encoder_layers; ++i) {
    o.dropout_seed = c.seed * 7919 + static_cast<uint64_t>(i);
    encoder_layers_.push_back(
        encoder_stack->add(std::to_string(i), std::make_shared<nn::TransformerEncoderLayer>(o, rng)));
  }
  encoder->add("layers", encoder_stack);
  auto decoder = std::make_shared<nn::ModuleList>(), decoder_stack = std::make_shared<nn::ModuleList>();
  for (int64_t i = 0; i < c.decoder_layers; ++i) {
    o.dropout_seed = c.seed * 7919 + 1000 + static_cast<uint64_t>(i);
    decoder_layers_.push_back(
        decoder_stack->add(std::to_string(i), std::make_shared<nn::TransformerDecoderLayer>(o, rng)));
  }
  decoder->add("layers", decoder_stack);
  // Pre-norm stacks end in a LayerNorm (their residual stream is otherwise never normalised).
  if (c.norm_first) {
    encoder_norm_ = encoder->add("norm", std::make_shared<nn::LayerNorm>(c.d_model));
    decoder_norm_ = decoder->add("norm", std::make_shared<nn::LayerNorm>(c.d_model));
  }
  register_module("encoder", encoder);
  register_module("decoder", decoder);
  if (!c.tie_output)
    output_projection_ = register_module(
        "output_projection", std::make_shared<nn::Linear>(c.d_model, c.tgt_vocab_size, rng, /*bias=*/false));
}

Tensor TransformerTranslator::embed(const nn::Embedding& table, const nn::PositionalEncoding& positions,
                                    const Tensor& ids, int64_t offset) const {
  Tensor x = ops::mul_scalar(table.forward(ids), std::sqrt(static_cast<double>(config_.d_model)));
  return dropout_->forward(positions.forward(x, offset));
}

Tensor TransformerTranslator::project_output(const Tensor& h) const {
  return config_.tie_output ? ops::linear(h, tgt_embedding_->weight(), Tensor()) : output_projection_->forward(h);
}

Tensor TransformerTranslator::encode(const Tensor& src_ids, const Tensor& src_padding_mask) {
  LMAAS_CHECK(src_ids.dim() == 2 && src_ids.dtype() == DType::kI32, "translator: source ids must be I32 [B, T], got {} {}",
              dtype_name(src_ids.dtype()), shape_str(src_ids.shape()));
  // Encoder layers run on the real tokens only (padding rows are never computed).
  nn::TokenPacking packing = nn::make_token_packing(src_ids.size(0), src_ids.size(1), src_padding_mask);
  Tensor h = nn::pack_tokens(embed(*src_embedding_, *src_positions_, src_ids, 0), packing);
  for (auto& layer : encoder_layers_) h = layer->forward_packed(h, packing);
  if (encoder_norm_) h = encoder_norm_->forward(h);
  return nn::unpack_tokens(h, packing);
}

Tensor TransformerTranslator::decoder_states(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask) {
  LMAAS_CHECK(tgt_in.dim() == 2 && tgt_in.dtype() == DType::kI32, "translator: target ids must be I32 [B, T], got {} {}",
              dtype_name(tgt_in.dtype()), shape_str(tgt_in.shape()));
  // Right padding: a causal mask already keeps real target steps from seeing the padding after them.
  Tensor h = embed(*tgt_embedding_, *tgt_positions_, tgt_in, 0);
  for (auto& layer : decoder_layers_) h = layer->forward(h, memory, Tensor(), src_padding_mask, /*causal=*/true);
  return decoder_norm_ ? decoder_norm_->forward(h) : h;
}

Tensor TransformerTranslator::decode(const Tensor& tgt_in, const Tensor& memory, const Tensor& src_padding_mask) {
  return project_output(decoder_states(tgt_in, memory, src_padding_mask));
}

Tensor TransformerTranslator::loss(const Tensor& src_ids, const Tensor& tgt_in, const Tensor& tgt_out,
                                   double label_smoothing) {
  Tensor src_mask = padding_mask(src_ids);
  Tensor h = decoder_states(tgt_in, encode(src_ids, src_mask), src_mask);
  return real_token_loss(h, tgt_out, label_smoothing, [&](const Tensor& rows) { return project_output(rows); });
}

DecoderState TransformerTranslator::start_decoding(const Tensor& memory, const Tensor& src_padding_mask) {
  DecoderState state;
  state.memory_key_padding_mask = src_padding_mask;
  for (auto& layer : decoder_layers_) {
    nn::DecoderLayerCache cache = layer->start_cache(memory);
    state.rows.insert(state.rows.end(), {Tensor(), Tensor()});
    state.memory.insert(state.memory.end(), {cache.cross_k, cache.cross_v});
  }
  return state;
}

Tensor TransformerTranslator::decode_step(DecoderState& state, const Tensor& last_tokens) {
  LMAAS_CHECK(last_tokens.dim() == 1 && last_tokens.size(0) == state.n_rows(),
              "translator: decode_step needs one token per row ({}), got {}", state.n_rows(),
              shape_str(last_tokens.shape()));
  Tensor ids = ops::reshape(last_tokens, {state.n_rows(), 1});
  Tensor h = embed(*tgt_embedding_, *tgt_positions_, ids, state.steps);
  for (size_t i = 0; i < decoder_layers_.size(); ++i) {
    nn::DecoderLayerCache cache{state.rows[2 * i], state.rows[2 * i + 1], state.memory[2 * i], state.memory[2 * i + 1]};
    h = decoder_layers_[i]->forward_step(h, cache, state.memory_key_padding_mask);
    state.rows[2 * i] = cache.self_k, state.rows[2 * i + 1] = cache.self_v;
  }
  if (decoder_norm_) h = decoder_norm_->forward(h);
  ++state.steps;
  return ops::log_softmax(ops::reshape(project_output(h), {state.n_rows(), config_.tgt_vocab_size}), -1);
}

}  // namespace lmaas::models
