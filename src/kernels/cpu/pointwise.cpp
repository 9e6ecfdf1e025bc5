// Vectorised pointwise and row-wise kernels: activations, softmax, layer norm, embedding, cross-entropy,
// Adam, axpy, column sums. Row-wise work splits over rows; results do not depend on the split.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/ref/embedding.h"
#include "kernels/ref/loss.h"
#include "kernels/ref/unary.h"

namespace lmaas::kernels::cpu {
namespace {

constexpr int64_t kGrainElements = 16384;

__m256 gelu_vec(__m256 x) {
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), r2 = _mm256_set1_ps(float(M_SQRT1_2));
  return _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, verf(_mm256_mul_ps(x, r2))));
}

__m256 gelu_tanh_vec(__m256 x) {
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 k = _mm256_set1_ps(float(M_2_SQRTPI * M_SQRT1_2)), c = _mm256_set1_ps(0.044715f);
  __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  __m256 inner = _mm256_mul_ps(k, _mm256_fmadd_ps(c, x3, x));
  return _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, vtanh(inner)));
}

void unary_forward_serial(Unary op, const float* x, float* y, int64_t n) {
  switch (op) {
    case Unary::kSigmoid: map_array(x, y, n, vsigmoid); return;
    case Unary::kTanh: map_array(x, y, n, vtanh); return;
    case Unary::kExp: map_array(x, y, n, vexp); return;
    case Unary::kGelu: map_array(x, y, n, gelu_vec); return;
    case Unary::kGeluTanh: map_array(x, y, n, gelu_tanh_vec); return;
    case Unary::kRelu:
      map_array(x, y, n, [](__m256 v) { return _mm256_max_ps(v, _mm256_setzero_ps()); });
      return;
    default: ref::unary_forward(op, x, y, n); return;
  }
}

}  // namespace

void unary_forward(Unary op, const float* x, float* y, int64_t n) {
  parallel_for(n, kGrainElements, [&](int64_t i0, int64_t i1) { unary_forward_serial(op, x + i0, y + i0, i1 - i0); });
}

namespace {

// Serial bodies take restrict-qualified pointers so that the loops vectorise (a lambda capturing by
// reference would reload its captures after every store).
void unary_backward_serial(Unary op, const float* __restrict x, const float* __restrict y,
                           const float* __restrict dy, float* __restrict dx, int64_t n) {
  switch (op) {
    case Unary::kSigmoid:
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
      return;
    case Unary::kTanh:
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
      return;
    case Unary::kRelu:
      for (int64_t i = 0; i < n; ++i) dx[i] = x[i] > 0.0f ? dy[i] : 0.0f;
      return;
    case Unary::kExp:
      for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * y[i];
      return;
    default: ref::unary_backward(op, x, y, dy, dx, n); return;
  }
}

}  // namespace

void unary_backward(Unary op, const float* x, const float* y, const float* dy, float* dx, int64_t n) {
  parallel_for(n, kGrainElements, [&](int64_t i0, int64_t i1) {
    unary_backward_serial(op, x + i0, y + i0, dy + i0, dx + i0, i1 - i0);
  });
}

namespace {

float row_max(const float* __restrict x, int64_t n) {
  __m256 vmax = _mm256_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  float m = hmax(vmax);
  for (; i < n; ++i) m = std::max(m, x[i]);
  return m;
}

float row_sum(const float* __restrict x, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_add_ps(acc, _mm256_loadu_ps(x + i));
  float s = hsum(acc);
  for (; i < n; ++i) s += x[i];
  return s;
}

}  // namespace

void softmax_row(const float* xr, float* yr, int64_t cols, bool log) {
  float max_v = row_max(xr, cols);
  if (max_v == -std::numeric_limits<float>::infinity()) max_v = 0.0f;  // all masked: zeros below
  const __m256 mv = _mm256_set1_ps(max_v);
  if (log) {  // Σ exp(x - max) without storing it, then y = x - max - log Σ
    __m256 acc = _mm256_setzero_ps();
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) acc = _mm256_add_ps(acc, vexp(_mm256_sub_ps(_mm256_loadu_ps(xr + c), mv)));
    float sum = hsum(acc);
    for (; c < cols; ++c) sum += std::exp(xr[c] - max_v);
    const float shift = max_v + std::log(sum);
    for (c = 0; c < cols; ++c) yr[c] = xr[c] - shift;
    return;
  }
  map_array(xr, yr, cols, [&](__m256 v) { return vexp(_mm256_sub_ps(v, mv)); });
  const float sum = row_sum(yr, cols);
  const float inv = sum > 0 ? 1.0f / sum : 0.0f;
  for (int64_t c = 0; c < cols; ++c) yr[c] *= inv;
}

void dropout_forward(uint64_t key, uint32_t threshold, float scale, const float* x, float* out, float* mask, int64_t n) {
  parallel_for((n + ref::kDropoutBlock - 1) / ref::kDropoutBlock, 2, [&](int64_t b0, int64_t b1) {
    ref::dropout_blocks(key, threshold, scale, x, out, mask, n, b0, b1);
  });
}

void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, bool log) {
  parallel_for(rows, std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, cols)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) softmax_row(x + r * cols, y + r * cols, cols, log);
  });
}

void softmax_backward_row(const float* yr, const float* dyr, float* dxr, int64_t cols) {
  double dot = 0.0;
  for (int64_t c = 0; c < cols; ++c) dot += dyr[c] * yr[c];
  const float d = static_cast<float>(dot);
  for (int64_t c = 0; c < cols; ++c) dxr[c] = yr[c] * (dyr[c] - d);
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log) {
  parallel_for(rows, std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, cols)), [&](int64_t r0, int64_t r1) {
    std::vector<float> e(log ? static_cast<size_t>(cols) : 0);
    for (int64_t r = r0; r < r1; ++r) {
      const float* yr = y + r * cols;
      const float* dyr = dy + r * cols;
      float* dxr = dx + r * cols;
      if (!log) {
        softmax_backward_row(yr, dyr, dxr, cols);
        continue;
      }
      double dot = 0.0;
      for (int64_t c = 0; c < cols; ++c) dot += dyr[c];
      map_array(yr, e.data(), cols, vexp);
      for (int64_t c = 0; c < cols; ++c) dxr[c] = dyr[c] - e[c] * static_cast<float>(dot);
    }
  });
}

void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                        int64_t rows, int64_t cols, double eps) {
  parallel_for(rows, std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, cols)), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      double m = 0.0;
      for (int64_t c = 0; c < cols; ++c) m += xr[c];
      m /= static_cast<double>(cols);
      double v = 0.0;
      for (int64_t c = 0; c < cols; ++c) v += (xr[c] - m) * (xr[c] - m);
      v /= static_cast<double>(cols);
      float mf = static_cast<float>(m), rs = static_cast<float>(1.0 / std::sqrt(v + eps));
      mean[r] = mf;
      rstd[r] = rs;
      for (int64_t c = 0; c < cols; ++c) {
        float h = (xr[c] - mf) * rs;
        if (gamma) h *= gamma[c];
        if (beta) h += beta[c];
        yr[c] = h;
      }
    }
  });
}

void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                         float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols) {
  // dx rows are independent; dgamma/dbeta are column sums, accumulated per chunk then added in order.
  int64_t n_chunks = std::min<int64_t>(num_threads(), std::max<int64_t>(1, rows / 4));
  std::vector<std::vector<float>> partial_g(static_cast<size_t>(n_chunks)), partial_b(static_cast<size_t>(n_chunks));
  int64_t chunk = (rows + n_chunks - 1) / n_chunks;
  global_pool().run(static_cast<int>(n_chunks), [&](int task) {
    int64_t r0 = task * chunk, r1 = std::min(rows, r0 + chunk);
    auto& pg = partial_g[task];
    auto& pb = partial_b[task];
    pg.assign(dgamma ? static_cast<size_t>(cols) : 0, 0.0f);
    pb.assign(dbeta ? static_cast<size_t>(cols) : 0, 0.0f);
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * cols;
      const float* dyr = dy + r * cols;
      float m = mean[r], rs = rstd[r];
      double sum_g = 0.0, sum_gx = 0.0;
      for (int64_t c = 0; c < cols; ++c) {
        float xhat = (xr[c] - m) * rs;
        float g = dyr[c] * (gamma ? gamma[c] : 1.0f);
        sum_g += g;
        sum_gx += g * xhat;
        if (dgamma) pg[c] += dyr[c] * xhat;
        if (dbeta) pb[c] += dyr[c];
      }
      float a = static_cast<float>(sum_g / cols), b = static_cast<float>(sum_gx / cols);
      for (int64_t c = 0; c < cols; ++c) {
        float xhat = (xr[c] - m) * rs;
        float g = dyr[c] * (gamma ? gamma[c] : 1.0f);
        dx[r * cols + c] = rs * (g - a - xhat * b);
      }
    }
  });
  for (int64_t t = 0; t < n_chunks; ++t) {
    if (dgamma) axpy(1.0f, partial_g[t].data(), dgamma, cols);
    if (dbeta) axpy(1.0f, partial_b[t].data(), dbeta, cols);
  }
}

void embedding_forward(const int32_t* ids, const float* weight, float* out, int64_t n, int64_t dim) {
  parallel_for(n, std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, dim)), [&](int64_t i0, int64_t i1) {
    ref::embedding_forward(ids + i0, weight, out + i0 * dim, i1 - i0, dim);
  });
}

void embedding_bag_mean_forward(const int32_t* ids, const float* weight, float* out, float* inv_count, int64_t batch,
                                int64_t steps, int64_t dim, int64_t padding_idx) {
  parallel_for(batch, std::max<int64_t>(1, kGrainElements / std::max<int64_t>(1, steps * dim)), [&](int64_t b0, int64_t b1) {
    ref::embedding_bag_mean_forward(ids + b0 * steps, weight, out + b0 * dim, inv_count + b0, b1 - b0, steps, dim,
                                    padding_idx);
  });
}

void embedding_backward(const int32_t* ids, const float* dout, float* dweight, int64_t n, int64_t dim,
                        int64_t padding_idx) {
  // Split the embedding columns so that no two threads write the same element; order stays fixed.
  parallel_for(dim, 16, [&](int64_t d0, int64_t d1) {
    for (int64_t i = 0; i < n; ++i) {
      if (ids[i] == padding_idx) continue;
      float* row = dweight + static_cast<int64_t>(ids[i]) * dim;
      const float* g = dout + i * dim;
      for (int64_t d = d0; d < d1; ++d) row[d] += g[d];
    }
  });
}

double cross_entropy(const float* logits, const int32_t* targets, float* dlogits, int64_t n, int64_t c,
                     int64_t ignore_index, double label_smoothing) {
  int64_t n_kept = 0;
  for (int64_t i = 0; i < n; ++i) n_kept += targets[i] != ignore_index;
  int64_t n_chunks = std::min<int64_t>(num_threads(), std::max<int64_t>(1, n * c / kGrainElements));
  std::vector<double> partial(static_cast<size_t>(n_chunks), 0.0);
  int64_t chunk = (n + n_chunks - 1) / n_chunks;
  global_pool().run(static_cast<int>(n_chunks), [&](int task) {
    int64_t r0 = task * chunk, r1 = std::min(n, r0 + chunk);
    std::vector<float> log_p(static_cast<size_t>(c));
    double smooth = label_smoothing / static_cast<double>(c);
    for (int64_t i = r0; i < r1; ++i) {
      float* drow = dlogits ? dlogits + i * c : nullptr;
      if (targets[i] == ignore_index) {
        if (drow) std::fill(drow, drow + c, 0.0f);
        continue;
      }
      softmax_forward(logits + i * c, log_p.data(), 1, c, true);
      double row_loss = 0.0;
      for (int64_t j = 0; j < c; ++j) {
        double q = smooth + (j == targets[i] ? 1.0 - label_smoothing : 0.0);
        row_loss -= q * log_p[j];
        if (drow) drow[j] = static_cast<float>((std::exp(static_cast<double>(log_p[j])) - q) / static_cast<double>(n_kept));
      }
      partial[task] += row_loss;
    }
  });
  double total = 0.0;
  for (double p : partial) total += p;
  return n_kept ? total / static_cast<double>(n_kept) : 0.0;
}

namespace {

struct AdamConstants {
  float b1, b2, step_size, inv_bc2_sqrt, eps, wd, decay;
  bool decoupled;
};

// Eight lanes at a time (the scalar loop did not vectorise: sqrt's errno path and the decoupled branch),
// the tail one by one with the same operations.
void adam_range(const AdamConstants& k, float* __restrict p, const float* __restrict g, float* __restrict m,
                float* __restrict v, int64_t n) {
  const float wd = k.decoupled ? 0.0f : k.wd, decay = k.decoupled ? k.decay : 1.0f;
  const float c1 = 1.0f - k.b1, c2 = 1.0f - k.b2;
  const __m256 vwd = _mm256_set1_ps(wd), vdecay = _mm256_set1_ps(decay), vb1 = _mm256_set1_ps(k.b1),
               vb2 = _mm256_set1_ps(k.b2), vc1 = _mm256_set1_ps(c1), vc2 = _mm256_set1_ps(c2),
               vstep = _mm256_set1_ps(k.step_size), vinv = _mm256_set1_ps(k.inv_bc2_sqrt), veps = _mm256_set1_ps(k.eps);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 pi = _mm256_loadu_ps(p + i);
    const __m256 grad = _mm256_fmadd_ps(vwd, pi, _mm256_loadu_ps(g + i));
    const __m256 mi = _mm256_fmadd_ps(vb1, _mm256_loadu_ps(m + i), _mm256_mul_ps(vc1, grad));
    const __m256 vi = _mm256_fmadd_ps(vb2, _mm256_loadu_ps(v + i), _mm256_mul_ps(_mm256_mul_ps(vc2, grad), grad));
    _mm256_storeu_ps(m + i, mi);
    _mm256_storeu_ps(v + i, vi);
    const __m256 denom = _mm256_fmadd_ps(_mm256_sqrt_ps(vi), vinv, veps);
    _mm256_storeu_ps(p + i, _mm256_sub_ps(_mm256_mul_ps(pi, vdecay), _mm256_div_ps(_mm256_mul_ps(vstep, mi), denom)));
  }
  for (; i < n; ++i) {
    const float grad = std::fma(wd, p[i], g[i]);
    const float mi = std::fma(k.b1, m[i], c1 * grad);
    const float vi = std::fma(k.b2, v[i], (c2 * grad) * grad);
    m[i] = mi, v[i] = vi;
    p[i] = p[i] * decay - (k.step_size * mi) / std::fma(std::sqrt(vi), k.inv_bc2_sqrt, k.eps);
  }
}

void axpy_range(float alpha, const float* __restrict x, float* __restrict y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += alpha * x[i];
}

AdamConstants adam_constants(const ref::AdamHyper& h) {
  const double bc1 = 1.0 - std::pow(h.beta1, static_cast<double>(h.step));
  const double bc2 = 1.0 - std::pow(h.beta2, static_cast<double>(h.step));
  return {static_cast<float>(h.beta1), static_cast<float>(h.beta2), static_cast<float>(h.lr / bc1),
          static_cast<float>(1.0 / std::sqrt(bc2)), static_cast<float>(h.eps),
          static_cast<float>(h.weight_decay), static_cast<float>(1.0 - h.lr * h.weight_decay),
          h.decoupled};
}

}  // namespace

void adam_step(const ref::AdamHyper& h, float* p, const float* g, float* m, float* v, int64_t n) {
  const AdamConstants k = adam_constants(h);
  parallel_for(n, kGrainElements * 4, [&](int64_t i0, int64_t i1) {
    adam_range(k, p + i0, g + i0, m + i0, v + i0, i1 - i0);
  });
}

void adam_step_rows(const ref::AdamHyper& h, float* p, const float* g, float* m, float* v, const int64_t* rows,
                    int64_t n_rows, int64_t row_len) {
  const AdamConstants k = adam_constants(h);
  parallel_for(n_rows, std::max<int64_t>(1, kGrainElements * 4 / std::max<int64_t>(1, row_len)),
               [&](int64_t r0, int64_t r1) {
                 for (int64_t r = r0; r < r1; ++r) {
                   const int64_t at = rows[r] * row_len;
                   adam_range(k, p + at, g + r * row_len, m + at, v + at, row_len);
                 }
               });
}

void axpy(float alpha, const float* x, float* y, int64_t n) {
  parallel_for(n, kGrainElements * 4, [&](int64_t i0, int64_t i1) { axpy_range(alpha, x + i0, y + i0, i1 - i0); });
}

void sum_rows(const float* x, float* out, int64_t rows, int64_t cols, bool accumulate) {
  parallel_for(cols, 64, [&](int64_t c0, int64_t c1) {
    if (!accumulate) std::fill(out + c0, out + c1, 0.0f);
    for (int64_t r = 0; r < rows; ++r) axpy_range(1.0f, x + r * cols + c0, out + c0, c1 - c0);
  });
}

}  // namespace lmaas::kernels::cpu
