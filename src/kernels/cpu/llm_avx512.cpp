// AVX-512 passes of the decoder attention (contract in llm_isa.h). A decode step attends one query to each
// head's cached rows, so the work is dot products of short rows: the score pass finishes 16 keys' dot
// products at once (16 independent accumulators, then one transposing sum) instead of one horizontal sum
// per key, and the value pass keeps up to 128 dimensions of the output in registers, in two sets (even and
// odd keys) so that consecutive keys do not wait on each other's multiply-adds.
// GCC 12 reports its own _mm512_undefined_ps() placeholders (inside the shuffle, reduce and convert
// intrinsics) as "(maybe) uninitialized"; the warnings are about the header, not this code.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>

#include <array>
#include <cstdint>
#include <limits>
#include <utility>

#include "kernels/cpu/llm_isa.h"

namespace lmaas::kernels::cpu::llm_isa::avx512 {
namespace {

inline __m512 load16(const float* p) { return _mm512_loadu_ps(p); }
inline __m512 load16(const uint16_t* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline __m512 load16(const float* p, __mmask16 m) { return _mm512_maskz_loadu_ps(m, p); }
inline __m512 load16(const uint16_t* p, __mmask16 m) {
  return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}

inline __mmask16 first_lanes(int64_t n) { return static_cast<__mmask16>(n >= 16 ? 0xFFFF : (1u << n) - 1); }

// Lane i of the result is the sum of the 16 lanes of a[i]: neighbours' partial sums are added pairwise
// (16 → 8 → 4 vectors within 128-bit lanes), then the four 128-bit lanes of each group.
inline __m512 sum_lanes_of_16(const __m512 (&a)[16]) {
  __m512 pairs[8];
  for (int i = 0; i < 8; ++i) {  // per 128-bit lane: partials of a[2i], a[2i+1], a[2i], a[2i+1]
    pairs[i] =
        _mm512_add_ps(_mm512_unpacklo_ps(a[2 * i], a[2 * i + 1]), _mm512_unpackhi_ps(a[2 * i], a[2 * i + 1]));
  }
  __m512 quads[4];
  for (int i = 0; i < 4; ++i) {  // per 128-bit lane: one partial each of a[4i] … a[4i + 3]
    const __m512d x = _mm512_castps_pd(pairs[2 * i]), y = _mm512_castps_pd(pairs[2 * i + 1]);
    quads[i] =
        _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(x, y)), _mm512_castpd_ps(_mm512_unpackhi_pd(x, y)));
  }
  auto fold = [](__m512 lo, __m512 hi) {  // 128-bit lanes (lo0+lo1, lo2+lo3, hi0+hi1, hi2+hi3)
    return _mm512_add_ps(_mm512_shuffle_f32x4(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_f32x4(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)));
  };
  return fold(fold(quads[0], quads[1]), fold(quads[2], quads[3]));
}

template <typename Entry>
float key_scores_of(const float* q, const Entry* k, const Entry* v, int64_t row_stride, int64_t n_keys,
                    int64_t head_dim, float scale, float* scores) {
  const int64_t n_full = head_dim / 16;
  const __mmask16 tail = first_lanes(head_dim % 16);
  const auto row_bytes = static_cast<int64_t>(head_dim * sizeof(Entry));
  const __m512 scale_v = _mm512_set1_ps(scale);
  __m512 max_v = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  int64_t j0 = 0;
  for (; j0 + 16 <= n_keys; j0 += 16) {
    const Entry* rows = k + j0 * row_stride;
    // Value rows into L2 for the value pass; the next block's key rows into L1 a block ahead: this pass asks
    // for 16 rows' lines at once, more than the line-fill buffers track (with only the hardware prefetcher,
    // key rows from memory made it slower than the AVX2 pass, which reads one row at a time).
    for (int i = 0; i < 16; ++i) {
      prefetch_bytes(v + (j0 + i) * row_stride, row_bytes);
      if (j0 + 32 <= n_keys) prefetch_bytes<_MM_HINT_T0>(rows + (16 + i) * row_stride, row_bytes);
    }
    __m512 acc[16];
    for (__m512& a : acc) a = _mm512_setzero_ps();
    for (int64_t c = 0; c < n_full; ++c) {
      const __m512 qc = _mm512_loadu_ps(q + 16 * c);
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i)
        acc[i] = _mm512_fmadd_ps(qc, load16(rows + i * row_stride + 16 * c), acc[i]);
    }
    if (tail != 0) {
      const __m512 qc = _mm512_maskz_loadu_ps(tail, q + 16 * n_full);
#pragma GCC unroll 16
      for (int i = 0; i < 16; ++i) {
        acc[i] = _mm512_fmadd_ps(qc, load16(rows + i * row_stride + 16 * n_full, tail), acc[i]);
      }
    }
    const __m512 s = _mm512_mul_ps(sum_lanes_of_16(acc), scale_v);
    _mm512_storeu_ps(scores + j0, s);
    max_v = _mm512_max_ps(max_v, s);
  }
  float max_score = _mm512_reduce_max_ps(max_v);
  for (; j0 < n_keys; ++j0) {  // the last n_keys % 16 keys, one at a time
    const Entry* row = k + j0 * row_stride;
    prefetch_bytes(v + j0 * row_stride, row_bytes);
    __m512 acc = _mm512_setzero_ps();
    for (int64_t c = 0; c < n_full; ++c)
      acc = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16 * c), load16(row + 16 * c), acc);
    if (tail != 0) {
      acc =
          _mm512_fmadd_ps(_mm512_maskz_loadu_ps(tail, q + 16 * n_full), load16(row + 16 * n_full, tail), acc);
    }
    scores[j0] = _mm512_reduce_add_ps(acc) * scale;
    max_score = scores[j0] > max_score ? scores[j0] : max_score;
  }
  return max_score;
}

// out[0, 16·(kVecs − 1) + popcount(last)) = Σ_j p[j]·v[j·row_stride + …]: kVecs vectors of 16 dimensions,
// the last one masked by `last`. Even and odd keys go to separate accumulators, added at the end.
template <int kVecs, typename Entry>
void accumulate_values(const float* p, const Entry* v, int64_t row_stride, int64_t n_keys, __mmask16 last,
                       float* out, const NextKeysFetch* fetch_next) {
  __m512 even[kVecs], odd[kVecs];
  for (int i = 0; i < kVecs; ++i) even[i] = odd[i] = _mm512_setzero_ps();
  auto row_vec = [&](const Entry* row, int i) {
    return i + 1 < kVecs ? load16(row + 16 * i) : load16(row + 16 * i, last);
  };
  int64_t j = 0;
  for (; j + 2 <= n_keys; j += 2) {
    if (fetch_next != nullptr) {
      (*fetch_next)(j);
      (*fetch_next)(j + 1);
    }
    const __m512 p0 = _mm512_set1_ps(p[j]), p1 = _mm512_set1_ps(p[j + 1]);
    const Entry* r0 = v + j * row_stride;
    const Entry* r1 = r0 + row_stride;
#pragma GCC unroll 8
    for (int i = 0; i < kVecs; ++i) {
      even[i] = _mm512_fmadd_ps(p0, row_vec(r0, i), even[i]);
      odd[i] = _mm512_fmadd_ps(p1, row_vec(r1, i), odd[i]);
    }
  }
  if (j < n_keys) {
    if (fetch_next != nullptr) (*fetch_next)(j);
    const __m512 p0 = _mm512_set1_ps(p[j]);
    for (int i = 0; i < kVecs; ++i) even[i] = _mm512_fmadd_ps(p0, row_vec(v + j * row_stride, i), even[i]);
  }
  for (int i = 0; i < kVecs; ++i) {
    const __m512 sum = _mm512_add_ps(even[i], odd[i]);
    if (i + 1 < kVecs)
      _mm512_storeu_ps(out + 16 * i, sum);
    else
      _mm512_mask_storeu_ps(out + 16 * i, last, sum);
  }
}

// accumulate_values<1> … <8>, indexed by the number of vectors less one.
template <typename Entry, size_t... kLessOne>
constexpr auto value_passes(std::index_sequence<kLessOne...>) {
  return std::array{&accumulate_values<static_cast<int>(kLessOne) + 1, Entry>...};
}
template <typename Entry>
constexpr auto kValuePasses = value_passes<Entry>(std::make_index_sequence<8>{});

template <typename Entry>
void weighted_values_of(const float* p, const Entry* v, int64_t row_stride, int64_t n_keys, int64_t head_dim,
                        float* out, const Entry* next_keys, int64_t n_next_keys) {
  const NextKeysFetch fetch_next(next_keys, static_cast<int64_t>(row_stride * sizeof(Entry)),
                                 static_cast<int64_t>(head_dim * sizeof(Entry)), n_next_keys, n_keys);
  constexpr int64_t kChunk = 128;  // dimensions held in registers across all keys
  for (int64_t d0 = 0; d0 < head_dim; d0 += kChunk) {
    const int64_t dims = std::min(kChunk, head_dim - d0);
    const __mmask16 last = first_lanes(dims - 16 * ((dims - 1) / 16));
    const NextKeysFetch* fetch = d0 == 0 ? &fetch_next : nullptr;
    const Entry* rows = v + d0;
    kValuePasses<Entry>[(dims + 15) / 16 - 1](p, rows, row_stride, n_keys, last, out + d0, fetch);
  }
}

}  // namespace

float key_scores(const float* q, const float* k, const float* v, int64_t row_stride, int64_t n_keys,
                 int64_t head_dim, float scale, float* scores) {
  return key_scores_of(q, k, v, row_stride, n_keys, head_dim, scale, scores);
}

float key_scores(const float* q, const uint16_t* k, const uint16_t* v, int64_t row_stride, int64_t n_keys,
                 int64_t head_dim, float scale, float* scores) {
  return key_scores_of(q, k, v, row_stride, n_keys, head_dim, scale, scores);
}

void weighted_values(const float* p, const float* v, int64_t row_stride, int64_t n_keys, int64_t head_dim,
                     float* out, const float* next_keys, int64_t n_next_keys) {
  weighted_values_of(p, v, row_stride, n_keys, head_dim, out, next_keys, n_next_keys);
}

void weighted_values(const float* p, const uint16_t* v, int64_t row_stride, int64_t n_keys, int64_t head_dim,
                     float* out, const uint16_t* next_keys, int64_t n_next_keys) {
  weighted_values_of(p, v, row_stride, n_keys, head_dim, out, next_keys, n_next_keys);
}

}  // namespace lmaas::kernels::cpu::llm_isa::avx512
