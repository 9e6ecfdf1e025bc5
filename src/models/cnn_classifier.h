// CnnClassifier (Kim 2014, CNN-rand): embeddings → for each window width w, a convolution of
// `filters` maps over every w consecutive tokens (a linear map of the w embeddings concatenated) and
// ReLU → max over the windows that start on a real token → concatenation → dropout → linear.
// Windows that run past the text's end see zero vectors (Kim's zero padding), so the result does not
// depend on how much padding the batch carries.
#pragma once

#include <vector>

#include "models/classifier.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/linear.h"

namespace lmaas::models {

struct CnnConfig {
  int64_t vocab_size = 0;
  int64_t embedding_dim = 128;
  std::vector<int64_t> widths = {3, 4, 5};
  int64_t filters = 100;  // per width
  int64_t n_classes = 2;
  double dropout = 0.5;
  uint64_t seed = 1;
};

class CnnClassifier : public Classifier {
 public:
  explicit CnnClassifier(const CnnConfig& config);
  Tensor forward(const Tensor& ids) override;
  Tensor encode(const Tensor& ids) override;
  int64_t n_classes() const override { return config_.n_classes; }
  nlohmann::json config_json() const override;
  std::vector<Tensor> token_embeddings() const override { return {embedding_->weight()}; }

 private:
  CnnConfig config_;
  std::shared_ptr<nn::Embedding> embedding_;
  std::vector<std::shared_ptr<nn::Linear>> convs_;
  std::shared_ptr<nn::Dropout> dropout_;
  std::shared_ptr<nn::Linear> classifier_;
};

}  // namespace lmaas::models
