// Reductions over one axis (x viewed as [outer, n, inner]) and over everything.
#include <limits>

#include "ops/op_util.h"
#include "ops/ops.h"

namespace lmaas::ops {
namespace {

struct AxisSplit {
  int64_t outer = 1, n = 1, inner = 1;
};

AxisSplit split_at(const Shape& shape, int64_t dim) {
  AxisSplit s;
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    if (i < dim) s.outer *= shape[i];
    else if (i == dim) s.n = shape[i];
    else s.inner *= shape[i];
  }
  return s;
}

Shape reduced_shape(const Shape& shape, int64_t dim, bool keepdim) {
  Shape out = shape;
  if (keepdim) out[dim] = 1;
  else out.erase(out.begin() + dim);
  return out;
}

// Broadcasts g (reduced shape) back over the reduced axis, times `scale`.
Tensor expand_back(const Tensor& g, const Shape& x_shape, int64_t dim, bool keepdim, double scale) {
  Tensor gk = keepdim ? g : g.unsqueeze(dim);
  Tensor dx = Tensor::empty(x_shape, g.dtype());
  dx.copy_from(gk.expand(x_shape));
  return scale == 1.0 ? dx : mul_scalar(dx, scale);
}

Tensor sum_or_mean(const Tensor& x, int64_t dim, bool keepdim, bool is_mean) {
  detail::check_floating(is_mean ? "mean" : "sum", "x", x);
  dim = normalize_dim(dim, x.dim());
  AxisSplit s = split_at(x.shape(), dim);
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(reduced_shape(x.shape(), dim, keepdim), x.dtype());
  const double scale = is_mean ? 1.0 / static_cast<double>(s.n) : 1.0;
  LMAAS_DISPATCH_FLOATING(x.dtype(), "sum", [&] {
    const T* px = xc.data<T>();
    T* po = out.data<T>();
    for (int64_t o = 0; o < s.outer; ++o) {
      T* row = po + o * s.inner;
      std::fill(row, row + s.inner, T(0));
      for (int64_t j = 0; j < s.n; ++j) {
        const T* src = px + (o * s.n + j) * s.inner;
        for (int64_t i = 0; i < s.inner; ++i) row[i] += src[i];
      }
      if (is_mean)
        for (int64_t i = 0; i < s.inner; ++i) row[i] = static_cast<T>(row[i] * scale);
    }
  });
  if (autograd::should_record(x)) {
    autograd::track(out);
    autograd::push([x, out, dim, keepdim, scale] {
      if (out.grad().defined()) autograd::accumulate_grad(x, expand_back(out.grad(), x.shape(), dim, keepdim, scale), true);
    });
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& x, int64_t dim, bool keepdim) { return sum_or_mean(x, dim, keepdim, false); }
Tensor mean(const Tensor& x, int64_t dim, bool keepdim) { return sum_or_mean(x, dim, keepdim, true); }

Tensor max(const Tensor& x, int64_t dim, bool keepdim) {
  detail::check_floating("max", "x", x);
  dim = normalize_dim(dim, x.dim());
  AxisSplit s = split_at(x.shape(), dim);
  LMAAS_CHECK(s.n > 0, "max: dimension {} of {} is empty", dim, shape_str(x.shape()));
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(reduced_shape(x.shape(), dim, keepdim), x.dtype());
  auto argmax = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(s.outer * s.inner));
  LMAAS_DISPATCH_FLOATING(x.dtype(), "max", [&] {
    const T* px = xc.data<T>();
    T* po = out.data<T>();
    for (int64_t o = 0; o < s.outer; ++o) {
      for (int64_t i = 0; i < s.inner; ++i) {
        T best = -std::numeric_limits<T>::infinity();
        int64_t best_j = 0;
        for (int64_t j = 0; j < s.n; ++j) {
          T v = px[(o * s.n + j) * s.inner + i];
          if (v > best) best = v, best_j = j;
        }
        po[o * s.inner + i] = best;
        (*argmax)[o * s.inner + i] = best_j;
      }
    }
  });
  if (autograd::should_record(x)) {
    autograd::track(out);
    autograd::push([x, out, argmax, s] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor gc = g.contiguous();
      Tensor dx = Tensor::zeros(x.shape(), x.dtype());
      LMAAS_DISPATCH_FLOATING(x.dtype(), "max backward", [&] {
        const T* pg = gc.data<T>();
        T* pd = dx.data<T>();
        for (int64_t o = 0; o < s.outer; ++o)
          for (int64_t i = 0; i < s.inner; ++i)
            pd[(o * s.n + (*argmax)[o * s.inner + i]) * s.inner + i] = pg[o * s.inner + i];
      });
      autograd::accumulate_grad(x, dx, true);
    });
  }
  return out;
}

Tensor sum_all(const Tensor& x) { return sum(reshape(x, {x.numel()}), 0, false); }
Tensor mean_all(const Tensor& x) { return mean(reshape(x, {x.numel()}), 0, false); }

}  // namespace lmaas::ops
