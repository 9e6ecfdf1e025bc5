// Every registered op: autograd's gradient against central finite differences, in double precision,
// with strided inputs too, through both the reference backend and the default (fast-dispatch) backend.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "ops/dispatch.h"
#include "ops/ops.h"
#include "ops/registry.h"

namespace lmaas::ops {
namespace {

class OpGradcheck : public ::testing::TestWithParam<std::tuple<size_t, bool>> {};

TEST_P(OpGradcheck, MatchesFiniteDifferences) {
  auto [index, non_contiguous] = GetParam();
  const OpCase& c = op_registry()[index];
  for (Backend b : {Backend::kRef, Backend::kCpu}) {
    BackendGuard guard(b);
    Rng rng(2000 + index);
    auto inputs = c.make_inputs(rng, {DType::kF64, non_contiguous, false});
    // gradcheck perturbs its inputs in place, so it gets contiguous tensors; for the strided variant they
    // hold the data with the last two dims swapped and the op receives an autograd-aware transposed view.
    auto strided = [&](const Tensor& t) { return non_contiguous && t.dim() >= 2 && dtype_is_floating(t.dtype()); };
    std::vector<Tensor> owned;
    for (auto& t : inputs) owned.push_back(strided(t) ? t.transpose(-1, -2).contiguous() : t.contiguous().clone());
    auto fn = [&](const std::vector<Tensor>& in) {
      std::vector<Tensor> views;
      for (const auto& t : in) views.push_back(strided(t) ? transpose(t, -1, -2) : t);
      return c.run(views);
    };
    auto result = autograd::gradcheck(fn, owned, c.differentiable, {1e-6, 1e-7, 1e-6, 7});
    EXPECT_TRUE(result.ok) << c.name << (b == Backend::kRef ? " [ref]: " : " [cpu]: ") << result.message;
  }
}

std::string case_name(const ::testing::TestParamInfo<OpGradcheck::ParamType>& info) {
  return op_registry()[std::get<0>(info.param)].name + (std::get<1>(info.param) ? "_strided" : "");
}

INSTANTIATE_TEST_SUITE_P(Registry, OpGradcheck,
                         ::testing::Combine(::testing::Range<size_t>(0, op_registry().size()), ::testing::Bool()),
                         case_name);

}  // namespace
}  // namespace lmaas::ops
