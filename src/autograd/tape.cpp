#include "autograd/tape.h"

#include <algorithm>
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

// A row-sparse gradient with each row once: `parts` (rows I64 [n_k], values [n_k, …]) summed, rows in
// first-appearance order.
using SparsePart = std::pair<Tensor, Tensor>;

template <typename T>
void coalesce_rows(const std::vector<SparsePart>& parts, Tensor& out_rows, Tensor& out_values) {
  const Tensor& first_values = parts.front().second;
  const int64_t width = first_values.numel() / std::max<int64_t>(1, first_values.size(0));
  std::unordered_map<int64_t, int64_t> slot;
  std::vector<int64_t> distinct;
  for (const SparsePart& part : parts) {
    const int64_t* rows = part.first.data<int64_t>();
    for (int64_t i = 0; i < part.first.numel(); ++i)
      if (slot.try_emplace(rows[i], static_cast<int64_t>(distinct.size())).second) distinct.push_back(rows[i]);
  }
  Shape shape = first_values.shape();
  shape[0] = static_cast<int64_t>(distinct.size());
  Tensor summed = Tensor::zeros(shape, first_values.dtype());
  for (const SparsePart& part : parts) {
    const int64_t* rows = part.first.data<int64_t>();
    const T* values = part.second.template data<T>();
    for (int64_t i = 0; i < part.first.numel(); ++i) {
      T* dst = summed.template data<T>() + slot[rows[i]] * width;
      for (int64_t j = 0; j < width; ++j) dst[j] += values[i * width + j];
    }
  }
  out_rows = Tensor::from_vector(distinct, {static_cast<int64_t>(distinct.size())});
  out_values = summed;
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

void accumulate_sparse_grad(const Tensor& t, const Tensor& rows_in, const Tensor& values_in, bool rows_distinct) {
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
  if (rows_distinct && !meta->sparse_rows.defined()) {
    meta->sparse_rows = rows, meta->sparse_values = values;
    return;
  }
  std::vector<SparsePart> parts;
  if (meta->sparse_rows.defined()) parts.emplace_back(meta->sparse_rows, meta->sparse_values);  // merge
  parts.emplace_back(rows, values);
  if (t.dtype() == DType::kF32) coalesce_rows<float>(parts, meta->sparse_rows, meta->sparse_values);
  else coalesce_rows<double>(parts, meta->sparse_rows, meta->sparse_values);
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
