// Autograd-aware shape ops: views where the layout allows, copies otherwise; backward maps the
// gradient back onto the input's shape.
#include "ops/op_util.h"
#include "ops/ops.h"

namespace lmaas::ops {
namespace {

// Records that `out` is a relayout of `x`; `back` turns out's gradient into x's.
template <typename Back>
Tensor record_relayout(const Tensor& x, Tensor out, Back back) {
  if (autograd::should_record(x)) {
    autograd::track(out);
    autograd::push([x, out, back] {
      if (out.grad().defined()) autograd::accumulate_grad(x, back(out.grad()));
    });
  }
  return out;
}

}  // namespace

Tensor reshape(const Tensor& x, const Shape& shape) {
  Shape x_shape = x.shape();
  return record_relayout(x, x.reshape(shape), [x_shape](const Tensor& g) { return g.reshape(x_shape); });
}

Tensor transpose(const Tensor& x, int64_t dim0, int64_t dim1) {
  return record_relayout(x, x.transpose(dim0, dim1), [dim0, dim1](const Tensor& g) { return g.transpose(dim0, dim1); });
}

Tensor permute(const Tensor& x, const std::vector<int64_t>& dims) {
  std::vector<int64_t> inverse(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inverse[normalize_dim(dims[i], x.dim())] = static_cast<int64_t>(i);
  return record_relayout(x, x.permute(dims), [inverse](const Tensor& g) { return g.permute(inverse); });
}

Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t end) {
  Tensor out = x.slice(dim, start, end);
  Shape x_shape = x.shape();
  int64_t d = normalize_dim(dim, x.dim());
  int64_t s = start < 0 ? start + x.size(d) : start;
  return record_relayout(x, out, [x_shape, d, s](const Tensor& g) {
    Tensor dx = Tensor::zeros(x_shape, g.dtype());
    dx.slice(d, s, s + g.size(d)).copy_from(g);
    return dx;
  });
}

Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  int64_t d = normalize_dim(dim, x.dim());
  int64_t i = index < 0 ? index + x.size(d) : index;
  Shape x_shape = x.shape();
  return record_relayout(x, x.select(d, i), [x_shape, d, i](const Tensor& g) {
    Tensor dx = Tensor::zeros(x_shape, g.dtype());
    dx.select(d, i).copy_from(g);
    return dx;
  });
}

Tensor contiguous(const Tensor& x) {
  if (x.is_contiguous()) return x;
  return record_relayout(x, x.contiguous(), [](const Tensor& g) { return g; });
}

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  LMAAS_CHECK(!xs.empty(), "cat: no tensors given");
  const Tensor& first = xs[0];
  int64_t d = normalize_dim(dim, first.dim());
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    LMAAS_CHECK(xs[i].dim() == first.dim() && xs[i].dtype() == first.dtype(),
                "cat: tensor {} ({} {}) does not match tensor 0 ({} {})", i, dtype_name(xs[i].dtype()),
                shape_str(xs[i].shape()), dtype_name(first.dtype()), shape_str(first.shape()));
    for (int64_t j = 0; j < first.dim(); ++j)
      LMAAS_CHECK(j == d || xs[i].size(j) == first.size(j), "cat: tensor {} has shape {}, tensor 0 {} (along dim {})", i,
                  shape_str(xs[i].shape()), shape_str(first.shape()), d);
    out_shape[d] += xs[i].size(d);
  }
  Tensor out = Tensor::empty(out_shape, first.dtype());
  std::vector<int64_t> starts;
  int64_t at = 0;
  for (const auto& x : xs) {
    starts.push_back(at);
    out.slice(d, at, at + x.size(d)).copy_from(x);
    at += x.size(d);
  }
  if (autograd::should_record_any(xs)) {
    autograd::track(out);
    autograd::push([xs, out, d, starts] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      for (size_t i = 0; i < xs.size(); ++i)
        if (xs[i].requires_grad()) autograd::accumulate_grad(xs[i], g.slice(d, starts[i], starts[i] + xs[i].size(d)));
    });
  }
  return out;
}

}  // namespace lmaas::ops
