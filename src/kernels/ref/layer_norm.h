// Reference layer norm over the last axis of x[rows, cols] (biased variance, as PyTorch):
//   y = (x - mean) * rstd * gamma + beta, rstd = 1/sqrt(var + eps). gamma/beta may be null (no affine).
// forward stores mean[rows] and rstd[rows] for backward. backward writes dx and *accumulates* into
// dgamma[cols] and dbeta[cols] (each may be null).
#pragma once

#include <cmath>
#include <cstdint>

namespace lmaas::kernels::ref {

template <typename T>
void layer_norm_forward(const T* x, const T* gamma, const T* beta, T* y, T* mean, T* rstd, int64_t rows,
                        int64_t cols, double eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    double m = 0.0, v = 0.0;
    for (int64_t c = 0; c < cols; ++c) m += xr[c];
    m /= static_cast<double>(cols);
    for (int64_t c = 0; c < cols; ++c) v += (xr[c] - m) * (xr[c] - m);
    v /= static_cast<double>(cols);
    double rs = 1.0 / std::sqrt(v + eps);
    mean[r] = static_cast<T>(m);
    rstd[r] = static_cast<T>(rs);
    for (int64_t c = 0; c < cols; ++c) {
      double h = (xr[c] - m) * rs;
      if (gamma) h = h * gamma[c];
      if (beta) h = h + beta[c];
      y[r * cols + c] = static_cast<T>(h);
    }
  }
}

template <typename T>
void layer_norm_backward(const T* dy, const T* x, const T* gamma, const T* mean, const T* rstd, T* dx, T* dgamma,
                         T* dbeta, int64_t rows, int64_t cols) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    const T* dyr = dy + r * cols;
    double sum_g = 0.0, sum_gx = 0.0;  // Σ dy·γ, Σ dy·γ·x̂
    for (int64_t c = 0; c < cols; ++c) {
      double xhat = (xr[c] - mean[r]) * rstd[r];
      double g = dyr[c] * (gamma ? gamma[c] : T(1));
      sum_g += g;
      sum_gx += g * xhat;
      if (dgamma) dgamma[c] += static_cast<T>(dyr[c] * xhat);
      if (dbeta) dbeta[c] += dyr[c];
    }
    for (int64_t c = 0; c < cols; ++c) {
      double xhat = (xr[c] - mean[r]) * rstd[r];
      double g = dyr[c] * (gamma ? gamma[c] : T(1));
      dx[r * cols + c] = static_cast<T>(rstd[r] * (g - sum_g / cols - xhat * sum_gx / cols));
    }
  }
}

}  // namespace lmaas::kernels::ref
