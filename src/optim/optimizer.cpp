#include "optim/optimizer.h"

#include <cmath>
#include <type_traits>

#include "base/check.h"
#include "kernels/cpu/cpu.h"

namespace lmaas::optim {
namespace {

bool fast_float(const Tensor& p) { return p.dtype() == DType::kF32 && kernels::cpu::cpu_supports_avx2(); }

}  // namespace

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
  for (size_t i = 0; i < params_.size(); ++i) {
    LMAAS_CHECK(params_[i].requires_grad() && params_[i].is_contiguous(),
                "optimizer: parameter {} must be contiguous and require grad", i);
    LMAAS_CHECK(params_[i].dtype() == DType::kF32 || params_[i].dtype() == DType::kF64,
                "optimizer: parameter {} has dtype {}", i, dtype_name(params_[i].dtype()));
  }
}

void Optimizer::zero_grad() {
  for (auto& p : params_) {
    AutogradMeta* m = p.autograd_meta();
    m->grad = m->sparse_rows = m->sparse_values = Tensor();
  }
}

template <typename Update>
void Optimizer::apply_update(const Tensor& param, Update update) {
  AutogradMeta* meta = param.autograd_meta();
  if (meta->grad.defined()) {
    update(meta->grad.contiguous(), GradRows{nullptr, 1, param.numel()});
    return;
  }
  if (!meta->sparse_rows.defined()) return;  // no gradient this step
  const Tensor& rows = meta->sparse_rows;
  update(meta->sparse_values, GradRows{rows.data<int64_t>(), rows.numel(), param.numel() / std::max<int64_t>(1, param.size(0))});
}

SGD::SGD(std::vector<Tensor> params, const SgdOptions& options)
    : Optimizer(std::move(params), options.lr), options_(options), momentum_(params_.size()) {
  LMAAS_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "SGD: Nesterov momentum needs momentum > 0 and dampening 0");
}

void SGD::step() {
  ++n_steps_;
  for (size_t i = 0; i < params_.size(); ++i) {
    const AutogradMeta* meta = params_[i].autograd_meta();
    if (!meta->grad.defined() && !meta->sparse_rows.defined()) continue;  // unused this step (PyTorch)
    bool first = !momentum_[i].defined();
    if (first && options_.momentum != 0.0) momentum_[i] = Tensor::zeros(params_[i].shape(), params_[i].dtype());
    kernels::ref::SgdHyper h{lr_, options_.momentum, options_.dampening, options_.weight_decay, options_.nesterov, first};
    const Tensor& p = params_[i];
    const Tensor& m = momentum_[i];
    apply_update(p, [&](const Tensor& g, const GradRows& where) {
      where.for_each([&](int64_t at, int64_t g_at, int64_t n) {
        if (p.dtype() == DType::kF32)
          kernels::ref::sgd_step(h, p.data<float>() + at, g.data<float>() + g_at,
                                 m.defined() ? m.data<float>() + at : nullptr, n);
        else
          kernels::ref::sgd_step(h, p.data<double>() + at, g.data<double>() + g_at,
                                 m.defined() ? m.data<double>() + at : nullptr, n);
      });
    });
  }
}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& options, bool decoupled)
    : Optimizer(std::move(params), options.lr),
      options_(options),
      decoupled_(decoupled),
      m_(params_.size()),
      v_(params_.size()),
      param_steps_(params_.size(), 0) {
  LMAAS_CHECK(options.beta1 >= 0 && options.beta1 < 1 && options.beta2 >= 0 && options.beta2 < 1 && options.eps >= 0,
              "Adam: betas ({}, {}) must be in [0, 1) and eps {} >= 0", options.beta1, options.beta2, options.eps);
}

void Adam::step() {
  ++n_steps_;
  for (size_t i = 0; i < params_.size(); ++i) {
    AutogradMeta* meta = params_[i].autograd_meta();
    if (!meta->grad.defined() && !meta->sparse_rows.defined()) continue;
    if (!m_[i].defined()) {
      m_[i] = Tensor::zeros(params_[i].shape(), params_[i].dtype());
      v_[i] = Tensor::zeros(params_[i].shape(), params_[i].dtype());
    }
    kernels::ref::AdamHyper h{lr_, options_.beta1, options_.beta2, options_.eps, options_.weight_decay, decoupled_,
                              ++param_steps_[i]};
    const Tensor &p = params_[i], &m = m_[i], &v = v_[i];
    apply_update(p, [&](const Tensor& g, const GradRows& where) {
      if (fast_float(p)) {
        if (where.rows)
          kernels::cpu::adam_step_rows(h, p.data<float>(), g.data<float>(), m.data<float>(), v.data<float>(),
                                       where.rows, where.n_rows, where.row_len);
        else
          kernels::cpu::adam_step(h, p.data<float>(), g.data<float>(), m.data<float>(), v.data<float>(), p.numel());
        return;
      }
      where.for_each([&](int64_t at, int64_t g_at, int64_t n) {
        if (p.dtype() == DType::kF32)
          kernels::ref::adam_step(h, p.data<float>() + at, g.data<float>() + g_at, m.data<float>() + at,
                                  v.data<float>() + at, n);
        else
          kernels::ref::adam_step(h, p.data<double>() + at, g.data<double>() + g_at, m.data<double>() + at,
                                  v.data<double>() + at, n);
      });
    });
  }
}

Optimizer::State Optimizer::state() const {
  return {{"n_steps", Tensor::from_vector<int64_t>({n_steps_}, {1})}};
}

Status Optimizer::load_state(const State& state) {
  Tensor n = find_state(state, "n_steps");
  if (!n.defined() || n.numel() != 1) return Status(Code::kInvalidArgument, "optimizer state: no n_steps");
  n_steps_ = static_cast<int64_t>(n.item());
  return Status::ok();
}

Tensor Optimizer::find_state(const State& state, const std::string& name) {
  for (const auto& [key, t] : state)
    if (key == name) return t;
  return Tensor();
}

Status Optimizer::restore_buffer(const State& state, const std::string& name, size_t i, Tensor& slot) const {
  Tensor saved = find_state(state, name);
  if (!saved.defined()) {
    slot = Tensor();  // this parameter had no update yet
    return Status::ok();
  }
  if (saved.shape() != params_[i].shape())
    return Status(Code::kInvalidArgument, "optimizer state '" + name + "' has shape " + shape_str(saved.shape()) +
                                              ", parameter " + std::to_string(i) + " has " +
                                              shape_str(params_[i].shape()));
  slot = saved.to(params_[i].dtype()).clone();
  return Status::ok();
}

Optimizer::State SGD::state() const {
  State s = Optimizer::state();
  for (size_t i = 0; i < momentum_.size(); ++i)
    if (momentum_[i].defined()) s.emplace_back("momentum." + std::to_string(i), momentum_[i]);
  return s;
}

Status SGD::load_state(const State& state) {
  Status s = Optimizer::load_state(state);
  for (size_t i = 0; s.is_ok() && i < momentum_.size(); ++i)
    s = restore_buffer(state, "momentum." + std::to_string(i), i, momentum_[i]);
  return s;
}

Optimizer::State Adam::state() const {
  State s = Optimizer::state();
  s.emplace_back("steps", Tensor::from_vector(param_steps_, {static_cast<int64_t>(param_steps_.size())}));
  for (size_t i = 0; i < m_.size(); ++i) {
    if (!m_[i].defined()) continue;
    s.emplace_back("m." + std::to_string(i), m_[i]);
    s.emplace_back("v." + std::to_string(i), v_[i]);
  }
  return s;
}

Status Adam::load_state(const State& state) {
  Status s = Optimizer::load_state(state);
  Tensor steps = find_state(state, "steps");
  if (s.is_ok() && (!steps.defined() || steps.numel() != static_cast<int64_t>(param_steps_.size())))
    s = Status(Code::kInvalidArgument, "optimizer state: 'steps' does not list one count per parameter");
  if (s.is_ok()) param_steps_ = steps.to_vector<int64_t>();
  for (size_t i = 0; s.is_ok() && i < m_.size(); ++i) {
    s = restore_buffer(state, "m." + std::to_string(i), i, m_[i]);
    if (s.is_ok()) s = restore_buffer(state, "v." + std::to_string(i), i, v_[i]);
  }
  return s;
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  // Gradients are contiguous F32/F64 (autograd allocates them so); read and scale them in place.
  auto for_each_grad = [&](auto fn) {
    for (const auto& p : params) {
      Tensor g = p.grad();
      if (!g.defined() && p.autograd_meta()) g = p.autograd_meta()->sparse_values;  // row-sparse: its values
      if (!g.defined()) continue;
      if (g.dtype() == DType::kF32) fn(g.data<float>(), g.numel());
      else fn(g.data<double>(), g.numel());
    }
  };
  double total_sq = 0.0;
  for_each_grad([&](const auto* g, int64_t n) {
    for (int64_t i = 0; i < n; ++i) total_sq += static_cast<double>(g[i]) * g[i];
  });
  const double norm = std::sqrt(total_sq);
  const double factor = max_norm / (norm + 1e-6);
  if (factor < 1.0) {
    for_each_grad([&](auto* g, int64_t n) {
      using T = std::remove_reference_t<decltype(*g)>;
      for (int64_t i = 0; i < n; ++i) g[i] *= static_cast<T>(factor);
    });
  }
  return norm;
}

}  // namespace lmaas::optim
