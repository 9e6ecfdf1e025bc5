// NbsvmClassifier: logistic regression over binary n-gram features scaled by naive-Bayes log-count
// ratios — the logistic-regression form of Wang & Manning's NBSVM (2012), one-vs-rest for many classes.
//   features: the set of a text's ids (tokens, hashed word n-grams, hashed character n-grams from the
//             TextEncoder), each counted once;
//   ratio r[f][c] = log((p[f][c] / |p[·][c]|) / (q[f][c] / |q[·][c]|)), p = alpha + how many training
//             texts of class c hold f, q = the same over the other classes (fit_statistics, a buffer);
//   logits[c] = bias[c] + sum over the features f of r[f][c] * weight[f][c].
// The ratios scale each feature by how much it tells the classes apart; train it with SGD (an adaptive
// optimizer such as Adam divides that scale out again). The weight starts at zero and gets row-sparse
// gradients.
#pragma once

#include "models/classifier.h"

namespace lmaas::models {

struct NbsvmConfig {
  int64_t vocab_size = 0;  // token ids + n-gram buckets
  int64_t n_classes = 2;
  double alpha = 1.0;      // additive smoothing of the feature counts
  bool sparse_grad = true;  // row-sparse weight gradients: a step costs the rows it touches
};

class NbsvmClassifier : public Classifier {
 public:
  explicit NbsvmClassifier(const NbsvmConfig& config);
  Tensor forward(const Tensor& ids) override;
  Tensor encode(const Tensor& ids) override;  // the scaled feature sum, [B, n_classes]
  int64_t n_classes() const override { return config_.n_classes; }
  nlohmann::json config_json() const override;
  void fit_statistics(const ExampleSource& for_each_example) override;
  // Serving: weight * ratio as one table, read by a fused gather-and-sum (encode_frozen) whenever the
  // model is in eval mode without gradients. The weights must not change afterwards.
  bool freeze_for_inference() override;

 private:
  Tensor encode_frozen(const Tensor& ids) const;

  NbsvmConfig config_;
  Tensor weight_, bias_, ratio_;
  Tensor scaled_weight_;  // weight * ratio once frozen; undefined before
};

}  // namespace lmaas::models
