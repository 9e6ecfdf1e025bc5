// The decoder kernels of kernels/cpu/llm.h against their float64 references in kernels/ref/llm.h, on
// shapes that hit every vector chunk and tail (head sizes that are and are not multiples of 8 and 64).
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/llm.h"
#include "kernels/ref/llm.h"

namespace lmaas::kernels {
namespace {

std::vector<float> normal_values(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

TEST(LlmKernels, AttendOneHeadMatchesTheReference) {
  if (!cpu::cpu_supports_avx2()) GTEST_SKIP() << "no AVX2";
  uint32_t seed = 1;
  for (int64_t head_dim : {1, 7, 8, 16, 64, 72, 100, 128, 256}) {
    for (int64_t n_keys : {1, 5, 70, 301}) {
      const int64_t stride = head_dim + 3;  // rows of a wider cache
      const auto q = normal_values(static_cast<size_t>(head_dim), seed++, 1.0f);
      const auto k = normal_values(static_cast<size_t>(n_keys * stride), seed++, 1.0f);
      const auto v = normal_values(static_cast<size_t>(n_keys * stride), seed++, 1.0f);
      const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
      std::vector<float> scores(static_cast<size_t>(n_keys)), got(static_cast<size_t>(head_dim) + 1, -7.0f);
      std::vector<float> want(static_cast<size_t>(head_dim));
      cpu::attend_one_head(q.data(), k.data(), v.data(), stride, n_keys, head_dim, scale, scores.data(), got.data());
      ref::attend_one_head(q.data(), k.data(), v.data(), stride, n_keys, head_dim, scale, scores.data(), want.data());
      for (int64_t d = 0; d < head_dim; ++d) {
        EXPECT_NEAR(got[static_cast<size_t>(d)], want[static_cast<size_t>(d)], 2e-5)
            << "head_dim " << head_dim << " keys " << n_keys << " d " << d;
      }
      EXPECT_EQ(got[static_cast<size_t>(head_dim)], -7.0f) << "wrote past head_dim " << head_dim;
    }
  }
}

}  // namespace
}  // namespace lmaas::kernels
