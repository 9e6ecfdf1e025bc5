// Embedding: ids (I32, any shape) → vectors. padding_idx (or -1): that row starts at zero and never
// learns (PyTorch's padding_idx; Keras' mask_zero is padding_idx = 0 plus padding_mask()).
// Init: U(-0.05, 0.05) (Keras' default).
#pragma once

#include "base/rng.h"
#include "nn/module.h"

namespace lmaas::nn {

class Embedding : public Module {
 public:
  // sparse_grad: the weight gets row-sparse gradients (ops::embedding), for large vocabularies.
  Embedding(int64_t vocab_size, int64_t dim, Rng& rng, int64_t padding_idx = -1, bool sparse_grad = false);
  Tensor forward(const Tensor& ids) const;
  // ids [B, T] → [B, D]: the mean of each row's embeddings, padding excluded (ops::embedding_bag_mean).
  Tensor bag_mean(const Tensor& ids) const;
  // U8 mask of ids' shape: 1 where the id is a real token, 0 where it equals padding_idx.
  Tensor padding_mask(const Tensor& ids) const;
  const Tensor& weight() const { return weight_; }
  int64_t padding_idx() const { return padding_idx_; }

 private:
  Tensor weight_;
  int64_t padding_idx_;
  bool sparse_grad_ = false;
};

}  // namespace lmaas::nn
