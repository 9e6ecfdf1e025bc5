// Initialisers with Keras' defaults (the engine's default choice) and PyTorch's where a layer says so.
// All draw from an explicit Rng, so a seed fixes every initial weight.
#pragma once

#include "base/rng.h"
#include "tensor/tensor.h"

namespace lmaas::nn::init {

void uniform(Tensor& t, Rng& rng, double lo, double hi);
void normal(Tensor& t, Rng& rng, double mean, double stddev);
// Keras glorot_uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)).
void glorot_uniform(Tensor& t, Rng& rng, int64_t fan_in, int64_t fan_out);
// Keras orthogonal (gain 1): for t[rows, cols], orthonormal columns when rows >= cols, else rows;
// from the QR decomposition of a standard-normal matrix with the sign correction that makes it uniform.
void orthogonal(Tensor& t, Rng& rng);

}  // namespace lmaas::nn::init
