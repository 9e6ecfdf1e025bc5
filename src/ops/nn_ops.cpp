// softmax / log-softmax, layer norm, embedding lookup, dropout.
#include "base/thread_pool.h"
#include "ops/op_util.h"
#include "ops/ops.h"

#include <unordered_map>

namespace lmaas::ops {
namespace {


Tensor softmax_last(const Tensor& x, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  detail::check_floating(name, "x", x);
  LMAAS_CHECK(x.dim() >= 1, "{}: scalar input", name);
  Tensor xc = x.contiguous();
  const int64_t cols = x.size(-1), rows = cols ? x.numel() / cols : 0;
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  LMAAS_DISPATCH_FLOATING(x.dtype(), name, [&] { k::softmax_forward<T>(xc.data<T>(), out.data<T>(), rows, cols, log); });
  if (autograd::should_record(x)) {
    autograd::track(out);
    autograd::push([x, out, rows, cols, log] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor gc = g.contiguous();
      Tensor dx = Tensor::empty(x.shape(), x.dtype());
      LMAAS_DISPATCH_FLOATING(x.dtype(), "softmax backward", [&] {
        k::softmax_backward<T>(out.data<T>(), gc.data<T>(), dx.data<T>(), rows, cols, log);
      });
      autograd::accumulate_grad(x, dx, true);
    });
  }
  return out;
}

Tensor softmax_any(const Tensor& x, int64_t dim, bool log) {
  int64_t d = normalize_dim(dim, x.dim());
  if (d == x.dim() - 1) return softmax_last(x, log);
  return transpose(softmax_last(contiguous(transpose(x, d, -1)), log), d, -1);
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_any(x, dim, false); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_any(x, dim, true); }

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double eps) {
  detail::check_floating("layer_norm", "x", x);
  const int64_t cols = x.size(-1), rows = cols ? x.numel() / cols : 0;
  if (gamma.defined()) detail::check_shape("layer_norm", "gamma", gamma, {cols});
  if (beta.defined()) detail::check_shape("layer_norm", "beta", beta, {cols});
  Tensor xc = x.contiguous();
  Tensor gc = gamma.defined() ? gamma.contiguous() : Tensor(), bc = beta.defined() ? beta.contiguous() : Tensor();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  Tensor mean = Tensor::empty({rows}, x.dtype()), rstd = Tensor::empty({rows}, x.dtype());
  LMAAS_DISPATCH_FLOATING(x.dtype(), "layer_norm", [&] {
    k::layer_norm_forward<T>(xc.data<T>(), gc.defined() ? gc.data<T>() : nullptr, bc.defined() ? bc.data<T>() : nullptr,
                             out.data<T>(), mean.data<T>(), rstd.data<T>(), rows, cols, eps);
  });
  if (autograd::should_record(x, gamma, beta)) {
    autograd::track(out);
    autograd::push([x, gamma, beta, xc, gc, out, mean, rstd, rows, cols] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor dyc = g.contiguous();
      Tensor dx = Tensor::empty(x.shape(), x.dtype());
      Tensor dg = gamma.defined() ? Tensor::zeros(gamma.shape(), x.dtype()) : Tensor();
      Tensor db = beta.defined() ? Tensor::zeros(beta.shape(), x.dtype()) : Tensor();
      LMAAS_DISPATCH_FLOATING(x.dtype(), "layer_norm backward", [&] {
        k::layer_norm_backward<T>(dyc.data<T>(), xc.data<T>(), gc.defined() ? gc.data<T>() : nullptr, mean.data<T>(),
                                  rstd.data<T>(), dx.data<T>(), dg.defined() ? dg.data<T>() : nullptr,
                                  db.defined() ? db.data<T>() : nullptr, rows, cols);
      });
      autograd::accumulate_grad(x, dx, true);
      if (dg.defined()) autograd::accumulate_grad(gamma, dg, true);
      if (db.defined()) autograd::accumulate_grad(beta, db, true);
    });
  }
  return out;
}

namespace {

// The row-sparse gradient of an embedding lookup: each distinct id (but padding) once, its rows summed.
template <typename T>
void embedding_sparse_backward(const int32_t* ids, const T* dout, int64_t n, int64_t dim, int64_t padding_idx,
                               const Tensor& weight) {
  std::unordered_map<int32_t, int64_t> slot;
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] != padding_idx && slot.try_emplace(ids[i], static_cast<int64_t>(rows.size())).second)
      rows.push_back(ids[i]);
  Tensor values = Tensor::zeros({static_cast<int64_t>(rows.size()), dim}, weight.dtype());
  T* v = values.data<T>();
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] == padding_idx) continue;
    T* dst = v + slot[ids[i]] * dim;
    for (int64_t j = 0; j < dim; ++j) dst[j] += dout[i * dim + j];
  }
  autograd::accumulate_sparse_grad(weight, Tensor::from_vector(rows, {static_cast<int64_t>(rows.size())}), values);
}

}  // namespace

Tensor embedding(const Tensor& ids, const Tensor& weight, int64_t padding_idx, bool sparse_grad) {
  detail::check_defined("embedding", "ids", ids);
  LMAAS_CHECK(ids.dtype() == DType::kI32, "embedding: ids must be I32, got {}", dtype_name(ids.dtype()));
  detail::check_floating("embedding", "weight", weight);
  detail::check_dim("embedding", "weight", weight, 2);
  const int64_t vocab = weight.size(0), dim = weight.size(1), n = ids.numel();
  Tensor idc = ids.contiguous();
  const int32_t* pid = idc.data<int32_t>();
  for (int64_t i = 0; i < n; ++i)
    LMAAS_CHECK(pid[i] >= 0 && pid[i] < vocab, "embedding: id {} at position {} is outside the vocabulary [0, {})",
                pid[i], i, vocab);
  Tensor wc = weight.contiguous();
  Shape out_shape = ids.shape();
  out_shape.push_back(dim);
  Tensor out = Tensor::empty(out_shape, weight.dtype());
  LMAAS_DISPATCH_FLOATING(weight.dtype(), "embedding",
                          [&] { k::embedding_forward<T>(pid, wc.data<T>(), out.data<T>(), n, dim); });
  if (autograd::should_record(weight)) {
    autograd::track(out);
    autograd::push([idc, weight, out, n, dim, padding_idx, sparse_grad] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor gc = g.contiguous();
      if (sparse_grad) {
        LMAAS_DISPATCH_FLOATING(weight.dtype(), "embedding backward", [&] {
          embedding_sparse_backward<T>(idc.data<int32_t>(), gc.data<T>(), n, dim, padding_idx, weight);
        });
        return;
      }
      Tensor dw = Tensor::zeros(weight.shape(), weight.dtype());
      LMAAS_DISPATCH_FLOATING(weight.dtype(), "embedding backward", [&] {
        k::embedding_backward<T>(idc.data<int32_t>(), gc.data<T>(), dw.data<T>(), n, dim, padding_idx);
      });
      autograd::accumulate_grad(weight, dw, true);
    });
  }
  return out;
}

Tensor dropout(const Tensor& x, double p, bool training, Rng& rng) {
  LMAAS_CHECK(p >= 0.0 && p < 1.0, "dropout: p = {} is outside [0, 1)", p);
  if (!training || p == 0.0) return x;
  detail::check_floating("dropout", "x", x);
  Tensor xc = x.contiguous();
  Tensor out = Tensor::empty(x.shape(), x.dtype());
  Tensor mask = Tensor::empty(x.shape(), x.dtype());  // 1/(1-p) where kept, 0 where dropped
  // The mask is counter-based (kernels/ref/dropout.h): it depends only on the Rng state, not on threads.
  const uint64_t key = rng.next_u64();
  const uint32_t threshold = static_cast<uint32_t>(std::min(p * 4294967296.0, 4294967295.0));
  LMAAS_DISPATCH_FLOATING(x.dtype(), "dropout", [&] {
    k::dropout_forward<T>(key, threshold, static_cast<T>(1.0 / (1.0 - p)), xc.data<T>(), out.data<T>(), mask.data<T>(),
                          x.numel());
  });
  if (autograd::should_record(x)) {
    autograd::track(out);
    autograd::push([x, out, mask] {
      if (out.grad().defined()) autograd::accumulate_grad(x, mul(out.grad(), mask), true);
    });
  }
  return out;
}

}  // namespace lmaas::ops
