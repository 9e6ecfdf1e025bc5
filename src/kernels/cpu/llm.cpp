// Decoder-only model kernels (contract in kernels/cpu/llm.h), AVX2/FMA.
#include "kernels/cpu/llm.h"

#include <algorithm>
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

void scaled_exp(const float* x, int64_t n, float shift, float scale, float* y) {
  const __m256 sv = _mm256_set1_ps(shift), kv = _mm256_set1_ps(scale);
  map_array(x, y, n, [&](__m256 v) { return vexp(_mm256_mul_ps(_mm256_sub_ps(v, sv), kv)); });
}

void attend_one_head(const float* q, const float* k, const float* v, int64_t row_stride, int64_t n_keys,
                     int64_t head_dim, float scale, float* scores, float* out) {
  float max_score = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n_keys; ++j) {
    scores[j] = dot(q, k + j * row_stride, head_dim) * scale;
    max_score = scores[j] > max_score ? scores[j] : max_score;
  }
  // exp(s - max) in 8 lanes, summed in 8 lanes (then across them): a fixed order.
  const __m256 mv = _mm256_set1_ps(max_score);
  map_array(scores, scores, n_keys, [&](__m256 s) { return vexp(_mm256_sub_ps(s, mv)); });
  __m256 lanes = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n_keys; j += 8) lanes = _mm256_add_ps(lanes, _mm256_loadu_ps(scores + j));
  float sum = hsum(lanes);
  for (; j < n_keys; ++j) sum += scores[j];
  const __m256 inv = _mm256_set1_ps(1.0f / sum);
  map_array(scores, scores, n_keys, [&](__m256 s) { return _mm256_mul_ps(s, inv); });
  // out = Σ_j p_j·v_j, 64 dimensions at a time kept in registers across all keys.
  constexpr int64_t kChunk = 64;
  int64_t d0 = 0;
  for (; d0 + 8 <= head_dim; d0 += kChunk) {
    const int n_vec = static_cast<int>(std::min<int64_t>(kChunk, head_dim - d0) / 8);
    __m256 acc[kChunk / 8];
    for (int i = 0; i < kChunk / 8; ++i) acc[i] = _mm256_setzero_ps();
    for (int64_t key = 0; key < n_keys; ++key) {
      const __m256 pv = _mm256_set1_ps(scores[key]);
      const float* row = v + key * row_stride + d0;
      for (int i = 0; i < n_vec; ++i) acc[i] = _mm256_fmadd_ps(pv, _mm256_loadu_ps(row + 8 * i), acc[i]);
    }
    for (int i = 0; i < n_vec; ++i) _mm256_storeu_ps(out + d0 + 8 * i, acc[i]);
    if (n_vec < kChunk / 8) {
      d0 += 8 * n_vec;
      break;
    }
  }
  for (int64_t d = d0; d < head_dim; ++d) {  // the last head_dim % 8 dimensions
    float acc = 0.0f;
    for (int64_t key = 0; key < n_keys; ++key) acc += scores[key] * v[key * row_stride + d];
    out[d] = acc;
  }
}

}  // namespace lmaas::kernels::cpu
