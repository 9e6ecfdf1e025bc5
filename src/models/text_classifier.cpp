#include "models/text_classifier.h"

#include "autograd/tape.h"
#include "nn/pooling.h"
#include "ops/ops.h"

namespace lmaas::models {
namespace {

// 1 where the id is padding (attention's key_padding_mask convention), from a 1 = token mask.
Tensor invert_mask(const Tensor& token_mask) {
  Tensor out = Tensor::empty(token_mask.shape(), DType::kU8);
  for (int64_t i = 0; i < out.numel(); ++i) out.data<uint8_t>()[i] = !token_mask.data<uint8_t>()[i];
  return out;
}

}  // namespace

Result<EncoderArch> parse_encoder_arch(const std::string& name) {
  if (name == "rnn") return EncoderArch::kRnn;
  if (name == "lstm") return EncoderArch::kLstm;
  if (name == "gru") return EncoderArch::kGru;
  if (name == "bilstm") return EncoderArch::kBiLstm;
  if (name == "transformer") return EncoderArch::kTransformer;
  return Status(Code::kInvalidArgument, "unknown architecture '" + name + "' (expected rnn, lstm, gru, bilstm, transformer)");
}

std::string encoder_arch_name(EncoderArch arch) {
  switch (arch) {
    case EncoderArch::kRnn: return "rnn";
    case EncoderArch::kLstm: return "lstm";
    case EncoderArch::kGru: return "gru";
    case EncoderArch::kBiLstm: return "bilstm";
    case EncoderArch::kTransformer: return "transformer";
  }
  return "?";
}

TextClassifier::TextClassifier(const TextClassifierConfig& c) : config_(c) {
  Rng rng(c.seed);
  embedding_ = register_module("embedding", std::make_shared<nn::Embedding>(c.vocab_size, c.embedding_dim, rng, c.padding_idx));
  int64_t pooled = c.hidden_size;
  if (c.arch == EncoderArch::kTransformer) {
    LMAAS_CHECK(c.hidden_size == c.embedding_dim, "transformer classifier: d_model {} must equal embedding_dim {}",
                c.hidden_size, c.embedding_dim);
    positions_ = register_module("positions", std::make_shared<nn::LearnedPositionalEmbedding>(c.max_len, c.embedding_dim, rng));
    auto stack = std::make_shared<nn::ModuleList>();
    nn::TransformerOptions o;
    o.d_model = c.hidden_size, o.n_heads = c.n_heads, o.dim_feedforward = c.dim_feedforward, o.dropout = c.dropout;
    for (int64_t i = 0; i < c.num_layers; ++i) {
      o.dropout_seed = c.seed * 7919 + static_cast<uint64_t>(i);
      layers_.push_back(stack->add(std::to_string(i), std::make_shared<nn::TransformerEncoderLayer>(o, rng)));
    }
    auto encoder = std::make_shared<nn::ModuleList>();
    encoder->add("layers", stack);
    register_module("encoder", encoder);
  } else {
    nn::RecurrentOptions o;
    o.input_size = c.embedding_dim, o.hidden_size = c.hidden_size, o.num_layers = c.num_layers;
    o.bidirectional = c.arch == EncoderArch::kBiLstm, o.dropout = c.dropout, o.dropout_seed = c.seed * 7919;
    o.return_sequences = false;  // the classifier reads the final states only
    nn::CellKind kind = c.arch == EncoderArch::kGru ? nn::CellKind::kGru
                        : c.arch == EncoderArch::kRnn ? nn::CellKind::kRnnTanh
                                                      : nn::CellKind::kLstm;
    rnn_ = register_module("encoder", std::make_shared<nn::Recurrent>(kind, o, rng));
    pooled = rnn_->output_size();
  }
  classifier_ = register_module("classifier", std::make_shared<nn::Linear>(pooled, c.n_classes, rng));
}

Tensor TextClassifier::encode(const Tensor& ids) {
  LMAAS_CHECK(ids.dim() == 2 && ids.dtype() == DType::kI32, "TextClassifier: ids must be I32 [B, T], got {} {}",
              dtype_name(ids.dtype()), shape_str(ids.shape()));
  Tensor token_mask = embedding_->padding_mask(ids);
  if (rnn_) {
    const bool use_tables = !token_tables_.empty() && !autograd::grad_enabled();
    auto state = use_tables ? rnn_->forward_tokens(ids, token_tables_, token_mask)
                            : rnn_->forward(embedding_->forward(ids), token_mask);
    // Final states of the last layer: forward (and reverse) directions, [B, D·H].
    const int64_t n_dirs = rnn_->n_directions(), n_states = state.h_n.size(0);
    std::vector<Tensor> finals;
    for (int64_t d = 0; d < n_dirs; ++d) finals.push_back(ops::select(state.h_n, 0, n_states - n_dirs + d));
    return n_dirs == 1 ? finals[0] : ops::cat(finals, 1);
  }
  // Position-wise work runs on the real tokens only; padded positions never reach the pooled output.
  Tensor x = embedding_->forward(ids);
  nn::TokenPacking packing = nn::make_token_packing(ids.size(0), ids.size(1), invert_mask(token_mask));
  Tensor h = nn::pack_tokens(positions_->forward(x), packing);
  for (auto& layer : layers_) h = layer->forward_packed(h, packing);
  return nn::pool(nn::unpack_tokens(h, packing), token_mask, nn::Pooling::kMean);
}

bool TextClassifier::freeze_for_inference() {
  token_tables_.clear();
  if (!rnn_) return false;
  const int64_t bytes =
      rnn_->n_directions() * config_.vocab_size * rnn_->n_gates() * config_.hidden_size * int64_t{sizeof(float)};
  if (bytes > kMaxTokenTableBytes) return false;
  token_tables_ = rnn_->token_tables(embedding_->weight());
  return true;
}

nlohmann::json TextClassifier::config_json() const {
  const TextClassifierConfig& c = config_;
  return {{"arch", encoder_arch_name(c.arch)}, {"vocab_size", c.vocab_size}, {"embedding_dim", c.embedding_dim},
          {"hidden_size", c.hidden_size},       {"num_layers", c.num_layers}, {"n_heads", c.n_heads},
          {"dim_feedforward", c.dim_feedforward}, {"max_len", c.max_len},   {"n_classes", c.n_classes},
          {"padding_idx", c.padding_idx},       {"dropout", c.dropout},       {"seed", c.seed}};
}

Result<TextClassifierConfig> TextClassifier::config_from_json(const nlohmann::json& j) {
  try {
    TextClassifierConfig c;
    auto arch = parse_encoder_arch(j.at("arch").get<std::string>());
    if (!arch.is_ok()) return arch.status();
    c.arch = arch.value();
    c.vocab_size = j.at("vocab_size").get<int64_t>();
    c.embedding_dim = j.at("embedding_dim").get<int64_t>();
    c.hidden_size = j.at("hidden_size").get<int64_t>();
    c.num_layers = j.at("num_layers").get<int64_t>();
    c.n_heads = j.at("n_heads").get<int64_t>();
    c.dim_feedforward = j.at("dim_feedforward").get<int64_t>();
    c.max_len = j.at("max_len").get<int64_t>();
    c.n_classes = j.at("n_classes").get<int64_t>();
    c.padding_idx = j.at("padding_idx").get<int64_t>();
    c.dropout = j.at("dropout").get<double>();
    c.seed = j.at("seed").get<uint64_t>();
    return c;
  } catch (const nlohmann::json::exception& e) {
    return Status(Code::kInvalidArgument, std::string("architecture: ") + e.what());
  }
}

Tensor TextClassifier::forward(const Tensor& ids) { return classifier_->forward(encode(ids)); }

}  // namespace lmaas::models
