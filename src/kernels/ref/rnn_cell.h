// Reference fused recurrent cells (PyTorch gate layouts). One time step for a batch of B rows.
// mask[b] == 0 means row b is padding at this step: its state passes through unchanged, its output is
// zero and no gradient reaches its gates. mask may be null (all valid).
//
// LSTM, gates i,f,g,o:  pre[B,4H] = x·W_ihᵀ + b_ih + h_prev·W_hhᵀ + b_hh
//   c = σ(f)⊙c_prev + σ(i)⊙tanh(g);  h = σ(o)⊙tanh(c)
//   forward writes acts[B,4H] (activated gates), c[B,H], h[B,H].
//   backward: given dh[B,H] (all gradient reaching h) and dc[B,H] (from step t+1), writes dpre[B,4H],
//   dc_prev[B,H] and dh_pass[B,H] (the part of dh that flows straight to h_prev on padded rows).
// GRU, gates r,z,n:  gx[B,3H] = x·W_ihᵀ + b_ih, gh[B,3H] = h_prev·W_hhᵀ + b_hh
//   r = σ(gx_r + gh_r); z = σ(gx_z + gh_z); n = tanh(gx_n + r⊙gh_n); h = (1-z)⊙n + z⊙h_prev
//   forward writes acts[B,3H] = (r, z, n) and h[B,H]; backward writes dgx[B,3H], dgh[B,3H] and
//   dh_prev_direct[B,H] (the z⊙dh term; the rest reaches h_prev through dgh·W_hh).
#pragma once

#include <cmath>
#include <cstdint>

namespace lmaas::kernels::ref {

template <typename T>
T sigmoid_value(T x) { return T(1) / (T(1) + std::exp(-x)); }

template <typename T>
void lstm_cell_forward(const T* pre, const T* c_prev, const T* h_prev, const uint8_t* mask, T* acts, T* c, T* h,
                       int64_t batch, int64_t hidden) {
  for (int64_t b = 0; b < batch; ++b) {
    const T* p = pre + b * 4 * hidden;
    T* a = acts + b * 4 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      int64_t k = b * hidden + j;
      if (mask && !mask[b]) {
        a[j] = a[hidden + j] = a[2 * hidden + j] = a[3 * hidden + j] = T(0);
        c[k] = c_prev[k];
        h[k] = h_prev[k];
        continue;
      }
      T i = sigmoid_value(p[j]), f = sigmoid_value(p[hidden + j]);
      T g = std::tanh(p[2 * hidden + j]), o = sigmoid_value(p[3 * hidden + j]);
      a[j] = i, a[hidden + j] = f, a[2 * hidden + j] = g, a[3 * hidden + j] = o;
      c[k] = f * c_prev[k] + i * g;
      h[k] = o * std::tanh(c[k]);
    }
  }
}

template <typename T>
void lstm_cell_backward(const T* dh, const T* dc, const T* acts, const T* c_prev, const T* c, const uint8_t* mask,
                        T* dpre, T* dc_prev, T* dh_pass, int64_t batch, int64_t hidden) {
  for (int64_t b = 0; b < batch; ++b) {
    const T* a = acts + b * 4 * hidden;
    T* d = dpre + b * 4 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      int64_t k = b * hidden + j;
      if (mask && !mask[b]) {
        d[j] = d[hidden + j] = d[2 * hidden + j] = d[3 * hidden + j] = T(0);
        dc_prev[k] = dc[k];
        dh_pass[k] = dh[k];
        continue;
      }
      T i = a[j], f = a[hidden + j], g = a[2 * hidden + j], o = a[3 * hidden + j];
      T tc = std::tanh(c[k]);
      T dct = dc[k] + dh[k] * o * (T(1) - tc * tc);
      d[j] = dct * g * i * (T(1) - i);
      d[hidden + j] = dct * c_prev[k] * f * (T(1) - f);
      d[2 * hidden + j] = dct * i * (T(1) - g * g);
      d[3 * hidden + j] = dh[k] * tc * o * (T(1) - o);
      dc_prev[k] = dct * f;
      dh_pass[k] = T(0);
    }
  }
}

template <typename T>
void gru_cell_forward(const T* gx, const T* gh, const T* h_prev, const uint8_t* mask, T* acts, T* h, int64_t batch,
                      int64_t hidden) {
  for (int64_t b = 0; b < batch; ++b) {
    const T* x3 = gx + b * 3 * hidden;
    const T* h3 = gh + b * 3 * hidden;
    T* a = acts + b * 3 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      int64_t k = b * hidden + j;
      if (mask && !mask[b]) {
        a[j] = a[hidden + j] = a[2 * hidden + j] = T(0);
        h[k] = h_prev[k];
        continue;
      }
      T r = sigmoid_value(x3[j] + h3[j]);
      T z = sigmoid_value(x3[hidden + j] + h3[hidden + j]);
      T n = std::tanh(x3[2 * hidden + j] + r * h3[2 * hidden + j]);
      a[j] = r, a[hidden + j] = z, a[2 * hidden + j] = n;
      h[k] = (T(1) - z) * n + z * h_prev[k];
    }
  }
}

template <typename T>
void gru_cell_backward(const T* dh, const T* acts, const T* gh, const T* h_prev, const uint8_t* mask, T* dgx, T* dgh,
                       T* dh_prev_direct, int64_t batch, int64_t hidden) {
  for (int64_t b = 0; b < batch; ++b) {
    const T* a = acts + b * 3 * hidden;
    const T* h3 = gh + b * 3 * hidden;
    T* dx3 = dgx + b * 3 * hidden;
    T* dh3 = dgh + b * 3 * hidden;
    for (int64_t j = 0; j < hidden; ++j) {
      int64_t k = b * hidden + j;
      if (mask && !mask[b]) {
        dx3[j] = dx3[hidden + j] = dx3[2 * hidden + j] = T(0);
        dh3[j] = dh3[hidden + j] = dh3[2 * hidden + j] = T(0);
        dh_prev_direct[k] = dh[k];
        continue;
      }
      T r = a[j], z = a[hidden + j], n = a[2 * hidden + j];
      T dn_pre = dh[k] * (T(1) - z) * (T(1) - n * n);
      T dz_pre = dh[k] * (h_prev[k] - n) * z * (T(1) - z);
      T dr_pre = dn_pre * h3[2 * hidden + j] * r * (T(1) - r);
      dx3[j] = dr_pre, dx3[hidden + j] = dz_pre, dx3[2 * hidden + j] = dn_pre;
      dh3[j] = dr_pre, dh3[hidden + j] = dz_pre, dh3[2 * hidden + j] = dn_pre * r;
      dh_prev_direct[k] = dh[k] * z;
    }
  }
}

}  // namespace lmaas::kernels::ref
