// Decoder-only model kernels (contract in kernels/cpu/llm.h), AVX2/FMA.
#include "kernels/cpu/llm.h"

#include <cmath>
#include <limits>

#include "kernels/cpu/vec_math.h"

namespace lmaas::kernels::cpu {

namespace {

// Σ a[i]·b[i] over n floats, 8 lanes, tail masked.
inline float dot(const float* a, const float* b, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    acc = _mm256_fmadd_ps(_mm256_maskload_ps(a + i, m), _mm256_maskload_ps(b + i, m), acc);
  }
  return hsum(acc);
}

// y[i] += p · x[i] over n floats.
inline void axpy(float p, const float* x, float* y, int64_t n) {
  const __m256 pv = _mm256_set1_ps(p);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(pv, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += p * x[i];
}

}  // namespace

void rms_norm(const float* x, const float* weight, float* y, int64_t n, float eps) {
  const float mean_sq = dot(x, x, n) / static_cast<float>(n);
  const __m256 scale = _mm256_set1_ps(1.0f / std::sqrt(mean_sq + eps));
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), scale), _mm256_loadu_ps(weight + i)));
  }
  const float s = 1.0f / std::sqrt(mean_sq + eps);
  for (; i < n; ++i) y[i] = x[i] * s * weight[i];
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(g, vsigmoid(g)), _mm256_loadu_ps(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

void attend_one_head(const float* q, const float* k, const float* v, int64_t row_stride, int64_t n_keys,
                     int64_t head_dim, float scale, float* scores, float* out) {
  float max_score = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n_keys; ++j) {
    scores[j] = dot(q, k + j * row_stride, head_dim) * scale;
    max_score = scores[j] > max_score ? scores[j] : max_score;
  }
  // exp(s - max) in 8 lanes; the sum in a fixed order.
  const __m256 mv = _mm256_set1_ps(max_score);
  map_array(scores, scores, n_keys, [&](__m256 s) { return vexp(_mm256_sub_ps(s, mv)); });
  float sum = 0.0f;
  for (int64_t j = 0; j < n_keys; ++j) sum += scores[j];
  const float inv = 1.0f / sum;
  for (int64_t d = 0; d < head_dim; ++d) out[d] = 0.0f;
  for (int64_t j = 0; j < n_keys; ++j) axpy(scores[j] * inv, v + j * row_stride, out, head_dim);
}

}  // namespace lmaas::kernels::cpu
