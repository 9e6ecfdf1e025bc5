// Tensor: a value type over shared Storage — shape, strides (in elements), an element offset, a dtype.
// Invariants:
// - Copies alias: `Tensor b = a;` shares storage *and* autograd identity. `clone()` deep-copies.
// - Views (view/reshape/slice/select/transpose/permute/expand/unsqueeze/squeeze) never copy; they share
//   storage and carry no autograd identity of their own (ops/ wraps them when gradients must flow).
// - Data pointers are 64-byte aligned at offset 0; a view's data may start anywhere inside.
// Thread safety: a Tensor may be read from many threads; writing its elements needs one owner.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "base/check.h"
#include "tensor/dtype.h"
#include "tensor/shape.h"
#include "tensor/storage.h"

namespace lmaas {

struct AutogradMeta;

class Tensor {
 public:
  Tensor() = default;  // undefined: no storage; defined() is false

  static Tensor empty(const Shape& shape, DType dtype = DType::kF32);
  static Tensor zeros(const Shape& shape, DType dtype = DType::kF32);
  static Tensor full(const Shape& shape, double value, DType dtype = DType::kF32);
  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, const Shape& shape);
  // A tensor over existing storage (used by file readers for zero-copy mapped weights).
  static Tensor from_storage(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype,
                             int64_t offset = 0);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const Shape& strides() const { return strides_; }
  int64_t dim() const { return static_cast<int64_t>(shape_.size()); }
  int64_t size(int64_t d) const { return shape_[normalize_dim(d, dim())]; }
  int64_t stride(int64_t d) const { return strides_[normalize_dim(d, dim())]; }
  int64_t numel() const { return shape_numel(shape_); }
  int64_t offset() const { return offset_; }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }

  // Typed element pointer at the view's offset; throws when T does not match dtype().
  template <typename T>
  T* data() const {
    LMAAS_CHECK(dtype_of<T>() == dtype_, "tensor holds {} but was read as {}", dtype_name(dtype_),
                dtype_name(dtype_of<T>()));
    return static_cast<T*>(storage_->data()) + offset_;
  }
  void* raw_data() const;

  // ---- views (no copy) ----
  Tensor view(Shape shape) const;  // contiguous only; one dimension may be -1
  Tensor reshape(Shape shape) const;  // a view when possible, else a contiguous copy
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;  // drops `dim`
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor expand(const Shape& shape) const;  // broadcasting view: stride 0 on expanded dimensions
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;

  // ---- copies ----
  Tensor contiguous() const;  // *this when already contiguous
  Tensor clone() const;       // always a new contiguous tensor
  Tensor to(DType dtype) const;
  void copy_from(const Tensor& src);  // same shape; converts dtype
  void fill(double value);
  void zero();

  template <typename T>
  std::vector<T> to_vector() const;  // converts from any numeric dtype
  double item() const;               // the value of a one-element tensor
  std::string to_string(int64_t max_items = 16) const;

  // ---- autograd identity (the tape lives in src/autograd) ----
  bool requires_grad() const;
  // Marks a leaf (a parameter or an input) whose gradient should be accumulated.
  Tensor& set_requires_grad(bool requires_grad);
  Tensor grad() const;  // undefined until a backward pass reached this tensor
  AutogradMeta* autograd_meta() const { return meta_.get(); }
  // Gives this tensor a fresh autograd identity (ops do this for their outputs).
  void attach_autograd_meta();
  bool same_identity(const Tensor& other) const { return meta_ != nullptr && meta_ == other.meta_; }

 private:
  Tensor make_view(Shape shape, Shape strides, int64_t offset) const;

  std::shared_ptr<Storage> storage_;
  int64_t offset_ = 0;
  Shape shape_;
  Shape strides_;
  DType dtype_ = DType::kF32;
  std::shared_ptr<AutogradMeta> meta_;
};

// What autograd keeps per tensor: the flag and the accumulated gradient.
struct AutogradMeta {
  bool requires_grad = false;
  Tensor grad;
  // A row-sparse gradient instead of `grad` (embeddings built with sparse gradients): rows `sparse_rows`
  // (I64 [n], distinct) of the gradient are `sparse_values` [n, …]; every other row is zero.
  Tensor sparse_rows, sparse_values;
};

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, const Shape& shape) {
  LMAAS_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape),
              "from_vector: {} values do not fill shape {}", values.size(), shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>());
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}

// Calls fn(linear_index, offset) for every element of a strided layout in row-major order.
template <typename Fn>
void for_each_strided(const Shape& shape, const Shape& strides, int64_t base_offset, Fn&& fn) {
  int64_t n = shape_numel(shape);
  if (n == 0) return;
  size_t nd = shape.size();
  std::vector<int64_t> index(nd, 0);
  int64_t offset = base_offset;
  for (int64_t i = 0; i < n; ++i) {
    fn(i, offset);
    for (size_t d = nd; d-- > 0;) {
      if (++index[d] < shape[d]) {
        offset += strides[d];
        break;
      }
      offset -= strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

// Walks the rows (last dimension) of `shape` and calls row(r, offset_a, offset_b) with each row's first
// element offset in two strided layouts of that shape (stride 0 allowed, as broadcasting views have).
template <typename RowFn>
void for_each_row_pair(const Shape& shape, const Shape& strides_a, int64_t off_a, const Shape& strides_b,
                       int64_t off_b, RowFn row) {
  const int64_t nd = static_cast<int64_t>(shape.size());
  const int64_t inner = nd ? shape.back() : 1;
  const int64_t n_rows = inner ? shape_numel(shape) / inner : 0;
  std::vector<int64_t> index(static_cast<size_t>(std::max<int64_t>(nd - 1, 0)), 0);
  for (int64_t r = 0; r < n_rows; ++r) {
    row(r, off_a, off_b);
    for (int64_t k = nd - 2; k >= 0; --k) {
      if (++index[k] < shape[k]) {
        off_a += strides_a[k], off_b += strides_b[k];
        break;
      }
      off_a -= strides_a[k] * (shape[k] - 1), off_b -= strides_b[k] * (shape[k] - 1);
      index[k] = 0;
    }
  }
}

}  // namespace lmaas
