// Dropout: inverted dropout in training mode, identity in eval mode. Owns its Rng (seeded at
// construction, restarted by Module::reseed from its construction seed and the given one), so a fixed
// seed gives the same masks run after run.
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
  void reseed_self(uint64_t seed) override;

  double p_;
  uint64_t seed_;
  Rng rng_;
};

}  // namespace lmaas::nn
