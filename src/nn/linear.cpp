#include "nn/linear.h"

#include "nn/init.h"
#include "ops/ops.h"

namespace lmaas::nn {

Tensor apply_activation(Activation activation, const Tensor& x) {
  switch (activation) {
    case Activation::kNone: return x;
    case Activation::kSigmoid: return ops::sigmoid(x);
    case Activation::kTanh: return ops::tanh(x);
    case Activation::kRelu: return ops::relu(x);
    case Activation::kGelu: return ops::gelu(x);
  }
  return x;
}

Linear::Linear(int64_t in_features, int64_t out_features, Rng& rng, bool bias, Activation activation)
    : activation_(activation) {
  Tensor w = Tensor::empty({out_features, in_features});
  init::glorot_uniform(w, rng, in_features, out_features);
  weight_ = register_parameter("weight", w);
  if (bias) bias_ = register_parameter("bias", Tensor::zeros({out_features}));
}

Tensor Linear::forward(const Tensor& x) const { return apply_activation(activation_, ops::linear(x, weight_, bias_)); }

}  // namespace lmaas::nn
