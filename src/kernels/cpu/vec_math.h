// AVX2 vector math for the cpu kernels: glibc's libmvec implementations (≤ 4 ulp), called directly so
// the rest of the build needs no -ffast-math. Only included by files compiled with -mavx2 -mfma; the
// ops level calls them only when cpu_supports_avx2() is true.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

extern "C" {
__m256 _ZGVdN8v_expf(__m256 x);
__m256 _ZGVdN8v_tanhf(__m256 x);
__m256 _ZGVdN8v_erff(__m256 x);
__m256 _ZGVdN8v_logf(__m256 x);
}

namespace lmaas::kernels::cpu {

inline __m256 vexp(__m256 x) { return _ZGVdN8v_expf(x); }
inline __m256 vtanh(__m256 x) { return _ZGVdN8v_tanhf(x); }
inline __m256 verf(__m256 x) { return _ZGVdN8v_erff(x); }
inline __m256 vlog(__m256 x) { return _ZGVdN8v_logf(x); }
inline __m256 vsigmoid(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, vexp(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// Applies a vector function to n floats; the tail goes through a zero-padded register.
template <typename VecFn>
inline void map_array(const float* x, float* y, int64_t n, VecFn fn) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, fn(_mm256_loadu_ps(x + i)));
  if (i < n) {
    alignas(32) float buf[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::memcpy(buf, x + i, static_cast<size_t>(n - i) * sizeof(float));
    _mm256_store_ps(buf, fn(_mm256_load_ps(buf)));
    std::memcpy(y + i, buf, static_cast<size_t>(n - i) * sizeof(float));
  }
}

// Lane mask with the first min(n, 8) lanes on (n > 0): the tail of a row whose length is not a multiple of 8.
inline __m256i tail_mask(int64_t n) {
  alignas(32) static const int32_t kRamp[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(kRamp + 8 - (n < 8 ? n : 8)));
}
// Loads/stores 8 floats, or only the masked lanes when `mask` is given. Full blocks pass null: masked
// stores are slow on several x86 cores, so only tails pay for them.
inline __m256 load_lanes(const float* p, const __m256i* mask) {
  return mask ? _mm256_maskload_ps(p, *mask) : _mm256_loadu_ps(p);
}
inline void store_lanes(float* p, __m256 v, const __m256i* mask) {
  if (mask) _mm256_maskstore_ps(p, *mask, v);
  else _mm256_storeu_ps(p, v);
}

inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  return _mm_cvtss_f32(lo);
}

inline float hmax(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_max_ps(lo, hi);
  lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_max_ss(lo, _mm_shuffle_ps(lo, lo, 1));
  return _mm_cvtss_f32(lo);
}

}  // namespace lmaas::kernels::cpu
