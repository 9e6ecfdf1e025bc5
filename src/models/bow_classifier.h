// BowClassifier (fastText's supervised model): the mean of the embeddings of a text's ids — its words
// and, through the TextEncoder, its hashed word n-grams — feeds one linear layer. Padding id 0 is
// excluded from the mean; an empty text gives the zero vector.
#pragma once

#include "models/classifier.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"

namespace lmaas::models {

struct BowConfig {
  int64_t vocab_size = 0;  // token ids + n-gram buckets
  int64_t embedding_dim = 100;
  int64_t n_classes = 2;
  double dropout = 0.0;  // on the averaged embedding
  bool sparse_grad = true;  // row-sparse embedding gradients: a step costs the rows it touches
  uint64_t seed = 1;
};

class BowClassifier : public Classifier {
 public:
  explicit BowClassifier(const BowConfig& config);
  Tensor forward(const Tensor& ids) override;
  Tensor encode(const Tensor& ids) override;
  int64_t n_classes() const override { return config_.n_classes; }
  nlohmann::json config_json() const override;
  std::vector<Tensor> token_embeddings() const override { return {embedding_->weight()}; }

 private:
  BowConfig config_;
  std::shared_ptr<nn::Embedding> embedding_;
  std::shared_ptr<nn::Dropout> dropout_;
  std::shared_ptr<nn::Linear> classifier_;
};

}  // namespace lmaas::models
