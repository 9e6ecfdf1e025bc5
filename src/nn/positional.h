// Positional encodings added to x[B, T, D]:
// - SinusoidalPositionalEncoding (Vaswani et al. 2017): pe[t, 2i] = sin(t / 10000^(2i/D)),
//   pe[t, 2i+1] = cos(t / 10000^(2i/D)); no parameters.
// - LearnedPositionalEmbedding: a parameter `weight` [max_len, D], init N(0, 0.02).
// Both are PositionalEncodings (a model holding either just calls forward) and reject offset + T > max_len
// with an error naming both. `offset` is the position of x's first step (incremental decoding feeds one
// step at a time).
#pragma once

#include "base/rng.h"
#include "nn/module.h"

namespace lmaas::nn {

class PositionalEncoding : public Module {
 public:
  // x[B, T, D] + the encodings of positions offset … offset + T - 1.
  virtual Tensor forward(const Tensor& x, int64_t offset = 0) const = 0;
};

class SinusoidalPositionalEncoding : public PositionalEncoding {
 public:
  SinusoidalPositionalEncoding(int64_t max_len, int64_t dim);
  Tensor forward(const Tensor& x, int64_t offset = 0) const override;
  const Tensor& table() const { return table_; }

 private:
  Tensor table_;  // [max_len, dim], not a parameter
};

class LearnedPositionalEmbedding : public PositionalEncoding {
 public:
  LearnedPositionalEmbedding(int64_t max_len, int64_t dim, Rng& rng);
  Tensor forward(const Tensor& x, int64_t offset = 0) const override;

 private:
  Tensor weight_;
};

}  // namespace lmaas::nn
