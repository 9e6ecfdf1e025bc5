#include "nn/positional.h"

#include <cmath>

#include "nn/init.h"
#include "ops/ops.h"

namespace lmaas::nn {
namespace {

void check_length(const Tensor& x, int64_t offset, int64_t max_len, int64_t dim) {
  LMAAS_CHECK(x.dim() == 3 && x.size(2) == dim, "positional encoding: input {} is not [B, T, {}]", shape_str(x.shape()), dim);
  LMAAS_CHECK(offset >= 0 && offset + x.size(1) <= max_len,
              "positional encoding: positions {}..{} exceed max_len {}", offset, offset + x.size(1) - 1, max_len);
}

}  // namespace

SinusoidalPositionalEncoding::SinusoidalPositionalEncoding(int64_t max_len, int64_t dim) {
  table_ = Tensor::empty({max_len, dim});
  float* p = table_.data<float>();
  for (int64_t t = 0; t < max_len; ++t) {
    for (int64_t i = 0; i < dim; i += 2) {
      double angle = static_cast<double>(t) / std::pow(10000.0, static_cast<double>(i) / static_cast<double>(dim));
      p[t * dim + i] = static_cast<float>(std::sin(angle));
      if (i + 1 < dim) p[t * dim + i + 1] = static_cast<float>(std::cos(angle));
    }
  }
}

Tensor SinusoidalPositionalEncoding::forward(const Tensor& x, int64_t offset) const {
  check_length(x, offset, table_.size(0), table_.size(1));
  return ops::add(x, table_.slice(0, offset, offset + x.size(1)).to(x.dtype()));
}

LearnedPositionalEmbedding::LearnedPositionalEmbedding(int64_t max_len, int64_t dim, Rng& rng) {
  Tensor w = Tensor::empty({max_len, dim});
  init::normal(w, rng, 0.0, 0.02);
  weight_ = register_parameter("weight", w);
}

Tensor LearnedPositionalEmbedding::forward(const Tensor& x, int64_t offset) const {
  check_length(x, offset, weight_.size(0), weight_.size(1));
  return ops::add(x, ops::slice(weight_, 0, offset, offset + x.size(1)));
}

}  // namespace lmaas::nn
