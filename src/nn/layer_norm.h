// LayerNorm over the last axis, affine (weight = 1, bias = 0 at start), eps 1e-5 (PyTorch's default;
// Keras uses 1e-3 — pass it explicitly to match Keras).
#pragma once

#include "nn/module.h"

namespace lmaas::nn {

class LayerNorm : public Module {
 public:
  explicit LayerNorm(int64_t dim, double eps = 1e-5);
  Tensor forward(const Tensor& x) const;

 private:
  Tensor weight_, bias_;
  double eps_;
};

}  // namespace lmaas::nn
