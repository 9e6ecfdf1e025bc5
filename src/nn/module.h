// Module: a named tree of parameters. Parameter names are the checkpoint keys and an API: they are
// generated only by register_parameter/register_module, dotted PyTorch-style
// ("encoder.layers.0.self_attn.q_proj.weight").
// Ownership: a Module owns its parameters (Tensors with requires_grad), its buffers (tensors saved with
// the parameters that no optimizer touches: PyTorch's register_buffer) and its children (shared_ptr, so a
// parent and a caller may hold the same child). Not thread-safe for training; inference forward passes
// under autograd::NoGradGuard may run on several threads at once.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "tensor/tensor.h"

namespace lmaas::nn {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// The dtype that floating-point parameters are stored in when a module registers them (default F32);
// like torch.set_default_dtype, scoped to this thread. F64 modules serve the gradient checks.
DType parameter_dtype();
class ParameterDTypeGuard {
 public:
  explicit ParameterDTypeGuard(DType dtype);
  ~ParameterDTypeGuard();
  ParameterDTypeGuard(const ParameterDTypeGuard&) = delete;
  ParameterDTypeGuard& operator=(const ParameterDTypeGuard&) = delete;

 private:
  DType previous_;
};

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // Every parameter below this module, depth-first in registration order, with dotted names.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t n_parameters() const;
  // What a model file holds: the parameters, then the buffers, each depth-first with dotted names.
  NamedTensors named_state() const;

  // Training mode (dropout active) for this module and all children.
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  // Restarts the random streams below this module (dropout masks) from `seed`, each child from its own
  // derivation of it. The trainer reseeds before every step from (run seed, step), so a run resumed from
  // a checkpoint draws the same masks as one that never stopped.
  void reseed(uint64_t seed);

  void zero_grad();
  // Copies values from `state` into the parameters and buffers with the same names. With `strict`, a missing or
  // unexpected name is an error; a shape or dtype mismatch always is. Parameters keep their identity.
  Status load_state(const NamedTensors& state, bool strict = true);

 protected:
  // This module's own part of reseed() (its children are reseeded by the caller).
  virtual void reseed_self(uint64_t /*seed*/) {}
  // Registers a parameter (marks it requires_grad) and returns the stored handle.
  Tensor& register_parameter(const std::string& name, Tensor value);
  // Registers a buffer (no gradient, saved and loaded with the parameters) and returns the stored handle.
  Tensor& register_buffer(const std::string& name, Tensor value);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> child) {
    children_.emplace_back(name, child);
    return child;
  }

 private:
  void collect(const std::string& prefix, NamedTensors Module::*which, NamedTensors& out) const;

  NamedTensors params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// A container whose children are named by the caller (PyTorch's ModuleList/ModuleDict): layers.{i}.
class ModuleList : public Module {
 public:
  template <typename M>
  std::shared_ptr<M> add(const std::string& name, std::shared_ptr<M> m) {
    return register_module(name, std::move(m));
  }
};

}  // namespace lmaas::nn
