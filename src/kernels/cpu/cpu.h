// Fast float32 CPU kernels: same contracts as the reference kernels in kernels/ref (read those for the
// math); these are vectorised (AVX2/FMA via libmvec) and split across the global ThreadPool.
// Callers (the ops level) use them only when cpu_supports_avx2(); otherwise they run the references.
// GEMM goes through OpenBLAS held at one thread; parallelism comes from our pool, so they never compete.
#pragma once

#include <cstdint>

#include "kernels/ref/attention.h"
#include "kernels/ref/dropout.h"
#include "kernels/ref/optim.h"
#include "kernels/unary.h"

namespace lmaas::kernels::cpu {

bool cpu_supports_avx2();

// C[m,n] = alpha·op(A)·op(B) + beta·C, row-major (see ref::gemm). Splits rows or columns of C over the pool.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a, int64_t lda,
          const float* b, int64_t ldb, float beta, float* c, int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha, const double* a, int64_t lda,
          const double* b, int64_t ldb, double beta, double* c, int64_t ldc);
// Single-threaded GEMM for use inside an already parallel loop.
void gemm_serial(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                 int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

// C[m, n] += A[m, k]·B[k, n] (row strides lda, ldb, ldc), single-threaded and unpacked: for the small
// per-step products of recurrent layers.
void gemm_small_accumulate(const float* a, int64_t lda, const float* b, int64_t ldb, float* c, int64_t ldc, int64_t m,
                           int64_t n, int64_t k);

void unary_forward(Unary op, const float* x, float* y, int64_t n);
void unary_backward(Unary op, const float* x, const float* y, const float* dy, float* dx, int64_t n);

// ref::dropout_forward's mask and output, the blocks spread over the pool (AVX2: the draws vectorise).
void dropout_forward(uint64_t key, uint32_t threshold, float scale, const float* x, float* out, float* mask, int64_t n);
void softmax_forward(const float* x, float* y, int64_t rows, int64_t cols, bool log);
// One row of softmax_forward, on the calling thread; x and y may be the same buffer. A row that is all
// -inf gives zeros.
void softmax_row(const float* x, float* y, int64_t cols, bool log);
// One row of softmax_backward (not log), on the calling thread; dy and dx may be the same buffer.
void softmax_backward_row(const float* y, const float* dy, float* dx, int64_t cols);
void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols, bool log);

void layer_norm_forward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                        int64_t rows, int64_t cols, double eps);
void layer_norm_backward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                         float* dx, float* dgamma, float* dbeta, int64_t rows, int64_t cols);

void lstm_cell_backward(const float* dh, const float* dc, const float* acts, const float* c_prev, const float* c,
                        const uint8_t* mask, float* dpre, float* dc_prev, float* dh_pass, int64_t batch,
                        int64_t hidden);
// One whole recurrent step for `batch` rows, fused: each task owns a slice of hidden units, computes its
// gates' recurrent GEMM slices and then runs the cell on them (one hand-off per step, and each task's
// slice of W_hh stays in its cache). lstm: pre[B, 4H] holds x·W_ihᵀ + biases on entry and the activated
// gates on exit. gru: gh[B, 3H] is written (b_hh + h_prev·W_hhᵀ), acts[B, 3H] the gates.
// w_hh_t is W_hhᵀ [H, G·H] (the op transposes W_hh once per sequence).
// With `table` (the token form of the ops), pre is filled here instead: row b of the step is
// table[ids[b]] + bias (bias may be null), each thread copying the columns it then works on, so the
// projections never make a round trip through memory.
void lstm_step_forward(const float* h_prev, const float* w_hh_t, const float* c_prev, const uint8_t* mask, float* pre,
                       float* c, float* h, int64_t batch, int64_t hidden, const float* table = nullptr,
                       const int32_t* ids = nullptr, const float* bias = nullptr);
void gru_step_forward(const float* h_prev, const float* w_hh_t, const float* b_hh, const float* gx, const uint8_t* mask,
                      float* gh, float* acts, float* h, int64_t batch, int64_t hidden);
void gru_cell_backward(const float* dh, const float* acts, const float* gh, const float* h_prev, const uint8_t* mask,
                       float* dgx, float* dgh, float* dh_prev_direct, int64_t batch, int64_t hidden);

void attention_forward(const ref::AttentionDims& a, const float* q, const float* k, const float* v,
                       const uint8_t* key_pad, float* probs, float* out);
void attention_backward(const ref::AttentionDims& a, const float* q, const float* k, const float* v,
                        const uint8_t* key_pad, const float* probs, const float* dout, float* dq, float* dk, float* dv);

void embedding_forward(const int32_t* ids, const float* weight, float* out, int64_t n, int64_t dim);
void embedding_backward(const int32_t* ids, const float* dout, float* dweight, int64_t n, int64_t dim,
                        int64_t padding_idx);
void embedding_bag_mean_forward(const int32_t* ids, const float* weight, float* out, float* inv_count, int64_t batch,
                                int64_t steps, int64_t dim, int64_t padding_idx);

double cross_entropy(const float* logits, const int32_t* targets, float* dlogits, int64_t n, int64_t c,
                     int64_t ignore_index, double label_smoothing);

void adam_step(const ref::AdamHyper& h, float* p, const float* g, float* m, float* v, int64_t n);
// Row-sparse Adam in place: row i of g ([n_rows, row_len]) updates row rows[i] of p, m and v.
void adam_step_rows(const ref::AdamHyper& h, float* p, const float* g, float* m, float* v, const int64_t* rows,
                    int64_t n_rows, int64_t row_len);

// y[i] += alpha·x[i]
void axpy(float alpha, const float* x, float* y, int64_t n);
// out[c] (+)= Σ_r x[r, c]  (accumulate when `accumulate`)
void sum_rows(const float* x, float* out, int64_t rows, int64_t cols, bool accumulate);

}  // namespace lmaas::kernels::cpu
