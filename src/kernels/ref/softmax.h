// Reference softmax and log-softmax over the last axis of x[rows, cols].
// backward: dx = y * (dy - Σ dy·y) for softmax; dx = dy - exp(y) * Σ dy for log-softmax.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace lmaas::kernels::ref {

template <typename T>
void softmax_forward(const T* x, T* y, int64_t rows, int64_t cols, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * cols;
    T* yr = y + r * cols;
    T max_v = -std::numeric_limits<T>::infinity();
    for (int64_t c = 0; c < cols; ++c) max_v = std::max(max_v, xr[c]);
    if (max_v == -std::numeric_limits<T>::infinity()) max_v = T(0);  // all masked: row of zeros below
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(static_cast<double>(xr[c] - max_v));
    if (log) {
      T log_sum = static_cast<T>(std::log(sum));
      for (int64_t c = 0; c < cols; ++c) yr[c] = xr[c] - max_v - log_sum;
    } else {
      for (int64_t c = 0; c < cols; ++c) yr[c] = sum > 0 ? static_cast<T>(std::exp(static_cast<double>(xr[c] - max_v)) / sum) : T(0);
    }
  }
}

template <typename T>
void softmax_backward(const T* y, const T* dy, T* dx, int64_t rows, int64_t cols, bool log) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* yr = y + r * cols;
    const T* dyr = dy + r * cols;
    T* dxr = dx + r * cols;
    double dot = 0.0;
    for (int64_t c = 0; c < cols; ++c) dot += log ? static_cast<double>(dyr[c]) : static_cast<double>(dyr[c]) * yr[c];
    for (int64_t c = 0; c < cols; ++c) {
      dxr[c] = log ? static_cast<T>(dyr[c] - std::exp(yr[c]) * dot) : static_cast<T>(yr[c] * (dyr[c] - dot));
    }
  }
}

}  // namespace lmaas::kernels::ref
