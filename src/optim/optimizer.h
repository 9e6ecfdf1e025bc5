// Optimizers over a fixed list of parameters, with PyTorch's exact update rules (kernels/ref/optim.h):
// SGD (momentum, dampening, Nesterov, L2 weight decay), Adam (L2 weight decay), AdamW (decoupled).
// A parameter without a gradient (unused in the last backward pass) is skipped, as in PyTorch.
// Ownership: the optimizer holds handles to the parameters (shared storage) and owns its state buffers.
// One thread at a time.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "kernels/ref/optim.h"
#include "tensor/tensor.h"

namespace lmaas::optim {

class Optimizer {
 public:
  explicit Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer() = default;
  virtual void step() = 0;
  void zero_grad();
  double lr() const { return lr_; }
  void set_lr(double lr) { lr_ = lr; }
  int64_t n_steps() const { return n_steps_; }
  const std::vector<Tensor>& params() const { return params_; }

  // The state a checkpoint needs to resume exactly: "n_steps" plus each subclass's buffers, keyed by
  // parameter position ("m.3", "v.3", "momentum.3", "steps"). load_state() checks names and shapes.
  using State = std::vector<std::pair<std::string, Tensor>>;
  virtual State state() const;
  virtual Status load_state(const State& state);

 protected:
  // Finds `name` in `state`; undefined Tensor when absent.
  static Tensor find_state(const State& state, const std::string& name);
  // Where a gradient lands in its parameter: dense (rows == nullptr: one stretch of row_len elements,
  // the whole parameter), or row-sparse (row i of the gradient belongs to row rows[i] of the parameter
  // and of its buffers; rows are distinct).
  struct GradRows {
    const int64_t* rows = nullptr;
    int64_t n_rows = 1, row_len = 0;
    // fn(parameter offset, gradient offset, n) for each stretch, in elements.
    template <typename Fn>
    void for_each(Fn fn) const {
      if (!rows) return fn(int64_t{0}, int64_t{0}, row_len);
      for (int64_t i = 0; i < n_rows; ++i) fn(rows[i] * row_len, i * row_len, row_len);
    }
  };
  // Runs update(grad, where) with the parameter's dense or row-sparse gradient, updating in place. A
  // sparse gradient touches only its rows — the "lazy" rule of PyTorch's SparseAdam: untouched rows keep
  // their values and optimizer state.
  template <typename Update>
  static void apply_update(const Tensor& param, Update update);
  // Copies a saved buffer into `slot` (allocating it), checking it against parameter i's shape.
  Status restore_buffer(const State& state, const std::string& name, size_t i, Tensor& slot) const;
  std::vector<Tensor> params_;
  double lr_;
  int64_t n_steps_ = 0;
};

struct SgdOptions {
  double lr = 0.01;
  double momentum = 0.0;
  double dampening = 0.0;
  double weight_decay = 0.0;
  bool nesterov = false;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, const SgdOptions& options);
  void step() override;
  State state() const override;
  Status load_state(const State& state) override;

 private:
  SgdOptions options_;
  std::vector<Tensor> momentum_;  // per parameter, allocated on its first update
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0.0;
};

class Adam : public Optimizer {
 public:
  // decoupled = false: Adam (L2 added to the gradient); true: AdamW.
  Adam(std::vector<Tensor> params, const AdamOptions& options, bool decoupled = false);
  void step() override;
  State state() const override;
  Status load_state(const State& state) override;

 private:
  AdamOptions options_;
  bool decoupled_;
  std::vector<Tensor> m_, v_;
  std::vector<int64_t> param_steps_;  // per-parameter step count (bias correction), as PyTorch
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, const AdamOptions& options) : Adam(std::move(params), options, true) {}
};

// Scales all gradients so that their global L2 norm is at most max_norm (factor max_norm / (norm + 1e-6),
// PyTorch's clip_grad_norm_); returns the norm before clipping.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

}  // namespace lmaas::optim
