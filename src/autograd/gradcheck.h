// Finite-difference gradient check. Runs `fn` on F64 inputs, reduces its outputs to a scalar with fixed
// random weights (L = Σ_k Σ w_k ⊙ out_k), and compares autograd's dL/dx with central differences
// (L(x+ε) - L(x-ε)) / 2ε for every element of every differentiable input.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace lmaas::autograd {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-5;
  uint64_t seed = 1234;
};

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0.0;
  std::string message;  // first mismatch: input, element, analytic, numeric
};

using GradcheckFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// `differentiable[i]` says whether input i is checked (integer inputs never are).
GradcheckResult gradcheck(const GradcheckFn& fn, std::vector<Tensor> inputs, const std::vector<bool>& differentiable,
                          const GradcheckOptions& options = {});

}  // namespace lmaas::autograd
