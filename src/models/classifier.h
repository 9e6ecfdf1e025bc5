// Classifier: the interface every text-classification architecture implements, and the factory that
// builds one from its config.json "architecture" object. Architectures:
//   rnn, lstm, gru, bilstm, transformer  TextClassifier (text_classifier.h)
//   bow                                  BowClassifier (fastText-style averaged embeddings)
//   cnn                                  CnnClassifier (Kim-style convolutions, max over time)
// Inputs are token ids [B, T] I32, right-padded with 0.
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "nn/module.h"

namespace lmaas::models {

class Classifier : public nn::Module {
 public:
  virtual Tensor forward(const Tensor& ids) = 0;  // logits [B, n_classes]
  virtual Tensor encode(const Tensor& ids) = 0;   // the pooled representation [B, D] under the head
  virtual int64_t n_classes() const = 0;
  // The "architecture" object of config.json; make_classifier(config_json()) rebuilds this model.
  virtual nlohmann::json config_json() const = 0;
  // Serving: precompute what fixed weights allow (see TextClassifier); false when nothing applies.
  virtual bool freeze_for_inference() { return false; }
};

// Builds an untrained model (seeded initialisation) from an "architecture" object; errors name the field.
Result<std::unique_ptr<Classifier>> make_classifier(const nlohmann::json& architecture);

}  // namespace lmaas::models
