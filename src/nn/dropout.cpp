#include "nn/dropout.h"

#include "ops/ops.h"

namespace lmaas::nn {

Dropout::Dropout(double p, uint64_t seed) : p_(p), seed_(seed), rng_(seed) {
  LMAAS_CHECK(p >= 0.0 && p < 1.0, "Dropout: p = {} is outside [0, 1)", p);
}

void Dropout::reseed_self(uint64_t seed) { rng_ = Rng(mix64(seed_ ^ seed)); }

Tensor Dropout::forward(const Tensor& x) { return ops::dropout(x, p_, is_training(), rng_); }

}  // namespace lmaas::nn
