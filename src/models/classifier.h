// Classifier: the interface every text-classification architecture implements, and the factory that
// builds one from its config.json "architecture" object. Architectures:
//   rnn, lstm, gru, bilstm, transformer  TextClassifier (text_classifier.h)
//   bow                                  BowClassifier (fastText-style averaged embeddings)
//   cnn                                  CnnClassifier (Kim-style convolutions, max over time)
//   nbsvm                                NbsvmClassifier (naive-Bayes-scaled logistic regression)
//   ensemble                             EnsembleClassifier (members' probabilities averaged)
// Inputs are token ids [B, T] I32, right-padded with 0.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "nn/module.h"

namespace lmaas::models {

// Calls its argument once per training example with the example's ids and label.
using ExampleSource =
    std::function<void(const std::function<void(std::span<const int32_t> ids, int32_t label)>&)>;

class Classifier : public nn::Module {
 public:
  virtual Tensor forward(const Tensor& ids) = 0;  // logits [B, n_classes]
  virtual Tensor encode(const Tensor& ids) = 0;   // the pooled representation [B, D] under the head
  // The loss a training step minimises: cross-entropy of forward() unless the model says otherwise.
  virtual Tensor training_loss(const Tensor& ids, const Tensor& labels);
  virtual int64_t n_classes() const = 0;
  // The "architecture" object of config.json; make_classifier(config_json()) rebuilds this model.
  virtual nlohmann::json config_json() const = 0;
  // Serving: precompute what fixed weights allow (see TextClassifier); false when nothing applies.
  virtual bool freeze_for_inference() { return false; }
  // Before the first step of a fresh run: statistics of the training set the model keeps (in buffers).
  virtual void fit_statistics(const ExampleSource& /*for_each_example*/) {}
  // The embedding tables [vocab, dim] whose row i is token id i (pretrained vectors initialise them);
  // empty for a model without one (nbsvm).
  virtual std::vector<Tensor> token_embeddings() const { return {}; }
};

// `architecture` with every hyperparameter the user left out set to its default for that "arch"
// (e.g. lstm: embedding_dim 128, hidden_size 128, num_layers 1; cnn: widths [3, 4, 5], filters 100,
// dropout 0.5; ensemble: each of its "members", member i seeded seed + i), max_len and seed from the arguments when absent, and vocab_size and n_classes always
// from the arguments (the data decides them).
Result<nlohmann::json> complete_architecture(nlohmann::json architecture, int64_t vocab_size, int64_t n_classes,
                                             int64_t max_len, uint64_t seed);

// The id-space size an architecture reads (an ensemble: its members', which must agree); -1 if absent.
int64_t architecture_vocab_size(const nlohmann::json& architecture);

// Builds an untrained model (seeded initialisation) from an "architecture" object; errors name the field.
Result<std::unique_ptr<Classifier>> make_classifier(const nlohmann::json& architecture);

}  // namespace lmaas::models
