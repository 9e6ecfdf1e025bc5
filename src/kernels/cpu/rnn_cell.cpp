// Vectorised LSTM/GRU cells (contracts in kernels/ref/rnn_cell.h). Rows of the batch are independent;
// small batches (inference) stay on the calling thread, where a pool hand-off would cost more than the work.
#include <algorithm>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/ref/rnn_cell.h"

namespace lmaas::kernels::cpu {
namespace {

constexpr int64_t kMinElementsPerThread = 2048;

template <typename RowFn>
void for_rows(int64_t batch, int64_t hidden, RowFn fn) {
  parallel_for(batch, std::max<int64_t>(1, kMinElementsPerThread / std::max<int64_t>(1, hidden)),
               [&](int64_t b0, int64_t b1) {
                 for (int64_t b = b0; b < b1; ++b) fn(b);
               });
}

inline __m256 one_vec() { return _mm256_set1_ps(1.0f); }

// Row b, hidden units [j0, j1) of an LSTM step (see ref::lstm_cell_forward); pre and acts may alias.
void lstm_row_forward(const float* pre, const float* c_prev, const float* h_prev, const uint8_t* mask, float* acts,
                      float* c, float* h, int64_t b, int64_t j0, int64_t j1, int64_t hidden) {
  const float* p = pre + b * 4 * hidden;
  float* a = acts + b * 4 * hidden;
  const int64_t o1 = b * hidden;
  if (mask && !mask[b]) {  // padded row: state passes through
    for (int64_t j = j0; j < j1; ++j) {
      a[j] = a[hidden + j] = a[2 * hidden + j] = a[3 * hidden + j] = 0.0f;
      c[o1 + j] = c_prev[o1 + j], h[o1 + j] = h_prev[o1 + j];
    }
    return;
  }
  for (int64_t j = j0; j < j1; j += 8) {
    const __m256i tail = tail_mask(j1 - j);
    const __m256i* m = j1 - j >= 8 ? nullptr : &tail;
    __m256 i = vsigmoid(load_lanes(p + j, m));
    __m256 f = vsigmoid(load_lanes(p + hidden + j, m));
    __m256 g = vtanh(load_lanes(p + 2 * hidden + j, m));
    __m256 o = vsigmoid(load_lanes(p + 3 * hidden + j, m));
    store_lanes(a + j, i, m);
    store_lanes(a + hidden + j, f, m);
    store_lanes(a + 2 * hidden + j, g, m);
    store_lanes(a + 3 * hidden + j, o, m);
    __m256 cn = _mm256_fmadd_ps(f, load_lanes(c_prev + o1 + j, m), _mm256_mul_ps(i, g));
    store_lanes(c + o1 + j, cn, m);
    store_lanes(h + o1 + j, _mm256_mul_ps(o, vtanh(cn)), m);
  }
}

// Row b, hidden units [j0, j1) of a GRU step (see ref::gru_cell_forward).
void gru_row_forward(const float* gx, const float* gh, const float* h_prev, const uint8_t* mask, float* acts, float* h,
                     int64_t b, int64_t j0, int64_t j1, int64_t hidden) {
  const int64_t o3 = b * 3 * hidden, o1 = b * hidden;
  const float *x3 = gx + o3, *h3 = gh + o3;
  float* a = acts + o3;
  if (mask && !mask[b]) {
    for (int64_t j = j0; j < j1; ++j) a[j] = a[hidden + j] = a[2 * hidden + j] = 0.0f, h[o1 + j] = h_prev[o1 + j];
    return;
  }
  for (int64_t j = j0; j < j1; j += 8) {
    const __m256i tail = tail_mask(j1 - j);
    const __m256i* m = j1 - j >= 8 ? nullptr : &tail;
    __m256 r = vsigmoid(_mm256_add_ps(load_lanes(x3 + j, m), load_lanes(h3 + j, m)));
    __m256 z = vsigmoid(_mm256_add_ps(load_lanes(x3 + hidden + j, m), load_lanes(h3 + hidden + j, m)));
    __m256 n = vtanh(_mm256_fmadd_ps(r, load_lanes(h3 + 2 * hidden + j, m), load_lanes(x3 + 2 * hidden + j, m)));
    store_lanes(a + j, r, m);
    store_lanes(a + hidden + j, z, m);
    store_lanes(a + 2 * hidden + j, n, m);
    __m256 hp = load_lanes(h_prev + o1 + j, m);
    // (1-z)·n + z·h_prev = n + z·(h_prev - n)
    store_lanes(h + o1 + j, _mm256_fmadd_ps(z, _mm256_sub_ps(hp, n), n), m);
  }
}

// Splits the hidden units into blocks of 8 over the pool; fn(j0, j1) handles units [j0, j1) of every row.
// Enough units per task that the per-task GEMM slices stay worth a hand-off.
template <typename SliceFn>
void for_unit_slices(int64_t rows, int64_t hidden, int64_t gates, SliceFn fn) {
  const int64_t n_blocks = (hidden + 7) / 8;
  const int64_t flops_per_block = 2 * std::max<int64_t>(1, rows) * 8 * gates * hidden;
  parallel_for(n_blocks, std::max<int64_t>(1, (int64_t{1} << 18) / flops_per_block), [&](int64_t b0, int64_t b1) {
    fn(b0 * 8, std::min(hidden, b1 * 8));
  });
}

}  // namespace

void lstm_step_forward(const float* h_prev, const float* w_hh_t, const float* c_prev, const uint8_t* mask, float* pre,
                       float* c, float* h, int64_t batch, int64_t hidden, const float* table, const int32_t* ids,
                       const float* bias) {
  const int64_t g4 = 4 * hidden;
  for_unit_slices(batch, hidden, 4, [&](int64_t j0, int64_t j1) {
    for (int64_t b = 0; table && b < batch; ++b)  // this slice's columns of the step's input projections
      for (int64_t g = 0; g < 4; ++g) {
        const float* src = table + static_cast<int64_t>(ids[b]) * g4 + g * hidden;
        float* dst = pre + b * g4 + g * hidden;
        for (int64_t j = j0; j < j1; ++j) dst[j] = src[j] + (bias ? bias[g * hidden + j] : 0.0f);
      }
    for (int64_t g = 0; g < 4; ++g)  // pre[:, g·H + j0 … j1) += h_prev · W_hhᵀ[:, g·H + j0 … j1)
      gemm_small_accumulate(h_prev, hidden, w_hh_t + g * hidden + j0, 4 * hidden, pre + g * hidden + j0, 4 * hidden,
                            batch, j1 - j0, hidden);
    for (int64_t b = 0; b < batch; ++b) lstm_row_forward(pre, c_prev, h_prev, mask, pre, c, h, b, j0, j1, hidden);
  });
}

void lstm_cell_backward(const float* dh, const float* dc, const float* acts, const float* c_prev, const float* c,
                        const uint8_t* mask, float* dpre, float* dc_prev, float* dh_pass, int64_t batch,
                        int64_t hidden) {
  for_rows(batch, hidden, [&](int64_t b) {
    const int64_t o4 = b * 4 * hidden, o1 = b * hidden;
    if ((mask && !mask[b])) {
      ref::lstm_cell_backward(dh + o1, dc + o1, acts + o4, c_prev + o1, c + o1, mask ? mask + b : nullptr, dpre + o4,
                              dc_prev + o1, dh_pass + o1, 1, hidden);
      return;
    }
    const float* a = acts + o4;
    float* d = dpre + o4;
    for (int64_t j = 0; j < hidden; j += 8) {
      const __m256i tail = tail_mask(hidden - j);
      const __m256i* m = hidden - j >= 8 ? nullptr : &tail;
      __m256 i = load_lanes(a + j, m), f = load_lanes(a + hidden + j, m);
      __m256 g = load_lanes(a + 2 * hidden + j, m), o = load_lanes(a + 3 * hidden + j, m);
      __m256 dhv = load_lanes(dh + o1 + j, m);
      __m256 tc = vtanh(load_lanes(c + o1 + j, m));
      __m256 dct = _mm256_fmadd_ps(_mm256_mul_ps(dhv, o), _mm256_fnmadd_ps(tc, tc, one_vec()), load_lanes(dc + o1 + j, m));
      store_lanes(d + j, _mm256_mul_ps(_mm256_mul_ps(dct, g), _mm256_mul_ps(i, _mm256_sub_ps(one_vec(), i))), m);
      store_lanes(d + hidden + j, _mm256_mul_ps(_mm256_mul_ps(dct, load_lanes(c_prev + o1 + j, m)),
                                                     _mm256_mul_ps(f, _mm256_sub_ps(one_vec(), f))), m);
      store_lanes(d + 2 * hidden + j, _mm256_mul_ps(_mm256_mul_ps(dct, i), _mm256_fnmadd_ps(g, g, one_vec())), m);
      store_lanes(d + 3 * hidden + j, _mm256_mul_ps(_mm256_mul_ps(dhv, tc), _mm256_mul_ps(o, _mm256_sub_ps(one_vec(), o))), m);
      store_lanes(dc_prev + o1 + j, _mm256_mul_ps(dct, f), m);
      store_lanes(dh_pass + o1 + j, _mm256_setzero_ps(), m);
    }
  });
}

void gru_step_forward(const float* h_prev, const float* w_hh_t, const float* b_hh, const float* gx, const uint8_t* mask,
                      float* gh, float* acts, float* h, int64_t batch, int64_t hidden) {
  for_unit_slices(batch, hidden, 3, [&](int64_t j0, int64_t j1) {
    for (int64_t g = 0; g < 3; ++g) {  // gh[:, g·H + j0 … j1) = b_hh + h_prev · W_hhᵀ[:, g·H + j0 … j1)
      float* out = gh + g * hidden + j0;
      for (int64_t b = 0; b < batch; ++b) std::copy(b_hh + g * hidden + j0, b_hh + g * hidden + j1, out + b * 3 * hidden);
      gemm_small_accumulate(h_prev, hidden, w_hh_t + g * hidden + j0, 3 * hidden, out, 3 * hidden, batch, j1 - j0, hidden);
    }
    for (int64_t b = 0; b < batch; ++b) gru_row_forward(gx, gh, h_prev, mask, acts, h, b, j0, j1, hidden);
  });
}

void gru_cell_backward(const float* dh, const float* acts, const float* gh, const float* h_prev, const uint8_t* mask,
                       float* dgx, float* dgh, float* dh_prev_direct, int64_t batch, int64_t hidden) {
  for_rows(batch, hidden, [&](int64_t b) {
    const int64_t o3 = b * 3 * hidden, o1 = b * hidden;
    if ((mask && !mask[b])) {
      ref::gru_cell_backward(dh + o1, acts + o3, gh + o3, h_prev + o1, mask ? mask + b : nullptr, dgx + o3, dgh + o3,
                             dh_prev_direct + o1, 1, hidden);
      return;
    }
    const float* a = acts + o3;
    for (int64_t j = 0; j < hidden; j += 8) {
      const __m256i tail = tail_mask(hidden - j);
      const __m256i* m = hidden - j >= 8 ? nullptr : &tail;
      __m256 r = load_lanes(a + j, m), z = load_lanes(a + hidden + j, m), n = load_lanes(a + 2 * hidden + j, m);
      __m256 dhv = load_lanes(dh + o1 + j, m);
      __m256 dn_pre = _mm256_mul_ps(_mm256_mul_ps(dhv, _mm256_sub_ps(one_vec(), z)), _mm256_fnmadd_ps(n, n, one_vec()));
      __m256 dz_pre = _mm256_mul_ps(_mm256_mul_ps(dhv, _mm256_sub_ps(load_lanes(h_prev + o1 + j, m), n)),
                                    _mm256_mul_ps(z, _mm256_sub_ps(one_vec(), z)));
      __m256 dr_pre = _mm256_mul_ps(_mm256_mul_ps(dn_pre, load_lanes(gh + o3 + 2 * hidden + j, m)),
                                    _mm256_mul_ps(r, _mm256_sub_ps(one_vec(), r)));
      store_lanes(dgx + o3 + j, dr_pre, m);
      store_lanes(dgx + o3 + hidden + j, dz_pre, m);
      store_lanes(dgx + o3 + 2 * hidden + j, dn_pre, m);
      store_lanes(dgh + o3 + j, dr_pre, m);
      store_lanes(dgh + o3 + hidden + j, dz_pre, m);
      store_lanes(dgh + o3 + 2 * hidden + j, _mm256_mul_ps(dn_pre, r), m);
      store_lanes(dh_prev_direct + o1 + j, _mm256_mul_ps(dhv, z), m);
    }
  });
}

}  // namespace lmaas::kernels::cpu
