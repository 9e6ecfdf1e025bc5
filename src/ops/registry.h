// The op registry: every differentiable op of ops.h with a recipe for random inputs. The test harnesses
// walk it: reference-vs-fast kernels (forward and backward, contiguous and strided inputs) and
// double-precision finite-difference gradient checks. Adding an op to ops.h means adding it here.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "base/rng.h"
#include "tensor/tensor.h"

namespace lmaas::ops {

struct InputSpec {
  DType dtype;               // floating inputs follow the requested dtype
  bool non_contiguous;       // build floating inputs as strided views
  bool large;                // larger shapes that reach the vectorised paths (hidden % 8 == 0, long rows)
};

struct OpCase {
  std::string name;
  std::function<std::vector<Tensor>(Rng&, const InputSpec&)> make_inputs;
  std::vector<bool> differentiable;  // per input: checked by gradcheck, compared by ref-vs-fast
  std::function<std::vector<Tensor>(const std::vector<Tensor>&)> run;
};

const std::vector<OpCase>& op_registry();

// A random floating tensor with values uniform in [lo, hi); strided when spec.non_contiguous.
Tensor random_tensor(Rng& rng, const Shape& shape, const InputSpec& spec, double lo = -1.0, double hi = 1.0);

}  // namespace lmaas::ops
