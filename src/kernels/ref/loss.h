// Reference fused losses (mean reduction).
// cross_entropy: logits[n, c], targets[n] (class index, or ignore_index to skip the row).
//   With label smoothing ε the target distribution is (1-ε)·onehot + ε/c (PyTorch semantics);
//   loss = mean over kept rows of -Σ_c q_c log p_c. Writes dlogits = (p - q)/n_kept (scaled by the
//   incoming scalar gradient later). Returns the loss; n_kept == 0 gives loss 0 and zero gradient.
// bce_with_logits: x[n], y[n] in [0,1]: loss = mean(max(x,0) - x·y + log(1 + e^{-|x|})), dx = (σ(x) - y)/n.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>

namespace lmaas::kernels::ref {

template <typename T>
double cross_entropy(const T* logits, const int32_t* targets, T* dlogits, int64_t n, int64_t c, int64_t ignore_index,
                     double label_smoothing) {
  int64_t n_kept = 0;
  for (int64_t i = 0; i < n; ++i) n_kept += targets[i] != ignore_index;
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const T* row = logits + i * c;
    T* drow = dlogits ? dlogits + i * c : nullptr;
    if (targets[i] == ignore_index) {
      if (drow) std::fill(drow, drow + c, T(0));
      continue;
    }
    double max_v = -std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < c; ++j) max_v = std::max<double>(max_v, row[j]);
    double sum = 0.0;
    for (int64_t j = 0; j < c; ++j) sum += std::exp(row[j] - max_v);
    double log_sum = std::log(sum) + max_v;
    double smooth = label_smoothing / static_cast<double>(c);
    for (int64_t j = 0; j < c; ++j) {
      double log_p = row[j] - log_sum;
      double q = smooth + (j == targets[i] ? 1.0 - label_smoothing : 0.0);
      total -= q * log_p;
      if (drow) drow[j] = static_cast<T>((std::exp(log_p) - q) / static_cast<double>(n_kept));
    }
  }
  return n_kept ? total / static_cast<double>(n_kept) : 0.0;
}

template <typename T>
double bce_with_logits(const T* x, const T* y, T* dx, int64_t n) {
  double total = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    double xv = x[i], yv = y[i];
    total += std::max(xv, 0.0) - xv * yv + std::log1p(std::exp(-std::fabs(xv)));
    if (dx) dx[i] = static_cast<T>((1.0 / (1.0 + std::exp(-xv)) - yv) / static_cast<double>(n));
  }
  return n ? total / static_cast<double>(n) : 0.0;
}

}  // namespace lmaas::kernels::ref
