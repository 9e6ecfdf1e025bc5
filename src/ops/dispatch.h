// Kernel dispatch for the ops level: every kernel call in ops/ goes through these templates, which pick
// the fast float32 kernel (kernels/cpu) or the reference (kernels/ref) by backend and dtype.
// The backend is thread-local: tests switch to kRef to compare whole ops, forward and backward.
#pragma once

#include "base/check.h"
#include "kernels/cpu/cpu.h"
#include "kernels/ref/attention.h"
#include "kernels/ref/dropout.h"
#include "kernels/ref/embedding.h"
#include "kernels/ref/gemm.h"
#include "kernels/ref/layer_norm.h"
#include "kernels/ref/loss.h"
#include "kernels/ref/rnn_cell.h"
#include "kernels/ref/softmax.h"
#include "kernels/ref/unary.h"
#include "tensor/tensor.h"

namespace lmaas::ops {

enum class Backend { kCpu, kRef };
Backend backend();
void set_backend(Backend backend);

// Selects a backend for its lifetime (tests).
class BackendGuard {
 public:
  explicit BackendGuard(Backend b) : previous_(backend()) { set_backend(b); }
  ~BackendGuard() { set_backend(previous_); }
  BackendGuard(const BackendGuard&) = delete;
  BackendGuard& operator=(const BackendGuard&) = delete;

 private:
  Backend previous_;
};

// True when float32 work should use kernels/cpu.
bool use_fast_kernels();

// Runs `body` with T bound to float or double according to `dtype`; other dtypes are an error.
#define LMAAS_DISPATCH_FLOATING(dtype, op_name, ...)                                                \
  [&] {                                                                                             \
    switch (dtype) {                                                                                \
      case ::lmaas::DType::kF32: { using T = float; return __VA_ARGS__(); }                         \
      case ::lmaas::DType::kF64: { using T = double; return __VA_ARGS__(); }                        \
      default:                                                                                      \
        throw ::lmaas::Error(::lmaas::Code::kInvalidArgument,                                       \
                             fmt::format("{}: dtype {} is not supported (expected F32 or F64)",     \
                                         op_name, ::lmaas::dtype_name(dtype)));                     \
    }                                                                                               \
  }()

namespace k {

template <typename T>
void gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t kk, T alpha, const T* a, int64_t lda, const T* b,
          int64_t ldb, T beta, T* c, int64_t ldc) {
  if (use_fast_kernels()) kernels::cpu::gemm(ta, tb, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc);
  else kernels::ref::gemm(ta, tb, m, n, kk, alpha, a, lda, b, ldb, beta, c, ldc);
}

template <typename T>
void unary_forward(kernels::Unary op, const T* x, T* y, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::unary_forward(op, x, y, n);
  }
  kernels::ref::unary_forward(op, x, y, n);
}

template <typename T>
void unary_backward(kernels::Unary op, const T* x, const T* y, const T* dy, T* dx, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::unary_backward(op, x, y, dy, dx, n);
  }
  kernels::ref::unary_backward(op, x, y, dy, dx, n);
}

template <typename T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, bool log) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::softmax_forward(x, y, rows, cols, log);
  }
  kernels::ref::softmax_forward(x, y, rows, cols, log);
}

template <typename T>
void softmax_backward(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols, bool log) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::softmax_backward(y, dy, dx, rows, cols, log);
  }
  kernels::ref::softmax_backward(y, dy, dx, rows, cols, log);
}

template <typename T>
void layer_norm_forward(const T* x, const T* g, const T* b, T* y, T* mean, T* rstd, int64_t rows, int64_t cols,
                        double eps) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::layer_norm_forward(x, g, b, y, mean, rstd, rows, cols, eps);
  }
  kernels::ref::layer_norm_forward(x, g, b, y, mean, rstd, rows, cols, eps);
}

template <typename T>
void layer_norm_backward(const T* dy, const T* x, const T* g, const T* mean, const T* rstd, T* dx, T* dg, T* db,
                         int64_t rows, int64_t cols) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::layer_norm_backward(dy, x, g, mean, rstd, dx, dg, db, rows, cols);
  }
  kernels::ref::layer_norm_backward(dy, x, g, mean, rstd, dx, dg, db, rows, cols);
}

// One LSTM step: pre[B, 4H] += h_prev·W_hhᵀ (w_hh_t = W_hhᵀ [H, 4H]), then the cell (acts over pre).
// With `table`: pre's rows are first set to table[ids[b]] + bias (see kernels::cpu::lstm_step_forward).
template <typename T>
void lstm_step_forward(const T* h_prev, const T* w_hh_t, const T* c_prev, const uint8_t* mask, T* pre, T* c, T* h,
                       int64_t batch, int64_t hidden, const T* table = nullptr, const int32_t* ids = nullptr,
                       const T* bias = nullptr) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels())
      return kernels::cpu::lstm_step_forward(h_prev, w_hh_t, c_prev, mask, pre, c, h, batch, hidden, table, ids, bias);
  }
  for (int64_t b = 0; table && b < batch; ++b)
    for (int64_t j = 0; j < 4 * hidden; ++j)
      pre[b * 4 * hidden + j] = table[static_cast<int64_t>(ids[b]) * 4 * hidden + j] + (bias ? bias[j] : T(0));
  gemm<T>(false, false, batch, 4 * hidden, hidden, T(1), h_prev, hidden, w_hh_t, 4 * hidden, T(1), pre, 4 * hidden);
  kernels::ref::lstm_cell_forward(pre, c_prev, h_prev, mask, pre, c, h, batch, hidden);
}

// One GRU step: gh[B, 3H] = b_hh + h_prev·W_hhᵀ (w_hh_t = W_hhᵀ [H, 3H]), then the cell.
template <typename T>
void gru_step_forward(const T* h_prev, const T* w_hh_t, const T* b_hh, const T* gx, const uint8_t* mask, T* gh,
                      T* acts, T* h, int64_t batch, int64_t hidden) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels())
      return kernels::cpu::gru_step_forward(h_prev, w_hh_t, b_hh, gx, mask, gh, acts, h, batch, hidden);
  }
  for (int64_t b = 0; b < batch; ++b) std::copy(b_hh, b_hh + 3 * hidden, gh + b * 3 * hidden);
  gemm<T>(false, false, batch, 3 * hidden, hidden, T(1), h_prev, hidden, w_hh_t, 3 * hidden, T(1), gh, 3 * hidden);
  kernels::ref::gru_cell_forward(gx, gh, h_prev, mask, acts, h, batch, hidden);
}

template <typename T>
void lstm_cell_backward(const T* dh, const T* dc, const T* acts, const T* c_prev, const T* c, const uint8_t* mask,
                        T* dpre, T* dc_prev, T* dh_pass, int64_t batch, int64_t hidden) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels())
      return kernels::cpu::lstm_cell_backward(dh, dc, acts, c_prev, c, mask, dpre, dc_prev, dh_pass, batch, hidden);
  }
  kernels::ref::lstm_cell_backward(dh, dc, acts, c_prev, c, mask, dpre, dc_prev, dh_pass, batch, hidden);
}

template <typename T>
void gru_cell_backward(const T* dh, const T* acts, const T* gh, const T* h_prev, const uint8_t* mask, T* dgx, T* dgh,
                       T* dh_prev_direct, int64_t batch, int64_t hidden) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels())
      return kernels::cpu::gru_cell_backward(dh, acts, gh, h_prev, mask, dgx, dgh, dh_prev_direct, batch, hidden);
  }
  kernels::ref::gru_cell_backward(dh, acts, gh, h_prev, mask, dgx, dgh, dh_prev_direct, batch, hidden);
}

template <typename T>
void attention_forward(const kernels::ref::AttentionDims& a, const T* q, const T* kk, const T* v, const uint8_t* pad,
                       T* probs, T* out) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::attention_forward(a, q, kk, v, pad, probs, out);
  }
  kernels::ref::attention_forward(a, q, kk, v, pad, probs, out);
}

template <typename T>
void attention_backward(const kernels::ref::AttentionDims& a, const T* q, const T* kk, const T* v,
                        const uint8_t* key_pad, const T* probs, const T* dout, T* dq, T* dk, T* dv) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::attention_backward(a, q, kk, v, key_pad, probs, dout, dq, dk, dv);
  }
  kernels::ref::attention_backward(a, q, kk, v, key_pad, probs, dout, dq, dk, dv);
}

template <typename T>
void dropout_forward(uint64_t key, uint32_t threshold, T scale, const T* x, T* out, T* mask, int64_t n) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::dropout_forward(key, threshold, scale, x, out, mask, n);
  }
  kernels::ref::dropout_forward(key, threshold, scale, x, out, mask, n);
}

template <typename T>
void embedding_forward(const int32_t* ids, const T* w, T* out, int64_t n, int64_t dim) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::embedding_forward(ids, w, out, n, dim);
  }
  kernels::ref::embedding_forward(ids, w, out, n, dim);
}

template <typename T>
void embedding_backward(const int32_t* ids, const T* dout, T* dw, int64_t n, int64_t dim, int64_t padding_idx) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::embedding_backward(ids, dout, dw, n, dim, padding_idx);
  }
  kernels::ref::embedding_backward(ids, dout, dw, n, dim, padding_idx);
}

template <typename T>
void embedding_bag_mean_forward(const int32_t* ids, const T* w, T* out, T* inv_count, int64_t batch, int64_t steps,
                                int64_t dim, int64_t padding_idx) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels())
      return kernels::cpu::embedding_bag_mean_forward(ids, w, out, inv_count, batch, steps, dim, padding_idx);
  }
  kernels::ref::embedding_bag_mean_forward(ids, w, out, inv_count, batch, steps, dim, padding_idx);
}

template <typename T>
double cross_entropy(const T* logits, const int32_t* targets, T* dlogits, int64_t n, int64_t c, int64_t ignore_index,
                     double smoothing) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::cross_entropy(logits, targets, dlogits, n, c, ignore_index, smoothing);
  }
  return kernels::ref::cross_entropy(logits, targets, dlogits, n, c, ignore_index, smoothing);
}

// out[c] (+)= Σ_r x[r, c]
template <typename T>
void sum_rows(const T* x, T* out, int64_t rows, int64_t cols, bool accumulate) {
  if constexpr (std::is_same_v<T, float>) {
    if (use_fast_kernels()) return kernels::cpu::sum_rows(x, out, rows, cols, accumulate);
  }
  for (int64_t c = 0; c < cols; ++c) {
    double acc = accumulate ? static_cast<double>(out[c]) : 0.0;
    for (int64_t r = 0; r < rows; ++r) acc += x[r * cols + c];
    out[c] = static_cast<T>(acc);
  }
}

}  // namespace k
}  // namespace lmaas::ops
