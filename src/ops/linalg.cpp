// matmul and linear: GEMMs over contiguous 2-D views (leading dimensions flattened).
#include "ops/op_util.h"
#include "ops/ops.h"

namespace lmaas::ops {
namespace {

using detail::check_floating;
using detail::check_same_dtype;

// c[m, n] = op(a)·op(b) (+ c when accumulate); a, b, c contiguous 2-D (or 2-D slices of one batch).
template <typename T>
void gemm_2d(bool ta, bool tb, int64_t m, int64_t n, int64_t kk, const T* a, const T* b, T* c, bool accumulate) {
  k::gemm<T>(ta, tb, m, n, kk, T(1), a, ta ? m : kk, b, tb ? kk : n, accumulate ? T(1) : T(0), c, n);
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_floating("linear", "x", x);
  check_floating("linear", "weight", weight);
  check_same_dtype("linear", x, weight);
  detail::check_dim("linear", "weight", weight, 2);
  const int64_t in = weight.size(1), out_features = weight.size(0);
  LMAAS_CHECK(x.dim() >= 1 && x.size(-1) == in, "linear: input of shape {} does not end in in_features {} (weight {})",
              shape_str(x.shape()), in, shape_str(weight.shape()));
  if (bias.defined()) detail::check_shape("linear", "bias", bias, {out_features});
  Tensor xc = x.contiguous(), wc = weight.contiguous(), bc = bias.defined() ? bias.contiguous() : Tensor();
  const int64_t rows = x.numel() / in;
  Shape out_shape = x.shape();
  out_shape.back() = out_features;
  Tensor out = Tensor::empty(out_shape, x.dtype());
  LMAAS_DISPATCH_FLOATING(x.dtype(), "linear", [&] {
    T* o = out.data<T>();
    if (bc.defined()) {
      const T* b = bc.data<T>();
      for (int64_t r = 0; r < rows; ++r) std::copy(b, b + out_features, o + r * out_features);
    }
    gemm_2d<T>(false, true, rows, out_features, in, xc.data<T>(), wc.data<T>(), o, bc.defined());
  });
  if (autograd::should_record(x, weight, bias.defined() ? bias : Tensor())) {
    autograd::track(out);
    autograd::push([x, weight, bias, xc, wc, out, rows, in, out_features] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor gc = g.contiguous();
      LMAAS_DISPATCH_FLOATING(x.dtype(), "linear backward", [&] {
        if (x.requires_grad()) {
          Tensor dx = Tensor::empty(x.shape(), x.dtype());
          gemm_2d<T>(false, false, rows, in, out_features, gc.data<T>(), wc.data<T>(), dx.data<T>(), false);
          autograd::accumulate_grad(x, dx, true);
        }
        if (weight.requires_grad()) {
          Tensor dw = Tensor::empty(weight.shape(), weight.dtype());
          gemm_2d<T>(true, false, out_features, in, rows, gc.data<T>(), xc.data<T>(), dw.data<T>(), false);
          autograd::accumulate_grad(weight, dw, true);
        }
        if (bias.defined() && bias.requires_grad()) {
          Tensor db = Tensor::empty(bias.shape(), bias.dtype());
          k::sum_rows<T>(gc.data<T>(), db.data<T>(), rows, out_features, false);
          autograd::accumulate_grad(bias, db, true);
        }
      });
    });
  }
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_floating("matmul", "a", a);
  check_floating("matmul", "b", b);
  check_same_dtype("matmul", a, b);
  LMAAS_CHECK(a.dim() >= 2 && (b.dim() == 2 || (b.dim() == 3 && a.dim() == 3 && a.size(0) == b.size(0))),
              "matmul: shapes {} and {} are not supported (a[..., m, k]·b[k, n] or a[B, m, k]·b[B, k, n])",
              shape_str(a.shape()), shape_str(b.shape()));
  const int64_t kk = a.size(-1), m = a.size(-2), n = b.size(-1);
  LMAAS_CHECK(b.size(-2) == kk, "matmul: inner dimensions differ: {} vs {}", shape_str(a.shape()), shape_str(b.shape()));
  const bool batched = b.dim() == 3;
  const int64_t n_batch = batched ? a.size(0) : 1;
  const int64_t rows = batched ? m : a.numel() / kk;  // 2-D b: flatten a's leading dimensions
  Tensor ac = a.contiguous(), bc = b.contiguous();
  Shape out_shape = a.shape();
  out_shape.back() = n;
  Tensor out = Tensor::empty(out_shape, a.dtype());
  LMAAS_DISPATCH_FLOATING(a.dtype(), "matmul", [&] {
    for (int64_t i = 0; i < n_batch; ++i)
      gemm_2d<T>(false, false, rows, n, kk, ac.data<T>() + i * rows * kk, bc.data<T>() + (batched ? i * kk * n : 0),
                 out.data<T>() + i * rows * n, false);
  });
  if (autograd::should_record(a, b)) {
    autograd::track(out);
    autograd::push([a, b, ac, bc, out, n_batch, rows, n, kk, batched] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor gc = g.contiguous();
      LMAAS_DISPATCH_FLOATING(a.dtype(), "matmul backward", [&] {
        Tensor da = a.requires_grad() ? Tensor::empty(a.shape(), a.dtype()) : Tensor();
        Tensor db = b.requires_grad() ? Tensor::zeros(b.shape(), b.dtype()) : Tensor();
        for (int64_t i = 0; i < n_batch; ++i) {
          const T* gi = gc.data<T>() + i * rows * n;
          const T* bi = bc.data<T>() + (batched ? i * kk * n : 0);
          if (da.defined()) gemm_2d<T>(false, true, rows, kk, n, gi, bi, da.data<T>() + i * rows * kk, false);
          if (db.defined())
            gemm_2d<T>(true, false, kk, n, rows, ac.data<T>() + i * rows * kk, gi, db.data<T>() + (batched ? i * kk * n : 0),
                       !batched && i > 0);
        }
        if (da.defined()) autograd::accumulate_grad(a, da, true);
        if (db.defined()) autograd::accumulate_grad(b, db, true);
      });
    });
  }
  return out;
}

}  // namespace lmaas::ops
