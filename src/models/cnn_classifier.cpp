#include "models/cnn_classifier.h"

#include <algorithm>

#include "nn/pooling.h"
#include "ops/ops.h"

namespace lmaas::models {
namespace {

// ids [B, T] right-padded with zeros to `min_steps` columns.
Tensor pad_to(const Tensor& ids, int64_t min_steps) {
  if (ids.size(1) >= min_steps) return ids;
  Tensor out = Tensor::zeros({ids.size(0), min_steps}, DType::kI32);
  out.slice(1, 0, ids.size(1)).copy_from(ids);
  return out;
}

// [B, windows] U8: window t counts when it starts on a real token; window 0 always (an empty text
// still gets a value, from its padding).
Tensor window_mask(const Tensor& token_mask, int64_t windows) {
  const int64_t batch = token_mask.size(0), steps = token_mask.size(1);
  Tensor m = Tensor::empty({batch, windows}, DType::kU8);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < windows; ++t)
      m.data<uint8_t>()[b * windows + t] = t == 0 || token_mask.data<uint8_t>()[b * steps + t];
  return m;
}

}  // namespace

CnnClassifier::CnnClassifier(const CnnConfig& c) : config_(c) {
  LMAAS_CHECK(!c.widths.empty() && c.filters > 0, "cnn: needs at least one width and filters > 0");
  Rng rng(c.seed);
  embedding_ = register_module("embedding", std::make_shared<nn::Embedding>(c.vocab_size, c.embedding_dim, rng, 0));
  auto convs = register_module("convs", std::make_shared<nn::ModuleList>());
  for (size_t i = 0; i < c.widths.size(); ++i) {
    LMAAS_CHECK(c.widths[i] > 0, "cnn: window width {} must be positive", c.widths[i]);
    convs_.push_back(convs->add(std::to_string(i), std::make_shared<nn::Linear>(c.widths[i] * c.embedding_dim, c.filters,
                                                                               rng, true, nn::Activation::kRelu)));
  }
  if (c.dropout > 0) dropout_ = register_module("dropout", std::make_shared<nn::Dropout>(c.dropout, c.seed * 7919));
  classifier_ = register_module(
      "classifier", std::make_shared<nn::Linear>(c.filters * static_cast<int64_t>(c.widths.size()), c.n_classes, rng));
}

Tensor CnnClassifier::encode(const Tensor& ids_in) {
  // Every window that starts on a real token must exist whatever the batch's length: pad by the widest
  // window - 1.
  const int64_t widest = *std::max_element(config_.widths.begin(), config_.widths.end());
  const Tensor ids = pad_to(ids_in, ids_in.size(1) + widest - 1);
  const Tensor token_mask = embedding_->padding_mask(ids);
  // Padding positions contribute exact zeros (Kim's zero padding), whatever the padding row holds.
  const Tensor x = ops::mul(embedding_->forward(ids),
                            ops::reshape(token_mask, {ids.size(0), ids.size(1), 1}).to(embedding_->weight().dtype()));
  const int64_t steps = ids.size(1);
  std::vector<Tensor> pooled;
  for (size_t i = 0; i < convs_.size(); ++i) {
    const int64_t w = config_.widths[i], windows = steps - w + 1;
    // Window t is tokens t … t+w-1, their embeddings side by side: [B, windows, w·E].
    std::vector<Tensor> shifted;
    for (int64_t k = 0; k < w; ++k) shifted.push_back(ops::slice(x, 1, k, k + windows));
    Tensor features = convs_[i]->forward(w == 1 ? shifted[0] : ops::cat(shifted, 2));
    pooled.push_back(nn::pool(features, window_mask(token_mask, windows), nn::Pooling::kMax));
  }
  Tensor h = pooled.size() == 1 ? pooled[0] : ops::cat(pooled, 1);
  return dropout_ ? dropout_->forward(h) : h;
}

Tensor CnnClassifier::forward(const Tensor& ids) { return classifier_->forward(encode(ids)); }

nlohmann::json CnnClassifier::config_json() const {
  return {{"arch", "cnn"},        {"vocab_size", config_.vocab_size}, {"embedding_dim", config_.embedding_dim},
          {"widths", config_.widths}, {"filters", config_.filters},   {"n_classes", config_.n_classes},
          {"dropout", config_.dropout}, {"seed", config_.seed}};
}

}  // namespace lmaas::models
