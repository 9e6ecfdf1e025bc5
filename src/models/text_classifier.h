// TextClassifier: token ids → class logits. Embedding → encoder → pooling → Linear.
//   rnn / lstm / gru / bilstm: recurrent encoder over the padding mask; pooled by the final state (kLast
//     for one direction; for bilstm the concatenated forward-last and reverse-first states via h_n).
//   transformer: embedding + learned positions → n_layers encoder layers (key-padding mask) → masked mean.
// Parameter names: embedding.weight, encoder.* (rnn: weight_ih_l0 …; transformer: layers.{i}.self_attn…),
// positions.weight, classifier.weight/bias.
// Ownership: the model owns its layers; forward() may run concurrently only under NoGradGuard in eval mode.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/rng.h"
#include "models/classifier.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/positional.h"
#include "nn/recurrent.h"
#include "nn/transformer.h"

namespace lmaas::models {

enum class EncoderArch { kRnn, kLstm, kGru, kBiLstm, kTransformer };
Result<EncoderArch> parse_encoder_arch(const std::string& name);
std::string encoder_arch_name(EncoderArch arch);

struct TextClassifierConfig {
  EncoderArch arch = EncoderArch::kLstm;
  int64_t vocab_size = 20000;
  int64_t embedding_dim = 128;
  int64_t hidden_size = 128;  // RNN hidden size, or transformer d_model (must equal embedding_dim)
  int64_t num_layers = 1;
  int64_t n_heads = 4;
  int64_t dim_feedforward = 512;
  int64_t max_len = 512;
  int64_t n_classes = 2;
  int64_t padding_idx = 0;
  double dropout = 0.0;
  uint64_t seed = 1;
};

class TextClassifier : public Classifier {
 public:
  explicit TextClassifier(const TextClassifierConfig& config);
  // ids[B, T] I32, right- or left-padded with padding_idx → logits[B, n_classes].
  Tensor forward(const Tensor& ids) override;
  // The pooled representation [B, D] that feeds the classifier (used for embeddings).
  Tensor encode(const Tensor& ids) override;
  const TextClassifierConfig& config() const { return config_; }
  int64_t n_classes() const override { return config_.n_classes; }
  nlohmann::json config_json() const override;
  std::vector<Tensor> token_embeddings() const override { return {embedding_->weight()}; }
  static Result<TextClassifierConfig> config_from_json(const nlohmann::json& j);

  // Serving: precomputes, for a recurrent encoder, every token's first-layer input projection
  // (embedding·W_ihᵀ + b_ih, nn::Recurrent::token_tables) so that forward() under NoGradGuard looks it up
  // instead of multiplying — the input GEMM, about half an LSTM's arithmetic, disappears. The tables
  // snapshot the current weights: call it after the last weight change (loading, training); thaw() drops
  // them. Forward passes with grad enabled never use them. Returns false, and precomputes nothing, for a
  // transformer encoder or when the tables would exceed kMaxTokenTableBytes.
  static constexpr int64_t kMaxTokenTableBytes = int64_t{256} << 20;
  bool freeze_for_inference() override;
  void thaw() { token_tables_.clear(); }

 private:
  TextClassifierConfig config_;
  std::shared_ptr<nn::Embedding> embedding_;
  std::shared_ptr<nn::Recurrent> rnn_;
  std::shared_ptr<nn::LearnedPositionalEmbedding> positions_;
  std::vector<std::shared_ptr<nn::TransformerEncoderLayer>> layers_;
  std::shared_ptr<nn::Linear> classifier_;
  std::vector<Tensor> token_tables_;  // per direction; empty unless frozen
};

}  // namespace lmaas::models
