#include "optim/optimizer.h"

#include <cmath>
#include <cstring>
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

namespace {

// rows of a contiguous [R, …] tensor: gathered into a new [n, …] block, or written back from one.
size_t row_bytes(const Tensor& t) { return t.nbytes() / static_cast<size_t>(std::max<int64_t>(1, t.size(0))); }

Tensor gather_rows(const Tensor& t, const Tensor& rows) {
  Shape shape = t.shape();
  shape[0] = rows.numel();
  Tensor out = Tensor::empty(shape, t.dtype());
  const size_t rb = row_bytes(t);
  for (int64_t i = 0; i < rows.numel(); ++i)
    std::memcpy(static_cast<char*>(out.raw_data()) + static_cast<size_t>(i) * rb,
                static_cast<const char*>(t.raw_data()) + static_cast<size_t>(rows.data<int64_t>()[i]) * rb, rb);
  return out;
}

void scatter_rows(const Tensor& block, const Tensor& rows, const Tensor& t) {
  const size_t rb = row_bytes(t);
  for (int64_t i = 0; i < rows.numel(); ++i)
    std::memcpy(static_cast<char*>(t.raw_data()) + static_cast<size_t>(rows.data<int64_t>()[i]) * rb,
                static_cast<const char*>(block.raw_data()) + static_cast<size_t>(i) * rb, rb);
}

}  // namespace

template <typename Update>
void Optimizer::apply_update(const Tensor& param, const std::vector<Tensor*>& buffers, Update update) {
  AutogradMeta* meta = param.autograd_meta();
  if (meta->grad.defined()) {
    update(param, meta->grad.contiguous(), buffers);
    return;
  }
  if (!meta->sparse_rows.defined()) return;  // no gradient this step
  const Tensor& rows = meta->sparse_rows;
  Tensor p_block = gather_rows(param, rows);
  std::vector<Tensor> blocks;
  std::vector<Tensor*> block_ptrs;
  for (Tensor* b : buffers) blocks.push_back(b->defined() ? gather_rows(*b, rows) : Tensor());
  for (Tensor& b : blocks) block_ptrs.push_back(&b);
  update(p_block, meta->sparse_values, block_ptrs);
  scatter_rows(p_block, rows, param);
  for (size_t k = 0; k < buffers.size(); ++k)
    if (blocks[k].defined()) scatter_rows(blocks[k], rows, *buffers[k]);
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
    apply_update(params_[i], {&momentum_[i]}, [&](const Tensor& p, const Tensor& g, const std::vector<Tensor*>& buf) {
      Tensor* m = buf[0];
      if (p.dtype() == DType::kF32)
        kernels::ref::sgd_step(h, p.data<float>(), g.data<float>(), m->defined() ? m->data<float>() : nullptr, p.numel());
      else
        kernels::ref::sgd_step(h, p.data<double>(), g.data<double>(), m->defined() ? m->data<double>() : nullptr,
                               p.numel());
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
    apply_update(params_[i], {&m_[i], &v_[i]}, [&](const Tensor& p, const Tensor& g, const std::vector<Tensor*>& mv) {
      const int64_t n = p.numel();
      Tensor &m = *mv[0], &v = *mv[1];
      if (fast_float(p))
        kernels::cpu::adam_step(h, p.data<float>(), g.data<float>(), m.data<float>(), v.data<float>(), n);
      else if (p.dtype() == DType::kF32)
        kernels::ref::adam_step(h, p.data<float>(), g.data<float>(), m.data<float>(), v.data<float>(), n);
      else
        kernels::ref::adam_step(h, p.data<double>(), g.data<double>(), m.data<double>(), v.data<double>(), n);
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
