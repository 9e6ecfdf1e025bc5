// Dropout: inverted dropout in training mode, identity in eval mode. Owns its Rng (seeded at
// construction), so a fixed seed gives the same masks run after run.
#pragma once

#include "base/rng.h"
#include "nn/module.h"

namespace lmaas::nn {

class Dropout : public Module {
 public:
  Dropout(double p, uint64_t seed);
  Tensor forward(const Tensor& x);
  double p() const { return p_; }

 private:
  double p_;
  Rng rng_;
};

}  // namespace lmaas::nn
