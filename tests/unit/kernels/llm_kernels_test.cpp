// The decoder kernels of kernels/cpu/llm.h against their float64 references in kernels/ref/llm.h, on
// shapes that hit every vector chunk and tail (head sizes that are and are not multiples of 8 and 64).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <random>
#include <vector>

#include "kernels/cpu/cpu.h"
#include "kernels/cpu/llm.h"
#include "kernels/quant_types.h"
#include "kernels/ref/llm.h"
#include "kernels/ref/quant.h"

namespace lmaas::kernels {
namespace {

std::vector<float> normal_values(size_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

// The instruction sets attend_one_head has passes for, of those this machine runs.
std::vector<cpu::QuantIsa> attention_isas() {
  std::vector<cpu::QuantIsa> out;
  for (cpu::QuantIsa isa : {cpu::QuantIsa::kAvx2, cpu::QuantIsa::kAvx512}) {
    if (cpu::quant_isa_supported(isa)) out.push_back(isa);
  }
  return out;
}

TEST(LlmKernels, AttendOneHeadMatchesTheReference) {
  if (!cpu::cpu_supports_avx2()) GTEST_SKIP() << "no AVX2";
  uint32_t seed = 1;
  for (cpu::QuantIsa isa : attention_isas()) {
    for (int64_t head_dim : {1, 7, 8, 16, 64, 72, 100, 128, 136, 256}) {
      for (int64_t n_keys : {1, 5, 16, 70, 301}) {
        const int64_t stride = head_dim + 3;  // rows of a wider cache
        const auto q = normal_values(static_cast<size_t>(head_dim), seed++, 1.0f);
        const auto k = normal_values(static_cast<size_t>(n_keys * stride), seed++, 1.0f);
        const auto v = normal_values(static_cast<size_t>(n_keys * stride), seed++, 1.0f);
        const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
        std::vector<float> scores(static_cast<size_t>(n_keys)), got(static_cast<size_t>(head_dim) + 1, -7.0f);
        std::vector<float> want(static_cast<size_t>(head_dim));
        cpu::attend_one_head(q.data(), k.data(), v.data(), stride, n_keys, head_dim, scale, scores.data(),
                             got.data(), nullptr, 0, isa);
        ref::attend_one_head(q.data(), k.data(), v.data(), stride, n_keys, head_dim, scale, scores.data(),
                             want.data());
        for (int64_t d = 0; d < head_dim; ++d) {
          EXPECT_NEAR(got[static_cast<size_t>(d)], want[static_cast<size_t>(d)], 2e-5)
              << cpu::quant_isa_name(isa) << " head_dim " << head_dim << " keys " << n_keys << " d " << d;
        }
        EXPECT_EQ(got[static_cast<size_t>(head_dim)], -7.0f)
            << cpu::quant_isa_name(isa) << " wrote past head_dim " << head_dim;
      }
    }
  }
}

// A cache of IEEE halves: the fast kernel against the reference over the same half entries.
TEST(LlmKernels, AttendOneHeadOverHalvesMatchesTheReference) {
  if (!cpu::cpu_supports_avx2()) GTEST_SKIP() << "no AVX2";
  uint32_t seed = 50;
  for (cpu::QuantIsa isa : attention_isas()) {
    for (int64_t head_dim : {5, 8, 64, 100, 128, 136}) {
      for (int64_t n_keys : {1, 9, 32, 130}) {
        const int64_t stride = head_dim + 1;
        const auto q = normal_values(static_cast<size_t>(head_dim), seed++, 1.0f);
        const auto kf = normal_values(static_cast<size_t>(n_keys * stride), seed++, 1.0f);
        const auto vf = normal_values(static_cast<size_t>(n_keys * stride), seed++, 1.0f);
        std::vector<uint16_t> k(kf.size()), v(vf.size());
        for (size_t i = 0; i < k.size(); ++i) k[i] = f32_to_fp16(kf[i]), v[i] = f32_to_fp16(vf[i]);
        std::vector<float> scores(static_cast<size_t>(n_keys)), got(static_cast<size_t>(head_dim)),
            want(got.size());
        cpu::attend_one_head(q.data(), k.data(), v.data(), stride, n_keys, head_dim, 0.125f, scores.data(),
                             got.data(), nullptr, 0, isa);
        ref::attend_one_head(q.data(), k.data(), v.data(), stride, n_keys, head_dim, 0.125f, scores.data(),
                             want.data());
        for (size_t d = 0; d < got.size(); ++d) {
          EXPECT_NEAR(got[d], want[d], 2e-5) << cpu::quant_isa_name(isa) << " " << head_dim << " " << n_keys << " " << d;
        }
      }
    }
  }
}

// A cache of Q8_0 rows: the fast kernel against the reference over the same blocks.
TEST(LlmKernels, AttendOneHeadOverQ8_0RowsMatchesTheReference) {
  if (!cpu::cpu_supports_avx2()) GTEST_SKIP() << "no AVX2";
  uint32_t seed = 70;
  for (int64_t head_dim : {32, 64, 96, 128, 256}) {
    const int64_t row_blocks = head_dim / kQuantBlock;
    for (int64_t n_keys : {1, 9, 130}) {
      const auto q = normal_values(static_cast<size_t>(head_dim), seed++, 1.0f);
      const auto kf = normal_values(static_cast<size_t>(n_keys * head_dim), seed++, 1.0f);
      const auto vf = normal_values(static_cast<size_t>(n_keys * head_dim), seed++, 1.0f);
      std::vector<BlockQ8_0> k(static_cast<size_t>(n_keys * row_blocks)), v(k.size());
      ref::quantize_row_q8_0(kf.data(), k.data(), n_keys * head_dim);
      ref::quantize_row_q8_0(vf.data(), v.data(), n_keys * head_dim);
      std::vector<float> scores(static_cast<size_t>(n_keys)), got(static_cast<size_t>(head_dim) + 1, -7.0f);
      std::vector<float> want(static_cast<size_t>(head_dim));
      cpu::attend_one_head(q.data(), k.data(), v.data(), n_keys, head_dim, 0.125f, scores.data(), got.data());
      ref::attend_one_head_q8_0(q.data(), k.data(), v.data(), n_keys, head_dim, 0.125f, scores.data(),
                                want.data());
      for (size_t d = 0; d < want.size(); ++d)
        EXPECT_NEAR(got[d], want[d], 2e-5) << head_dim << " " << n_keys << " " << d;
      EXPECT_EQ(got[static_cast<size_t>(head_dim)], -7.0f) << "wrote past head_dim " << head_dim;
    }
  }
}

// The Q8_0 attention reference is the float one over dequantized rows: q·k of a one-hot query picks one
// level.
TEST(LlmKernels, Q8_0AttentionReferenceReadsTheLevelsTimesTheScale) {
  std::vector<float> row(64, 0.0f);
  row[3] = 2.0f;    // amax 2: d = 2/127, level 127
  row[40] = -1.0f;  // second block: d = 1/127, level −127
  std::vector<BlockQ8_0> blocks(2);
  ref::quantize_row_q8_0(row.data(), blocks.data(), 64);
  EXPECT_EQ(blocks[0].qs[3], 127);
  EXPECT_EQ(blocks[1].qs[8], -127);
  std::vector<float> q(64, 0.0f), scores(1), out(64);
  q[3] = 1.0f;
  ref::attend_one_head_q8_0(q.data(), blocks.data(), blocks.data(), 1, 64, 1.0f, scores.data(), out.data());
  EXPECT_NEAR(out[3], 2.0f, 1e-3);  // one key: probability 1, out = the value row
  EXPECT_NEAR(out[40], -1.0f, 1e-3);
}

// The cache's Q8_0 rows: the same bytes as the reference quantizer, halfway levels rounded away from zero.
TEST(LlmKernels, QuantizeRowQ8_0WritesTheReferenceBytes) {
  if (!cpu::cpu_supports_avx2()) GTEST_SKIP() << "no AVX2";
  std::vector<float> x = normal_values(32 * 40, 80, 3.0f);
  for (int64_t i = 0; i < 32; ++i) x[static_cast<size_t>(i)] = 0.0f;  // a block of zeros: d = 0
  // A block whose amax is 127, so d = 1 and every level is the value itself: exact halves.
  const float halves[] = {127.0f, 2.5f, -2.5f, 0.5f, -0.5f, 126.5f, -126.5f, 3.4999998f, -0.49999997f, 1.5f};
  for (size_t i = 0; i < std::size(halves); ++i) x[32 + i] = halves[i];
  std::vector<BlockQ8_0> got(40), want(40);
  cpu::quantize_row_q8_0(x.data(), got.data(), static_cast<int64_t>(x.size()));
  ref::quantize_row_q8_0(x.data(), want.data(), static_cast<int64_t>(x.size()));
  for (size_t b = 0; b < got.size(); ++b) {
    EXPECT_EQ(got[b].d, want[b].d) << "block " << b;
    for (int i = 0; i < kQuantBlock; ++i)
      EXPECT_EQ(got[b].qs[i], want[b].qs[i]) << "block " << b << " level " << i;
  }
  EXPECT_EQ(want[1].qs[1], 3);  // 2.5 away from zero
  EXPECT_EQ(want[1].qs[2], -3);
}

// Naming the next head's keys (fetched ahead, fewer or more rows than this head's) changes no result.
TEST(LlmKernels, AttendOneHeadResultsDoNotDependOnTheNextHead) {
  if (!cpu::cpu_supports_avx2()) GTEST_SKIP() << "no AVX2";
  const int64_t head_dim = 64, stride = 64;
  for (cpu::QuantIsa isa : attention_isas()) {
    for (int64_t n_keys : {1, 8, 70}) {
      const auto q = normal_values(static_cast<size_t>(head_dim), 90, 1.0f);
      const auto k = normal_values(static_cast<size_t>(2 * 80 * stride), 91, 1.0f);
      const auto v = normal_values(static_cast<size_t>(80 * stride), 92, 1.0f);
      std::vector<float> scores(80), alone(static_cast<size_t>(head_dim)), ahead(alone.size());
      cpu::attend_one_head(q.data(), k.data(), v.data(), stride, n_keys, head_dim, 0.125f, scores.data(),
                           alone.data(), nullptr, 0, isa);
      for (int64_t n_next : {int64_t{0}, int64_t{1}, n_keys, n_keys + 9}) {
        cpu::attend_one_head(q.data(), k.data(), v.data(), stride, n_keys, head_dim, 0.125f, scores.data(),
                             ahead.data(), k.data() + 80 * stride, n_next, isa);
        EXPECT_EQ(ahead, alone) << cpu::quant_isa_name(isa) << " " << n_keys << " keys, next head " << n_next;
      }
    }
  }
}

TEST(LlmKernels, RopeApplyMatchesTheReferenceInBothPairings) {
  if (!cpu::cpu_supports_avx2()) GTEST_SKIP() << "no AVX2";
  uint32_t seed = 200;
  for (auto style : {ref::RopeStyle::kAdjacentPairs, ref::RopeStyle::kHalves}) {
    for (int64_t head_dim : {2, 6, 8, 16, 24, 64, 72, 128}) {
      const int64_t n_heads = 3, half = head_dim / 2;
      std::vector<float> cos_v(static_cast<size_t>(half)), sin_v(cos_v.size());
      ref::rope_cos_sin(37, head_dim, 10000.0f, 1.0f, nullptr, cos_v.data(), sin_v.data());
      auto got = normal_values(static_cast<size_t>(n_heads * head_dim), seed++, 1.0f);
      auto want = got;
      cpu::rope_apply(got.data(), n_heads, head_dim, cos_v.data(), sin_v.data(), style);
      ref::rope_apply(want.data(), n_heads, head_dim, cos_v.data(), sin_v.data(), style);
      for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << head_dim << " " << i;
    }
  }
}

TEST(LlmKernels, MaxValueFindsTheLargestWhereverItIs) {
  if (!cpu::cpu_supports_avx2()) GTEST_SKIP() << "no AVX2";
  for (int64_t n : {1, 7, 8, 9, 31000}) {
    auto x = normal_values(static_cast<size_t>(n), static_cast<uint32_t>(n), 1.0f);
    for (int64_t at : {int64_t{0}, n / 2, n - 1}) {
      std::vector<float> y = x;
      y[static_cast<size_t>(at)] = 1e3f;
      EXPECT_EQ(cpu::max_value(y.data(), n), 1e3f) << n << " " << at;
    }
    for (float& v : x) v = -std::fabs(v) - 1.0f;  // all negative: the largest is not 0
    EXPECT_EQ(cpu::max_value(x.data(), n), *std::max_element(x.begin(), x.end())) << n;
  }
}

// The F16C conversion rounds exactly as the reference (nearest, ties to even), subnormals and overflow
// included.
TEST(LlmKernels, FloatsToHalvesRoundAsTheReference) {
  if (!cpu::cpu_supports_avx2()) GTEST_SKIP() << "no AVX2";
  std::vector<float> x = normal_values(4099, 7, 3.0f);
  for (float special :
       {0.0f, -0.0f, 65504.0f, 65520.0f, 1e6f, -1e6f, 6e-8f, 3e-8f, 1e-5f, 1.0009765625f, 1.00048828125f}) {
    x.push_back(special);
  }
  for (uint32_t bits = 0x33000000u; bits < 0x47800000u; bits += 0x00012345u)
    x.push_back(std::bit_cast<float>(bits));
  std::vector<uint16_t> got(x.size());
  cpu::floats_to_halves(x.data(), got.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(got[i], f32_to_fp16(x[i])) << "x = " << x[i];
}

}  // namespace
}  // namespace lmaas::kernels
