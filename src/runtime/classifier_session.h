// ClassifierSession: a model bundle loaded for inference — tokenizer, labels, the model (frozen for
// serving) — turning texts into class probabilities. Texts are batched by length so that little
// padding is computed. One call at a time per session (the model's buffers are not shared-safe).
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "models/classifier.h"
#include "text/text_encoder.h"

namespace lmaas::runtime {

class ClassifierSession {
 public:
  static Result<std::unique_ptr<ClassifierSession>> load(const std::string& dir);

  // probabilities[i][c] for every text, in input order.
  std::vector<std::vector<float>> predict(const std::vector<std::string>& texts, int64_t batch_size = 64) const;
  // The pooled representation under the classifier's head, one row of embedding_dim() per text.
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts, int64_t batch_size = 64) const;
  // The same over views (the server's queue holds the texts; nothing is copied).
  std::vector<std::vector<float>> predict(std::span<const std::string_view> texts, int64_t batch_size = 64) const;
  std::vector<std::vector<float>> embed(std::span<const std::string_view> texts, int64_t batch_size = 64) const;
  const std::vector<std::string>& labels() const { return labels_; }
  const nlohmann::json& config() const { return config_; }

 private:
  ClassifierSession() = default;
  // Encodes, sorts by length, pads each batch and copies `fn(ids)`'s rows [b, width] back in input order.
  std::vector<std::vector<float>> run_batched(std::span<const std::string_view> texts, int64_t batch_size,
                                              const std::function<Tensor(const Tensor&)>& fn) const;
  nlohmann::json config_;
  std::vector<std::string> labels_;
  std::unique_ptr<text::TextEncoder> encoder_;
  std::unique_ptr<models::Classifier> model_;
};

}  // namespace lmaas::runtime
