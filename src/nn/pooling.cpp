#include "nn/pooling.h"

#include "ops/ops.h"

namespace lmaas::nn {
namespace {

// Per-row weights [B, T, 1] (constants, no gradient) for a weighted sum over time.
Tensor time_weights(const Tensor& mask, int64_t batch, int64_t steps, Pooling pooling, DType dtype) {
  Tensor w = Tensor::zeros({batch, steps, 1}, DType::kF64);
  double* pw = w.data<double>();
  Tensor m = mask.defined() ? mask.contiguous() : Tensor();
  for (int64_t b = 0; b < batch; ++b) {
    int64_t count = 0, last = -1;
    for (int64_t t = 0; t < steps; ++t) {
      if (m.defined() && !m.data<uint8_t>()[b * steps + t]) continue;
      ++count;
      last = t;
      if (pooling == Pooling::kMean) pw[b * steps + t] = 1.0;
    }
    if (pooling == Pooling::kMean && count > 0)
      for (int64_t t = 0; t < steps; ++t) pw[b * steps + t] /= static_cast<double>(count);
    if (pooling == Pooling::kLast && last >= 0) pw[b * steps + last] = 1.0;
  }
  return w.to(dtype);
}

}  // namespace

Tensor pool(const Tensor& x, const Tensor& mask, Pooling pooling) {
  LMAAS_CHECK(x.dim() == 3, "pool: input {} is not [B, T, D]", shape_str(x.shape()));
  const int64_t batch = x.size(0), steps = x.size(1);
  LMAAS_CHECK(!mask.defined() || (mask.shape() == Shape{batch, steps} && mask.dtype() == DType::kU8),
              "pool: mask must be U8 [{}, {}], got {} {}", batch, steps, dtype_name(mask.dtype()), shape_str(mask.shape()));
  switch (pooling) {
    case Pooling::kFirst: return ops::select(x, 1, 0);
    case Pooling::kMean:
    case Pooling::kLast: return ops::sum(ops::mul(x, time_weights(mask, batch, steps, pooling, x.dtype())), 1);
    case Pooling::kMax: {
      if (!mask.defined()) return ops::max(x, 1);
      // Push padded positions far below any real value so that max never picks them.
      Tensor penalty = Tensor::empty({batch, steps, 1}, DType::kF64);
      Tensor m = mask.contiguous();
      for (int64_t i = 0; i < batch * steps; ++i) penalty.data<double>()[i] = m.data<uint8_t>()[i] ? 0.0 : -1e30;
      return ops::max(ops::add(x, penalty.to(x.dtype())), 1);
    }
  }
  return Tensor();
}

}  // namespace lmaas::nn
