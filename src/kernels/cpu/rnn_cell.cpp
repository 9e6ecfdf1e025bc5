// Vectorised LSTM/GRU cells (contracts in kernels/ref/rnn_cell.h). Rows of the batch are independent;
// small batches (inference) stay on the calling thread, where a pool hand-off would cost more than the work.
#include <algorithm>

#include "base/thread_pool.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/ref/rnn_cell.h"

namespace lmaas::kernels::cpu {
namespace {

constexpr int64_t kMinElementsPerThread = 8192;

template <typename RowFn>
void for_rows(int64_t batch, int64_t hidden, RowFn fn) {
  parallel_for(batch, std::max<int64_t>(1, kMinElementsPerThread / std::max<int64_t>(1, hidden)),
               [&](int64_t b0, int64_t b1) {
                 for (int64_t b = b0; b < b1; ++b) fn(b);
               });
}

inline __m256 one_vec() { return _mm256_set1_ps(1.0f); }

}  // namespace

void lstm_cell_forward(const float* pre, const float* c_prev, const float* h_prev, const uint8_t* mask, float* acts,
                       float* c, float* h, int64_t batch, int64_t hidden) {
  for_rows(batch, hidden, [&](int64_t b) {
    if ((mask && !mask[b]) || hidden % 8 != 0) {
      ref::lstm_cell_forward(pre + b * 4 * hidden, c_prev + b * hidden, h_prev + b * hidden, mask ? mask + b : nullptr,
                             acts + b * 4 * hidden, c + b * hidden, h + b * hidden, 1, hidden);
      return;
    }
    const float* p = pre + b * 4 * hidden;
    float* a = acts + b * 4 * hidden;
    for (int64_t j = 0; j < hidden; j += 8) {
      __m256 i = vsigmoid(_mm256_loadu_ps(p + j));
      __m256 f = vsigmoid(_mm256_loadu_ps(p + hidden + j));
      __m256 g = vtanh(_mm256_loadu_ps(p + 2 * hidden + j));
      __m256 o = vsigmoid(_mm256_loadu_ps(p + 3 * hidden + j));
      _mm256_storeu_ps(a + j, i);
      _mm256_storeu_ps(a + hidden + j, f);
      _mm256_storeu_ps(a + 2 * hidden + j, g);
      _mm256_storeu_ps(a + 3 * hidden + j, o);
      __m256 cn = _mm256_fmadd_ps(f, _mm256_loadu_ps(c_prev + b * hidden + j), _mm256_mul_ps(i, g));
      _mm256_storeu_ps(c + b * hidden + j, cn);
      _mm256_storeu_ps(h + b * hidden + j, _mm256_mul_ps(o, vtanh(cn)));
    }
  });
}

void lstm_cell_backward(const float* dh, const float* dc, const float* acts, const float* c_prev, const float* c,
                        const uint8_t* mask, float* dpre, float* dc_prev, float* dh_pass, int64_t batch,
                        int64_t hidden) {
  for_rows(batch, hidden, [&](int64_t b) {
    const int64_t o4 = b * 4 * hidden, o1 = b * hidden;
    if ((mask && !mask[b]) || hidden % 8 != 0) {
      ref::lstm_cell_backward(dh + o1, dc + o1, acts + o4, c_prev + o1, c + o1, mask ? mask + b : nullptr, dpre + o4,
                              dc_prev + o1, dh_pass + o1, 1, hidden);
      return;
    }
    const float* a = acts + o4;
    float* d = dpre + o4;
    for (int64_t j = 0; j < hidden; j += 8) {
      __m256 i = _mm256_loadu_ps(a + j), f = _mm256_loadu_ps(a + hidden + j);
      __m256 g = _mm256_loadu_ps(a + 2 * hidden + j), o = _mm256_loadu_ps(a + 3 * hidden + j);
      __m256 dhv = _mm256_loadu_ps(dh + o1 + j);
      __m256 tc = vtanh(_mm256_loadu_ps(c + o1 + j));
      __m256 dct = _mm256_fmadd_ps(_mm256_mul_ps(dhv, o), _mm256_fnmadd_ps(tc, tc, one_vec()), _mm256_loadu_ps(dc + o1 + j));
      _mm256_storeu_ps(d + j, _mm256_mul_ps(_mm256_mul_ps(dct, g), _mm256_mul_ps(i, _mm256_sub_ps(one_vec(), i))));
      _mm256_storeu_ps(d + hidden + j, _mm256_mul_ps(_mm256_mul_ps(dct, _mm256_loadu_ps(c_prev + o1 + j)),
                                                     _mm256_mul_ps(f, _mm256_sub_ps(one_vec(), f))));
      _mm256_storeu_ps(d + 2 * hidden + j, _mm256_mul_ps(_mm256_mul_ps(dct, i), _mm256_fnmadd_ps(g, g, one_vec())));
      _mm256_storeu_ps(d + 3 * hidden + j, _mm256_mul_ps(_mm256_mul_ps(dhv, tc), _mm256_mul_ps(o, _mm256_sub_ps(one_vec(), o))));
      _mm256_storeu_ps(dc_prev + o1 + j, _mm256_mul_ps(dct, f));
      _mm256_storeu_ps(dh_pass + o1 + j, _mm256_setzero_ps());
    }
  });
}

void gru_cell_forward(const float* gx, const float* gh, const float* h_prev, const uint8_t* mask, float* acts,
                      float* h, int64_t batch, int64_t hidden) {
  for_rows(batch, hidden, [&](int64_t b) {
    const int64_t o3 = b * 3 * hidden, o1 = b * hidden;
    if ((mask && !mask[b]) || hidden % 8 != 0) {
      ref::gru_cell_forward(gx + o3, gh + o3, h_prev + o1, mask ? mask + b : nullptr, acts + o3, h + o1, 1, hidden);
      return;
    }
    const float *x3 = gx + o3, *h3 = gh + o3;
    float* a = acts + o3;
    for (int64_t j = 0; j < hidden; j += 8) {
      __m256 r = vsigmoid(_mm256_add_ps(_mm256_loadu_ps(x3 + j), _mm256_loadu_ps(h3 + j)));
      __m256 z = vsigmoid(_mm256_add_ps(_mm256_loadu_ps(x3 + hidden + j), _mm256_loadu_ps(h3 + hidden + j)));
      __m256 n = vtanh(_mm256_fmadd_ps(r, _mm256_loadu_ps(h3 + 2 * hidden + j), _mm256_loadu_ps(x3 + 2 * hidden + j)));
      _mm256_storeu_ps(a + j, r);
      _mm256_storeu_ps(a + hidden + j, z);
      _mm256_storeu_ps(a + 2 * hidden + j, n);
      __m256 hp = _mm256_loadu_ps(h_prev + o1 + j);
      // (1-z)·n + z·h_prev = n + z·(h_prev - n)
      _mm256_storeu_ps(h + o1 + j, _mm256_fmadd_ps(z, _mm256_sub_ps(hp, n), n));
    }
  });
}

void gru_cell_backward(const float* dh, const float* acts, const float* gh, const float* h_prev, const uint8_t* mask,
                       float* dgx, float* dgh, float* dh_prev_direct, int64_t batch, int64_t hidden) {
  for_rows(batch, hidden, [&](int64_t b) {
    const int64_t o3 = b * 3 * hidden, o1 = b * hidden;
    if ((mask && !mask[b]) || hidden % 8 != 0) {
      ref::gru_cell_backward(dh + o1, acts + o3, gh + o3, h_prev + o1, mask ? mask + b : nullptr, dgx + o3, dgh + o3,
                             dh_prev_direct + o1, 1, hidden);
      return;
    }
    const float* a = acts + o3;
    for (int64_t j = 0; j < hidden; j += 8) {
      __m256 r = _mm256_loadu_ps(a + j), z = _mm256_loadu_ps(a + hidden + j), n = _mm256_loadu_ps(a + 2 * hidden + j);
      __m256 dhv = _mm256_loadu_ps(dh + o1 + j);
      __m256 dn_pre = _mm256_mul_ps(_mm256_mul_ps(dhv, _mm256_sub_ps(one_vec(), z)), _mm256_fnmadd_ps(n, n, one_vec()));
      __m256 dz_pre = _mm256_mul_ps(_mm256_mul_ps(dhv, _mm256_sub_ps(_mm256_loadu_ps(h_prev + o1 + j), n)),
                                    _mm256_mul_ps(z, _mm256_sub_ps(one_vec(), z)));
      __m256 dr_pre = _mm256_mul_ps(_mm256_mul_ps(dn_pre, _mm256_loadu_ps(gh + o3 + 2 * hidden + j)),
                                    _mm256_mul_ps(r, _mm256_sub_ps(one_vec(), r)));
      _mm256_storeu_ps(dgx + o3 + j, dr_pre);
      _mm256_storeu_ps(dgx + o3 + hidden + j, dz_pre);
      _mm256_storeu_ps(dgx + o3 + 2 * hidden + j, dn_pre);
      _mm256_storeu_ps(dgh + o3 + j, dr_pre);
      _mm256_storeu_ps(dgh + o3 + hidden + j, dz_pre);
      _mm256_storeu_ps(dgh + o3 + 2 * hidden + j, _mm256_mul_ps(dn_pre, r));
      _mm256_storeu_ps(dh_prev_direct + o1 + j, _mm256_mul_ps(dhv, z));
    }
  });
}

}  // namespace lmaas::kernels::cpu
