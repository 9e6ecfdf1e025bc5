#include "autograd/tape.h"

#include <cstring>
#include <unordered_map>

#include "kernels/cpu/cpu.h"

namespace lmaas::autograd {
namespace {

thread_local bool t_grad_enabled = true;
thread_local std::vector<std::function<void()>> t_tape;

// dst += src, both contiguous of the same shape and floating dtype.
void add_into(const Tensor& dst, const Tensor& src) {
  Tensor s = src.contiguous();
  if (dst.dtype() == DType::kF32 && s.dtype() == DType::kF32) {
    if (kernels::cpu::cpu_supports_avx2()) {
      kernels::cpu::axpy(1.0f, s.data<float>(), dst.data<float>(), dst.numel());
    } else {
      float* d = dst.data<float>();
      const float* x = s.data<float>();
      for (int64_t i = 0; i < dst.numel(); ++i) d[i] += x[i];
    }
  } else {
    Tensor s64 = s.to(dst.dtype());
    LMAAS_CHECK(dst.dtype() == DType::kF64, "gradients must be F32 or F64, got {}", dtype_name(dst.dtype()));
    double* d = dst.data<double>();
    const double* x = s64.data<double>();
    for (int64_t i = 0; i < dst.numel(); ++i) d[i] += x[i];
  }
}

}  // namespace

bool grad_enabled() { return t_grad_enabled; }

NoGradGuard::NoGradGuard() : previous_(t_grad_enabled) { t_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { t_grad_enabled = previous_; }

bool should_record_any(const std::vector<Tensor>& inputs) {
  if (!grad_enabled()) return false;
  for (const auto& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor& track(Tensor& output) {
  output.attach_autograd_meta();
  return output;
}

void push(std::function<void()> backward) { t_tape.push_back(std::move(backward)); }

namespace {

// Sums repeated rows: distinct rows in first-appearance order and their summed values.
template <typename T>
void coalesce_rows(const Tensor& rows, const Tensor& values, Tensor& out_rows, Tensor& out_values) {
  const int64_t n = rows.numel(), width = n > 0 ? values.numel() / n : 0;
  const int64_t* r = rows.data<int64_t>();
  const T* v = values.data<T>();
  std::unordered_map<int64_t, int64_t> slot;
  std::vector<int64_t> distinct;
  for (int64_t i = 0; i < n; ++i)
    if (slot.try_emplace(r[i], static_cast<int64_t>(distinct.size())).second) distinct.push_back(r[i]);
  Shape shape = values.shape();
  shape[0] = static_cast<int64_t>(distinct.size());
  out_values = Tensor::zeros(shape, values.dtype());
  T* o = out_values.data<T>();
  for (int64_t i = 0; i < n; ++i) {
    T* dst = o + slot[r[i]] * width;
    for (int64_t j = 0; j < width; ++j) dst[j] += v[i * width + j];
  }
  out_rows = Tensor::from_vector(distinct, {static_cast<int64_t>(distinct.size())});
}

// dense[rows[i]] += values[i]
template <typename T>
void scatter_add_rows(const Tensor& dense, const Tensor& rows, const Tensor& values) {
  const int64_t n = rows.numel(), width = n > 0 ? values.numel() / n : 0;
  for (int64_t i = 0; i < n; ++i) {
    T* dst = dense.data<T>() + rows.data<int64_t>()[i] * width;
    const T* src = values.data<T>() + i * width;
    for (int64_t j = 0; j < width; ++j) dst[j] += src[j];
  }
}

void scatter_add(const Tensor& dense, const Tensor& rows, const Tensor& values) {
  if (dense.dtype() == DType::kF32) scatter_add_rows<float>(dense, rows, values);
  else scatter_add_rows<double>(dense, rows, values);
}

// A sparse gradient becomes dense (before a dense one is added to it).
void densify(AutogradMeta* meta, const Tensor& t) {
  if (!meta->sparse_rows.defined()) return;
  meta->grad = Tensor::zeros(t.shape(), t.dtype());
  scatter_add(meta->grad, meta->sparse_rows, meta->sparse_values);
  meta->sparse_rows = meta->sparse_values = Tensor();
}

}  // namespace

void accumulate_sparse_grad(const Tensor& t, const Tensor& rows_in, const Tensor& values_in) {
  if (!t.defined() || !t.requires_grad()) return;
  LMAAS_CHECK(dtype_is_floating(t.dtype()) && t.dim() >= 1, "sparse gradient for a {} tensor", dtype_name(t.dtype()));
  const Tensor rows = rows_in.to(DType::kI64).contiguous(), values = values_in.to(t.dtype()).contiguous();
  LMAAS_CHECK(values.dim() == t.dim() && values.size(0) == rows.numel(),
              "sparse gradient: {} rows but values of shape {}", rows.numel(), shape_str(values.shape()));
  for (int64_t i = 0; i < rows.numel(); ++i)
    LMAAS_CHECK(rows.data<int64_t>()[i] >= 0 && rows.data<int64_t>()[i] < t.size(0),
                "sparse gradient: row {} outside [0, {})", rows.data<int64_t>()[i], t.size(0));
  AutogradMeta* meta = t.autograd_meta();
  if (meta->grad.defined()) {
    scatter_add(meta->grad, rows, values);
    return;
  }
  Tensor all_rows = rows, all_values = values;
  if (meta->sparse_rows.defined()) {  // merge with what is there
    std::vector<int64_t> r = meta->sparse_rows.to_vector<int64_t>(), extra = rows.to_vector<int64_t>();
    r.insert(r.end(), extra.begin(), extra.end());
    all_rows = Tensor::from_vector(r, {static_cast<int64_t>(r.size())});
    Shape shape = values.shape();
    shape[0] = static_cast<int64_t>(r.size());
    all_values = Tensor::empty(shape, t.dtype());
    const size_t old_bytes = meta->sparse_values.nbytes();
    std::memcpy(all_values.raw_data(), meta->sparse_values.raw_data(), old_bytes);
    std::memcpy(static_cast<char*>(all_values.raw_data()) + old_bytes, values.raw_data(), values.nbytes());
  }
  if (t.dtype() == DType::kF32) coalesce_rows<float>(all_rows, all_values, meta->sparse_rows, meta->sparse_values);
  else coalesce_rows<double>(all_rows, all_values, meta->sparse_rows, meta->sparse_values);
}

void clear_grad(const Tensor& t) {
  if (!t.defined() || !t.autograd_meta()) return;
  AutogradMeta* meta = t.autograd_meta();
  meta->grad = meta->sparse_rows = meta->sparse_values = Tensor();
}

void accumulate_grad(const Tensor& t, const Tensor& g, bool g_is_fresh) {
  if (!t.defined() || !t.requires_grad()) return;
  LMAAS_CHECK(g.shape() == t.shape(), "gradient of shape {} for a tensor of shape {}", shape_str(g.shape()),
              shape_str(t.shape()));
  AutogradMeta* meta = t.autograd_meta();
  densify(meta, t);
  if (!meta->grad.defined()) {
    meta->grad = (g_is_fresh && g.is_contiguous() && g.dtype() == t.dtype()) ? g : g.to(t.dtype()).clone();
    return;
  }
  add_into(meta->grad, g);
}

void backward(const Tensor& output) { backward({output}, {}); }

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grads) {
  LMAAS_CHECK(grads.empty() || grads.size() == outputs.size(), "backward: {} outputs but {} gradients",
              outputs.size(), grads.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& out = outputs[i];
    LMAAS_CHECK(out.requires_grad(), "backward: output {} does not require grad (was it computed under no-grad?)", i);
    if (grads.empty()) {
      LMAAS_CHECK(out.numel() == 1, "backward: output of shape {} is not a scalar; pass its gradient",
                  shape_str(out.shape()));
      accumulate_grad(out, Tensor::full(out.shape(), 1.0, out.dtype()), true);
    } else {
      accumulate_grad(out, grads[i]);
    }
  }
  // Closures may record nothing new (backward is not itself differentiated).
  NoGradGuard no_grad;
  std::vector<std::function<void()>> tape;
  tape.swap(t_tape);
  for (size_t i = tape.size(); i-- > 0;) {
    tape[i]();
    tape[i] = nullptr;  // free what this step held as soon as it is done
  }
}

void clear_tape() { t_tape.clear(); }
size_t tape_size() { return t_tape.size(); }

}  // namespace lmaas::autograd
