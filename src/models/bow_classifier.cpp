#include "models/bow_classifier.h"

#include "ops/ops.h"

namespace lmaas::models {

BowClassifier::BowClassifier(const BowConfig& c) : config_(c) {
  Rng rng(c.seed);
  embedding_ = register_module("embedding", std::make_shared<nn::Embedding>(c.vocab_size, c.embedding_dim, rng, 0, c.sparse_grad));
  if (c.dropout > 0) dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(c.dropout, c.seed * 7919));
  classifier_ = register_module("classifier", std::make_shared<nn::Linear>(c.embedding_dim, c.n_classes, rng));
}

Tensor BowClassifier::encode(const Tensor& ids) {
  Tensor pooled = embedding_->bag_mean(ids);
  return dropout_ ? dropout_->forward(pooled) : pooled;
}

Tensor BowClassifier::forward(const Tensor& ids) { return classifier_->forward(encode(ids)); }

nlohmann::json BowClassifier::config_json() const {
  return {{"arch", "bow"}, {"vocab_size", config_.vocab_size}, {"embedding_dim", config_.embedding_dim},
          {"n_classes", config_.n_classes}, {"dropout", config_.dropout}, {"sparse_grad", config_.sparse_grad},
          {"seed", config_.seed}};
}

}  // namespace lmaas::models
