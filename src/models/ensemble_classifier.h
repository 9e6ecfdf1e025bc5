// EnsembleClassifier: several classifiers over the same input ids, each trained on its own loss (their
// sum), whose class probabilities are averaged at prediction. Its logits are log(mean of the members'
// softmax), so softmax(logits) is that mean and cross-entropy on them is the ensemble's log loss.
// Members share the TextEncoder, so they suit the same kind of ids (e.g. nbsvm and bow over words and
// hashed n-grams).
#pragma once

#include <vector>

#include "models/classifier.h"

namespace lmaas::models {

class EnsembleClassifier : public Classifier {
 public:
  explicit EnsembleClassifier(std::vector<std::unique_ptr<Classifier>> members);
  Tensor forward(const Tensor& ids) override;
  Tensor encode(const Tensor& ids) override;  // the members' representations side by side
  Tensor training_loss(const Tensor& ids, const Tensor& labels) override;
  int64_t n_classes() const override { return members_.front()->n_classes(); }
  nlohmann::json config_json() const override;
  bool freeze_for_inference() override;
  void fit_statistics(const ExampleSource& for_each_example) override;
  std::vector<Tensor> token_embeddings() const override;  // every member's

 private:
  std::vector<std::shared_ptr<Classifier>> members_;
};

}  // namespace lmaas::models
