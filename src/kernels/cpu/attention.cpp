// Attention (contract in kernels/ref/attention.h): one task per (batch, head), each doing its two
// GEMMs single-threaded over strided head slices; heads write disjoint slices, so no locking.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"

namespace lmaas::kernels::cpu {
namespace {

// Keys after the last unmasked one only ever get probability 0 (right padding puts every padded key
// there), so scores, softmax and P·V run over the first live_keys() keys only.
int64_t live_keys(const ref::AttentionDims& a, int64_t b, const uint8_t* key_pad) {
  int64_t n = a.k_len;
  while (key_pad && n > 0 && key_pad[b * a.k_len + n - 1]) --n;
  return n;
}

// Probabilities for one (b, h): p[i, j] = softmax_j(scale·q_i·k_j) with masked keys at -inf, over the
// first `live` keys; the rest of each row is zero (the backward pass reads whole rows).
void scores_and_softmax(const ref::AttentionDims& a, int64_t b, const float* qh, const float* kh,
                        const uint8_t* key_pad, int64_t live, float* p) {
  const int64_t e = a.heads * a.head_dim;
  if (live > 0)
    gemm_serial(false, true, a.q_len, live, a.head_dim, static_cast<float>(a.scale), qh, e, kh, e, 0.0f, p, a.k_len);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < a.q_len; ++i) {
    float* row = p + i * a.k_len;
    if (key_pad)
      for (int64_t j = 0; j < live; ++j)
        if (key_pad[b * a.k_len + j]) row[j] = neg_inf;
    if (a.causal)
      for (int64_t j = i + 1; j < live; ++j) row[j] = neg_inf;
    softmax_row(row, row, live, false);
    std::fill(row + live, row + a.k_len, 0.0f);
  }
}

}  // namespace

void attention_forward(const ref::AttentionDims& a, const float* q, const float* k, const float* v,
                       const uint8_t* key_pad, float* probs, float* out) {
  const int64_t e = a.heads * a.head_dim;
  parallel_for(a.batch * a.heads, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      int64_t b = t / a.heads, h = t % a.heads;
      const float* qh = q + b * a.q_len * e + h * a.head_dim;
      const float* kh = k + b * a.k_len * e + h * a.head_dim;
      const float* vh = v + b * a.k_len * e + h * a.head_dim;
      float* p = probs + t * a.q_len * a.k_len;
      float* oh = out + b * a.q_len * e + h * a.head_dim;
      const int64_t live = live_keys(a, b, key_pad);
      scores_and_softmax(a, b, qh, kh, key_pad, live, p);
      if (live > 0) {
        gemm_serial(false, false, a.q_len, a.head_dim, live, 1.0f, p, a.k_len, vh, e, 0.0f, oh, e);
      } else {  // every key masked: zero probabilities, zero output
        for (int64_t i = 0; i < a.q_len; ++i) std::fill(oh + i * e, oh + i * e + a.head_dim, 0.0f);
      }
    }
  });
}

void attention_backward(const ref::AttentionDims& a, const float* q, const float* k, const float* v,
                        const uint8_t* key_pad,
                        const float* probs, const float* dout, float* dq, float* dk, float* dv) {
  const int64_t e = a.heads * a.head_dim;
  const float scale = static_cast<float>(a.scale);
  parallel_for(a.batch * a.heads, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> ds(static_cast<size_t>(a.q_len * a.k_len));
    for (int64_t t = t0; t < t1; ++t) {
      int64_t b = t / a.heads, h = t % a.heads;
      const int64_t qo = b * a.q_len * e + h * a.head_dim, ko = b * a.k_len * e + h * a.head_dim;
      const float* p = probs + t * a.q_len * a.k_len;
      // Keys past the last live one got probability 0 in the forward pass: their dK and dV rows are zero
      // and the products run over the live keys only.
      const int64_t live = live_keys(a, b, key_pad);
      for (int64_t j = live; j < a.k_len; ++j) {
        std::fill(dk + ko + j * e, dk + ko + j * e + a.head_dim, 0.0f);
        std::fill(dv + ko + j * e, dv + ko + j * e + a.head_dim, 0.0f);
      }
      if (live == 0) {
        for (int64_t i = 0; i < a.q_len; ++i) std::fill(dq + qo + i * e, dq + qo + i * e + a.head_dim, 0.0f);
        continue;
      }
      // dP = dO·Vᵀ  [q_len, live], then dS = softmax'(dP) row by row
      gemm_serial(false, true, a.q_len, live, a.head_dim, 1.0f, dout + qo, e, v + ko, e, 0.0f, ds.data(), a.k_len);
      for (int64_t i = 0; i < a.q_len; ++i)
        softmax_backward_row(p + i * a.k_len, ds.data() + i * a.k_len, ds.data() + i * a.k_len, live);
      // dV = Pᵀ·dO, dQ = scale·dS·K, dK = scale·dSᵀ·Q
      gemm_serial(true, false, live, a.head_dim, a.q_len, 1.0f, p, a.k_len, dout + qo, e, 0.0f, dv + ko, e);
      gemm_serial(false, false, a.q_len, a.head_dim, live, scale, ds.data(), a.k_len, k + ko, e, 0.0f, dq + qo, e);
      gemm_serial(true, false, live, a.head_dim, a.q_len, scale, ds.data(), a.k_len, q + qo, e, 0.0f, dk + ko, e);
    }
  });
}

}  // namespace lmaas::kernels::cpu
