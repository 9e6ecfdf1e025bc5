// gemm_small_accumulate: C[m, n] += A[m, k]·B[k, n] for the small per-step products of recurrent layers.
// Register-blocked (up to 4 rows × 24 columns in 12 accumulators), B's rows read in place: no packing, so
// a product of 64×64×128 costs its FLOPs and little else. Column tails use masked loads and stores.
#include <algorithm>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/vec_math.h"

namespace lmaas::kernels::cpu {
namespace {

// R rows × V vectors of 8 columns; `mask` (or null) applies to the last vector.
// Forced inline: as a separate function GCC keeps it out of line and the kernel runs ~40% slower.
template <int R, int V>
[[gnu::always_inline]] inline void block(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t k,
           const __m256i* mask) {
  __m256 acc[R][V];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) {
      const float* cp = c + r * ldc + v * 8;
      acc[r][v] = (mask && v == V - 1) ? _mm256_maskload_ps(cp, *mask) : _mm256_loadu_ps(cp);
    }
  for (int64_t p = 0; p < k; ++p) {
    __m256 bv[V];
    for (int v = 0; v < V; ++v) {
      const float* bp = b + p * ldb + v * 8;
      bv[v] = (mask && v == V - 1) ? _mm256_maskload_ps(bp, *mask) : _mm256_loadu_ps(bp);
    }
    for (int r = 0; r < R; ++r) {
      const __m256 av = _mm256_broadcast_ss(a + r * lda + p);
      for (int v = 0; v < V; ++v) acc[r][v] = _mm256_fmadd_ps(av, bv[v], acc[r][v]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < V; ++v) {
      float* cp = c + r * ldc + v * 8;
      if (mask && v == V - 1) _mm256_maskstore_ps(cp, *mask, acc[r][v]);
      else _mm256_storeu_ps(cp, acc[r][v]);
    }
}

// All column blocks of R rows.
template <int R>
void row_panel(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t n, int64_t k) {
  int64_t j = 0;
  // 24-column blocks keep 12 accumulators in flight (enough to hide FMA latency on two FMA units).
  for (; j + 24 <= n; j += 24) block<R, 3>(a, lda, b + j, ldb, c + j, ldc, k, nullptr);
  for (; j + 16 <= n; j += 16) block<R, 2>(a, lda, b + j, ldb, c + j, ldc, k, nullptr);
  for (; j < n; j += 8) {
    const __m256i mask = tail_mask(n - j);
    block<R, 1>(a, lda, b + j, ldb, c + j, ldc, k, n - j >= 8 ? nullptr : &mask);
  }
}

}  // namespace

void gemm_small_accumulate(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m,
                           int64_t n, int64_t k) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) row_panel<4>(a + i * lda, lda, b, ldb, c + i * ldc, ldc, n, k);
  switch (m - i) {
    case 3: row_panel<3>(a + i * lda, lda, b, ldb, c + i * ldc, ldc, n, k); break;
    case 2: row_panel<2>(a + i * lda, lda, b, ldb, c + i * ldc, ldc, n, k); break;
    case 1: row_panel<1>(a + i * lda, lda, b, ldb, c + i * ldc, ldc, n, k); break;
    default: break;
  }
}

}  // namespace lmaas::kernels::cpu
