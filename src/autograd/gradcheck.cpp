#include "autograd/gradcheck.h"

#include <cmath>

#include "autograd/tape.h"
#include "base/rng.h"

namespace lmaas::autograd {
namespace {

double weighted_sum(const std::vector<Tensor>& outs, const std::vector<std::vector<double>>& weights) {
  double total = 0.0;
  for (size_t k = 0; k < outs.size(); ++k) {
    auto values = outs[k].to_vector<double>();
    for (size_t i = 0; i < values.size(); ++i) total += weights[k][i] * values[i];
  }
  return total;
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& fn, std::vector<Tensor> inputs, const std::vector<bool>& differentiable,
                          const GradcheckOptions& options) {
  GradcheckResult result;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (differentiable[i]) {
      LMAAS_CHECK(inputs[i].dtype() == DType::kF64, "gradcheck: input {} must be F64, is {}", i,
                  dtype_name(inputs[i].dtype()));
      inputs[i].set_requires_grad(true);
    }
  }
  clear_tape();
  std::vector<Tensor> outs = fn(inputs);
  Rng rng(options.seed);
  std::vector<std::vector<double>> weights;
  std::vector<Tensor> seeds, roots;
  for (const auto& out : outs) {
    std::vector<double> w(static_cast<size_t>(out.numel()));
    for (auto& x : w) x = rng.uniform(-1.0, 1.0);
    weights.push_back(w);
    if (out.requires_grad()) {
      roots.push_back(out);
      seeds.push_back(Tensor::from_vector(w, out.shape()).to(out.dtype()));
    }
  }
  LMAAS_CHECK(!roots.empty(), "gradcheck: no output depends on a differentiable input");
  backward(roots, seeds);

  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!differentiable[i]) continue;
    Tensor x = inputs[i];
    Tensor analytic = x.grad().defined() ? x.grad() : Tensor::zeros(x.shape(), DType::kF64);
    auto analytic_v = analytic.to_vector<double>();
    LMAAS_CHECK(x.is_contiguous(), "gradcheck: input {} must be contiguous", i);
    double* data = x.data<double>();
    for (int64_t e = 0; e < x.numel(); ++e) {
      double saved = data[e];
      data[e] = saved + options.eps;
      double plus = weighted_sum(fn(inputs), weights);
      data[e] = saved - options.eps;
      double minus = weighted_sum(fn(inputs), weights);
      data[e] = saved;
      double numeric = (plus - minus) / (2.0 * options.eps);
      double err = std::fabs(numeric - analytic_v[e]);
      result.max_abs_error = std::max(result.max_abs_error, err);
      if (err > options.atol + options.rtol * std::fabs(numeric) && result.ok) {
        result.ok = false;
        result.message = fmt::format("input {} element {}: analytic {:.10g} vs numeric {:.10g} (|diff| {:.3g})", i, e,
                                     analytic_v[e], numeric, err);
      }
    }
  }
  return result;
}

}  // namespace lmaas::autograd
