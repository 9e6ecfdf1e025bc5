#include "autograd/tape.h"

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

void accumulate_grad(const Tensor& t, const Tensor& g, bool g_is_fresh) {
  if (!t.defined() || !t.requires_grad()) return;
  LMAAS_CHECK(g.shape() == t.shape(), "gradient of shape {} for a tensor of shape {}", shape_str(g.shape()),
              shape_str(t.shape()));
  AutogradMeta* meta = t.autograd_meta();
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
