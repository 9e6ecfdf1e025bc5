// Reference scaled dot-product attention over heads laid out as [B, T, H, D] (the natural output of a
// projection: row stride H·D), so no permute copies are needed.
//   S[b,h,i,j] = scale · q[b,i,h,:]·k[b,j,h,:] (+ -inf where key_pad[b,j] != 0, or j > i when causal)
//   P = softmax_j(S);  out[b,i,h,:] = Σ_j P[b,h,i,j] v[b,j,h,:]
// A query row whose keys are all masked gets P = 0 and output 0 (PyTorch would give NaN).
// forward stores P[B,H,Tq,Tk] for backward. backward writes dq, dk, dv (same layouts as q, k, v).
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/ref/softmax.h"

namespace lmaas::kernels::ref {

struct AttentionDims {
  int64_t batch, heads, q_len, k_len, head_dim;
  bool causal;
  double scale;
};

template <typename T>
void attention_forward(const AttentionDims& a, const T* q, const T* k, const T* v, const uint8_t* key_pad, T* probs,
                       T* out) {
  const int64_t e = a.heads * a.head_dim;
  std::vector<T> row(static_cast<size_t>(a.k_len));
  for (int64_t b = 0; b < a.batch; ++b) {
    for (int64_t h = 0; h < a.heads; ++h) {
      for (int64_t i = 0; i < a.q_len; ++i) {
        const T* qi = q + (b * a.q_len + i) * e + h * a.head_dim;
        for (int64_t j = 0; j < a.k_len; ++j) {
          bool masked = (key_pad && key_pad[b * a.k_len + j]) || (a.causal && j > i);
          const T* kj = k + (b * a.k_len + j) * e + h * a.head_dim;
          double s = 0.0;
          for (int64_t d = 0; d < a.head_dim; ++d) s += static_cast<double>(qi[d]) * kj[d];
          row[j] = masked ? -std::numeric_limits<T>::infinity() : static_cast<T>(s * a.scale);
        }
        T* p = probs + ((b * a.heads + h) * a.q_len + i) * a.k_len;
        softmax_forward(row.data(), p, 1, a.k_len, false);
        T* oi = out + (b * a.q_len + i) * e + h * a.head_dim;
        for (int64_t d = 0; d < a.head_dim; ++d) {
          double acc = 0.0;
          for (int64_t j = 0; j < a.k_len; ++j) acc += static_cast<double>(p[j]) * v[(b * a.k_len + j) * e + h * a.head_dim + d];
          oi[d] = static_cast<T>(acc);
        }
      }
    }
  }
}

// key_pad is the forward pass's mask; the reference works over every key (masked ones have p = 0).
template <typename T>
void attention_backward(const AttentionDims& a, const T* q, const T* k, const T* v,
                        [[maybe_unused]] const uint8_t* key_pad, const T* probs, const T* dout, T* dq, T* dk, T* dv) {
  const int64_t e = a.heads * a.head_dim;
  for (int64_t i = 0; i < a.batch * a.q_len * e; ++i) dq[i] = T(0);
  for (int64_t i = 0; i < a.batch * a.k_len * e; ++i) dk[i] = dv[i] = T(0);
  std::vector<T> dp(static_cast<size_t>(a.k_len)), ds(static_cast<size_t>(a.k_len));
  for (int64_t b = 0; b < a.batch; ++b) {
    for (int64_t h = 0; h < a.heads; ++h) {
      for (int64_t i = 0; i < a.q_len; ++i) {
        const T* p = probs + ((b * a.heads + h) * a.q_len + i) * a.k_len;
        const T* doi = dout + (b * a.q_len + i) * e + h * a.head_dim;
        for (int64_t j = 0; j < a.k_len; ++j) {
          const T* vj = v + (b * a.k_len + j) * e + h * a.head_dim;
          T* dvj = dv + (b * a.k_len + j) * e + h * a.head_dim;
          double s = 0.0;
          for (int64_t d = 0; d < a.head_dim; ++d) {
            s += static_cast<double>(doi[d]) * vj[d];
            dvj[d] += p[j] * doi[d];
          }
          dp[j] = static_cast<T>(s);
        }
        softmax_backward(p, dp.data(), ds.data(), 1, a.k_len, false);
        const T* qi = q + (b * a.q_len + i) * e + h * a.head_dim;
        T* dqi = dq + (b * a.q_len + i) * e + h * a.head_dim;
        for (int64_t j = 0; j < a.k_len; ++j) {
          const T* kj = k + (b * a.k_len + j) * e + h * a.head_dim;
          T* dkj = dk + (b * a.k_len + j) * e + h * a.head_dim;
          T g = static_cast<T>(ds[j] * a.scale);
          for (int64_t d = 0; d < a.head_dim; ++d) {
            dqi[d] += g * kj[d];
            dkj[d] += g * qi[d];
          }
        }
      }
    }
  }
}

}  // namespace lmaas::kernels::ref
