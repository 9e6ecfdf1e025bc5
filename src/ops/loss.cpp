// Losses with mean reduction, returning a scalar (shape []).
#include "ops/op_util.h"
#include "ops/ops.h"

namespace lmaas::ops {
namespace {

// Records backward for a fused loss whose per-element gradient `dinput` was computed in the forward pass.
Tensor finish_loss(const Tensor& input, Tensor loss, Tensor dinput) {
  if (autograd::should_record(input)) {
    autograd::track(loss);
    autograd::push([input, loss, dinput] {
      Tensor g = loss.grad();
      if (!g.defined()) return;
      autograd::accumulate_grad(input, g.item() == 1.0 ? dinput : mul_scalar(dinput, g.item()), true);
    });
  }
  return loss;
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index, double label_smoothing) {
  detail::check_floating("cross_entropy", "logits", logits);
  detail::check_dim("cross_entropy", "logits", logits, 2);
  detail::check_shape("cross_entropy", "targets", targets, {logits.size(0)});
  LMAAS_CHECK(targets.dtype() == DType::kI32, "cross_entropy: targets must be I32 class indices, got {}",
              dtype_name(targets.dtype()));
  LMAAS_CHECK(label_smoothing >= 0.0 && label_smoothing <= 1.0, "cross_entropy: label_smoothing {} is outside [0, 1]",
              label_smoothing);
  const int64_t n = logits.size(0), c = logits.size(1);
  Tensor tc = targets.contiguous();
  const int32_t* pt = tc.data<int32_t>();
  for (int64_t i = 0; i < n; ++i)
    LMAAS_CHECK(pt[i] == ignore_index || (pt[i] >= 0 && pt[i] < c),
                "cross_entropy: target {} at row {} is outside [0, {}) and is not ignore_index {}", pt[i], i, c,
                ignore_index);
  Tensor lc = logits.contiguous();
  Tensor dlogits = autograd::should_record(logits) ? Tensor::empty(logits.shape(), logits.dtype()) : Tensor();
  Tensor loss = Tensor::empty({}, logits.dtype());
  LMAAS_DISPATCH_FLOATING(logits.dtype(), "cross_entropy", [&] {
    double value = k::cross_entropy<T>(lc.data<T>(), pt, dlogits.defined() ? dlogits.data<T>() : nullptr, n, c,
                                       ignore_index, label_smoothing);
    loss.data<T>()[0] = static_cast<T>(value);
  });
  return finish_loss(logits, loss, dlogits);
}

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets) {
  detail::check_floating("binary_cross_entropy_with_logits", "logits", logits);
  detail::check_floating("binary_cross_entropy_with_logits", "targets", targets);
  detail::check_shape("binary_cross_entropy_with_logits", "targets", targets, logits.shape());
  Tensor lc = logits.contiguous(), tc = targets.to(logits.dtype()).contiguous();
  Tensor dlogits = autograd::should_record(logits) ? Tensor::empty(logits.shape(), logits.dtype()) : Tensor();
  Tensor loss = Tensor::empty({}, logits.dtype());
  LMAAS_DISPATCH_FLOATING(logits.dtype(), "binary_cross_entropy_with_logits", [&] {
    double value = kernels::ref::bce_with_logits<T>(lc.data<T>(), tc.data<T>(),
                                                     dlogits.defined() ? dlogits.data<T>() : nullptr, lc.numel());
    loss.data<T>()[0] = static_cast<T>(value);
  });
  return finish_loss(logits, loss, dlogits);
}

Tensor mse_loss(const Tensor& prediction, const Tensor& target) {
  detail::check_shape("mse_loss", "target", target, prediction.shape());
  Tensor diff = sub(prediction, target);
  return mean_all(mul(diff, diff));
}

}  // namespace lmaas::ops
