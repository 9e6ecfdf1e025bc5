// Tensor: construction, views and copies. Element conversion goes through a double (or int64) hop,
// which is exact for every dtype pair lmaas uses (ids fit in 2^53).
#include "tensor/tensor.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace lmaas {
namespace {

// Reads element `offset` of raw memory of `dtype` as double.
double load_as_double(const void* base, DType dtype, int64_t offset) {
  switch (dtype) {
    case DType::kF32: return static_cast<const float*>(base)[offset];
    case DType::kF64: return static_cast<const double*>(base)[offset];
    case DType::kI32: return static_cast<const int32_t*>(base)[offset];
    case DType::kI64: return static_cast<double>(static_cast<const int64_t*>(base)[offset]);
    case DType::kU8: return static_cast<const uint8_t*>(base)[offset];
    case DType::kBF16: {
      uint32_t bits = static_cast<uint32_t>(static_cast<const uint16_t*>(base)[offset]) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      return f;
    }
  }
  return 0.0;
}

void store_from_double(void* base, DType dtype, int64_t offset, double v) {
  switch (dtype) {
    case DType::kF32: static_cast<float*>(base)[offset] = static_cast<float>(v); return;
    case DType::kF64: static_cast<double*>(base)[offset] = v; return;
    case DType::kI32: static_cast<int32_t*>(base)[offset] = static_cast<int32_t>(v); return;
    case DType::kI64: static_cast<int64_t*>(base)[offset] = static_cast<int64_t>(v); return;
    case DType::kU8: static_cast<uint8_t*>(base)[offset] = static_cast<uint8_t>(v); return;
    case DType::kBF16: {
      float f = static_cast<float>(v);
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      bits += 0x7fff + ((bits >> 16) & 1);  // round to nearest even
      static_cast<uint16_t*>(base)[offset] = static_cast<uint16_t>(bits >> 16);
      return;
    }
  }
}

}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dtype) {
  for (int64_t d : shape) LMAAS_CHECK(d >= 0, "negative dimension in shape {}", shape_str(shape));
  Tensor t;
  t.storage_ = Storage::allocate(static_cast<size_t>(shape_numel(shape)) * dtype_size(dtype));
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dtype) {
  Tensor t = empty(shape, dtype);
  std::memset(t.raw_data(), 0, t.nbytes());
  return t;
}

Tensor Tensor::full(const Shape& shape, double value, DType dtype) {
  Tensor t = empty(shape, dtype);
  t.fill(value);
  return t;
}

Tensor Tensor::from_storage(std::shared_ptr<Storage> storage, const Shape& shape, DType dtype, int64_t offset) {
  LMAAS_CHECK(storage != nullptr, "from_storage: null storage");
  size_t need = static_cast<size_t>(offset + shape_numel(shape)) * dtype_size(dtype);
  LMAAS_CHECK(need <= storage->size_bytes(), "from_storage: shape {} at offset {} needs {} bytes, storage has {}",
              shape_str(shape), offset, need, storage->size_bytes());
  Tensor t;
  t.storage_ = std::move(storage);
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  t.dtype_ = dtype;
  t.offset_ = offset;
  return t;
}

void* Tensor::raw_data() const {
  LMAAS_CHECK(defined(), "raw_data() of an undefined tensor");
  return static_cast<char*>(storage_->data()) + offset_ * static_cast<int64_t>(dtype_size(dtype_));
}

bool Tensor::is_contiguous() const {
  int64_t expected = 1;
  for (size_t i = shape_.size(); i-- > 0;) {
    if (shape_[i] != 1 && strides_[i] != expected) return false;
    expected *= shape_[i];
  }
  return true;
}

Tensor Tensor::make_view(Shape shape, Shape strides, int64_t offset) const {
  Tensor t;
  t.storage_ = storage_;
  t.dtype_ = dtype_;
  t.shape_ = std::move(shape);
  t.strides_ = std::move(strides);
  t.offset_ = offset;
  return t;
}

Tensor Tensor::view(Shape shape) const {
  int64_t infer_at = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      LMAAS_CHECK(infer_at < 0, "view: more than one -1 in {}", shape_str(shape));
      infer_at = static_cast<int64_t>(i);
    } else {
      known *= shape[i];
    }
  }
  if (infer_at >= 0) {
    LMAAS_CHECK(known > 0 && numel() % known == 0, "view: cannot infer -1 in {} for {} elements", shape_str(shape), numel());
    shape[infer_at] = numel() / known;
  }
  LMAAS_CHECK(shape_numel(shape) == numel(), "view: shape {} has {} elements, tensor {} has {}", shape_str(shape),
              shape_numel(shape), shape_str(shape_), numel());
  LMAAS_CHECK(is_contiguous(), "view: tensor of shape {} is not contiguous; use reshape()", shape_str(shape_));
  Shape strides = contiguous_strides(shape);
  return make_view(std::move(shape), std::move(strides), offset_);
}

Tensor Tensor::reshape(Shape shape) const { return is_contiguous() ? view(std::move(shape)) : contiguous().view(std::move(shape)); }

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  d = normalize_dim(d, dim());
  int64_t n = shape_[d];
  if (start < 0) start += n;
  if (end < 0) end += n;
  end = std::min(end, n);
  LMAAS_CHECK(step > 0 && start >= 0 && start <= end, "slice: [{}:{}:{}] is invalid for dimension {} of size {}",
              start, end, step, d, n);
  Shape shape = shape_, strides = strides_;
  shape[d] = (end - start + step - 1) / step;
  strides[d] = strides_[d] * step;
  return make_view(std::move(shape), std::move(strides), offset_ + start * strides_[d]);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = normalize_dim(d, dim());
  if (index < 0) index += shape_[d];
  LMAAS_CHECK(index >= 0 && index < shape_[d], "select: index {} out of range for dimension {} of size {}", index, d,
              shape_[d]);
  Shape shape = shape_, strides = strides_;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return make_view(std::move(shape), std::move(strides), offset_ + index * strides_[d]);
}

Tensor Tensor::transpose(int64_t dim0, int64_t dim1) const {
  dim0 = normalize_dim(dim0, dim());
  dim1 = normalize_dim(dim1, dim());
  Shape shape = shape_, strides = strides_;
  std::swap(shape[dim0], shape[dim1]);
  std::swap(strides[dim0], strides[dim1]);
  return make_view(std::move(shape), std::move(strides), offset_);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
  LMAAS_CHECK(static_cast<int64_t>(dims.size()) == dim(), "permute: {} dims given for a {}-d tensor", dims.size(), dim());
  Shape shape(dims.size()), strides(dims.size());
  std::vector<bool> used(dims.size(), false);
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = normalize_dim(dims[i], dim());
    LMAAS_CHECK(!used[d], "permute: dimension {} repeated", d);
    used[d] = true;
    shape[i] = shape_[d];
    strides[i] = strides_[d];
  }
  return make_view(std::move(shape), std::move(strides), offset_);
}

Tensor Tensor::expand(const Shape& shape) const {
  LMAAS_CHECK(shape.size() >= shape_.size(), "expand: {} has fewer dimensions than {}", shape_str(shape), shape_str(shape_));
  size_t lead = shape.size() - shape_.size();
  Shape strides(shape.size(), 0);
  for (size_t i = 0; i < shape_.size(); ++i) {
    if (shape_[i] == shape[lead + i]) {
      strides[lead + i] = strides_[i];
    } else {
      LMAAS_CHECK(shape_[i] == 1, "expand: cannot expand {} to {}", shape_str(shape_), shape_str(shape));
    }
  }
  return make_view(shape, std::move(strides), offset_);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = normalize_dim(d, dim() + 1);
  Shape shape = shape_, strides = strides_;
  int64_t stride = d < dim() ? strides_[d] * shape_[d] : 1;
  shape.insert(shape.begin() + d, 1);
  strides.insert(strides.begin() + d, stride);
  return make_view(std::move(shape), std::move(strides), offset_);
}

Tensor Tensor::squeeze(int64_t d) const {
  d = normalize_dim(d, dim());
  LMAAS_CHECK(shape_[d] == 1, "squeeze: dimension {} has size {}, not 1", d, shape_[d]);
  Shape shape = shape_, strides = strides_;
  shape.erase(shape.begin() + d);
  strides.erase(strides.begin() + d);
  return make_view(std::move(shape), std::move(strides), offset_);
}

Tensor Tensor::contiguous() const { return is_contiguous() ? *this : clone(); }

Tensor Tensor::clone() const {
  Tensor out = empty(shape_, dtype_);
  out.copy_from(*this);
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == dtype_) return *this;
  Tensor out = empty(shape_, dtype);
  out.copy_from(*this);
  return out;
}

namespace {

// Copies a strided layout into another of the same shape and element size, one innermost row at a time
// (memcpy when both rows are dense).
void strided_copy_same_dtype(const Tensor& src, const Tensor& dst) {
  const size_t es = dtype_size(dst.dtype());
  const Shape& shape = dst.shape();
  const int64_t nd = dst.dim();
  const int64_t inner = nd ? shape[nd - 1] : 1;
  const int64_t s_inner = nd ? src.strides()[nd - 1] : 1, d_inner = nd ? dst.strides()[nd - 1] : 1;
  char* d_base = static_cast<char*>(dst.storage()->data());
  const char* s_base = static_cast<const char*>(src.storage()->data());
  auto copy_row = [&](int64_t, int64_t s_off, int64_t d_off) {
    if (s_inner == 1 && d_inner == 1) {
      std::memcpy(d_base + d_off * es, s_base + s_off * es, static_cast<size_t>(inner) * es);
    } else if (es == 4) {
      auto* d = reinterpret_cast<uint32_t*>(d_base) + d_off;
      auto* s = reinterpret_cast<const uint32_t*>(s_base) + s_off;
      for (int64_t i = 0; i < inner; ++i) d[i * d_inner] = s[i * s_inner];
    } else {
      for (int64_t i = 0; i < inner; ++i)
        std::memcpy(d_base + (d_off + i * d_inner) * es, s_base + (s_off + i * s_inner) * es, es);
    }
  };
  for_each_row_pair(shape, src.strides(), src.offset(), dst.strides(), dst.offset(), copy_row);
}

}  // namespace

void Tensor::copy_from(const Tensor& src) {
  LMAAS_CHECK(src.shape_ == shape_, "copy_from: source shape {} differs from destination {}", shape_str(src.shape_),
              shape_str(shape_));
  if (numel() == 0) return;
  if (src.dtype_ == dtype_ && src.is_contiguous() && is_contiguous()) {
    std::memmove(raw_data(), src.raw_data(), nbytes());
    return;
  }
  if (src.dtype_ == dtype_) {
    strided_copy_same_dtype(src, *this);
    return;
  }
  // Converting copy: walk both layouts in the same row-major order.
  std::vector<int64_t> src_offsets(static_cast<size_t>(numel()));
  for_each_strided(src.shape_, src.strides_, src.offset_, [&](int64_t i, int64_t off) { src_offsets[i] = off; });
  void* dst_base = storage_->data();
  const void* src_base = src.storage_->data();
  for_each_strided(shape_, strides_, offset_, [&](int64_t i, int64_t off) {
    store_from_double(dst_base, dtype_, off, load_as_double(src_base, src.dtype_, src_offsets[i]));
  });
}

void Tensor::fill(double value) {
  void* base = storage_->data();
  for_each_strided(shape_, strides_, offset_, [&](int64_t, int64_t off) { store_from_double(base, dtype_, off, value); });
}

void Tensor::zero() { fill(0.0); }

template <typename T>
std::vector<T> Tensor::to_vector() const {
  std::vector<T> out(static_cast<size_t>(numel()));
  const void* base = storage_->data();
  for_each_strided(shape_, strides_, offset_,
                   [&](int64_t i, int64_t off) { out[i] = static_cast<T>(load_as_double(base, dtype_, off)); });
  return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;

double Tensor::item() const {
  LMAAS_CHECK(numel() == 1, "item() of a tensor with {} elements (shape {})", numel(), shape_str(shape_));
  return load_as_double(storage_->data(), dtype_, offset_);
}

std::string Tensor::to_string(int64_t max_items) const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream out;
  out << "Tensor(" << dtype_name(dtype_) << ", " << shape_str(shape_) << ", [";
  auto values = to_vector<double>();
  for (int64_t i = 0; i < std::min<int64_t>(max_items, numel()); ++i) out << (i ? ", " : "") << values[i];
  if (numel() > max_items) out << ", ...";
  out << "])";
  return out.str();
}

bool Tensor::requires_grad() const { return meta_ != nullptr && meta_->requires_grad; }

Tensor& Tensor::set_requires_grad(bool requires_grad) {
  if (!meta_) meta_ = std::make_shared<AutogradMeta>();
  meta_->requires_grad = requires_grad;
  return *this;
}

Tensor Tensor::grad() const { return meta_ ? meta_->grad : Tensor(); }

void Tensor::attach_autograd_meta() {
  meta_ = std::make_shared<AutogradMeta>();
  meta_->requires_grad = true;
}

}  // namespace lmaas
