// Linear (Keras: Dense): y = x·weightᵀ + bias, weight[out, in] (PyTorch layout), then an optional
// activation (Keras' Dense(activation=…)). Init: glorot_uniform weight, zero bias (Keras defaults).
#pragma once

#include "base/rng.h"
#include "nn/module.h"

namespace lmaas::nn {

enum class Activation { kNone, kSigmoid, kTanh, kRelu, kGelu };
Tensor apply_activation(Activation activation, const Tensor& x);

class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, Rng& rng, bool bias = true, Activation activation = Activation::kNone);
  Tensor forward(const Tensor& x) const;
  const Tensor& weight() const { return weight_; }
  const Tensor& bias() const { return bias_; }

 private:
  Tensor weight_, bias_;
  Activation activation_;
};

using Dense = Linear;

}  // namespace lmaas::nn
