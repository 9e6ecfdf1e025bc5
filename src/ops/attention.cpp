// Scaled dot-product attention as one coarse op (probabilities kept for backward).
#include <cmath>

#include "ops/op_util.h"
#include "ops/ops.h"

namespace lmaas::ops {

Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k_in, const Tensor& v, int64_t n_heads,
                                    const Tensor& key_padding_mask, bool causal) {
  const char* op = "attention";
  for (auto [name, t] : {std::pair{"q", &q}, std::pair{"k", &k_in}, std::pair{"v", &v}}) {
    detail::check_floating(op, name, *t);
    detail::check_dim(op, name, *t, 3);
    detail::check_same_dtype(op, q, *t);
  }
  const int64_t batch = q.size(0), q_len = q.size(1), e = q.size(2), k_len = k_in.size(1);
  LMAAS_CHECK(n_heads > 0 && e % n_heads == 0, "{}: model width {} is not divisible by {} heads", op, e, n_heads);
  detail::check_shape(op, "k", k_in, {batch, k_len, e});
  detail::check_shape(op, "v", v, {batch, k_len, e});
  if (key_padding_mask.defined()) {
    detail::check_shape(op, "key_padding_mask", key_padding_mask, {batch, k_len});
    LMAAS_CHECK(key_padding_mask.dtype() == DType::kU8, "{}: key_padding_mask must be U8 (1 = ignore), got {}", op,
                dtype_name(key_padding_mask.dtype()));
  }
  const kernels::ref::AttentionDims dims{batch, n_heads, q_len, k_len, e / n_heads, causal,
                                         1.0 / std::sqrt(static_cast<double>(e / n_heads))};
  Tensor qc = q.contiguous(), kc = k_in.contiguous(), vc = v.contiguous();
  Tensor pad = key_padding_mask.defined() ? key_padding_mask.contiguous() : Tensor();
  Tensor probs = Tensor::empty({batch, n_heads, q_len, k_len}, q.dtype());
  Tensor out = Tensor::empty({batch, q_len, e}, q.dtype());
  LMAAS_DISPATCH_FLOATING(q.dtype(), op, [&] {
    k::attention_forward<T>(dims, qc.data<T>(), kc.data<T>(), vc.data<T>(), pad.defined() ? pad.data<uint8_t>() : nullptr,
                            probs.data<T>(), out.data<T>());
  });
  if (autograd::should_record(q, k_in, v)) {
    autograd::track(out);
    autograd::push([=] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor gc = g.contiguous();
      Tensor dq = Tensor::empty(q.shape(), q.dtype()), dk = Tensor::empty(k_in.shape(), q.dtype()),
             dv = Tensor::empty(v.shape(), q.dtype());
      LMAAS_DISPATCH_FLOATING(q.dtype(), "attention backward", [&] {
        k::attention_backward<T>(dims, qc.data<T>(), kc.data<T>(), vc.data<T>(),
                                 pad.defined() ? pad.data<uint8_t>() : nullptr, probs.data<T>(), gc.data<T>(),
                                 dq.data<T>(), dk.data<T>(), dv.data<T>());
      });
      autograd::accumulate_grad(q, dq, true);
      autograd::accumulate_grad(k_in, dk, true);
      autograd::accumulate_grad(v, dv, true);
    });
  }
  return out;
}

}  // namespace lmaas::ops
