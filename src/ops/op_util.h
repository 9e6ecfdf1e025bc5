// Helpers shared by the op implementations (not part of the ops API).
#pragma once

#include <string_view>

#include "autograd/tape.h"
#include "ops/dispatch.h"

namespace lmaas::ops::detail {

inline void check_defined(std::string_view op, std::string_view arg, const Tensor& t) {
  LMAAS_CHECK(t.defined(), "{}: argument '{}' is undefined", op, arg);
}

inline void check_floating(std::string_view op, std::string_view arg, const Tensor& t) {
  check_defined(op, arg, t);
  LMAAS_CHECK(t.dtype() == DType::kF32 || t.dtype() == DType::kF64, "{}: '{}' has dtype {}, expected F32 or F64", op,
              arg, dtype_name(t.dtype()));
}

inline void check_same_dtype(std::string_view op, const Tensor& a, const Tensor& b) {
  LMAAS_CHECK(a.dtype() == b.dtype(), "{}: dtypes differ ({} vs {})", op, dtype_name(a.dtype()), dtype_name(b.dtype()));
}

inline void check_dim(std::string_view op, std::string_view arg, const Tensor& t, int64_t n_dims) {
  LMAAS_CHECK(t.dim() == n_dims, "{}: '{}' must have {} dimensions, has shape {}", op, arg, n_dims,
              shape_str(t.shape()));
}

inline void check_shape(std::string_view op, std::string_view arg, const Tensor& t, const Shape& expected) {
  LMAAS_CHECK(t.shape() == expected, "{}: '{}' has shape {}, expected {}", op, arg, shape_str(t.shape()),
              shape_str(expected));
}

// The gradient reaching `out`, or an undefined tensor when nothing downstream used it.
inline Tensor grad_of(const Tensor& out) { return out.grad(); }

}  // namespace lmaas::ops::detail
