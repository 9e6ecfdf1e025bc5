#include "models/transformer_translator.h"

#include <cmath>

#include "nn/init.h"
#include "ops/ops.h"

namespace lmaas::models {
namespace {

// fairseq's embedding init: N(0, d^-½) so that the √d-scaled embedding has unit variance; the padding
// row stays zero.
void init_embedding(const nn::Embedding& embedding, int64_t d_model, int32_t pad_id, Rng& rng) {
  Tensor w = embedding.weight();
  nn::init::normal(w, rng, 0.0, 1.0 / std::sqrt(static_cast<double>(d_model)));
  float* row = w.data<float>() + static_cast<int64_t>(pad_id) * d_model;
  std::fill(row, row + d_model, 0.0f);
}

Status bad(const std::string& what) { return Status(Code::kInvalidArgument, "translator architecture: " + what); }

}  // namespace

Result<TranslatorConfig> translator_config_from_json(const nlohmann::json& j) {
  TranslatorConfig c;
  try {
    c.src_vocab_size = j.at("src_vocab_size").get<int64_t>();
    c.tgt_vocab_size = j.at("tgt_vocab_size").get<int64_t>();
    c.d_model = j.value("d_model", c.d_model);
    c.n_heads = j.value("n_heads", c.n_heads);
    c.dim_feedforward = j.value("dim_feedforward", c.dim_feedforward);
    c.encoder_layers = j.value("encoder_layers", c.encoder_layers);
    c.decoder_layers = j.value("decoder_layers", c.decoder_layers);
    c.dropout = j.value("dropout", c.dropout);
    c.norm_first = j.value("norm_first", c.norm_first);
    c.positions = j.value("positions", c.positions);
    c.share_embeddings = j.value("share_embeddings", c.share_embeddings);
    c.tie_output = j.value("tie_output", c.tie_output);
    c.max_len = j.value("max_len", c.max_len);
    c.pad_id = j.value("pad_id", c.pad_id);
    c.bos_id = j.value("bos_id", c.bos_id);
    c.eos_id = j.value("eos_id", c.eos_id);
    c.seed = j.value("seed", c.seed);
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  if (c.src_vocab_size < 4 || c.tgt_vocab_size < 4) return bad("vocabulary sizes must be at least 4");
  if (c.d_model <= 0 || c.n_heads <= 0 || c.d_model % c.n_heads != 0)
    return bad("d_model " + std::to_string(c.d_model) + " must be a positive multiple of n_heads " +
               std::to_string(c.n_heads));
  if (c.dim_feedforward <= 0 || c.encoder_layers < 1 || c.decoder_layers < 1)
    return bad("dim_feedforward, encoder_layers and decoder_layers must be positive");
  if (c.dropout < 0 || c.dropout >= 1) return bad("dropout must be in [0, 1)");
  if (c.positions != "sinusoidal" && c.positions != "learned")
    return bad("positions must be \"sinusoidal\" or \"learned\", got \"" + c.positions + "\"");
  if (c.share_embeddings && c.src_vocab_size != c.tgt_vocab_size)
    return bad("share_embeddings needs one vocabulary (src_vocab_size " + std::to_string(c.src_vocab_size) +
               " != tgt_vocab_size " + std::to_string(c.tgt_vocab_size) + ")");
  if (c.max_len < 2) return bad("max_len must be at least 2");
  for (int32_t id : {c.pad_id, c.bos_id, c.eos_id})
    if (id < 0 || id >= c.tgt_vocab_size || id >= c.src_vocab_size) return bad("special ids must be inside both vocabularies");
  return c;
}

nlohmann::json translator_config_to_json(const TranslatorConfig& c) {
  return {{"arch", "transformer"},        {"src_vocab_size", c.src_vocab_size},
          {"tgt_vocab_size", c.tgt_vocab_size}, {"d_model", c.d_model},
          {"n_heads", c.n_heads},         {"dim_feedforward", c.dim_feedforward},
          {"encoder_layers", c.encoder_layers}, {"decoder_layers", c.decoder_layers},
          {"dropout", c.dropout},         {"norm_first", c.norm_first},
          {"positions", c.positions},     {"share_embeddings", c.share_embeddings},
          {"tie_output", c.tie_output},   {"max_len", c.max_len},
          {"pad_id", c.pad_id},           {"bos_id", c.bos_id},
          {"eos_id", c.eos_id},           {"seed", c.seed}};
}

TransformerTranslator::TransformerTranslator(const TranslatorConfig& c) : config_(c) {
  Rng rng(c.seed);
  const bool learned = c.positions == "learned";
  if (c.share_embeddings) {
    src_embedding_ = tgt_embedding_ =
        register_module("embedding", std::make_shared<nn::Embedding>(c.src_vocab_size, c.d_model, rng, c.pad_id));
  } else {
    src_embedding_ =
        register_module("src_embedding", std::make_shared<nn::Embedding>(c.src_vocab_size, c.d_model, rng, c.pad_id));
    tgt_embedding_ =
        register_module("tgt_embedding", std::make_shared<nn::Embedding>(c.tgt_vocab_size, c.d_model, rng, c.pad_id));
  }
  init_embedding(*src_embedding_, c.d_model, c.pad_id, rng);
  if (!c.share_embeddings) init_embedding(*tgt_embedding_, c.d_model, c.pad_id, rng);
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

Tensor TransformerTranslator::padding_mask(const Tensor& ids) const {
  Tensor c = ids.contiguous(), out = Tensor::empty(ids.shape(), DType::kU8);
  const int32_t* p = c.data<int32_t>();
  uint8_t* m = out.data<uint8_t>();
  for (int64_t i = 0; i < c.numel(); ++i) m[i] = p[i] == config_.pad_id;
  return out;
}

Tensor TransformerTranslator::embed(const nn::Embedding& table, const nn::Module& positions, const Tensor& ids,
                                    int64_t offset) const {
  Tensor x = ops::mul_scalar(table.forward(ids), std::sqrt(static_cast<double>(config_.d_model)));
  if (auto* learned = dynamic_cast<const nn::LearnedPositionalEmbedding*>(&positions))
    x = learned->forward(x, offset);
  else
    x = static_cast<const nn::SinusoidalPositionalEncoding&>(positions).forward(x, offset);
  return dropout_->forward(x);
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
  // Only the real target positions reach the output projection, the largest matrix product: padding
  // rows would be ignored by the loss anyway.
  Tensor expected = tgt_out.contiguous();
  std::vector<int32_t> rows, targets;
  for (int64_t i = 0; i < expected.numel(); ++i) {
    const int32_t t = expected.data<int32_t>()[i];
    if (t != config_.pad_id) rows.push_back(static_cast<int32_t>(i)), targets.push_back(t);
  }
  const auto n = static_cast<int64_t>(rows.size());
  Tensor real = ops::gather_rows(ops::reshape(h, {expected.numel(), config_.d_model}), Tensor::from_vector(rows, {n}));
  return ops::cross_entropy(project_output(real), Tensor::from_vector(targets, {n}), config_.pad_id, label_smoothing);
}

DecoderState TransformerTranslator::start_decoding(const Tensor& memory, const Tensor& src_padding_mask) {
  DecoderState state;
  state.memory_key_padding_mask = src_padding_mask;
  for (auto& layer : decoder_layers_) state.layers.push_back(layer->start_cache(memory));
  return state;
}

Tensor TransformerTranslator::decode_step(DecoderState& state, const Tensor& last_tokens) {
  LMAAS_CHECK(last_tokens.dim() == 1 && last_tokens.size(0) == state.rows(),
              "translator: decode_step needs one token per row ({}), got {}", state.rows(),
              shape_str(last_tokens.shape()));
  Tensor ids = ops::reshape(last_tokens, {state.rows(), 1});
  Tensor h = embed(*tgt_embedding_, *tgt_positions_, ids, state.steps);
  for (size_t i = 0; i < decoder_layers_.size(); ++i)
    h = decoder_layers_[i]->forward_step(h, state.layers[i], state.memory_key_padding_mask);
  if (decoder_norm_) h = decoder_norm_->forward(h);
  ++state.steps;
  return ops::log_softmax(ops::reshape(project_output(h), {state.rows(), config_.tgt_vocab_size}), -1);
}

void TransformerTranslator::select_rows(DecoderState& state, const Tensor& rows, const Tensor& memory_rows) {
  auto pick = [](Tensor& t, const Tensor& which) {
    if (!t.defined()) return;
    Shape shape = t.shape();
    shape[0] = which.size(0);
    t = ops::reshape(ops::gather_rows(ops::reshape(t, {t.size(0), t.numel() / t.size(0)}), which), shape);
  };
  for (auto& layer : state.layers) {
    pick(layer.self_k, rows), pick(layer.self_v, rows);
    if (memory_rows.defined()) pick(layer.cross_k, memory_rows), pick(layer.cross_v, memory_rows);
  }
  if (!memory_rows.defined()) return;
  const Tensor& mask = state.memory_key_padding_mask;
  Tensor picked = Tensor::empty({memory_rows.size(0), mask.size(1)}, DType::kU8);
  const int32_t* r = memory_rows.data<int32_t>();
  for (int64_t i = 0; i < memory_rows.size(0); ++i)
    std::copy_n(mask.data<uint8_t>() + r[i] * mask.size(1), mask.size(1), picked.data<uint8_t>() + i * mask.size(1));
  state.memory_key_padding_mask = picked;
}

}  // namespace lmaas::models
