// Elementwise ops with NumPy broadcasting, and pointwise activations.
#include <algorithm>
#include <functional>

#include "base/thread_pool.h"
#include "ops/op_util.h"
#include "ops/ops.h"

namespace lmaas::ops {
namespace {

using detail::check_floating;
using detail::check_same_dtype;

constexpr int64_t kElementsPerTask = 32768;

template <typename T, typename F>
void map2(const T* __restrict a, const T* __restrict b, T* __restrict out, int64_t n, F f) {
  for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
}

// out = f(a, b) elementwise over the broadcast shape (out contiguous). Inner loops are specialised for
// the common stride patterns so that they vectorise.
template <typename T, typename F>
void binary_apply(const Tensor& a, const Tensor& b, const Tensor& out, F f) {
  T* o = out.data<T>();
  if (a.shape() == out.shape() && b.shape() == out.shape() && a.is_contiguous() && b.is_contiguous()) {
    const T *pa = a.data<T>(), *pb = b.data<T>();
    parallel_for(out.numel(), kElementsPerTask, [&](int64_t i0, int64_t i1) { map2<T>(pa + i0, pb + i0, o + i0, i1 - i0, f); });
    return;
  }
  Tensor ae = a.expand(out.shape()), be = b.expand(out.shape());
  const T* a_base = static_cast<const T*>(a.storage()->data());
  const T* b_base = static_cast<const T*>(b.storage()->data());
  const int64_t inner = out.dim() ? out.shape().back() : 1;
  const int64_t sa = out.dim() ? ae.strides().back() : 0, sb = out.dim() ? be.strides().back() : 0;
  for_each_row_pair(out.shape(), ae.strides(), ae.offset(), be.strides(), be.offset(), [&](int64_t r, int64_t oa, int64_t ob) {
    const T *pa = a_base + oa, *pb = b_base + ob;
    T* po = o + r * inner;
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < inner; ++i) po[i] = f(pa[i], pb[i]);
    } else if (sa == 1 && sb == 0) {
      const T bv = pb[0];
      for (int64_t i = 0; i < inner; ++i) po[i] = f(pa[i], bv);
    } else if (sa == 0 && sb == 1) {
      const T av = pa[0];
      for (int64_t i = 0; i < inner; ++i) po[i] = f(av, pb[i]);
    } else {
      for (int64_t i = 0; i < inner; ++i) po[i] = f(pa[i * sa], pb[i * sb]);
    }
  });
}

enum class BinaryKind { kAdd, kSub, kMul, kDiv };

Tensor binary_forward(BinaryKind kind, const Tensor& a, const Tensor& b) {
  Tensor out = Tensor::empty(broadcast_shapes(a.shape(), b.shape()), a.dtype());
  LMAAS_DISPATCH_FLOATING(a.dtype(), "binary op", [&] {
    switch (kind) {
      case BinaryKind::kAdd: binary_apply<T>(a, b, out, std::plus<T>()); break;
      case BinaryKind::kSub: binary_apply<T>(a, b, out, std::minus<T>()); break;
      case BinaryKind::kMul: binary_apply<T>(a, b, out, std::multiplies<T>()); break;
      case BinaryKind::kDiv: binary_apply<T>(a, b, out, std::divides<T>()); break;
    }
  });
  return out;
}

Tensor binary(BinaryKind kind, const char* name, const Tensor& a, const Tensor& b) {
  check_floating(name, "a", a);
  check_floating(name, "b", b);
  check_same_dtype(name, a, b);
  Tensor out = binary_forward(kind, a, b);
  if (autograd::should_record(a, b)) {
    autograd::track(out);
    autograd::push([kind, a, b, out] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      switch (kind) {
        case BinaryKind::kAdd:
          autograd::accumulate_grad(a, sum_to(g, a.shape()));
          autograd::accumulate_grad(b, sum_to(g, b.shape()));
          break;
        case BinaryKind::kSub:
          autograd::accumulate_grad(a, sum_to(g, a.shape()));
          if (b.requires_grad()) autograd::accumulate_grad(b, sum_to(mul_scalar(g, -1.0), b.shape()), true);
          break;
        case BinaryKind::kMul:
          if (a.requires_grad()) autograd::accumulate_grad(a, sum_to(mul(g, b), a.shape()), true);
          if (b.requires_grad()) autograd::accumulate_grad(b, sum_to(mul(g, a), b.shape()), true);
          break;
        case BinaryKind::kDiv:
          if (a.requires_grad()) autograd::accumulate_grad(a, sum_to(div(g, b), a.shape()), true);
          if (b.requires_grad()) {
            Tensor gb = mul_scalar(div(mul(g, out), b), -1.0);  // -g·a/b² = -g·out/b
            autograd::accumulate_grad(b, sum_to(gb, b.shape()), true);
          }
          break;
      }
    });
  }
  return out;
}

}  // namespace

Tensor sum_to(const Tensor& g, const Shape& shape) {
  if (g.shape() == shape) return g;
  Tensor out = Tensor::zeros(shape, g.dtype());
  // Stride 0 on broadcast dimensions maps every element of g onto the element it came from.
  Tensor target = out.expand(g.shape());
  Tensor src = g.contiguous();
  const int64_t inner = g.dim() ? g.shape().back() : 1;
  const int64_t st = g.dim() ? target.strides().back() : 0;
  LMAAS_DISPATCH_FLOATING(g.dtype(), "sum_to", [&] {
    const T* s = src.data<T>();
    T* base = static_cast<T*>(out.storage()->data());
    for_each_row_pair(g.shape(), target.strides(), target.offset(), contiguous_strides(g.shape()), 0,
                  [&](int64_t, int64_t ot, int64_t os) {
                    T* pt = base + ot;
                    const T* ps = s + os;
                    if (st == 0) {
                      T acc = T(0);
                      for (int64_t i = 0; i < inner; ++i) acc += ps[i];
                      pt[0] += acc;
                    } else {
                      for (int64_t i = 0; i < inner; ++i) pt[i * st] += ps[i];
                    }
                  });
  });
  return out;
}

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryKind::kAdd, "add", a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryKind::kSub, "sub", a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryKind::kMul, "mul", a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryKind::kDiv, "div", a, b); }

namespace {

// out = x·scale + shift (shift skipped when 0, so that products keep their exact value); dx = g·scale.
Tensor scalar_affine(const char* name, const Tensor& x, double scale, double shift) {
  check_floating(name, "x", x);
  Tensor src = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  LMAAS_DISPATCH_FLOATING(x.dtype(), name, [&] {
    const T* s = src.data<T>();
    T* o = out.data<T>();
    const T a = static_cast<T>(scale), b = static_cast<T>(shift);
    const int64_t n = out.numel();
    if (shift == 0.0) {
      for (int64_t i = 0; i < n; ++i) o[i] = s[i] * a;
    } else if (scale == 1.0) {
      for (int64_t i = 0; i < n; ++i) o[i] = s[i] + b;
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = s[i] * a + b;
    }
  });
  if (autograd::should_record(x)) {
    autograd::track(out);
    autograd::push([x, out, scale] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      if (scale == 1.0) autograd::accumulate_grad(x, g);
      else autograd::accumulate_grad(x, scalar_affine("scalar backward", g, scale, 0.0), true);
    });
  }
  return out;
}

}  // namespace

Tensor add_scalar(const Tensor& x, double value) { return scalar_affine("add_scalar", x, 1.0, value); }
Tensor mul_scalar(const Tensor& x, double value) { return scalar_affine("mul_scalar", x, value, 0.0); }

Tensor unary(kernels::Unary op, const Tensor& x) {
  check_floating("unary", "x", x);
  Tensor src = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  LMAAS_DISPATCH_FLOATING(x.dtype(), "unary", [&] { k::unary_forward<T>(op, src.data<T>(), out.data<T>(), out.numel()); });
  if (autograd::should_record(x)) {
    autograd::track(out);
    autograd::push([op, x, src, out] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor gc = g.contiguous();
      Tensor dx = Tensor::empty(x.shape(), x.dtype());
      LMAAS_DISPATCH_FLOATING(x.dtype(), "unary backward", [&] {
        k::unary_backward<T>(op, src.data<T>(), out.data<T>(), gc.data<T>(), dx.data<T>(), dx.numel());
      });
      autograd::accumulate_grad(x, dx, true);
    });
  }
  return out;
}

}  // namespace lmaas::ops
