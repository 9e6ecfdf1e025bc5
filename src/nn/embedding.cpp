#include "nn/embedding.h"

#include "nn/init.h"
#include "ops/ops.h"

namespace lmaas::nn {

Embedding::Embedding(int64_t vocab_size, int64_t dim, Rng& rng, int64_t padding_idx, bool sparse_grad)
    : padding_idx_(padding_idx), sparse_grad_(sparse_grad) {
  LMAAS_CHECK(padding_idx < vocab_size, "Embedding: padding_idx {} outside a vocabulary of {}", padding_idx, vocab_size);
  Tensor w = Tensor::empty({vocab_size, dim});
  init::uniform(w, rng, -0.05, 0.05);
  if (padding_idx >= 0) w.select(0, padding_idx).zero();
  weight_ = register_parameter("weight", w);
}

Tensor Embedding::forward(const Tensor& ids) const { return ops::embedding(ids, weight_, padding_idx_, sparse_grad_); }

Tensor Embedding::bag_mean(const Tensor& ids) const {
  return ops::embedding_bag_mean(ids, weight_, padding_idx_, sparse_grad_);
}

Tensor Embedding::padding_mask(const Tensor& ids) const {
  Tensor ic = ids.contiguous();
  Tensor mask = Tensor::empty(ids.shape(), DType::kU8);
  for (int64_t i = 0; i < ids.numel(); ++i) mask.data<uint8_t>()[i] = ic.data<int32_t>()[i] != padding_idx_;
  return mask;
}

}  // namespace lmaas::nn
