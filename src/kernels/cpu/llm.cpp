// Decoder-only model kernels (contract in kernels/cpu/llm.h), AVX2/FMA.
#include "kernels/cpu/llm.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>

#include "kernels/cpu/llm_isa.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/quant_types.h"
#include "kernels/ref/llm.h"

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

void rope_apply(float* x, int64_t n_heads, int64_t head_dim, const float* cos_v, const float* sin_v,
                ref::RopeStyle style) {
  const int64_t half = head_dim / 2;
  const __m256i pair_index = _mm256_setr_epi32(0, 0, 1, 1, 2, 2, 3, 3);
  const __m256 alternate_sign = _mm256_setr_ps(-1, 1, -1, 1, -1, 1, -1, 1);
  for (int64_t h = 0; h < n_heads; ++h) {
    float* xh = x + h * head_dim;
    int64_t i = 0;  // pairs done
    if (style == ref::RopeStyle::kAdjacentPairs) {
      // Lanes (a0 b0 a1 b1 …): x·(c0 c0 c1 c1 …) + (b0 a0 b1 a1 …)·(−s0 s0 −s1 s1 …).
      for (; i + 4 <= half; i += 4) {
        const __m256 c = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(cos_v + i)), pair_index);
        const __m256 s = _mm256_mul_ps(
            _mm256_permutevar8x32_ps(_mm256_castps128_ps256(_mm_loadu_ps(sin_v + i)), pair_index), alternate_sign);
        const __m256 v = _mm256_loadu_ps(xh + 2 * i);
        _mm256_storeu_ps(xh + 2 * i, _mm256_fmadd_ps(v, c, _mm256_mul_ps(_mm256_permute_ps(v, 0xB1), s)));
      }
    } else {
      for (; i + 8 <= half; i += 8) {
        const __m256 c = _mm256_loadu_ps(cos_v + i), s = _mm256_loadu_ps(sin_v + i);
        const __m256 a = _mm256_loadu_ps(xh + i), b = _mm256_loadu_ps(xh + half + i);
        _mm256_storeu_ps(xh + i, _mm256_fmsub_ps(a, c, _mm256_mul_ps(b, s)));
        _mm256_storeu_ps(xh + half + i, _mm256_fmadd_ps(a, s, _mm256_mul_ps(b, c)));
      }
    }
    for (; i < half; ++i) {  // the pairs past the last full vector
      const int64_t a = style == ref::RopeStyle::kAdjacentPairs ? 2 * i : i;
      const int64_t b = style == ref::RopeStyle::kAdjacentPairs ? 2 * i + 1 : i + half;
      const float x0 = xh[a], x1 = xh[b];
      xh[a] = x0 * cos_v[i] - x1 * sin_v[i];
      xh[b] = x0 * sin_v[i] + x1 * cos_v[i];
    }
  }
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

float max_value(const float* x, int64_t n) {
  __m256 m = _mm256_set1_ps(x[0]);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
  float best = hmax(m);
  for (; i < n; ++i) best = std::max(best, x[i]);
  return best;
}

namespace {

inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline __m256 load8(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

// Σ q[i]·k[i] over n entries: 8 lanes, then the last n % 8 in order.
template <typename Entry>
inline float dot_entries(const float* q, const Entry* k, int64_t n) {
  if constexpr (std::is_same_v<Entry, float>) return dot(q, k, n);
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8(k + i), acc);
  float s = hsum(acc);
  for (; i < n; ++i) s += q[i] * ref::kv_entry(k + i);
  return s;
}

// scores[j] ← exp(scores[j] − max_score) / Σ: exponentials in 8 lanes, summed in 8 lanes (then across
// them), a fixed order.
void softmax_scores(float* scores, int64_t n_keys, float max_score) {
  const __m256 mv = _mm256_set1_ps(max_score);
  map_array(scores, scores, n_keys, [&](__m256 s) { return vexp(_mm256_sub_ps(s, mv)); });
  __m256 lanes = _mm256_setzero_ps();
  int64_t j = 0;
  for (; j + 8 <= n_keys; j += 8) lanes = _mm256_add_ps(lanes, _mm256_loadu_ps(scores + j));
  float sum = hsum(lanes);
  for (; j < n_keys; ++j) sum += scores[j];
  const __m256 inv = _mm256_set1_ps(1.0f / sum);
  map_array(scores, scores, n_keys, [&](__m256 s) { return _mm256_mul_ps(s, inv); });
}

// scores[j] = softmax_j(dot(j)·scale) over the keys, fetching value row j (fetch_value(j)) meanwhile.
template <typename Dot, typename FetchValue>
void key_probabilities(int64_t n_keys, float scale, float* scores, const Dot& dot, const FetchValue& fetch_value) {
  float max_score = -std::numeric_limits<float>::infinity();
  for (int64_t j = 0; j < n_keys; ++j) {
    fetch_value(j);
    scores[j] = dot(j) * scale;
    max_score = scores[j] > max_score ? scores[j] : max_score;
  }
  softmax_scores(scores, n_keys, max_score);
}

template <typename Entry>
void attend(const float* q, const Entry* k, const Entry* v, int64_t row_stride, int64_t n_keys, int64_t head_dim,
            float scale, float* scores, float* out, const Entry* next_keys, int64_t n_next_keys, QuantIsa isa) {
  if (uses_avx512(isa) && quant_isa_supported(QuantIsa::kAvx512)) {
    const float max_score = llm_isa::avx512::key_scores(q, k, v, row_stride, n_keys, head_dim, scale, scores);
    softmax_scores(scores, n_keys, max_score);
    llm_isa::avx512::weighted_values(scores, v, row_stride, n_keys, head_dim, out, next_keys, n_next_keys);
    return;
  }
  constexpr auto kEntryBytes = static_cast<int64_t>(sizeof(Entry));
  key_probabilities(
      n_keys, scale, scores, [&](int64_t j) { return dot_entries(q, k + j * row_stride, head_dim); },
      [&](int64_t j) { llm_isa::prefetch_bytes(v + j * row_stride, head_dim * kEntryBytes); });
  const llm_isa::NextKeysFetch fetch_next(next_keys, row_stride * kEntryBytes, head_dim * kEntryBytes, n_next_keys,
                                          n_keys);
  // out = Σ_j p_j·v_j, 64 dimensions at a time kept in registers across all keys.
  constexpr int64_t kChunk = 64;
  int64_t d0 = 0;
  for (; d0 + 8 <= head_dim; d0 += kChunk) {
    const int n_vec = static_cast<int>(std::min<int64_t>(kChunk, head_dim - d0) / 8);
    __m256 acc[kChunk / 8];
    for (int i = 0; i < kChunk / 8; ++i) acc[i] = _mm256_setzero_ps();
    for (int64_t key = 0; key < n_keys; ++key) {
      if (d0 == 0) fetch_next(key);
      const __m256 pv = _mm256_set1_ps(scores[key]);
      const Entry* row = v + key * row_stride + d0;
      for (int i = 0; i < n_vec; ++i) acc[i] = _mm256_fmadd_ps(pv, load8(row + 8 * i), acc[i]);
    }
    for (int i = 0; i < n_vec; ++i) _mm256_storeu_ps(out + d0 + 8 * i, acc[i]);
    if (n_vec < kChunk / 8) {
      d0 += 8 * n_vec;
      break;
    }
  }
  for (int64_t d = d0; d < head_dim; ++d) {  // the last head_dim % 8 dimensions
    float acc = 0.0f;
    for (int64_t key = 0; key < n_keys; ++key) acc += scores[key] * ref::kv_entry(v + key * row_stride + d);
    out[d] = acc;
  }
}

// 8 int8 levels as floats.
inline __m256 load8_levels(const int8_t* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

// Σ q[i]·row[i] over a Q8_0 row of n_blocks blocks: each block's products in 8 lanes, scaled by its d.
inline float dot_q8_0(const float* q, const BlockQ8_0* row, int64_t n_blocks) {
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < n_blocks; ++b) {
    const float* qb = q + b * kQuantBlock;
    __m256 s = _mm256_mul_ps(_mm256_loadu_ps(qb), load8_levels(row[b].qs));
    for (int i = 1; i < 4; ++i) s = _mm256_fmadd_ps(_mm256_loadu_ps(qb + 8 * i), load8_levels(row[b].qs + 8 * i), s);
    acc = _mm256_fmadd_ps(s, _mm256_set1_ps(_cvtsh_ss(row[b].d)), acc);
  }
  return hsum(acc);
}

// attend() over Q8_0 rows (head_dim / 32 blocks each, contiguous): the same passes, each value row's block
// weighted by p_j·d.
void attend_q8_0(const float* q, const BlockQ8_0* k, const BlockQ8_0* v, int64_t n_keys, int64_t head_dim, float scale,
                 float* scores, float* out, const BlockQ8_0* next_keys, int64_t n_next_keys) {
  const int64_t n_blocks = head_dim / kQuantBlock;
  constexpr auto kRowBlockBytes = static_cast<int64_t>(sizeof(BlockQ8_0));
  key_probabilities(
      n_keys, scale, scores, [&](int64_t j) { return dot_q8_0(q, k + j * n_blocks, n_blocks); },
      [&](int64_t j) { llm_isa::prefetch_bytes(v + j * n_blocks, n_blocks * kRowBlockBytes); });
  const llm_isa::NextKeysFetch fetch_next(next_keys, n_blocks * kRowBlockBytes, n_blocks * kRowBlockBytes, n_next_keys,
                                          n_keys);
  // out = Σ_j p_j·v_j, two blocks (64 dimensions) at a time kept in registers across all keys.
  constexpr int64_t kChunkBlocks = 2;
  for (int64_t b0 = 0; b0 < n_blocks; b0 += kChunkBlocks) {
    const int64_t nb = std::min(kChunkBlocks, n_blocks - b0);
    __m256 acc[4 * kChunkBlocks];
    for (__m256& a : acc) a = _mm256_setzero_ps();
    for (int64_t key = 0; key < n_keys; ++key) {
      if (b0 == 0) fetch_next(key);
      const BlockQ8_0* row = v + key * n_blocks + b0;
      for (int64_t b = 0; b < nb; ++b) {
        const __m256 pd = _mm256_set1_ps(scores[key] * _cvtsh_ss(row[b].d));
        for (int i = 0; i < 4; ++i) {
          acc[4 * b + i] = _mm256_fmadd_ps(pd, load8_levels(row[b].qs + 8 * i), acc[4 * b + i]);
        }
      }
    }
    for (int64_t i = 0; i < 4 * nb; ++i) _mm256_storeu_ps(out + b0 * kQuantBlock + 8 * i, acc[i]);
  }
}

}  // namespace

void attend_one_head(const float* q, const float* k, const float* v, int64_t row_stride, int64_t n_keys,
                     int64_t head_dim, float scale, float* scores, float* out, const float* next_keys,
                     int64_t n_next_keys, QuantIsa isa) {
  attend(q, k, v, row_stride, n_keys, head_dim, scale, scores, out, next_keys, n_next_keys, isa);
}

void attend_one_head(const float* q, const uint16_t* k, const uint16_t* v, int64_t row_stride, int64_t n_keys,
                     int64_t head_dim, float scale, float* scores, float* out, const uint16_t* next_keys,
                     int64_t n_next_keys, QuantIsa isa) {
  attend(q, k, v, row_stride, n_keys, head_dim, scale, scores, out, next_keys, n_next_keys, isa);
}

void attend_one_head(const float* q, const BlockQ8_0* k, const BlockQ8_0* v, int64_t n_keys, int64_t head_dim,
                     float scale, float* scores, float* out, const BlockQ8_0* next_keys, int64_t n_next_keys) {
  attend_q8_0(q, k, v, n_keys, head_dim, scale, scores, out, next_keys, n_next_keys);
}

void quantize_row_q8_0(const float* x, BlockQ8_0* out, int64_t n) {
  const __m256 sign = _mm256_set1_ps(-0.0f), half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  const __m256 lowest = _mm256_set1_ps(-127.0f), highest = _mm256_set1_ps(127.0f);
  for (int64_t b = 0; b < n / kQuantBlock; ++b) {
    const float* xb = x + b * kQuantBlock;
    __m256 v[4];
    __m256 amax = _mm256_setzero_ps();
    for (int i = 0; i < 4; ++i) {
      v[i] = _mm256_loadu_ps(xb + 8 * i);
      amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[i]));
    }
    const float d = hmax(amax) / 127.0f;
    const __m256 id = _mm256_set1_ps(d != 0.0f ? 1.0f / d : 0.0f);
    out[b].d = f32_to_fp16(d);
    __m256i levels[4];
    for (int i = 0; i < 4; ++i) {
      // std::round: the nearest integer, halfway cases away from zero.
      const __m256 y = _mm256_mul_ps(v[i], id);
      const __m256 t = _mm256_round_ps(y, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
      const __m256 away = _mm256_or_ps(_mm256_and_ps(y, sign), one);
      const __m256 halfway_or_more = _mm256_cmp_ps(_mm256_andnot_ps(sign, _mm256_sub_ps(y, t)), half, _CMP_GE_OQ);
      __m256 r = _mm256_add_ps(t, _mm256_and_ps(halfway_or_more, away));
      // Outside [-127, 127] (only a NaN input gets there) becomes level 0, as in the reference.
      r = _mm256_and_ps(r, _mm256_and_ps(_mm256_cmp_ps(r, lowest, _CMP_GE_OQ), _mm256_cmp_ps(r, highest, _CMP_LE_OQ)));
      levels[i] = _mm256_cvtps_epi32(r);
    }
    // Packing works within 128-bit lanes: dwords come out as elements 0-3, 8-11, 16-19, 24-27, 4-7, …
    const __m256i packed =
        _mm256_packs_epi16(_mm256_packs_epi32(levels[0], levels[1]), _mm256_packs_epi32(levels[2], levels[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out[b].qs),
                        _mm256_permutevar8x32_epi32(packed, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7)));
  }
}

void floats_to_halves(const float* x, uint16_t* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
  }
  for (; i < n; ++i) y[i] = f32_to_fp16(x[i]);
}

}  // namespace lmaas::kernels::cpu
