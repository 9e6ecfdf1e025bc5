// DType and Shape helpers.
#include <numeric>

#include "base/check.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"

namespace lmaas {

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF32: return 4;
    case DType::kF64: return 8;
    case DType::kI32: return 4;
    case DType::kI64: return 8;
    case DType::kU8: return 1;
    case DType::kBF16: return 2;
  }
  return 0;
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF64: return "F64";
    case DType::kI32: return "I32";
    case DType::kI64: return "I64";
    case DType::kU8: return "U8";
    case DType::kBF16: return "BF16";
  }
  return "?";
}

bool dtype_is_floating(DType dtype) {
  return dtype == DType::kF32 || dtype == DType::kF64 || dtype == DType::kBF16;
}

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Shape contiguous_strides(const Shape& shape) {
  Shape strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

std::string shape_str(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

int64_t normalize_dim(int64_t dim, int64_t n_dims) {
  int64_t d = dim < 0 ? dim + n_dims : dim;
  LMAAS_CHECK(d >= 0 && d < n_dims, "dimension {} is out of range for a tensor of {} dimensions", dim, n_dims);
  return d;
}

Shape broadcast_shapes(const Shape& a, const Shape& b) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    LMAAS_CHECK(da == db || da == 1 || db == 1, "shapes {} and {} cannot be broadcast together (dimension {})",
                shape_str(a), shape_str(b), i);
    out[i] = da == 1 ? db : da;
  }
  return out;
}

}  // namespace lmaas
