// Reference GEMM, row-major: C[m,n] = alpha * op(A)[m,k] · op(B)[k,n] + beta * C.
// op(A) = A (A is [m,k], lda >= k) or Aᵀ (A is [k,m], lda >= m); likewise B. Accumulates in double.
// Naive and obviously right; the fast path is cpu::gemm.
#pragma once

#include <cstdint>

namespace lmaas::kernels::ref {

template <typename T>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda,
          const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0.0;
      for (int64_t p = 0; p < k; ++p) {
        T av = trans_a ? a[p * lda + i] : a[i * lda + p];
        T bv = trans_b ? b[j * ldb + p] : b[p * ldb + j];
        acc += static_cast<double>(av) * static_cast<double>(bv);
      }
      T prior = beta == T(0) ? T(0) : beta * c[i * ldc + j];
      c[i * ldc + j] = static_cast<T>(alpha * acc + prior);
    }
  }
}

}  // namespace lmaas::kernels::ref
