// Reference pointwise kernels. forward: y[i] = f(x[i]). backward: dx[i] = dy[i] * f'(x[i]) (written, not
// accumulated); it reads x or y, whichever the derivative is cheaper in. GELU is the erf form (PyTorch's
// default); kGeluTanh the tanh approximation.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/unary.h"

namespace lmaas::kernels::ref {

template <typename T>
T unary_value(Unary op, T x) {
  switch (op) {
    case Unary::kSigmoid: return T(1) / (T(1) + std::exp(-x));
    case Unary::kTanh: return std::tanh(x);
    case Unary::kRelu: return x > T(0) ? x : T(0);
    case Unary::kGelu: return T(0.5) * x * (T(1) + std::erf(x * T(M_SQRT1_2)));
    case Unary::kGeluTanh: {
      T inner = T(M_2_SQRTPI * M_SQRT1_2) * (x + T(0.044715) * x * x * x);
      return T(0.5) * x * (T(1) + std::tanh(inner));
    }
    case Unary::kExp: return std::exp(x);
    case Unary::kLog: return std::log(x);
    case Unary::kNeg: return -x;
    case Unary::kSqrt: return std::sqrt(x);
  }
  return x;
}

template <typename T>
T unary_derivative(Unary op, T x, T y) {
  switch (op) {
    case Unary::kSigmoid: return y * (T(1) - y);
    case Unary::kTanh: return T(1) - y * y;
    case Unary::kRelu: return x > T(0) ? T(1) : T(0);
    case Unary::kGelu: {
      T cdf = T(0.5) * (T(1) + std::erf(x * T(M_SQRT1_2)));
      T pdf = std::exp(T(-0.5) * x * x) * T(0.5 * M_2_SQRTPI * M_SQRT1_2);
      return cdf + x * pdf;
    }
    case Unary::kGeluTanh: {
      T k = T(M_2_SQRTPI * M_SQRT1_2);
      T inner = k * (x + T(0.044715) * x * x * x);
      T t = std::tanh(inner);
      return T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * k * (T(1) + T(3 * 0.044715) * x * x);
    }
    case Unary::kExp: return y;
    case Unary::kLog: return T(1) / x;
    case Unary::kNeg: return T(-1);
    case Unary::kSqrt: return T(0.5) / y;
  }
  return T(0);
}

template <typename T>
void unary_forward(Unary op, const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = unary_value(op, x[i]);
}

template <typename T>
void unary_backward(Unary op, const T* x, const T* y, const T* dy, T* dx, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * unary_derivative(op, x[i], y[i]);
}

}  // namespace lmaas::kernels::ref
