// Every registered op, forward and backward, through the reference kernels and the fast kernels, on
// the same float32 inputs (contiguous and strided, small and large shapes): results must agree.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/tape.h"
#include "ops/dispatch.h"
#include "ops/registry.h"

namespace lmaas::ops {
namespace {

struct CaseRun {
  std::vector<Tensor> outputs;
  std::vector<Tensor> grads;  // per differentiable input
};

CaseRun run_case(const OpCase& c, const std::vector<Tensor>& inputs_template, Backend b) {
  BackendGuard guard(b);
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < inputs_template.size(); ++i) {
    // Fresh handles (same storage) so that each run accumulates its own gradients.
    Tensor t = inputs_template[i].transpose(0, 0);
    if (c.differentiable[i]) t.set_requires_grad(true);
    inputs.push_back(t);
  }
  CaseRun run;
  run.outputs = c.run(inputs);
  std::vector<Tensor> roots, seeds;
  Rng seed_rng(99);
  for (const auto& out : run.outputs) {
    Tensor w = random_tensor(seed_rng, out.shape(), {DType::kF32, false, false});
    if (out.requires_grad()) roots.push_back(out), seeds.push_back(w);
  }
  autograd::backward(roots, seeds);
  for (size_t i = 0; i < inputs.size(); ++i)
    if (c.differentiable[i]) run.grads.push_back(inputs[i].grad());
  return run;
}

void expect_close(const Tensor& ref, const Tensor& fast, const std::string& what) {
  ASSERT_EQ(ref.defined(), fast.defined()) << what;
  if (!ref.defined()) return;
  ASSERT_EQ(ref.shape(), fast.shape()) << what;
  auto r = ref.to_vector<double>(), f = fast.to_vector<double>();
  for (size_t i = 0; i < r.size(); ++i) {
    ASSERT_NEAR(r[i], f[i], 2e-5 + 2e-4 * std::fabs(r[i])) << what << " element " << i;
  }
}

class RefVsFast : public ::testing::TestWithParam<std::tuple<size_t, bool, bool>> {};

TEST_P(RefVsFast, ForwardAndBackwardAgree) {
  auto [index, non_contiguous, large] = GetParam();
  const OpCase& c = op_registry()[index];
  Rng rng(1000 + index);
  auto inputs = c.make_inputs(rng, {DType::kF32, non_contiguous, large});
  CaseRun ref = run_case(c, inputs, Backend::kRef);
  CaseRun fast = run_case(c, inputs, Backend::kCpu);
  ASSERT_EQ(ref.outputs.size(), fast.outputs.size());
  for (size_t i = 0; i < ref.outputs.size(); ++i) expect_close(ref.outputs[i], fast.outputs[i], c.name + " output " + std::to_string(i));
  for (size_t i = 0; i < ref.grads.size(); ++i) expect_close(ref.grads[i], fast.grads[i], c.name + " grad " + std::to_string(i));
}

std::string case_name(const ::testing::TestParamInfo<RefVsFast::ParamType>& info) {
  auto [index, non_contiguous, large] = info.param;
  return op_registry()[index].name + (non_contiguous ? "_strided" : "_contiguous") + (large ? "_large" : "_small");
}

INSTANTIATE_TEST_SUITE_P(Registry, RefVsFast,
                         ::testing::Combine(::testing::Range<size_t>(0, op_registry().size()), ::testing::Bool(),
                                            ::testing::Bool()),
                         case_name);

}  // namespace
}  // namespace lmaas::ops
