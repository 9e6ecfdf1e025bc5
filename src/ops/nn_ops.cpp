// softmax / log-softmax, layer norm, embedding lookup and bag mean, dropout.
#include "base/thread_pool.h"
#include "ops/op_util.h"
#include "ops/ops.h"

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

// ids as a contiguous tensor, every id checked to lie in [0, vocab).
Tensor checked_ids(const char* op, const Tensor& ids, int64_t vocab) {
  Tensor idc = ids.contiguous();
  const int32_t* pid = idc.data<int32_t>();
  for (int64_t i = 0; i < idc.numel(); ++i)
    LMAAS_CHECK(pid[i] >= 0 && pid[i] < vocab, "{}: id {} at position {} is outside the vocabulary [0, {})", op, pid[i],
                i, vocab);
  return idc;
}

// The row-sparse gradient of an embedding lookup: each distinct id (but padding) once, its rows summed;
// add_row_grad(i, dst) adds the gradient that position i of ids sends to its row into dst.
template <typename T, typename AddRowGrad>
void embedding_sparse_backward(const int32_t* ids, int64_t n, int64_t dim, int64_t padding_idx, const Tensor& weight,
                               const AddRowGrad& add_row_grad) {
  // A slot per vocabulary row (ids are checked against the vocabulary by the forward pass): a 4-byte
  // table per row is cheaper to clear than hashing every position of the batch.
  std::vector<int32_t> slot(static_cast<size_t>(weight.size(0)), -1);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] != padding_idx && slot[static_cast<size_t>(ids[i])] < 0) {
      slot[static_cast<size_t>(ids[i])] = static_cast<int32_t>(rows.size());
      rows.push_back(ids[i]);
    }
  Tensor values = Tensor::zeros({static_cast<int64_t>(rows.size()), dim}, weight.dtype());
  T* v = values.data<T>();
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] != padding_idx) add_row_grad(i, v + static_cast<int64_t>(slot[static_cast<size_t>(ids[i])]) * dim);
  autograd::accumulate_sparse_grad(weight, Tensor::from_vector(rows, {static_cast<int64_t>(rows.size())}), values,
                                   /*rows_distinct=*/true);
}

}  // namespace

Tensor embedding(const Tensor& ids, const Tensor& weight, int64_t padding_idx, bool sparse_grad) {
  detail::check_defined("embedding", "ids", ids);
  LMAAS_CHECK(ids.dtype() == DType::kI32, "embedding: ids must be I32, got {}", dtype_name(ids.dtype()));
  detail::check_floating("embedding", "weight", weight);
  detail::check_dim("embedding", "weight", weight, 2);
  const int64_t vocab = weight.size(0), dim = weight.size(1), n = ids.numel();
  Tensor idc = checked_ids("embedding", ids, vocab);
  const int32_t* pid = idc.data<int32_t>();
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
          const T* dout = gc.data<T>();
          embedding_sparse_backward<T>(idc.data<int32_t>(), n, dim, padding_idx, weight, [&](int64_t i, T* dst) {
            for (int64_t j = 0; j < dim; ++j) dst[j] += dout[i * dim + j];
          });
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

Tensor embedding_bag_mean(const Tensor& ids, const Tensor& weight, int64_t padding_idx, bool sparse_grad) {
  detail::check_defined("embedding_bag_mean", "ids", ids);
  LMAAS_CHECK(ids.dtype() == DType::kI32 && ids.dim() == 2, "embedding_bag_mean: ids must be I32 [B, T], got {} {}",
              dtype_name(ids.dtype()), shape_str(ids.shape()));
  detail::check_floating("embedding_bag_mean", "weight", weight);
  detail::check_dim("embedding_bag_mean", "weight", weight, 2);
  const int64_t vocab = weight.size(0), dim = weight.size(1), batch = ids.size(0), steps = ids.size(1);
  Tensor idc = checked_ids("embedding_bag_mean", ids, vocab);
  const int32_t* pid = idc.data<int32_t>();
  Tensor wc = weight.contiguous();
  Tensor out = Tensor::empty({batch, dim}, weight.dtype());
  Tensor inv_count = Tensor::empty({batch}, weight.dtype());
  LMAAS_DISPATCH_FLOATING(weight.dtype(), "embedding_bag_mean", [&] {
    k::embedding_bag_mean_forward<T>(pid, wc.data<T>(), out.data<T>(), inv_count.data<T>(), batch, steps, dim,
                                     padding_idx);
  });
  if (autograd::should_record(weight)) {
    autograd::track(out);
    autograd::push([idc, weight, out, inv_count, batch, steps, dim, padding_idx, sparse_grad] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor gc = g.contiguous();
      LMAAS_DISPATCH_FLOATING(weight.dtype(), "embedding_bag_mean backward", [&] {
        const T *dout = gc.data<T>(), *inv = inv_count.data<T>();
        if (sparse_grad) {
          embedding_sparse_backward<T>(idc.data<int32_t>(), batch * steps, dim, padding_idx, weight,
                                       [&](int64_t i, T* dst) {
                                         const int64_t b = i / steps;
                                         for (int64_t j = 0; j < dim; ++j) dst[j] += dout[b * dim + j] * inv[b];
                                       });
          return;
        }
        Tensor dw = Tensor::zeros(weight.shape(), weight.dtype());
        kernels::ref::embedding_bag_mean_backward<T>(idc.data<int32_t>(), dout, inv, dw.data<T>(), batch, steps, dim,
                                                     padding_idx);
        autograd::accumulate_grad(weight, dw, true);
      });
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
