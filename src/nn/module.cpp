#include "nn/module.h"

#include <map>

#include "base/check.h"
#include "base/rng.h"

namespace lmaas::nn {

void Module::collect(const std::string& prefix, NamedTensors Module::*which, NamedTensors& out) const {
  for (const auto& [name, t] : this->*which) out.emplace_back(prefix + name, t);
  for (const auto& [name, child] : children_) child->collect(prefix + name + ".", which, out);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  collect("", &Module::params_, out);
  return out;
}

NamedTensors Module::named_state() const {
  NamedTensors out = named_parameters();
  collect("", &Module::buffers_, out);
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [name, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::n_parameters() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::reseed(uint64_t seed) {
  reseed_self(seed);
  uint64_t i = 0;
  for (auto& [name, child] : children_) child->reseed(mix64(seed ^ mix64(++i)));
}

void Module::zero_grad() {
  for (auto& [name, t] : named_parameters())
    if (auto* m = t.autograd_meta()) m->grad = m->sparse_rows = m->sparse_values = Tensor();
}

namespace {
thread_local DType current_parameter_dtype = DType::kF32;
}  // namespace

DType parameter_dtype() { return current_parameter_dtype; }
ParameterDTypeGuard::ParameterDTypeGuard(DType dtype) : previous_(current_parameter_dtype) {
  LMAAS_CHECK(dtype_is_floating(dtype), "parameter dtype must be floating, got {}", dtype_name(dtype));
  current_parameter_dtype = dtype;
}
ParameterDTypeGuard::~ParameterDTypeGuard() { current_parameter_dtype = previous_; }

namespace {
// A registered tensor is contiguous, floating ones in the current parameter dtype.
Tensor stored(const Tensor& value) {
  return dtype_is_floating(value.dtype()) && value.dtype() != parameter_dtype() ? value.to(parameter_dtype())
                                                                                : value.contiguous();
}
}  // namespace

Tensor& Module::register_parameter(const std::string& name, Tensor value) {
  LMAAS_CHECK(value.defined(), "register_parameter: '{}' is undefined", name);
  for (auto& [existing, t] : params_) LMAAS_CHECK(existing != name, "register_parameter: '{}' registered twice", name);
  value = stored(value);
  value.set_requires_grad(true);
  params_.emplace_back(name, value);
  return params_.back().second;
}

Tensor& Module::register_buffer(const std::string& name, Tensor value) {
  LMAAS_CHECK(value.defined(), "register_buffer: '{}' is undefined", name);
  for (auto* list : {&params_, &buffers_})
    for (auto& [existing, t] : *list) LMAAS_CHECK(existing != name, "register_buffer: '{}' registered twice", name);
  buffers_.emplace_back(name, stored(value));
  return buffers_.back().second;
}

Status Module::load_state(const NamedTensors& state, bool strict) {
  std::map<std::string, const Tensor*> given;
  for (const auto& [name, t] : state) given[name] = &t;
  auto own = named_state();
  for (auto& [name, param] : own) {
    auto it = given.find(name);
    if (it == given.end()) {
      if (strict) return Status(Code::kNotFound, "parameter '" + name + "' is missing from the state");
      continue;
    }
    const Tensor& src = *it->second;
    if (src.shape() != param.shape())
      return Status(Code::kInvalidArgument, "parameter '" + name + "' has shape " + shape_str(src.shape()) +
                                                " in the state, the model expects " + shape_str(param.shape()));
    if (!dtype_is_floating(src.dtype()))
      return Status(Code::kInvalidArgument,
                    "parameter '" + name + "' has dtype " + std::string(dtype_name(src.dtype())) + ", expected a float type");
    param.copy_from(src);
    given.erase(it);
  }
  if (strict && !given.empty())
    return Status(Code::kInvalidArgument, "the state has a parameter the model does not: '" + given.begin()->first + "'");
  return Status::ok();
}

}  // namespace lmaas::nn
