// Attention (contract in kernels/ref/attention.h): one task per (batch, head), each doing its two
// GEMMs single-threaded over strided head slices; heads write disjoint slices, so no locking.
#include <cmath>
#include <limits>
#include <vector>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"

namespace lmaas::kernels::cpu {
namespace {

// Scores for one (b, h): probs[i, j] = scale·q_i·k_j, masked to -inf, then softmax per row.
void scores_and_softmax(const ref::AttentionDims& a, int64_t b, const float* qh, const float* kh,
                        const uint8_t* key_pad, float* p) {
  const int64_t e = a.heads * a.head_dim;
  gemm_serial(false, true, a.q_len, a.k_len, a.head_dim, static_cast<float>(a.scale), qh, e, kh, e, 0.0f, p, a.k_len);
  const float neg_inf = -std::numeric_limits<float>::infinity();
  for (int64_t i = 0; i < a.q_len; ++i) {
    float* row = p + i * a.k_len;
    if (key_pad)
      for (int64_t j = 0; j < a.k_len; ++j)
        if (key_pad[b * a.k_len + j]) row[j] = neg_inf;
    if (a.causal)
      for (int64_t j = i + 1; j < a.k_len; ++j) row[j] = neg_inf;
  }
  softmax_forward(p, p, a.q_len, a.k_len, false);  // runs inline: we are inside a pool task
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
      scores_and_softmax(a, b, qh, kh, key_pad, p);
      gemm_serial(false, false, a.q_len, a.head_dim, a.k_len, 1.0f, p, a.k_len, vh, e, 0.0f,
                  out + b * a.q_len * e + h * a.head_dim, e);
    }
  });
}

void attention_backward(const ref::AttentionDims& a, const float* q, const float* k, const float* v,
                        const float* probs, const float* dout, float* dq, float* dk, float* dv) {
  const int64_t e = a.heads * a.head_dim;
  const float scale = static_cast<float>(a.scale);
  parallel_for(a.batch * a.heads, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> ds(static_cast<size_t>(a.q_len * a.k_len));
    for (int64_t t = t0; t < t1; ++t) {
      int64_t b = t / a.heads, h = t % a.heads;
      const int64_t qo = b * a.q_len * e + h * a.head_dim, ko = b * a.k_len * e + h * a.head_dim;
      const float* p = probs + t * a.q_len * a.k_len;
      // dP = dO·Vᵀ  [q_len, k_len]
      gemm_serial(false, true, a.q_len, a.k_len, a.head_dim, 1.0f, dout + qo, e, v + ko, e, 0.0f, ds.data(), a.k_len);
      softmax_backward(p, ds.data(), ds.data(), a.q_len, a.k_len, false);
      // dV = Pᵀ·dO, dQ = scale·dS·K, dK = scale·dSᵀ·Q
      gemm_serial(true, false, a.k_len, a.head_dim, a.q_len, 1.0f, p, a.k_len, dout + qo, e, 0.0f, dv + ko, e);
      gemm_serial(false, false, a.q_len, a.head_dim, a.k_len, scale, ds.data(), a.k_len, k + ko, e, 0.0f, dq + qo, e);
      gemm_serial(true, false, a.k_len, a.head_dim, a.q_len, scale, ds.data(), a.k_len, q + qo, e, 0.0f, dk + ko, e);
    }
  });
}

}  // namespace lmaas::kernels::cpu
