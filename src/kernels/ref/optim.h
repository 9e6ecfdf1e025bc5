// Reference optimizer updates on flat parameter arrays, with PyTorch's exact formulas.
// adam_step: m ← β1 m + (1-β1) g;  v ← β2 v + (1-β2) g²;
//   p ← p - (lr / (1-β1^t)) · m / (sqrt(v)/sqrt(1-β2^t) + eps).
//   weight_decay: added to g (Adam, L2) or applied as p ← p·(1 - lr·wd) first (AdamW, decoupled).
// sgd_step: g ← g + wd·p; buf ← momentum·buf + (1-dampening)·g (buf = g on the first step);
//   g ← g + momentum·buf (Nesterov) or buf; p ← p - lr·g.
#pragma once

#include <cmath>
#include <cstdint>

namespace lmaas::kernels::ref {

struct AdamHyper {
  double lr, beta1, beta2, eps, weight_decay;
  bool decoupled;  // AdamW
  int64_t step;    // 1-based, already incremented
};

template <typename T>
void adam_step(const AdamHyper& h, T* p, const T* g, T* m, T* v, int64_t n) {
  double bc1 = 1.0 - std::pow(h.beta1, static_cast<double>(h.step));
  double bc2 = 1.0 - std::pow(h.beta2, static_cast<double>(h.step));
  double step_size = h.lr / bc1, bc2_sqrt = std::sqrt(bc2);
  for (int64_t i = 0; i < n; ++i) {
    double grad = g[i];
    if (h.weight_decay != 0.0) {
      if (h.decoupled) p[i] = static_cast<T>(p[i] * (1.0 - h.lr * h.weight_decay));
      else grad += h.weight_decay * p[i];
    }
    m[i] = static_cast<T>(h.beta1 * m[i] + (1.0 - h.beta1) * grad);
    v[i] = static_cast<T>(h.beta2 * v[i] + (1.0 - h.beta2) * grad * grad);
    double denom = std::sqrt(static_cast<double>(v[i])) / bc2_sqrt + h.eps;
    p[i] = static_cast<T>(p[i] - step_size * m[i] / denom);
  }
}

struct SgdHyper {
  double lr, momentum, dampening, weight_decay;
  bool nesterov;
  bool first_step;  // momentum buffer is initialised to g on the first step
};

template <typename T>
void sgd_step(const SgdHyper& h, T* p, const T* g, T* buf, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    double grad = g[i] + h.weight_decay * p[i];
    if (h.momentum != 0.0) {
      double b = h.first_step ? grad : h.momentum * buf[i] + (1.0 - h.dampening) * grad;
      buf[i] = static_cast<T>(b);
      grad = h.nesterov ? grad + h.momentum * b : b;
    }
    p[i] = static_cast<T>(p[i] - h.lr * grad);
  }
}

}  // namespace lmaas::kernels::ref
