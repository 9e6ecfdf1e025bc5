// softmax / log-softmax, layer norm, embedding lookup, dropout.
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

Tensor embedding(const Tensor& ids, const Tensor& weight, int64_t padding_idx) {
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
    autograd::push([idc, weight, out, n, dim, padding_idx] {
      Tensor g = out.grad();
      if (!g.defined()) return;
      Tensor gc = g.contiguous();
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
  const int64_t n = x.numel();
  // Counter-based randomness: element j of block k draws hash32(j) keyed by mix64(key + k), so blocks run
  // in parallel, the mask depends only on the Rng state (not on the thread count), and the inner loop is
  // plain 32-bit arithmetic that vectorises. The hash is a bijection of j, so no two elements of a block
  // share a draw. A draw u keeps its element when u >= p·2³².
  constexpr int64_t kDropoutBlock = 4096;
  const uint64_t key = rng.next_u64();
  const uint32_t threshold = static_cast<uint32_t>(std::min(p * 4294967296.0, 4294967295.0));
  const double keep_scale = 1.0 / (1.0 - p);
  LMAAS_DISPATCH_FLOATING(x.dtype(), "dropout", [&] {
    const T* px = xc.data<T>();
    T *po = out.data<T>(), *pm = mask.data<T>();
    const T scale = static_cast<T>(keep_scale);
    parallel_for((n + kDropoutBlock - 1) / kDropoutBlock, 2, [&](int64_t b0, int64_t b1) {
      for (int64_t block = b0; block < b1; ++block) {
        const uint64_t block_key = mix64(key + static_cast<uint64_t>(block));
        const uint32_t k0 = static_cast<uint32_t>(block_key), k1 = static_cast<uint32_t>(block_key >> 32);
        const int64_t begin = block * kDropoutBlock, count = std::min(n - begin, kDropoutBlock);
        T *m = pm + begin, *o = po + begin;
        const T* in = px + begin;
        for (int64_t j = 0; j < count; ++j) {
          uint32_t h = (static_cast<uint32_t>(j) * 0x9e3779b1u) ^ k0;  // murmur3's finaliser, keyed
          h ^= h >> 16, h *= 0x85ebca6bu, h ^= h >> 13, h *= 0xc2b2ae35u, h ^= h >> 16;
          m[j] = (h ^ k1) >= threshold ? scale : T(0);
          o[j] = in[j] * m[j];
        }
      }
    });
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
