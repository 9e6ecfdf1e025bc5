// GEMM through OpenBLAS (single-threaded), parallelised over blocks of C by the global pool.
#include <cblas.h>

#include <algorithm>
#include <mutex>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace lmaas::kernels::cpu {
namespace {

// OpenBLAS must not start threads of its own: our pool owns the cores.
void hold_blas_to_one_thread() {
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
}

template <typename T>
void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
               int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // BLAS may leave C untouched when beta == 0 and k == 0 is not special-cased
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    return;
  }
  if (m == 1) {  // one row (batch-1 inference): a matrix-vector product, without GEMM's packing of B
    // c[1, n] = a[1, k]·op(B): op(B) = Bᵀ[k, n] when tb (B is [n, k]), else B[k, n] read transposed.
    const int incx = static_cast<int>(ta ? lda : 1);
    const auto op = tb ? CblasNoTrans : CblasTrans;
    const int rows = static_cast<int>(tb ? n : k), cols = static_cast<int>(tb ? k : n);
    if (beta == T(0)) std::fill(c, c + n, T(0));  // BLAS may scale (not overwrite) y, so NaNs must not survive
    if constexpr (std::is_same_v<T, float>) {
      cblas_sgemv(CblasRowMajor, op, rows, cols, alpha, b, static_cast<int>(ldb), a, incx, beta, c, 1);
    } else {
      cblas_dgemv(CblasRowMajor, op, rows, cols, alpha, b, static_cast<int>(ldb), a, incx, beta, c, 1);
    }
    return;
  }
  auto opa = ta ? CblasTrans : CblasNoTrans, opb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, opa, opb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, opa, opb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha, a,
                static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  }
}

template <typename T>
void parallel_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, T alpha, const T* a, int64_t lda, const T* b,
                   int64_t ldb, T beta, T* c, int64_t ldc) {
  hold_blas_to_one_thread();
  constexpr int64_t kMinFlopsPerThread = 1 << 17;
  int64_t n_threads = num_threads();
  if (n_threads <= 1 || m * n * k < kMinFlopsPerThread * 2) {
    blas_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    return;
  }
  if (m >= n || n < 16) {  // split rows of C
    parallel_for(m, std::max<int64_t>(4, kMinFlopsPerThread / std::max<int64_t>(1, n * k)), [&](int64_t i0, int64_t i1) {
      const T* a_block = ta ? a + i0 : a + i0 * lda;
      blas_gemm(ta, tb, i1 - i0, n, k, alpha, a_block, lda, b, ldb, beta, c + i0 * ldc, ldc);
    });
  } else {  // split columns of C, in multiples of 16 for the micro-kernel
    int64_t n_blocks = (n + 15) / 16;
    parallel_for(n_blocks, 1, [&](int64_t j0, int64_t j1) {
      int64_t c0 = j0 * 16, c1 = std::min(n, j1 * 16);
      const T* b_block = tb ? b + c0 * ldb : b + c0;
      blas_gemm(ta, tb, m, c1 - c0, k, alpha, a, lda, b_block, ldb, beta, c + c0, ldc);
    });
  }
}

}  // namespace

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda, const float* b,
          int64_t ldb, float beta, float* c, int64_t ldc) {
  parallel_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc) {
  parallel_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void gemm_serial(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
                 const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  hold_blas_to_one_thread();
  blas_gemm(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

bool cpu_supports_avx2() {
  static const bool supported =
      __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
  return supported;
}

}  // namespace lmaas::kernels::cpu
